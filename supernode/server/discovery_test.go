package server

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// startDiscovery runs a server with RFC 5780 discovery on 127.0.0.1 and
// 127.0.0.2 (both on lo; no root needed), ports picked by the kernel.
func startDiscovery(t *testing.T) (*Server, [2][2]netip.AddrPort) {
	t.Helper()
	s := start(t, func(c *Config) {
		c.Listen = []string{"127.0.0.1:0"}
		c.AlternateAddress = "127.0.0.2"
		c.AlternatePort = 0
	})
	a, ok := s.DiscoveryAddrs()
	if !ok {
		t.Fatal("no discovery addresses with alternate_address set")
	}
	return s, a
}

// udp is an unconnected socket: replies from any of the server's
// addresses reach it, with their source.
func udp(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func discoveryRequest(classic, changeIP, changePort bool, pad int) []byte {
	m := stun.New()
	cookie := stun.MagicCookie
	if classic {
		cookie = 0x01020304
	}
	m.Build(stun.BindingRequest, cookie, stun.NewTransactionID())
	m.AddChangeRequest(changeIP, changePort)
	if pad > 0 {
		m.AddPadding(pad)
	}
	if !classic {
		m.AddFingerprint()
	}
	return append([]byte(nil), m.Raw...)
}

// recv reads one datagram (or none within d) and its source.
func recv(t *testing.T, c *net.UDPConn, d time.Duration) (*stun.Message, netip.AddrPort, int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 2048)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}, 0
	}
	m := stun.New()
	if err := m.Decode(buf[:n]); err != nil {
		t.Fatalf("reply from %v does not decode: %v", from, err)
	}
	return m, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), n
}

func addrAttr(t *testing.T, m *stun.Message, a stun.AttrType) netip.AddrPort {
	t.Helper()
	v, ok := m.Get(a)
	if !ok {
		t.Fatalf("reply has no attribute %#04x", uint16(a))
	}
	ap, err := m.MappedAddress(v)
	if err != nil {
		t.Fatalf("attribute %#04x: %v", uint16(a), err)
	}
	return ap
}

// TestDiscoveryChangeRequest: a padded request to each of the four
// addresses, with each CHANGE-REQUEST, is answered from the address the
// flags name (the datagram's real source), RESPONSE-ORIGIN says so,
// OTHER-ADDRESS is the address differing in IP and port from the one asked,
// the mapped address is ours, and no reply is larger than its request.
func TestDiscoveryChangeRequest(t *testing.T) {
	s, a := startDiscovery(t)
	if a[0][0] != s.Addrs()[0] || a[0][0].Addr() != a[0][1].Addr() || a[1][0].Addr() != a[1][1].Addr() ||
		a[0][0].Port() != a[1][0].Port() || a[0][1].Port() != a[1][1].Port() || a[0][0] == a[1][1] {
		t.Fatalf("addresses %v are not A1:P1 A1:P2 A2:P1 A2:P2", a)
	}
	c := udp(t)
	me := c.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, classic := range []bool{false, true} {
		for to := 0; to < 4; to++ {
			ti, tp := uint8(to>>1), uint8(to&1)
			for flags := 0; flags < 4; flags++ {
				ci, cp := flags&2 != 0, flags&1 != 0
				req := discoveryRequest(classic, ci, cp, 64)
				if _, err := c.WriteToUDPAddrPort(req, a[ti][tp]); err != nil {
					t.Fatal(err)
				}
				m, from, n := recv(t, c, 2*time.Second)
				if m == nil {
					t.Fatalf("classic=%v to %v change ip=%v port=%v: no reply", classic, a[ti][tp], ci, cp)
				}
				fi, fp := ti, tp
				if ci {
					fi ^= 1
				}
				if cp {
					fp ^= 1
				}
				origin, other, mapped := stun.AttrResponseOrigin, stun.AttrOtherAddress, stun.AttrXORMappedAddress
				if classic {
					origin, other, mapped = stun.AttrSourceAddress, stun.AttrChangedAddress, stun.AttrMappedAddress
				}
				if from != a[fi][fp] {
					t.Errorf("to %v change ip=%v port=%v: reply from %v, want %v", a[ti][tp], ci, cp, from, a[fi][fp])
				}
				if got := addrAttr(t, m, origin); got != from {
					t.Errorf("response origin %v, reply came from %v", got, from)
				}
				if got := addrAttr(t, m, other); got != a[ti^1][tp^1] {
					t.Errorf("other address %v, want %v", got, a[ti^1][tp^1])
				}
				v, _ := m.Get(mapped)
				var got netip.AddrPort
				if classic {
					got, _ = m.MappedAddress(v)
				} else {
					got, _ = m.XORAddress(v)
				}
				if got != me {
					t.Errorf("mapped %v, want %v", got, me)
				}
				if n > len(req) {
					t.Errorf("%d-byte reply to a %d-byte request", n, len(req))
				}
			}
		}
	}
	var cm dto.Metric
	s.m.requests[mBinding][rChanged].Write(&cm)
	if got := cm.GetCounter().GetValue(); got != 2*4*3 {
		t.Errorf("requests{binding,changed} = %v, want 24", got)
	}
}

