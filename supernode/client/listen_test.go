package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// TestListenPunchIsBounded: issue #11 item 6. A peer that looks us up ten
// times in a row (each lookup an introduction, within the supernode's
// introduction budget) makes us send at most one burst of punches to each
// host candidate it names (2 datagrams), not ten 3-second bursts of 30.
// Before the fix the sink candidate received 300 datagrams in these 3.5 s.
func TestListenPunchIsBounded(t *testing.T) {
	cfg := server.Defaults()
	cfg.Listen, cfg.Sockets = []string{"127.0.0.1:0"}, 1
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	srv := s.Addrs()[0]

	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sinkAddr := sink.LocalAddr().(*net.UDPAddr).AddrPort()

	peer := func(local []netip.AddrPort) *client.Client {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c := client.New(conn, srv, priv, local)
		t.Cleanup(func() { c.Close() })
		if _, err := c.Register(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	listener := peer(nil)
	caller := peer([]netip.AddrPort{sinkAddr}) // its "host candidate" is the sink
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go listener.Listen(lctx, io.Discard)

	for range 10 {
		if _, err := caller.Lookup(ctx, listener.ID()); err != nil {
			t.Fatal(err)
		}
	}
	// Count what reached the sink while the old code would still punch.
	got := 0
	deadline := time.Now().Add(3500 * time.Millisecond)
	buf := make([]byte, 1500)
	for {
		sink.SetReadDeadline(deadline)
		if _, err := sink.Read(buf); err != nil {
			break
		}
		got++
	}
	if got > client.HostRounds {
		t.Fatalf("the sink candidate got %d punches for 10 introductions of one peer, want at most %d", got, client.HostRounds)
	}
	if got == 0 {
		t.Fatal("the sink candidate got no punch at all: the test proved nothing")
	}
	t.Logf("%d punches to the sink candidate for 10 introductions", got)
}
