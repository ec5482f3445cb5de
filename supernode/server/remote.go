package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// RemoteStore is a Store some of whose peers are known only over the
// network (the fleet). The packet path never waits for the network: a
// worker answers what memory can answer (LookupLocal) and hands a lookup
// that needs the network to a goroutine of its own, which answers the
// requester when the fleet has answered (LookupRemote), or, when the store
// is an AsyncRemoteStore, to the store, which calls back with the outcome.
type RemoteStore interface {
	directory.Store
	// Attached is the table of the peers that talk to this server. The
	// requester of a keepalive, lookup or leave is looked up only there:
	// its session key exists nowhere else, so a peer found elsewhere could
	// only fail its integrity check; it gets 472 and registers here.
	Attached() directory.Store
	// LookupLocal answers from memory. remote = true: only the network
	// can tell (the peer is neither attached here nor held in a replica).
	LookupLocal(id directory.Key, p *directory.Peer) (found, remote bool)
	// LookupRemote asks the network, within a bound of its own. (false,
	// nil) is an authoritative "not registered"; an *UnavailableError says
	// no member that would know could answer.
	LookupRemote(ctx context.Context, id directory.Key, p *directory.Peer) (bool, error)
}

// AsyncRemoteStore is a RemoteStore that looks up without a goroutine
// waiting for the network: the server then hands a lookup that needs the
// network to the store and is called back with the outcome, so the answer
// and the introduction leave from the goroutine that received the fleet's
// answer, with no goroutine woken to send them.
type AsyncRemoteStore interface {
	RemoteStore
	// LookupRemoteAsync starts LookupRemote's lookup and returns at once.
	// done.RemoteDone is called exactly once with the outcome (as
	// LookupRemote returns it), before LookupRemoteAsync returns when
	// memory can answer, else from the goroutine that saw the answer
	// arrive or the deadline pass; it must not block.
	LookupRemoteAsync(id directory.Key, done RemoteDone)
}

// RemoteDone receives an asynchronous remote lookup's outcome; p is valid
// only during the call. The answer to the requester goes into sb when it
// is not nil (the caller flushes it), else out at once.
type RemoteDone interface {
	RemoteDone(found bool, p *directory.Peer, err error, sb *SendBatch)
}

// UnavailableError means the members that hold a peer's registration are
// unreachable (dead, or not answering); the lookup is worth repeating after
// RetryAfter. Clients see 504 Owners Unavailable with RETRY-AFTER.
type UnavailableError struct{ RetryAfter time.Duration }

func (e *UnavailableError) Error() string {
	return "no owner of the key could answer; retry after " + e.RetryAfter.String()
}

const (
	// maxRemoteLookups bounds the lookups waiting for the fleet at once;
	// beyond it a lookup is answered 504 at once (memory and goroutines
	// stay bounded whatever the request rate).
	maxRemoteLookups = 1024
	// defaultRetry is the hint when the store gives none.
	defaultRetry = time.Second
)

// rQueued is the result of a lookup handed to a remote-lookup goroutine:
// that goroutine counts the request when it answers.
const rQueued result = nResults

// remoteLookups runs the lookups that wait for the network.
type remoteLookups struct {
	s     *Server
	store RemoteStore      // nil: every lookup is answered from memory
	async AsyncRemoteStore // store, when it can look up asynchronously
	slots chan struct{}
	wg    sync.WaitGroup
	res   *prometheus.CounterVec // result=found|not_found|unavailable|busy
	found prometheus.Counter     // res{found}, counted per lookup

	// Runners are goroutines that outlive one lookup: an idle one takes
	// the next job from jobs (unbuffered), else a new one starts (at most
	// maxRemoteLookups, bounded by slots). An idle runner exits after
	// runnerIdle or when the server stops, so a burst leaves nothing
	// behind, and a steady load starts no goroutine per lookup.
	jobs     chan *remoteJob
	stop     chan struct{}
	stopOnce sync.Once
}

const runnerIdle = 2 * time.Second

