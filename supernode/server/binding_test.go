package server

import (
	"net/netip"
	"testing"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// TestBindingReplySize: a Binding reply to an unproven source is as small as
// RFC 8489 allows: XOR-MAPPED-ADDRESS, plus FINGERPRINT only when the
// request had one (then the request grew by the same 8 bytes), and no
// SOFTWARE unless the request carried SOFTWARE and the operator set one.
// Replies to a bare 20-byte request are 32 bytes for IPv4 (1.6x) and 44 for
// IPv6 (2.2x); they were 56 and 68.
func TestBindingReplySize(t *testing.T) {
	w := benchWorker(t)
	cases := []struct {
		name     string
		src      netip.AddrPort
		fp, sw   bool
		maxReply int
	}{
		{"v4 bare", netip.MustParseAddrPort("192.0.2.7:4000"), false, false, 32},
		{"v4 fingerprint", netip.MustParseAddrPort("192.0.2.7:4000"), true, false, 40},
		{"v6 bare", netip.MustParseAddrPort("[2001:db8::7]:4000"), false, false, 44},
		{"v6 fingerprint", netip.MustParseAddrPort("[2001:db8::7]:4000"), true, false, 52},
		// The operator's SOFTWARE is not sent by default (software = "").
		{"v4 software", netip.MustParseAddrPort("192.0.2.7:4000"), true, true, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := stun.New()
			req.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
			if c.sw {
				req.AddSoftware("x")
			}
			if c.fp {
				req.AddFingerprint()
			}
			in := append([]byte(nil), req.Raw...)
			w.nout = 0
			w.handle(in, c.src, false)
			if w.nout != 1 {
				t.Fatalf("%d replies", w.nout)
			}
			out := w.outs[0]
			if len(out.Raw) > c.maxReply {
				t.Errorf("%d-byte reply to a %d-byte request (%.2fx), want at most %d", len(out.Raw), len(in), float64(len(out.Raw))/float64(len(in)), c.maxReply)
			}
			d := stun.New()
			if err := d.Decode(out.Raw); err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Get(stun.AttrSoftware); ok && !c.sw {
				t.Error("SOFTWARE in the reply to a request without SOFTWARE")
			}
			if has := d.Find(stun.AttrFingerprint) >= 0; has != c.fp {
				t.Errorf("reply FINGERPRINT %v, request FINGERPRINT %v", has, c.fp)
			}
			v, ok := d.Get(stun.AttrXORMappedAddress)
			if !ok {
				t.Fatal("no XOR-MAPPED-ADDRESS")
			}
			if got, err := d.XORAddress(v); err != nil || got != c.src {
				t.Fatalf("mapped %v %v, want %v", got, err, c.src)
			}
		})
	}
}

// TestUnknownAttributeReplySize: the 420 answer to a Binding request with
// one unknown comprehension-required attribute (the smallest such request,
// 24 bytes) drops its diagnostic reason phrase rather than be 2.3x larger.
func TestUnknownAttributeReplySize(t *testing.T) {
	w := benchWorker(t)
	req := stun.New()
	req.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	req.Add(0x7F31, nil)
	in := append([]byte(nil), req.Raw...)
	w.nout = 0
	w.handle(in, netip.MustParseAddrPort("192.0.2.7:4000"), false)
	if w.nout != 1 {
		t.Fatalf("%d replies", w.nout)
	}
	if n := len(w.outs[0].Raw); n > 36 {
		t.Fatalf("%d-byte 420 to a %d-byte request, want at most 36 (1.5x)", n, len(in))
	}
}
