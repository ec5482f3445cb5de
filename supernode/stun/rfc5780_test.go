package stun

import (
	"net/netip"
	"testing"
)

// TestChangeRequestRoundTrip: every flag combination encodes as RFC 5780
// section 7.2 draws it (A = 0x04, B = 0x02 in the last byte) and decodes
// back; other lengths are refused.
func TestChangeRequestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		ip, port bool
		last     byte
	}{{false, false, 0}, {false, true, 2}, {true, false, 4}, {true, true, 6}} {
		m := New()
		m.Build(BindingRequest, MagicCookie, [12]byte{9})
		m.AddChangeRequest(c.ip, c.port)
		d := New()
		if err := d.Decode(m.Raw); err != nil {
			t.Fatal(err)
		}
		v, ok := d.Get(AttrChangeRequest)
		if !ok || len(v) != 4 || v[3] != c.last || v[0]|v[1]|v[2] != 0 {
			t.Fatalf("CHANGE-REQUEST(%v,%v) encoded as %x", c.ip, c.port, v)
		}
		ip, port, err := ParseChangeRequest(v)
		if err != nil || ip != c.ip || port != c.port {
			t.Fatalf("decoded %v %v %v, want %v %v", ip, port, err, c.ip, c.port)
		}
	}
	for _, bad := range [][]byte{nil, {0}, {0, 0, 6}, {0, 0, 0, 6, 0}} {
		if _, _, err := ParseChangeRequest(bad); err != ErrBadAttribute {
			t.Errorf("ParseChangeRequest(%x) = %v, want ErrBadAttribute", bad, err)
		}
	}
	// Unassigned bits are ignored (RFC 5780 7.2).
	if ip, port, err := ParseChangeRequest([]byte{0xff, 0xff, 0xff, 0xf9}); err != nil || ip || port {
		t.Errorf("unassigned bits changed the flags: %v %v %v", ip, port, err)
	}
}

// TestOtherAddressEncoding: OTHER-ADDRESS and RESPONSE-ORIGIN carry the
// address in the clear (MAPPED-ADDRESS format, RFC 5780 7.3/7.4), IPv4 and
// IPv6, at the sizes the server's size rule counts on (12 and 24 bytes).
func TestOtherAddressEncoding(t *testing.T) {
	for _, c := range []struct {
		ap   string
		size int
		raw  []byte
	}{
		{"192.0.2.2:3479", 12, []byte{0, 1, 0x0d, 0x97, 192, 0, 2, 2}},
		{"[2001:db8::2]:3479", 24, nil},
	} {
		ap := netip.MustParseAddrPort(c.ap)
		m := New()
		m.Build(BindingSuccess, MagicCookie, [12]byte{1})
		m.AddMappedAddress(AttrOtherAddress, ap)
		if got := len(m.Raw) - HeaderSize; got != c.size {
			t.Fatalf("%s: attribute is %d bytes, want %d", c.ap, got, c.size)
		}
		d := New()
		if err := d.Decode(m.Raw); err != nil {
			t.Fatal(err)
		}
		v, _ := d.Get(AttrOtherAddress)
		if c.raw != nil && string(v) != string(c.raw) {
			t.Fatalf("%s encoded %x, want %x", c.ap, v, c.raw)
		}
		if got, err := d.MappedAddress(v); err != nil || got != ap {
			t.Fatalf("%s decoded as %v %v", c.ap, got, err)
		}
	}
	if AttrOtherAddress.Required() || AttrResponseOrigin.Required() {
		t.Fatal("OTHER-ADDRESS and RESPONSE-ORIGIN are comprehension-optional (RFC 5780 9)")
	}
	if !AttrChangeRequest.Required() || !AttrPadding.Required() || !AttrResponsePort.Required() {
		t.Fatal("CHANGE-REQUEST, PADDING and RESPONSE-PORT are comprehension-required (RFC 5780 9)")
	}
}

// FuzzChangeRequest: never panics; whatever decodes re-encodes to the same
// flags.
func FuzzChangeRequest(f *testing.F) {
	f.Add([]byte{0, 0, 0, 6})
	f.Add([]byte{0, 0, 0, 2})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		ip, port, err := ParseChangeRequest(v)
		if err != nil {
			return
		}
		m := New()
		m.Build(BindingRequest, MagicCookie, [12]byte{})
		m.AddChangeRequest(ip, port)
		ip2, port2, err := ParseChangeRequest(m.Raw[HeaderSize+4:])
		if err != nil || ip2 != ip || port2 != port {
			t.Fatalf("round trip %x: %v %v -> %v %v %v", v, ip, port, ip2, port2, err)
		}
	})
}