// jobs are reused: a remoteJob owns its request copy and the two STUN
// messages it decodes and builds.
var jobs = sync.Pool{New: func() any { return &remoteJob{req: stun.New(), out: stun.New()} }}

func (r *remoteLookups) init(s *Server, reg prometheus.Registerer) {
	rs, ok := s.store.(RemoteStore)
	if !ok {
		return
	}
	r.s, r.store, r.slots = s, rs, make(chan struct{}, maxRemoteLookups)
	r.async, _ = rs.(AsyncRemoteStore)
	r.jobs, r.stop = make(chan *remoteJob), make(chan struct{})
	r.res = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_remote_lookups_total",
		Help: "Lookups answered after asking other fleet members, by result (busy: refused at once because too many were waiting).",
	}, []string{"result"})
	if reg != nil {
		reg.MustRegister(r.res)
	}
	r.found = r.res.WithLabelValues("found")
}

// wait returns when every remote lookup has answered (each is bounded by
// the store's own timeout), and lets the idle runners go.
func (r *remoteLookups) wait() {
	r.wg.Wait()
	if r.stop != nil {
		r.stopOnce.Do(func() { close(r.stop) })
	}
}

// runner runs j, then whatever job comes while it is idle.
func (r *remoteLookups) runner(j *remoteJob) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		r.run(j)
		idle.Reset(runnerIdle)
		select {
		case j = <-r.jobs:
		case <-idle.C:
			return
		case <-r.stop:
			return
		}
	}
}

// requesterStore is where the requester of an authenticated request is
// looked up: the attached table when the store has one.
func (s *Server) requesterStore() directory.Store {
	if s.remote.store != nil {
		return s.remote.store.Attached()
	}
	return s.store
}

// findTarget looks the lookup target up without waiting for the network.
// queued = true: the request went to a remote-lookup goroutine (or was
// answered 504 because too many wait), and the caller is done with it.
func (w *worker) findTarget(req *stun.Message, src netip.AddrPort, id, target wire.PeerID, now time.Time) (found, queued bool) {
	r := &w.s.remote
	if r.store == nil {
		return w.s.store.Lookup(target, &w.target), false
	}
	found, remote := r.store.LookupLocal(target, &w.target)
	if found || !remote {
		return found, false
	}
	select {
	case r.slots <- struct{}{}:
	default:
		r.res.WithLabelValues("busy").Inc()
		buildUnavailable(w.out(), req, defaultRetry, w.peer.Session[:])
		w.sendBounded(src, len(req.Raw))
		w.s.m.requests[mLookup][rNotFound].Inc()
		return false, true
	}
	j := jobs.Get().(*remoteJob)
	j.r, j.conn, j.raw, j.src, j.id, j.target, j.requester, j.start = r, w.conn, append(j.raw[:0], req.Raw...), src, id, target, w.peer, now
	r.wg.Add(1)
	if r.async != nil {
		r.async.LookupRemoteAsync(target, j) // j.RemoteDone answers
		return false, true
	}
	select {
	case r.jobs <- j: // an idle runner took it
	default:
		go r.runner(j)
	}
	return false, true
}

// remoteJob is everything a lookup needs once the worker has moved on.
type remoteJob struct {
	r          *remoteLookups
	conn       *net.UDPConn // the socket the request came in on: the requester's NAT expects the answer from there
	raw        []byte
	src        netip.AddrPort
	id, target wire.PeerID
	requester  directory.Peer
	start      time.Time
	req, out   *stun.Message  // decoded from raw; the answer and the introduction
	t          directory.Peer // the target, as the fleet found it
}

func (r *remoteLookups) run(j *remoteJob) {
	found, err := r.store.LookupRemote(context.Background(), j.target, &j.t)
	r.answer(j, found, err, nil)
}

// RemoteDone implements RemoteDone: the asynchronous lookup's outcome.
func (j *remoteJob) RemoteDone(found bool, p *directory.Peer, err error, sb *SendBatch) {
	if found {
		j.t = *p
	}
	j.r.answer(j, found, err, sb)
}

