package loadgen

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// responder is a tiny STUN Binding server for testing the generator's
// counting. lie makes it report a wrong mapped address; extra (may be nil)
// sees each response by request number, may alter it, and returns false to
// drop it.
type responder struct {
	conn  *net.UDPConn
	seen  atomic.Uint64
	extra func(n uint64, resp []byte) (send bool)
}

func startResponder(t *testing.T, lie bool, extra func(n uint64, resp []byte) bool) *responder {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{conn: c, extra: extra}
	done := make(chan struct{})
	t.Cleanup(func() { c.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n < headerLen || binary.BigEndian.Uint16(buf[0:2]) != bindingRequest {
				continue
			}
			mapped := src
			if lie {
				mapped = netip.MustParseAddrPort("192.0.2.7:9")
			}
			resp := make([]byte, headerLen+12)
			binary.BigEndian.PutUint16(resp[0:2], bindingSuccess)
			binary.BigEndian.PutUint16(resp[2:4], 12)
			copy(resp[4:20], buf[4:20])
			binary.BigEndian.PutUint16(resp[20:22], attrXORMapped)
			binary.BigEndian.PutUint16(resp[22:24], 8)
			resp[25] = familyIPv4
			binary.BigEndian.PutUint16(resp[26:28], mapped.Port()^uint16(magicCookie>>16))
			ip := mapped.Addr().Unmap().As4()
			binary.BigEndian.PutUint32(resp[28:32], binary.BigEndian.Uint32(ip[:])^magicCookie)
			if r.extra != nil && !r.extra(r.seen.Add(1), resp) {
				continue
			}
			c.WriteToUDPAddrPort(resp, src)
		}
	}()
	return r
}

func (r *responder) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func TestRunCountsAnswers(t *testing.T) {
	r := startResponder(t, false, nil)
	res, err := Run(context.Background(), Config{Target: r.addr(), Sockets: 2, Window: 4, Duration: 300 * time.Millisecond, CheckMapped: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered == 0 || res.Bad != 0 || res.Lost != 0 {
		t.Fatalf("want only answers from a correct responder: %s", res)
	}
	if res.Answered > res.Sent || res.Sent-res.Answered > 2*4 {
		t.Fatalf("answered %d of %d sent: more unanswered than the window", res.Answered, res.Sent)
	}
	if res.P50 <= 0 || res.P99 < res.P50 {
		t.Fatalf("percentiles not filled: %s", res)
	}
}

// TestRunPaced: with a Rate the generator never runs ahead of the pace
// (it may fall behind on a loaded machine, which the result shows).
func TestRunPaced(t *testing.T) {
	r := startResponder(t, false, nil)
	const rate = 2000
	res, err := Run(context.Background(), Config{Target: r.addr(), Sockets: 2, Window: 32, Duration: 500 * time.Millisecond, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	if limit := uint64(rate*res.Elapsed.Seconds()) + 2; res.Sent > limit {
		t.Fatalf("sent %d in %s, more than %d at %d/s: %s", res.Sent, res.Elapsed, limit, rate, res)
	}
	if res.Answered == 0 || res.Lost != 0 {
		t.Fatalf("want answers and no loss: %s", res)
	}
	if _, err := Run(context.Background(), Config{Target: r.addr(), Rate: -1}); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}

func TestRunCountsLossAndForgery(t *testing.T) {
	r := startResponder(t, false, func(n uint64, resp []byte) bool {
		switch {
		case n%10 == 0:
			return false // dropped: must be counted lost after the timeout
		case n%10 == 5:
			resp[19] ^= 0xff // someone else's transaction id: never counted as an answer
		}
		return true
	})
	res, err := Run(context.Background(), Config{Target: r.addr(), Sockets: 1, Window: 8, Duration: 500 * time.Millisecond, Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lost == 0 || res.Late+res.Bad == 0 {
		t.Fatalf("dropped and forged answers not counted: %s", res)
	}
	// 1 in 10 is dropped and 1 in 10 forged, so answers are about 80%
	// of what the responder saw.
	seen := r.seen.Load()
	if res.Answered > seen*85/100 {
		t.Fatalf("answered %d of %d seen: forged or dropped ones counted", res.Answered, seen)
	}
}

func TestRunChecksMappedAddress(t *testing.T) {
	r := startResponder(t, true, nil)
	res, err := Run(context.Background(), Config{Target: r.addr(), Sockets: 1, Window: 2, Duration: 200 * time.Millisecond, Timeout: 20 * time.Millisecond, CheckMapped: true})
	if err == nil || res.Answered != 0 || res.Bad == 0 {
		t.Fatalf("wrong mapped address accepted: %v %s", err, res)
	}
}

func TestRunRefused(t *testing.T) {
	// A port nobody listens on: take one and close it.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	_, err = Run(context.Background(), Config{Target: addr, Sockets: 1, Duration: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want a refused error, got %v", err)
	}
}

func TestConfigRejectsBadTarget(t *testing.T) {
	if _, err := Run(context.Background(), Config{}); err == nil {
		t.Fatal("empty target accepted")
	}
}
