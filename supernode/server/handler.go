package server

import (
	"errors"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// handle serves one datagram. Replies are queued in w.outs; nothing here
// blocks, allocates on the Binding path, or panics on any input.
func (w *worker) handle(pkt []byte, src netip.AddrPort, truncated bool) {
	s := w.s
	start := time.Now()
	if !src.IsValid() {
		return
	}
	if !s.limit.allow(src.Addr(), start.UnixNano()) {
		w.drop(dropRateLimited, src)
		return
	}
	s.m.total.Add(1)
	if truncated || len(pkt) > stun.MaxReceiveSize {
		w.drop(dropOversize, src)
		return
	}
	req := w.req
	if err := req.Decode(pkt); err != nil {
		w.drop(decodeReason(err), src)
		return
	}
	if req.Type.Class != stun.ClassRequest {
		w.drop(dropUnexpectedClass, src)
		return
	}
	mi := methodOf(req.Type.Method)
	if mi == mOther {
		w.drop(dropUnknownMethod, src)
		return
	}
	if mi != mBinding && w.pos.alternate() {
		// The alternate addresses serve NAT discovery only: a peer's
		// pinhole names the primary address (discovery.go).
		w.drop(dropAlternateMethod, src)
		return
	}
	for i := range req.Attributes {
		if a := &req.Attributes[i]; a.Type == stun.AttrChangeRequest && len(a.Value) != 4 {
			w.drop(dropBadChangeRequest, src)
			return
		}
	}
	var res result
	if w.unknownAttributes(req, src, mi) {
		res = rUnknownAttribute
	} else {
		switch mi {
		case mBinding:
			res = w.binding(req, src)
		case mRegister:
			res = w.register(req, src, start)
		case mKeepalive, mLookup, mLeave:
			res = w.authenticated(req, src, mi, start)
		}
	}
	if res != rQueued { // a queued fleet lookup counts itself when answered
		s.m.requests[mi][res].Inc()
		s.m.latency[mi].Observe(time.Since(start).Seconds())
	}
}

func decodeReason(err error) dropReason {
	switch err {
	case stun.ErrNotSTUN:
		return dropNotSTUN
	case stun.ErrTruncated, stun.ErrAttrTruncated:
		return dropTruncated
	case stun.ErrTooLarge:
		return dropOversize
	}
	return dropMalformed
}

func methodOf(m stun.Method) methodIdx {
	switch m {
	case stun.MethodBinding:
		return mBinding
	case wire.MethodRegister:
		return mRegister
	case wire.MethodKeepalive:
		return mKeepalive
	case wire.MethodLookup:
		return mLookup
	case wire.MethodLeave:
		return mLeave
	}
	return mOther
}

// unknownAttributes answers 420 with UNKNOWN-ATTRIBUTES if req carries
// comprehension-required attributes we do not know (RFC 8489 section
// 7.3.1). CHANGE-REQUEST without change flags asks nothing of us and is
// accepted; with flags it is served when alternate_address is set
// (discovery.go), else we cannot honour it (one address only): modern
// clients get 420 as RFC 5780 section 7.2 expects, classic RFC 3489 clients
// (which may not parse 420) get no answer, which their NAT-type test reads as
// "the change did not get through". PADDING (RFC 5780 section 7.6) is
// understood in a Binding request and ignored.
func (w *worker) unknownAttributes(req *stun.Message, src netip.AddrPort, mi methodIdx) bool {
	u := w.unknown[:0]
	for i := range req.Attributes {
		a := &req.Attributes[i]
		if !a.Type.Required() || wire.Known(a.Type) {
			continue
		}
		if a.Type == stun.AttrChangeRequest && len(a.Value) == 4 && (a.Value[3]&0x06 == 0 || mi == mBinding && w.s.disc != nil && w.pos.ok) {
			continue
		}
		if a.Type == stun.AttrPadding && mi == mBinding {
			continue
		}
		u = append(u, a.Type)
	}
	if len(u) == 0 {
		return false
	}
	if req.Classic() {
		w.drop(dropMalformed, src)
		return true
	}
	fp := mi != mBinding || req.Find(stun.AttrFingerprint) >= 0 // Binding: only if asked for, as in binding()
	m := w.out()
	for _, reason := range [2]string{"Unknown Attribute", ""} {
		m.Reply(req, stun.ClassError)
		m.AddErrorCode(stun.CodeUnknownAttribute, reason)
		m.AddUnknownAttributes(u)
		if fp {
			m.AddFingerprint()
		}
		// The reason phrase is only diagnostic (RFC 8489 section 14.8):
		// dropped when it would make the answer larger than the request.
		if len(m.Raw) <= len(req.Raw) {
			break
		}
	}
	if mi == mBinding {
		// Standard STUN behaviour: answered even when a little larger than
		// the request (at most 1.5x, one unknown attribute with an empty
		// value), bounded by the rate limit.
		w.send(src)
	} else {
		w.sendBounded(src, len(req.Raw))
	}
	return true
}

// binding answers a Binding request (RFC 8489 section 7.3.1): XOR-MAPPED-
// ADDRESS, or MAPPED-ADDRESS for an RFC 3489 client (RFC 8489 section 12).
// Anyone can send a Binding request with someone else's source address, so
// the reply carries nothing the request did not ask for: FINGERPRINT only
// when the request had one (RFC 8489 section 7.3 makes it optional; the
// request then grew by the same 8 bytes) and SOFTWARE only when the
// operator set one and the request carried its own. A bare 20-byte request
// gets 32 bytes (IPv4, 1.6x) or 44 bytes (IPv6, 2.2x), the least that holds
// the mapped address.
func (w *worker) binding(req *stun.Message, src netip.AddrPort) result {
	fp := req.Find(stun.AttrFingerprint) >= 0
	if fp && req.CheckFingerprint() != nil {
		w.drop(dropBadFingerprint, src)
		return rDropped
	}
	if w.s.disc != nil && w.pos.ok {
		return w.discoveryBinding(req, src, fp)
	}
	w.bindingReply(w.out(), req, src, fp, netip.AddrPort{}, netip.AddrPort{})
	w.send(src)
	return rOK
}

// bindingReply builds a Binding success into m. origin and other, when
// valid, add RFC 5780's RESPONSE-ORIGIN and OTHER-ADDRESS (RFC 3489's
// SOURCE-ADDRESS and CHANGED-ADDRESS for a classic client).
func (w *worker) bindingReply(m *stun.Message, req *stun.Message, src netip.AddrPort, fp bool, origin, other netip.AddrPort) {
	m.Reply(req, stun.ClassSuccess)
	if req.Classic() {
		m.AddMappedAddress(stun.AttrMappedAddress, src)
		if origin.IsValid() {
			m.AddMappedAddress(stun.AttrSourceAddress, origin)
			m.AddMappedAddress(stun.AttrChangedAddress, other)
		}
	} else {
		m.AddXORAddress(stun.AttrXORMappedAddress, src)
		if origin.IsValid() {
			m.AddMappedAddress(stun.AttrResponseOrigin, origin)
			m.AddMappedAddress(stun.AttrOtherAddress, other)
		}
	}
	if w.s.cfg.Software != "" && req.Find(stun.AttrSoftware) >= 0 {
		m.AddSoftware(w.s.cfg.Software)
	}
	if fp && !req.Classic() {
		m.AddFingerprint()
	}
}

// errorReply queues an error response with FINGERPRINT, bounded by the
// request size.
func (w *worker) errorReply(req *stun.Message, src netip.AddrPort, code int, reason string, key []byte) {
	m := w.out()
	m.Reply(req, stun.ClassError)
	m.AddErrorCode(code, reason)
	if key != nil {
		m.AddMessageIntegritySHA256(key)
	}
	m.AddFingerprint()
	w.sendBounded(src, len(req.Raw))
}

// register: cookie challenge, then signature, then state (wire protocol,
// supernode/README.md).
func (w *worker) register(req *stun.Message, src netip.AddrPort, now time.Time) result {
	s := w.s
	if req.CheckFingerprint() != nil {
		w.drop(dropBadFingerprint, src)
		return rDropped
	}
	r := &w.reg
	if err := wire.ParseRegister(req, r); err != nil {
		w.drop(dropMalformed, src)
		return rDropped
	}
	if r.Cookie != nil {
		switch s.cookies.Verify(r.Cookie, src, now) {
		case nil:
			return w.registerVerified(req, src, now)
		case wire.ErrCookieExpired:
			w.drop(dropCookieExpired, src)
		default:
			w.drop(dropBadCookie, src)
		}
	}
	// No state is kept; the challenge is never larger than the request.
	c := s.cookies.Issue(src, now)
	m := w.out()
	m.Reply(req, stun.ClassError)
	m.AddErrorCode(wire.CodeCookieRequired, wire.ReasonCookie)
	m.Add(wire.AttrCookie, c[:])
	m.AddFingerprint()
	if !w.sendBounded(src, len(req.Raw)) {
		return rDropped
	}
	return rChallenge
}

func (w *worker) registerVerified(req *stun.Message, src netip.AddrPort, now time.Time) result {
	s := w.s
	r := &w.reg
	if err := wire.VerifySignature(req, r.ID); err != nil {
		w.dropProven(dropBadSignature, src) // the cookie proved src
		return rDropped
	}
	key, err := wire.SessionKey(w.ephemeral(now), r.Ephemeral[:], req.TransactionID, r.ID)
	if err != nil {
		w.dropProven(dropMalformed, src)
		return rDropped
	}
	// Candidates the peer cannot own are not stored, so no other peer is
	// ever told to punch them (wire.CheckCandidate); the rest register.
	wire.FilterCandidates(&r.Local, src.Addr(), w.rejectCandidate)
	p := &w.peer
	*p = directory.Peer{Reflexive: src, NLocal: r.Local.N, Session: key, Stamp: r.Stamp}
	copy(p.Local[:], r.Local.Addr[:])
	switch err := s.store.Register(r.ID, p, s.cfg.Lease); {
	case err == nil:
	case err == directory.ErrFull:
		w.errorReply(req, src, wire.CodeDirectoryFull, wire.ReasonFull, nil)
		return rFull
	case errors.Is(err, directory.ErrQuota):
		// The source's network holds its quota of peers: one source must
		// not fill the directory (issue #11 item 5). Not a drop, not
		// abuse: a big NAT can reach it honestly.
		var qe *directory.QuotaError
		errors.As(err, &qe)
		s.m.quota[quotaIndex(qe)].Inc()
		w.errorReply(req, src, wire.CodeQuota, wire.ReasonQuota, nil)
		return rQuota
	case err == directory.ErrReplay:
		w.dropProven(dropReplay, src)
		return rDropped
	default:
		w.dropProven(dropMalformed, src)
		return rDropped
	}
	m := w.out()
	m.Reply(req, stun.ClassSuccess)
	m.AddXORAddress(stun.AttrXORMappedAddress, src)
	m.Add(wire.AttrEphemeralKey, w.ephPub[:])
	wire.AddLease(m, uint32(s.cfg.Lease/time.Second))
	m.AddMessageIntegritySHA256(key[:])
	m.AddFingerprint()
	w.send(src) // the cookie proved src
	return rOK
}

// authenticated serves keepalive, lookup and leave: MESSAGE-INTEGRITY-SHA256
// under the session key, a TIMESTAMP above the last one (replay), and the
// source must be the registered address (a new address must re-register and
// prove itself with a cookie: keepalives cannot redirect a peer).
func (w *worker) authenticated(req *stun.Message, src netip.AddrPort, mi methodIdx, now time.Time) result {
	s := w.s
	if req.CheckFingerprint() != nil {
		w.drop(dropBadFingerprint, src)
		return rDropped
	}
	id, err1 := wire.GetPeerID(req, wire.AttrPeerID)
	stamp, err2 := wire.GetStamp(req)
	if err1 != nil || err2 != nil {
		w.drop(dropMalformed, src)
		return rDropped
	}
	var target wire.PeerID
	if mi == mLookup {
		var err error
		if target, err = wire.GetPeerID(req, wire.AttrTargetID); err != nil {
			w.drop(dropMalformed, src)
			return rDropped
		}
	}
	p := &w.peer
	if !s.requesterStore().Lookup(id, p) { // never the fleet: the session key is only here
		w.s.m.drop(dropNotRegistered)
		w.errorReply(req, src, wire.CodeNotRegistered, wire.ReasonNotRegistered, nil)
		return rNotRegistered
	}
	if req.CheckMessageIntegritySHA256(p.Session[:]) != nil {
		w.drop(dropBadIntegrity, src)
		return rDropped
	}
	if src != p.Reflexive {
		w.s.m.drop(dropAddressMismatch)
		w.errorReply(req, src, wire.CodeNotRegistered, wire.ReasonNotRegistered, p.Session[:])
		return rNotRegistered
	}
	switch s.store.Refresh(id, src, stamp, 0, s.cfg.Lease) {
	case nil:
	case directory.ErrReplay:
		w.dropProven(dropReplay, src) // the session key and the registered address proved src
		return rDropped
	default:
		w.errorReply(req, src, wire.CodeNotRegistered, wire.ReasonNotRegistered, nil)
		return rNotRegistered
	}
	switch mi {
	case mKeepalive:
		m := w.out()
		m.Reply(req, stun.ClassSuccess)
		m.AddXORAddress(stun.AttrXORMappedAddress, src)
		wire.AddLease(m, uint32(s.cfg.Lease/time.Second))
		m.AddMessageIntegritySHA256(p.Session[:])
		m.AddFingerprint()
		w.send(src)
	case mLeave:
		s.store.Remove(id)
		m := w.out()
		m.Reply(req, stun.ClassSuccess)
		m.AddMessageIntegritySHA256(p.Session[:])
		m.AddFingerprint()
		w.send(src)
	case mLookup:
		return w.lookup(req, src, id, target, now)
	}
	return rOK
}

// lookup answers with the target's candidates and sends the target an
// introduce indication with ours, so both sides punch at the same time.
func (w *worker) lookup(req *stun.Message, src netip.AddrPort, id, target wire.PeerID, now time.Time) result {
	s := w.s
	p, t := &w.peer, &w.target
	found, queued := w.findTarget(req, src, id, target, now) // fills *t
	if queued {
		return rQueued // the fleet answers later, off the packet path
	}
	if !found {
		w.errorReply(req, src, wire.CodeNotFound, wire.ReasonNotFound, p.Session[:])
		return rNotFound
	}
	// Each introduction makes the target send datagrams to the requester's
	// candidates: budgets per requester and per target bound how often
	// anyone can make that happen (issue #11 item 6).
	if by, ok := s.intros.allow(id, target, now.UnixNano()); !ok {
		s.m.limited[by].Inc()
		w.errorReply(req, src, wire.CodeIntroLimited, wire.ReasonIntroLimited, p.Session[:])
		return rRateLimited
	}
	buildLookupSuccess(w.out(), req, target, t, p.Session[:])
	w.send(src) // src is the registered, cookie-proven address

	if t.Via != 0 {
		// The target talks to another fleet member: only that member's
		// address has a pinhole in the target's NAT, and only it holds the
		// target's session key. Hand it the unsealed introduction.
		if in, ok := s.store.(Introducer); ok {
			ind := w.out()
			buildIntroduction(ind, id, src, p, now)
			if err := in.Introduce(target, t, ind.Raw); err != nil {
				s.m.introduced[introFailed].Inc()
			} else {
				s.m.introduced[introFleet].Inc()
			}
		}
		return rOK
	}
	ind := w.out()
	buildIntroduction(ind, id, src, p, now)
	sealIntroduction(ind, t.Session[:])
	w.send(t.Reflexive)
	s.m.introduced[introLocal].Inc()
	return rOK
}

// buildIntroduction writes the unsealed introduce indication telling a
// target about requester id at src with the candidates in p.
func buildIntroduction(m *stun.Message, id wire.PeerID, src netip.AddrPort, p *directory.Peer, now time.Time) {
	m.Build(stun.MessageType{Method: wire.MethodIntroduce, Class: stun.ClassIndication}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(m, wire.AttrPeerID, id)
	m.AddXORAddress(wire.AttrXORPeerAddress, src)
	for _, a := range p.Local[:p.NLocal] {
		m.AddXORAddress(wire.AttrLocalCandidate, a)
	}
	wire.AddStamp(m, uint64(now.UnixMilli()))
}

// rejectCandidate counts a candidate FilterCandidates did not keep.
func (w *worker) rejectCandidate(f wire.CandidateFault) { w.s.m.candidates[f].Inc() }

// sealIntroduction adds the target's integrity and the fingerprint.
func sealIntroduction(m *stun.Message, key []byte) {
	m.AddMessageIntegritySHA256(key)
	m.AddFingerprint()
}
