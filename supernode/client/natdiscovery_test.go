package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/server"
	"github.com/supernode-appliance/appliance/supernode/stun"
)

func serve(t *testing.T, alternate string) *server.Server {
	t.Helper()
	cfg := server.Defaults()
	cfg.Listen, cfg.Sockets = []string{"127.0.0.1:0"}, 1
	cfg.AlternateAddress, cfg.AlternatePort = alternate, 0
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// TestDiscoverNoNAT: against our server on 127.0.0.1 + 127.0.0.2 with no
// NAT between, discovery says so: no NAT (mapping "none"), nothing
// filtered, and it learnt the server's OTHER-ADDRESS. (Every NAT type is
// measured in tests/natlab.)
func TestDiscoverNoNAT(t *testing.T) {
	s := serve(t, "127.0.0.2")
	a, _ := s.DiscoveryAddrs()
	r, err := client.DiscoverNAT(context.Background(), s.Addrs()[0], "127.0.0.1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.NAT || r.Mapping != client.BehaviourNone || r.Filtering != client.BehaviourEndpointIndependent || r.Other != a[1][1] || r.Mapped != r.Local || r.Dropped != 0 {
		t.Fatalf("%+v, want no NAT, endpoint-independent filtering, other %v", r, a[1][1])
	}
}

// TestDiscoverNeedsSecondAddress: a server with one address gives no
// OTHER-ADDRESS; discovery stops with ErrNoSecondAddress at once.
func TestDiscoverNeedsSecondAddress(t *testing.T) {
	s := serve(t, "")
	_, err := client.DiscoverNAT(context.Background(), s.Addrs()[0], "127.0.0.1", time.Second)
	if !errors.Is(err, client.ErrNoSecondAddress) {
		t.Fatalf("err = %v, want ErrNoSecondAddress", err)
	}
}

// TestDiscoverHostileAnswers: a server that answers with a malformed
// OTHER-ADDRESS (bad family, short), a bad FINGERPRINT or another
// transaction's ID gets those answers counted and dropped, never believed;
// a well-formed OTHER-ADDRESS that equals the server's own address is
// refused as misconfigured.
func TestDiscoverHostileAnswers(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	self := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	go func() {
		buf := make([]byte, 2048)
		req := stun.New()
		for i := 0; ; i++ {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if req.Decode(buf[:n]) != nil {
				continue
			}
			answers := [][]byte{}
			for _, other := range [][]byte{{0, 9, 0, 1, 1, 2, 3, 4}, {0, 1, 0, 1}, nil} {
				m := stun.New()
				m.Reply(req, stun.ClassSuccess)
				m.AddXORAddress(stun.AttrXORMappedAddress, from)
				if other != nil {
					m.Add(stun.AttrOtherAddress, other)
				} else {
					m.AddMappedAddress(stun.AttrOtherAddress, self) // well-formed, but the server itself
				}
				m.AddFingerprint()
				answers = append(answers, append([]byte(nil), m.Raw...))
			}
			bad := append([]byte(nil), answers[2]...)
			bad[len(bad)-1] ^= 1 // FINGERPRINT no longer holds
			stray := append([]byte(nil), answers[2]...)
			stray[10] ^= 1 // another transaction
			for _, b := range [][]byte{answers[0], answers[1], bad, stray, answers[2]} {
				srv.WriteToUDPAddrPort(b, from)
			}
		}
	}()
	r, err := client.DiscoverNAT(context.Background(), self, "127.0.0.1", time.Second)
	if err == nil || errors.Is(err, client.ErrNoSecondAddress) || !strings.Contains(err.Error(), "does not differ") {
		t.Fatalf("err = %v, want the misconfigured OTHER-ADDRESS refused", err)
	}
	if r == nil || r.Dropped != 3 {
		t.Fatalf("result %+v, want 3 dropped answers (two malformed OTHER-ADDRESS, one bad FINGERPRINT)", r)
	}
}