// TestDiscoveryNeverAmplifies (hostile): the server cannot tell a forged
// source from a real one, so a CHANGE-REQUEST too small for its reply,
// from any source, gets nothing from any address (counted
// change_too_small), and an unpadded plain Binding gets the plain answer
// without the discovery attributes, as small as without
// alternate_address.
func TestDiscoveryNeverAmplifies(t *testing.T) {
	s, a := startDiscovery(t)
	c := udp(t)
	for _, classic := range []bool{false, true} {
		for flags := 1; flags < 4; flags++ {
			req := discoveryRequest(classic, flags&2 != 0, flags&1 != 0, 0)
			c.WriteToUDPAddrPort(req, a[0][0])
			if m, from, n := recv(t, c, 300*time.Millisecond); m != nil {
				t.Errorf("classic=%v flags=%d: %d-byte reply from %v to a %d-byte request", classic, flags, n, from, len(req))
			}
		}
	}
	if got := s.Dropped("change_too_small"); got != 6 {
		t.Errorf("drops{change_too_small} = %d, want 6", got)
	}
	for i, req := range [][]byte{discoveryRequest(false, false, false, 0), discoveryRequest(true, false, false, 0)} {
		max := []int{40, 32}[i] // what the same request gets without alternate_address (FINGERPRINT in the first)
		c.WriteToUDPAddrPort(req, a[1][1])
		m, from, n := recv(t, c, 2*time.Second)
		if m == nil || from != a[1][1] {
			t.Fatalf("no plain answer from %v (got one from %v)", a[1][1], from)
		}
		if n > max {
			t.Errorf("%d-byte plain answer to a %d-byte request, want at most %d", n, len(req), max)
		}
		for _, at := range []stun.AttrType{stun.AttrOtherAddress, stun.AttrResponseOrigin, stun.AttrChangedAddress, stun.AttrSourceAddress} {
			if _, ok := m.Get(at); ok {
				t.Errorf("attribute %#04x in a reply larger than its request would allow", uint16(at))
			}
		}
	}
}

