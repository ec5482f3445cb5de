package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"testing"
	"time"

	pion "github.com/pion/stun/v3"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// TestPionDecodesOurMessages checks, with an implementation nobody here
// wrote, that every supernode message on the wire is valid STUN: header,
// attribute framing, FINGERPRINT, and XOR-MAPPED-ADDRESS.
func TestPionDecodesOurMessages(t *testing.T) {
	s := start(t, nil)
	c := rawConn(t, s.Addrs()[0])
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var msgs [][]byte

	probe := stun.New()
	wire.BuildRegister(probe, stun.NewTransactionID(), nil, &wire.Registration{ID: wire.PeerID(priv.Public().(ed25519.PublicKey))})
	msgs = append(msgs, append([]byte(nil), probe.Raw...))
	challenge := exchange(t, c, probe.Raw)
	msgs = append(msgs, append([]byte(nil), challenge.Raw...))
	reg := signedRegister(t, s, c, priv, uint64(time.Now().UnixMilli()))
	msgs = append(msgs, reg)
	ok := exchange(t, c, reg)
	msgs = append(msgs, append([]byte(nil), ok.Raw...))

	for i, b := range msgs {
		m := &pion.Message{Raw: b}
		if err := m.Decode(); err != nil {
			t.Fatalf("message %d: pion cannot decode: %v", i, err)
		}
		if err := pion.Fingerprint.Check(m); err != nil {
			t.Fatalf("message %d: pion rejects FINGERPRINT: %v", i, err)
		}
		if m.Type.Value() != uint16(stun.MessageType{Method: wire.MethodRegister, Class: stun.Class(m.Type.Class)}.Value()) {
			t.Fatalf("message %d: pion reads type %v", i, m.Type)
		}
	}
	// The success response's XOR-MAPPED-ADDRESS, as pion reads it.
	m := &pion.Message{Raw: msgs[3]}
	m.Decode()
	var xa pion.XORMappedAddress
	if err := xa.GetFrom(m); err != nil {
		t.Fatal(err)
	}
	if la := c.LocalAddr().(*net.UDPAddr); !xa.IP.Equal(la.IP) || xa.Port != la.Port {
		t.Fatalf("pion reads mapped %s, socket is %s", xa, la)
	}
	// And pion-built Binding requests get answers pion can parse.
	req := pion.MustBuild(pion.TransactionID, pion.BindingRequest, pion.Fingerprint)
	resp := exchange(t, c, req.Raw)
	pm := &pion.Message{Raw: resp.Raw}
	if err := pm.Decode(); err != nil || pm.Type != pion.BindingSuccess {
		t.Fatalf("pion reads %v %v", pm.Type, err)
	}
	if err := xa.GetFrom(pm); err != nil {
		t.Fatal(err)
	}
}
