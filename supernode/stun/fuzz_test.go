package stun

import (
	"bytes"
	"net/netip"
	"testing"
)

// Every decoder gets a fuzz target; seeds live in testdata/fuzz/<Name>. The
// property is "never panics, and whatever decodes re-encodes consistently".

func FuzzDecode(f *testing.F) {
	f.Add(rfc5769Request)
	f.Add(rfc5769ResponseV4)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := New()
		if err := m.Decode(b); err != nil {
			return
		}
		// Rebuild from the decoded attributes: must reproduce the input up
		// to padding bytes, which receivers ignore.
		r := New()
		r.Build(m.Type, m.Cookie, m.TransactionID)
		for _, a := range m.Attributes {
			r.Add(a.Type, a.Value)
		}
		if len(r.Raw) != len(b) || !bytes.Equal(r.Raw[:HeaderSize], b[:HeaderSize]) {
			t.Fatalf("re-encode differs: %x vs %x", r.Raw, b)
		}
		m.CheckFingerprint()
		m.CheckMessageIntegrity([]byte("k"))
		m.CheckMessageIntegritySHA256([]byte("k"))
		m.UnknownRequired(nil, func(AttrType) bool { return false })
	})
}

func FuzzAddress(f *testing.F) {
	f.Add([]byte{0, 1, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43}, true)
	f.Add([]byte{0, 2, 0, 80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, false)
	f.Fuzz(func(t *testing.T, v []byte, xor bool) {
		m := New()
		m.Build(BindingSuccess, MagicCookie, [12]byte{1, 2, 3})
		var err error
		if xor {
			_, err = m.XORAddress(v)
		} else {
			_, err = m.MappedAddress(v)
		}
		if err != nil {
			return
		}
		ap, _ := m.address(v, xor)
		m.addAddress(AttrXORMappedAddress, ap, xor)
		// The encoder sends an IPv4-mapped IPv6 address as IPv4.
		want := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if out, err := m.address(m.Raw[HeaderSize+4:], xor); err != nil || out != want {
			t.Fatalf("round trip %v -> %v %v, want %v", ap, out, err, want)
		}
	})
}

func FuzzErrorCode(f *testing.F) {
	f.Add([]byte{0, 0, 4, 20, 'x'})
	f.Fuzz(func(t *testing.T, v []byte) {
		code, reason, err := ParseErrorCode(v)
		if err != nil {
			return
		}
		m := New()
		m.Build(BindingError, MagicCookie, [12]byte{})
		m.AddErrorCode(code, string(reason))
		c2, r2, err := ParseErrorCode(m.Raw[HeaderSize+4 : HeaderSize+4+4+min(len(reason), maxReason)])
		if err != nil || c2 != code || !bytes.Equal(r2, reason[:min(len(reason), maxReason)]) {
			t.Fatalf("%d %q -> %d %q %v", code, reason, c2, r2, err)
		}
	})
}

func FuzzUnknownAttributes(f *testing.F) {
	f.Add([]byte{0, 0x33, 0x7f, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		u, err := ParseUnknownAttributes(nil, v)
		if err != nil {
			return
		}
		if len(u) != len(v)/2 {
			t.Fatalf("%d types from %d bytes", len(u), len(v))
		}
	})
}
