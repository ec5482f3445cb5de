package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// fakeGateway answers each NAT-PMP request with the datagrams reply returns.
func fakeGateway(t *testing.T, reply func(req []byte) [][]byte) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			for _, b := range reply(append([]byte(nil), buf[:n]...)) {
				c.WriteToUDPAddrPort(b, from)
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func natpmpAnswer(op byte, result uint16, body ...byte) []byte {
	b := []byte{0, op, 0, 0, 0, 0, 0, 7}
	binary.BigEndian.PutUint16(b[2:], result)
	return append(b, body...)
}

// TestMapUDPHostileGateway (hostile): answers of the wrong opcode, the
// wrong size, another version or garbage are ignored, and the right answer
// after them is used; a mapping for another internal port or to port 0 is
// refused; a result code is reported with its meaning.
func TestMapUDPHostileGateway(t *testing.T) {
	good := func(req []byte) [][]byte {
		junk := [][]byte{{0xff}, {1, 128, 0, 0}, natpmpAnswer(req[1]+129, 0), natpmpAnswer(req[1]+128, 0, 1, 2)}
		if req[1] == 0 {
			return append(junk, natpmpAnswer(128, 0, 192, 0, 3, 1))
		}
		a := natpmpAnswer(129, 0, req[4], req[5], 0xc3, 0x50, 0, 0, 0x1c, 0x20) // external 50000, 7200 s
		return append(junk, a)
	}
	m, err := client.MapUDPAt(context.Background(), fakeGateway(t, good), 4000, 0, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if m.External != netip.MustParseAddrPort("192.0.3.1:50000") || m.Internal != 4000 || m.Lifetime != 2*time.Hour || m.Epoch != 7 {
		t.Fatalf("mapping %+v", m)
	}

	wrongPort := func(req []byte) [][]byte {
		if req[1] == 0 {
			return [][]byte{natpmpAnswer(128, 0, 192, 0, 3, 1)}
		}
		return [][]byte{natpmpAnswer(129, 0, 0x10, 0x00, 0, 0, 0, 0, 0x1c, 0x20)} // internal 4096, external 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := client.MapUDPAt(ctx, fakeGateway(t, wrongPort), 4000, 0, time.Hour); err == nil {
		t.Fatal("a mapping for another internal port was accepted")
	}

	refused := func(req []byte) [][]byte { return [][]byte{natpmpAnswer(req[1]+128, 2)} }
	_, err = client.MapUDPAt(context.Background(), fakeGateway(t, refused), 4000, 0, time.Hour)
	var pe *client.NATPMPError
	if !errors.As(err, &pe) || pe.Code != 2 {
		t.Fatalf("err = %v, want NAT-PMP result 2", err)
	}
}

// TestPortMapCandidateHostile (hostile): a client that maps its port
// announces only what the gateway itself granted. Before the gateway's
// answers arrive a forged answer from another address (a non-gateway
// source, claiming a mapping to another port), a short packet, another
// version, the wrong opcode and an answer whose epoch runs backwards; each
// is counted and dropped, and the candidate is the real mapping. A gateway
// that sends only such answers yields no candidate at all.
func TestPortMapCandidateHostile(t *testing.T) {
	forger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	gateway := func(honest bool) netip.AddrPort {
		g, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		go func() {
			buf := make([]byte, 64)
			for {
				n, from, err := g.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				req := buf[:n]
				if req[0] == 2 { // PCP: a NAT-PMP gateway says "unsupported version" (RFC 6887 section 9)
					forger.WriteToUDPAddrPort(natpmpAnswer(129, 0), from)
					g.WriteToUDPAddrPort(natpmpAnswer(129, 1), from)
					continue
				}
				if req[1] == 0 {
					forger.WriteToUDPAddrPort(natpmpAnswer(128, 0, 6, 6, 6, 6), from)
				} else {
					forger.WriteToUDPAddrPort(natpmpAnswer(129, 0, req[4], req[5], 0x66, 0x66, 0, 0, 0x1c, 0x20), from)
				}
				junk := [][]byte{{0, req[1] + 128}, append([]byte{2}, natpmpAnswer(req[1]+128, 0)[1:]...), natpmpAnswer(req[1]+129, 0)}
				if req[1] == 1 {
					a := natpmpAnswer(129, 0, req[4], req[5], 0xc3, 0x50, 0, 0, 0x1c, 0x20)
					a[7] = 3 // epoch 3, after the address answer's 7
					junk = append(junk, a)
				}
				if honest && req[1] == 0 {
					junk = append(junk, natpmpAnswer(128, 0, 192, 0, 3, 1))
				} else if honest {
					junk = append(junk, natpmpAnswer(129, 0, req[4], req[5], 0xc3, 0x50, 0, 0, 0x1c, 0x20))
				} else if req[1] == 0 {
					junk = append(junk, natpmpAnswer(128, 0, 192, 0, 3, 1)) // a real address, then no mapping
				}
				for _, b := range junk {
					g.WriteToUDPAddrPort(b, from)
				}
			}
		}()
		return g.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	for _, honest := range []bool{true, false} {
		gw := gateway(honest)
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		host := conn.LocalAddr().(*net.UDPAddr).AddrPort()
		c := client.New(conn, netip.MustParseAddrPort("192.0.2.1:3478"), nil, []netip.AddrPort{host})
		m, err := c.MapPortAt(gw, 10*time.Second)
		st := c.PortMap()
		if honest {
			if err != nil {
				t.Fatalf("honest gateway after forgeries: %v (drops %+v)", err, st.Dropped)
			}
			want := netip.MustParseAddrPort("192.0.3.1:50000")
			if m.External != want {
				t.Fatalf("mapping %s, want %s", m.External, want)
			}
			if got := c.Announced(); len(got) != 2 || got[0] != want || got[1] != host {
				t.Fatalf("announced %v, want [%s %s]", got, want, host)
			}
		} else {
			if err == nil || st.Mapping != nil {
				t.Fatalf("forgeries only: mapping %+v, err %v", st.Mapping, err)
			}
			if got := c.Announced(); len(got) != 1 || got[0] != host {
				t.Fatalf("forgeries only: announced %v, want only %s", got, host)
			}
			t.Logf("forgeries only: %v", err)
		}
		d := st.Dropped
		t.Logf("honest=%v: dropped %+v", honest, d)
		if d.Source == 0 || d.Malformed == 0 || d.Opcode == 0 || d.Epoch == 0 {
			t.Errorf("honest=%v: drops %+v: want non-gateway, short/other-version, wrong-opcode and backwards-epoch answers counted", honest, d)
		}
		c.Close()
	}
}

// TestMapUDPNobodyListens: a gateway without NAT-PMP answers with an ICMP
// port unreachable, which the unconnected request socket still sees
// (IP_RECVERR): the request fails with that reason, not after the
// retransmissions.
func TestMapUDPNobodyListens(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	gw := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close() // nothing listens there now
	_, err = client.MapUDPAt(context.Background(), gw, 4000, 0, time.Hour)
	if err == nil || !strings.Contains(err.Error(), "does not speak NAT-PMP") {
		t.Fatalf("err = %v, want the port unreachable reported", err)
	}
}

// TestPCPMapHostile (hostile): a PCP gateway's MAP answer is used only if
// it comes from the gateway, is well formed, answers MAP and echoes the
// request's nonce, protocol and internal port; an answer with another
// nonce (an off-path guess), a short one, another opcode and one from
// another address are counted and dropped before the real one. The
// gateway grants 2 s: the renewal (after half of it) asks for the same
// external port with the same nonce, and so does the delete.
func TestPCPMapHostile(t *testing.T) {
	forger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	g, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	type request struct {
		nonce    [12]byte
		suggest  uint16
		lifetime uint32
	}
	reqs := make(chan request, 8)
	go func() {
		buf := make([]byte, 1200)
		for {
			n, from, err := g.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req := buf[:n]
			if n != 60 || req[0] != 2 || req[1] != 1 || req[36] != 17 {
				continue
			}
			reqs <- request{[12]byte(req[24:36]), binary.BigEndian.Uint16(req[42:]), binary.BigEndian.Uint32(req[4:])}
			answer := func(nonce []byte, op byte, size int) []byte {
				b := make([]byte, 60)
				b[0], b[1] = 2, op
				if binary.BigEndian.Uint32(req[4:]) != 0 {
					b[7] = 2 // granted: 2 s
				}
				b[11] = 9 // epoch 9
				copy(b[24:36], nonce)
				b[36] = 17
				copy(b[40:42], req[40:42])
				b[42], b[43] = 0xc3, 0x50 // external port 50000
				ext := netip.AddrFrom16(netip.MustParseAddr("192.0.3.1").As16()).As16()
				copy(b[44:60], ext[:])
				return b[:size]
			}
			other := make([]byte, 12)
			forger.WriteToUDPAddrPort(answer(req[24:36], 0x81, 60), from)
			for _, b := range [][]byte{answer(other, 0x81, 60), answer(req[24:36], 0x81, 20), answer(req[24:36], 0x82, 60), answer(req[24:36], 0x81, 60)} {
				g.WriteToUDPAddrPort(b, from)
			}
		}
	}()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	host := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c := client.New(conn, netip.MustParseAddrPort("192.0.2.1:3478"), nil, []netip.AddrPort{host})
	m, err := c.MapPortAt(g.LocalAddr().(*net.UDPAddr).AddrPort(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st := c.PortMap()
	t.Logf("mapping %+v, dropped %+v", m, st.Dropped)
	if m.Protocol != "pcp" || m.External != netip.MustParseAddrPort("192.0.3.1:50000") || m.Internal != host.Port() || m.Lifetime != 2*time.Second || m.Epoch != 9 {
		t.Fatalf("mapping %+v", m)
	}
	if d := st.Dropped; d.Source == 0 || d.Mapping == 0 || d.Malformed == 0 || d.Opcode == 0 {
		t.Errorf("drops %+v: want the forger's, the wrong nonce, the short and the wrong-opcode answers counted", d)
	}
	if got := c.Announced(); len(got) != 2 || got[0] != m.External {
		t.Fatalf("announced %v", got)
	}
	first, renew := <-reqs, <-reqs
	c.Close() // deletes the mapping
	var del request
	for del = range reqs {
		if del.lifetime == 0 {
			break
		}
	}
	t.Logf("requests: %+v, renewal %+v, delete %+v", first, renew, del)
	if first.suggest != host.Port() || first.lifetime != uint32(client.PortMapLifetime/time.Second) {
		t.Errorf("first request %+v: want our port suggested and %s", first, client.PortMapLifetime)
	}
	if renew.nonce != first.nonce || renew.suggest != 50000 || renew.lifetime == 0 {
		t.Errorf("renewal %+v: want the mapping's nonce and external port 50000", renew)
	}
	if del.nonce != first.nonce {
		t.Errorf("the delete used another nonce than the mapping")
	}
}

// pcpGateway answers PCP MAP requests on loopback, echoing the nonce, with
// the mapping 192.0.3.1:50000 for 2 h, once release is closed.
func pcpGateway(t *testing.T, release <-chan struct{}) netip.AddrPort {
	t.Helper()
	g, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	go func() {
		buf := make([]byte, 1200)
		for {
			n, from, err := g.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			if n != 60 || req[0] != 2 || req[1] != 1 {
				continue
			}
			go func() {
				<-release
				b := make([]byte, 60)
				b[0], b[1] = 2, 0x81
				binary.BigEndian.PutUint32(b[4:], 7200)
				b[11] = 1
				copy(b[24:44], req[24:44]) // nonce, protocol, reserved, internal port
				b[42], b[43] = 0xc3, 0x50
				ext := netip.AddrFrom16(netip.MustParseAddr("192.0.3.1").As16()).As16()
				copy(b[44:60], ext[:])
				g.WriteToUDPAddrPort(b, from)
			}()
		}
	}()
	return g.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TestPortMapLateAnswer: a gateway that answers after MapPort stopped
// waiting does not hold up the registration, and its mapping still
// reaches peers: the client registers again, and a lookup by another
// peer (through a real in-process supernode) returns it first among the
// candidates.
func TestPortMapLateAnswer(t *testing.T) {
	cfg := server.Defaults()
	cfg.Listen, cfg.Sockets = []string{"127.0.0.1:0"}, 1
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	srv := s.Addrs()[0]
	peer := func() *client.Client {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c := client.New(conn, srv, priv, nil)
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := peer(), peer()
	release := make(chan struct{})
	if _, err := a.MapPortAt(pcpGateway(t, release), 10*time.Millisecond); err == nil {
		t.Fatal("MapPort returned a mapping before the gateway answered")
	}
	if _, err := a.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Register(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := b.Lookup(ctx, a.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before the answer: %v", p.Local)
	want := netip.MustParseAddrPort("192.0.3.1:50000")
	if len(p.Local) > 0 && p.Local[0] == want {
		t.Fatal("the mapping was announced before the gateway granted it")
	}
	close(release)
	for ctx.Err() == nil {
		if p, err = b.Lookup(ctx, a.ID()); err == nil && len(p.Local) > 0 && p.Local[0] == want {
			t.Logf("after the answer: %v", p.Local)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the late mapping never reached a lookup: %v, %v", p, err)
}