// TestDiscoveryHostileInput: a malformed CHANGE-REQUEST is dropped and
// counted (bad_change_request), on any address, also when a well-formed
// one comes first; a supernode method on an alternate address is dropped
// (alternate_method); RESPONSE-PORT, which would aim replies at another
// port, is not understood (420).
func TestDiscoveryHostileInput(t *testing.T) {
	s, a := startDiscovery(t)
	c := udp(t)
	for i, v := range [][]byte{{0, 0, 6}, {0, 0, 0, 6, 0, 0, 0, 0}, nil} {
		m := stun.New()
		m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
		m.Add(stun.AttrChangeRequest, v)
		m.AddPadding(64)
		c.WriteToUDPAddrPort(m.Raw, a[i%2][0])
		if r, from, _ := recv(t, c, 300*time.Millisecond); r != nil {
			t.Errorf("CHANGE-REQUEST %x answered from %v", v, from)
		}
	}
	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.AddChangeRequest(true, true)
	m.Add(stun.AttrChangeRequest, []byte{0, 6})
	m.AddPadding(64)
	c.WriteToUDPAddrPort(m.Raw, a[0][0])
	if r, from, _ := recv(t, c, 300*time.Millisecond); r != nil {
		t.Errorf("request with a second, malformed CHANGE-REQUEST answered from %v", from)
	}
	if got := s.Dropped("bad_change_request"); got != 4 {
		t.Errorf("drops{bad_change_request} = %d, want 4", got)
	}

	m.Build(stun.MessageType{Method: wire.MethodRegister, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	m.AddPadding(200)
	m.AddFingerprint()
	for _, to := range []netip.AddrPort{a[0][1], a[1][0], a[1][1]} {
		c.WriteToUDPAddrPort(m.Raw, to)
		if r, from, _ := recv(t, c, 300*time.Millisecond); r != nil {
			t.Errorf("register to alternate %v answered from %v", to, from)
		}
	}
	if got := s.Dropped("alternate_method"); got != 3 {
		t.Errorf("drops{alternate_method} = %d, want 3", got)
	}
	// The primary still serves the supernode methods: a register gets its
	// cookie challenge.
	c.WriteToUDPAddrPort(m.Raw, a[0][0])
	if r, _, _ := recv(t, c, 2*time.Second); r == nil || r.Type.Class != stun.ClassError {
		t.Fatal("register to the primary address got no challenge")
	}

	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.Add(stun.AttrResponsePort, []byte{0x30, 0x39, 0, 0})
	m.AddPadding(64)
	c.WriteToUDPAddrPort(m.Raw, a[0][0])
	r, _, _ := recv(t, c, 2*time.Second)
	if r == nil || r.Type != stun.BindingError {
		t.Fatalf("RESPONSE-PORT: %+v, want a 420", r)
	}
	v, _ := r.Get(stun.AttrUnknownAttributes)
	if u, _ := stun.ParseUnknownAttributes(nil, v); len(u) != 1 || u[0] != stun.AttrResponsePort {
		t.Errorf("UNKNOWN-ATTRIBUTES %v, want RESPONSE-PORT", u)
	}
}

// TestNoAlternateAddress: without alternate_address, replies carry no
// OTHER-ADDRESS even to a padded request (clients then know discovery is
// not offered), PADDING is accepted, and a CHANGE-REQUEST with flags gets
// 420 naming CHANGE-REQUEST (RFC 5780 section 7.2), so single-address
// deployments keep working with every client.
func TestNoAlternateAddress(t *testing.T) {
	s := start(t, nil)
	if _, ok := s.DiscoveryAddrs(); ok {
		t.Fatal("discovery addresses without alternate_address")
	}
	c := rawConn(t, s.Addrs()[0])
	m := exchange(t, c, discoveryRequest(false, false, false, 64))
	if m.Type != stun.BindingSuccess {
		t.Fatalf("padded Binding: %+v", m.Type)
	}
	if _, ok := m.Get(stun.AttrOtherAddress); ok {
		t.Fatal("OTHER-ADDRESS without alternate_address")
	}
	m = exchange(t, c, discoveryRequest(false, true, false, 64))
	v, _ := m.Get(stun.AttrErrorCode)
	code, _, _ := stun.ParseErrorCode(v)
	v, _ = m.Get(stun.AttrUnknownAttributes)
	u, _ := stun.ParseUnknownAttributes(nil, v)
	if m.Type != stun.BindingError || code != 420 || len(u) != 1 || u[0] != stun.AttrChangeRequest {
		t.Fatalf("CHANGE-REQUEST without a second address: %+v %d %v, want 420 naming it", m.Type, code, u)
	}
}

// TestDiscoveryConfig: every bad alternate_address setting is refused with
// one sentence naming the key and the fix.
func TestDiscoveryConfig(t *testing.T) {
	for _, c := range []struct {
		listen []string
		alt    string
		port   int
		want   string
	}{
		{[]string{":3478"}, "192.0.2.2", 3479, "needs a listen entry naming this host's primary IPv4 address"},
		{[]string{"192.0.2.1:3478"}, "2001:db8::2", 3479, "primary IPv6 address"},
		{[]string{"192.0.2.1:3478"}, "192.0.2.1", 3479, "is the listen address itself"},
		{[]string{"192.0.2.1:3478"}, "192.0.2.2", 3478, "alternate_port = 3478 is the listen port"},
		{[]string{"192.0.2.1:3478"}, "192.0.2.2", 70000, "alternate_port = 70000 is out of range"},
		{[]string{"192.0.2.1:3478"}, "example.org", 3479, "is not a unicast IP address"},
		{[]string{"192.0.2.1:3478"}, "224.0.0.1", 3479, "is not a unicast IP address"},
	} {
		cfg := Defaults()
		cfg.Listen, cfg.AlternateAddress, cfg.AlternatePort = c.listen, c.alt, c.port
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "alternate_") {
			t.Errorf("listen %v alternate %s:%d: %v, want %q", c.listen, c.alt, c.port, err, c.want)
		}
	}
	cfg := Defaults()
	cfg.Listen, cfg.AlternateAddress = []string{"[::]:3478", "192.0.2.1:3478"}, "192.0.2.2"
	if err := cfg.Validate(); err != nil {
		t.Errorf("a wildcard IPv6 entry beside the IPv4 primary: %v", err)
	}
}

// TestDiscoveryAddressMissing: an alternate_address this host does not
// have stops the server with one sentence naming the keys to change.
func TestDiscoveryAddressMissing(t *testing.T) {
	cfg := Defaults()
	cfg.Listen, cfg.AlternateAddress, cfg.AlternatePort = []string{"127.0.0.1:0"}, "192.0.2.99", 0
	s, err := New(cfg, quiet, nil)
	if err == nil {
		s.Close()
		t.Fatal("started with an alternate address the host does not have")
	}
	if !strings.Contains(err.Error(), "192.0.2.99") || !strings.Contains(err.Error(), "change alternate_address or alternate_port") {
		t.Fatalf("error %q does not name the address and the keys", err)
	}
}
