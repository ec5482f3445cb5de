package server

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestSendBatch: datagrams queued on two sockets leave at Flush, each from
// its socket, in order, and the caller's buffer is free once queued.
func TestSendBatch(t *testing.T) {
	s := &Server{m: newMetrics(nil, func() float64 { return 0 }, func() float64 { return 0 })}
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b, sink := listen(), listen(), listen()
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	sb := NewSendBatch()
	buf := []byte("a0")
	for i, c := range []*net.UDPConn{a, b, a} {
		buf[1] = byte('0' + i) // the queued copies keep theirs
		if err := s.sendOut(sb, c, buf, to); err != nil {
			t.Fatal(err)
		}
	}
	sink.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	p := make([]byte, 64)
	if _, _, err := sink.ReadFromUDPAddrPort(p); err == nil {
		t.Fatal("a datagram left before Flush")
	}
	sb.Flush()
	got := map[string]netip.AddrPort{}
	for range 3 {
		sink.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := sink.ReadFromUDPAddrPort(p)
		if err != nil {
			t.Fatal(err)
		}
		got[string(p[:n])] = from
	}
	aAddr, bAddr := a.LocalAddr().(*net.UDPAddr).AddrPort(), b.LocalAddr().(*net.UDPAddr).AddrPort()
	if got["a0"] != aAddr || got["a1"] != bAddr || got["a2"] != aAddr {
		t.Fatalf("sent %v, want a0 and a2 from %v, a1 from %v", got, aAddr, bAddr)
	}
	if sb.n != 0 {
		t.Fatalf("%d still queued after Flush", sb.n)
	}
	// nil sends at once.
	if err := s.sendOut(nil, a, []byte("now"), to); err != nil {
		t.Fatal(err)
	}
	sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := sink.ReadFromUDPAddrPort(p); err != nil || string(p[:n]) != "now" {
		t.Fatalf("nil batch: %q, %v", p[:n], err)
	}
}
