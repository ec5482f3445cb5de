package wire

import (
	"crypto/ecdh"
	"crypto/ed25519"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// Registration is the content of a register request.
type Registration struct {
	ID        PeerID
	Local     Candidates
	Cookie    []byte // nil in the first (challenge-triggering) request
	Stamp     uint64
	Ephemeral [KeySize]byte // client X25519 public key
}

// BuildRegister writes a register request into m. Without a cookie it is the
// unsigned probe that earns a cookie, padded to MinRegisterSize. With a
// cookie it is signed with priv: the signature covers the header (type,
// length, transaction ID) and every attribute before it, cookie and
// timestamp included, so it cannot be replayed from another address or
// after the cookie expires.
func BuildRegister(m *stun.Message, id [stun.TransactionIDSize]byte, priv ed25519.PrivateKey, r *Registration) {
	m.Build(stun.MessageType{Method: MethodRegister, Class: stun.ClassRequest}, stun.MagicCookie, id)
	AddPeerID(m, AttrPeerID, r.ID)
	AddCandidates(m, &r.Local)
	if r.Cookie == nil {
		// Room left for the padding attribute header and FINGERPRINT.
		if need := MinRegisterSize - len(m.Raw) - 4 - 8; need > 0 {
			m.Add(AttrPadding, make([]byte, need))
		}
		m.AddFingerprint()
		return
	}
	m.Add(AttrCookie, r.Cookie)
	AddStamp(m, r.Stamp)
	m.Add(AttrEphemeralKey, r.Ephemeral[:])
	var buf [stun.MaxMessageSize]byte
	sig := ed25519.Sign(priv, m.PrefixForNext(buf[:0], SignatureSize))
	m.Add(AttrSignature, sig)
	m.AddFingerprint()
}

// ParseRegister reads a register request. It does not verify the cookie
// (that needs the server's secret) or the signature (VerifySignature), so the
// server can do the cheap checks first.
func ParseRegister(m *stun.Message, r *Registration) error {
	var err error
	if r.ID, err = GetPeerID(m, AttrPeerID); err != nil {
		return err
	}
	if err = GetCandidates(m, &r.Local); err != nil {
		return err
	}
	v, ok := m.Get(AttrCookie)
	if !ok {
		r.Cookie = nil
		return nil
	}
	r.Cookie = v
	if r.Stamp, err = GetStamp(m); err != nil {
		return err
	}
	e, ok := m.Get(AttrEphemeralKey)
	if !ok {
		return ErrMissing
	}
	if len(e) != KeySize {
		return ErrMalformed
	}
	r.Ephemeral = [KeySize]byte(e)
	return nil
}

// VerifySignature checks SIGNATURE against the PEER-ID key. SIGNATURE may only
// be followed by FINGERPRINT, so nothing unsigned rides along.
func VerifySignature(m *stun.Message, id PeerID) error {
	i := m.Find(AttrSignature)
	if i < 0 {
		return ErrMissing
	}
	if len(m.Attributes[i].Value) != SignatureSize {
		return ErrMalformed
	}
	if rest := m.Attributes[i+1:]; len(rest) > 1 || len(rest) == 1 && rest[0].Type != stun.AttrFingerprint {
		return ErrSignatureLast
	}
	var buf [stun.MaxMessageSize]byte
	if !ed25519.Verify(ed25519.PublicKey(id[:]), m.Prefix(buf[:0], i), m.Attributes[i].Value) {
		return ErrBadSignature
	}
	return nil
}

// SessionKey derives the short-term key both sides use for
// MESSAGE-INTEGRITY-SHA256 after a registration: HKDF-SHA256 (RFC 5869) of
// the X25519 shared secret, salted with the register transaction ID and bound
// to the peer's identity. The key never crosses the wire, so a passive
// observer of the registration cannot forge keepalives, lookups or leaves.
func SessionKey(priv *ecdh.PrivateKey, peerEphemeral []byte, id [stun.TransactionIDSize]byte, peer PeerID) (key [SessionKeySize]byte, err error) {
	if len(peerEphemeral) != KeySize || priv.Curve() != ecdh.X25519() {
		return key, ErrMalformed
	}
	var scalar, point, shared [KeySize]byte
	copy(scalar[:], priv.Bytes()) // Bytes copies onto the stack when inlined
	copy(point[:], peerEphemeral)
	if !x25519(&shared, &scalar, &point) {
		return key, ErrMalformed
	}
	okm := hkdfSessionKey(shared[:], id[:], &peer)
	return [SessionKeySize]byte(okm[:SessionKeySize]), nil
}
