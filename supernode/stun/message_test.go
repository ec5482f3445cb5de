package stun

import (
	"bytes"
	"crypto/sha256"
	"net/netip"
	"testing"
)

func TestMessageTypeRoundTrip(t *testing.T) {
	for m := Method(0); m < 0x1000; m++ {
		for c := ClassRequest; c <= ClassError; c++ {
			in := MessageType{m, c}
			var out MessageType
			out.ReadValue(in.Value())
			if out != in || in.Value()&0xc000 != 0 {
				t.Fatalf("%+v -> %#04x -> %+v", in, in.Value(), out)
			}
		}
	}
	// RFC 8489 section 5: a Binding success response is 0x0101.
	if BindingSuccess.Value() != 0x0101 || BindingError.Value() != 0x0111 {
		t.Fatalf("binding success %#x error %#x", BindingSuccess.Value(), BindingError.Value())
	}
}

func TestRoundTrip(t *testing.T) {
	b := New()
	id := NewTransactionID()
	b.Build(MessageType{0x0d1, ClassRequest}, MagicCookie, id)
	v4 := netip.MustParseAddrPort("198.51.100.7:40000")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:1")
	mapped := netip.MustParseAddrPort("[::ffff:10.0.0.1]:3478")
	b.AddXORAddress(AttrXORMappedAddress, v4)
	b.AddXORAddress(0x8050, v6)
	b.AddMappedAddress(AttrMappedAddress, mapped)
	b.AddSoftware("x")
	b.AddErrorCode(CodeUnknownAttribute, "Unknown Attribute")
	b.AddUnknownAttributes([]AttrType{0x0033, 0x7fff, 0x0002})
	b.AddMessageIntegritySHA256([]byte("key"))
	b.AddFingerprint()

	m := New()
	if err := m.Decode(append([]byte(nil), b.Raw...)); err != nil {
		t.Fatal(err)
	}
	if m.Type != b.Type || m.TransactionID != id || m.Classic() || len(m.Attributes) != 8 {
		t.Fatalf("header %+v %x attrs %d", m.Type, m.TransactionID, len(m.Attributes))
	}
	check := func(ty AttrType, xor bool, want netip.AddrPort) {
		v, ok := m.Get(ty)
		if !ok {
			t.Fatalf("%#x missing", ty)
		}
		var got netip.AddrPort
		var err error
		if xor {
			got, err = m.XORAddress(v)
		} else {
			got, err = m.MappedAddress(v)
		}
		if err != nil || got != want {
			t.Fatalf("%#x: %v %v want %v", ty, got, err, want)
		}
	}
	check(AttrXORMappedAddress, true, v4)
	check(0x8050, true, v6)
	check(AttrMappedAddress, false, netip.MustParseAddrPort("10.0.0.1:3478"))
	v, _ := m.Get(AttrErrorCode)
	code, reason, err := ParseErrorCode(v)
	if err != nil || code != 420 || string(reason) != "Unknown Attribute" {
		t.Fatalf("error code %d %q %v", code, reason, err)
	}
	v, _ = m.Get(AttrUnknownAttributes)
	u, err := ParseUnknownAttributes(nil, v)
	if err != nil || len(u) != 3 || u[1] != 0x7fff {
		t.Fatalf("unknown %v %v", u, err)
	}
	if err := m.CheckMessageIntegritySHA256([]byte("key")); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckMessageIntegritySHA256([]byte("other")); err != ErrIntegrity {
		t.Fatalf("wrong key: %v", err)
	}
	if err := m.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}
	m.Raw[30] ^= 1
	if err := m.CheckFingerprint(); err != ErrFingerprint {
		t.Fatalf("flipped bit: %v", err)
	}
}

func TestClassicReplyEchoesID(t *testing.T) {
	// RFC 3489 section 11.1: the 128-bit transaction ID has no magic cookie.
	req := []byte("\x00\x01\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10")
	m := New()
	if err := m.Decode(req); err != nil {
		t.Fatal(err)
	}
	if !m.Classic() {
		t.Fatal("not classic")
	}
	r := New()
	r.Reply(m, ClassSuccess)
	if !bytes.Equal(r.Raw[4:20], req[4:20]) {
		t.Fatalf("id not echoed: %x", r.Raw[4:20])
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := New()
	valid.Build(BindingRequest, MagicCookie, NewTransactionID())
	valid.AddSoftware("abcde")
	good := valid.Raw
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", good[:19], ErrTruncated},
		{"not stun", append([]byte{0x80}, good[1:]...), ErrNotSTUN},
		{"length past end", good[:len(good)-4], ErrTruncated},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), ErrBadLength},
		{"odd length", func() []byte { b := append([]byte(nil), good...); b[3] = 3; return b[:23] }(), ErrBadLength},
		{"attr past end", func() []byte { b := append([]byte(nil), good...); b[23] = 200; return b }(), ErrAttrTruncated},
		{"too large", make([]byte, MaxReceiveSize+4), ErrTooLarge},
		{"too many attributes", func() []byte {
			b := New()
			b.Build(BindingRequest, MagicCookie, NewTransactionID())
			for range MaxAttributes + 1 {
				b.Add(0x8001, nil)
			}
			return b.Raw
		}(), ErrTooManyAttributes},
	} {
		m := New()
		if err := m.Decode(tc.b); err != tc.want {
			t.Errorf("%s: got %v want %v", tc.name, err, tc.want)
		}
	}
}

func TestBadAddresses(t *testing.T) {
	m := New()
	m.Build(BindingSuccess, MagicCookie, NewTransactionID())
	for _, v := range [][]byte{nil, {0, 1, 0}, {0, 3, 0, 0, 1, 2, 3, 4}, {0, 1, 0, 0, 1, 2, 3}, {0, 2, 0, 0, 1, 2, 3, 4}} {
		if _, err := m.XORAddress(v); err == nil {
			t.Errorf("%x decoded", v)
		}
	}
	if _, _, err := ParseErrorCode([]byte{0, 0, 7, 0}); err == nil {
		t.Error("class 7 accepted")
	}
	if _, err := ParseUnknownAttributes(nil, []byte{1}); err == nil {
		t.Error("odd unknown list accepted")
	}
}

// TestHMACSHA256MatchesStdlib checks the allocation-free HMAC against
// crypto/hmac for keys shorter than, equal to and longer than the block.
func TestHMACSHA256MatchesStdlib(t *testing.T) {
	for _, klen := range []int{0, 16, 64, 65, 100} {
		key := bytes.Repeat([]byte{byte(klen)}, klen)
		m := New()
		m.Build(BindingRequest, MagicCookie, NewTransactionID())
		m.AddSoftware("integrity")
		m.AddMessageIntegritySHA256(key)
		m.AddFingerprint()
		d := New()
		if err := d.Decode(m.Raw); err != nil {
			t.Fatal(err)
		}
		if err := d.checkMAC(AttrMessageIntegritySHA256, sha256.New, key); err != nil {
			t.Fatalf("key %d: stdlib HMAC disagrees: %v", klen, err)
		}
		if err := d.CheckMessageIntegritySHA256(key); err != nil {
			t.Fatalf("key %d: %v", klen, err)
		}
	}
}
