package stun

import (
	"net/netip"
	"testing"
)

// BenchmarkBindingPath is the whole server-side Binding path: decode a
// request, build the XOR-MAPPED-ADDRESS + SOFTWARE + FINGERPRINT reply. It
// must report 0 allocs/op.
func BenchmarkBindingPath(b *testing.B) {
	req := New()
	req.Build(BindingRequest, MagicCookie, NewTransactionID())
	req.AddFingerprint()
	raw := append([]byte(nil), req.Raw...)
	src := netip.MustParseAddrPort("203.0.113.9:51000")
	m, r := New(), New()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := m.Decode(raw); err != nil {
			b.Fatal(err)
		}
		r.Reply(m, ClassSuccess)
		r.AddXORAddress(AttrXORMappedAddress, src)
		r.AddSoftware("supernode")
		r.AddFingerprint()
	}
}

func BenchmarkDecode(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Decode(rfc5769Request); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXORAddress(b *testing.B) {
	m := New()
	if err := m.Decode(rfc5769ResponseV6); err != nil {
		b.Fatal(err)
	}
	v, _ := m.Get(AttrXORMappedAddress)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.XORAddress(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckFingerprint(b *testing.B) {
	m := New()
	if err := m.Decode(rfc5769Request); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.CheckFingerprint(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckIntegritySHA256(b *testing.B) {
	m := New()
	m.Build(MessageType{0x805, ClassRequest}, MagicCookie, NewTransactionID())
	m.Add(0xC001, make([]byte, 32))
	m.AddMessageIntegritySHA256(make([]byte, 16))
	m.AddFingerprint()
	d := New()
	if err := d.Decode(m.Raw); err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.CheckMessageIntegritySHA256(key); err != nil {
			b.Fatal(err)
		}
	}
}