// answer answers the requester with the outcome of the remote lookup
// (found: j.t is the target) and routes the introduction, then releases
// the job. The answer goes into sb unless it is nil.
func (r *remoteLookups) answer(j *remoteJob, found bool, err error, sb *SendBatch) {
	defer func() {
		jobs.Put(j)
		<-r.slots
		r.wg.Done()
	}()
	s := r.s
	t := &j.t
	req, out := j.req, j.out
	if req.Decode(j.raw) != nil {
		return // it decoded in the worker; cannot happen
	}
	key := j.requester.Session[:]
	res := rOK
	limited := false
	switch {
	case found:
		r.found.Inc()
		// The same introduction budgets as a lookup answered in the worker.
		if by, ok := s.intros.allow(j.id, j.target, time.Now().UnixNano()); !ok {
			s.m.limited[by].Inc()
			out.Reply(req, stun.ClassError)
			out.AddErrorCode(wire.CodeIntroLimited, wire.ReasonIntroLimited)
			out.AddMessageIntegritySHA256(key)
			out.AddFingerprint()
			res, limited = rRateLimited, true
			break
		}
		buildLookupSuccess(out, req, j.target, t, key)
	case err != nil:
		r.res.WithLabelValues("unavailable").Inc()
		buildUnavailable(out, req, retryAfter(err), key)
		res = rNotFound
	default:
		r.res.WithLabelValues("not_found").Inc()
		out.Reply(req, stun.ClassError)
		out.AddErrorCode(wire.CodeNotFound, wire.ReasonNotFound)
		out.AddMessageIntegritySHA256(key)
		out.AddFingerprint()
		res = rNotFound
	}
	// j.src is the requester's registered, cookie-proven address.
	if s.sendOut(sb, j.conn, out.Raw, j.src) != nil {
		s.m.drop(dropSendError)
	}
	s.m.requests[mLookup][res].Inc()
	s.m.latency[mLookup].Observe(time.Since(j.start).Seconds())
	if !found || limited {
		return
	}
	in, ok := s.store.(Introducer)
	if t.Via == 0 || !ok {
		// Found in the fleet as heard by this member, yet not attached
		// here any more: nobody holds its pinhole and session key.
		s.m.introduced[introFailed].Inc()
		return
	}
	buildIntroduction(out, j.id, j.src, &j.requester, time.Now())
	if err := in.Introduce(j.target, t, out.Raw); err != nil {
		s.m.introduced[introFailed].Inc()
	} else {
		s.m.introduced[introFleet].Inc()
	}
}

// retryAfter is the hint of an *UnavailableError, else defaultRetry (kept
// out of run: the error target escapes, and run would allocate it for
// every lookup).
func retryAfter(err error) time.Duration {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.RetryAfter
	}
	return defaultRetry
}

// buildUnavailable writes 504 Owners Unavailable with a RETRY-AFTER hint,
// under the requester's session key.
func buildUnavailable(m *stun.Message, req *stun.Message, retry time.Duration, key []byte) {
	m.Reply(req, stun.ClassError)
	m.AddErrorCode(wire.CodeOwnersUnavailable, wire.ReasonOwnersUnavailable)
	wire.AddRetryAfter(m, uint32(min(max(retry, time.Millisecond), time.Hour)/time.Millisecond))
	m.AddMessageIntegritySHA256(key)
	m.AddFingerprint()
}

// buildLookupSuccess writes the lookup answer: the target's reflexive
// address and candidates, under the requester's session key.
func buildLookupSuccess(m *stun.Message, req *stun.Message, target wire.PeerID, t *directory.Peer, key []byte) {
	m.Reply(req, stun.ClassSuccess)
	wire.AddPeerID(m, wire.AttrTargetID, target)
	m.AddXORAddress(wire.AttrXORPeerAddress, t.Reflexive)
	for _, a := range t.Local[:t.NLocal] {
		m.AddXORAddress(wire.AttrLocalCandidate, a)
	}
	m.AddMessageIntegritySHA256(key)
	m.AddFingerprint()
}
