package server

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/ebpf/control"
)

// AbuseReporter receives sources the server has judged abusive (too many
// dropped datagrams within abuse_window). Detection is in the application;
// enforcement is in the XDP filter, which drops the source in the driver.
// Report must not block: it is called from the packet path.
type AbuseReporter interface {
	Report(src netip.Addr, reason string)
}

// MaxAbuseTTL caps the block time the supernode may ask of the XDP
// controller (abuse_ttl): a mistaken report must end by itself soon, and the
// controller applies its own cap as well.
const MaxAbuseTTL = time.Hour

// dropProven counts a dropped datagram that proved its source address, and
// reports the source once such drops cross abuse_threshold within
// abuse_window (then not again for abuse_ttl).
//
// Only these drops may lead to a report. A datagram proves its source when it
// carries a COOKIE that verifies for that address and port (a register past
// the cookie check: bad_signature, replay), or a MESSAGE-INTEGRITY-SHA256
// under the session key of the peer registered at exactly that address
// (keepalive, lookup or leave with a stale TIMESTAMP: replay). An off-path
// sender cannot produce either for an address it does not receive at.
// Every other drop (rate_limited, bad_fingerprint, bad_cookie, malformed,
// ...) may come from a forged source, even from the address of a registered
// peer, the resolver or a fleet member, so it is counted and never reported:
// otherwise 1000 forged datagrams would block whoever the forger names.
// Floods from any source are the XDP filter's per-source buckets' job.
func (w *worker) dropProven(r dropReason, src netip.AddrPort) {
	w.s.m.drop(r)
	if w.s.limit.bad(src.Addr(), time.Now().UnixNano(), w.s.cfg.AbuseTTL) {
		w.s.abuse.Report(src.Addr().Unmap(), r.String())
	}
}

// LogReporter only logs; it is the reporter when abuse_socket is empty.
type LogReporter struct{ Log *slog.Logger }

// Report implements AbuseReporter.
func (r LogReporter) Report(src netip.Addr, reason string) {
	r.Log.Warn("abusive source", "src", src, "reason", reason)
}

// SocketReporter asks supernode-xdp to block sources, over its control socket
// ("block <ip> <ttl-seconds> <reason>\n" answered "ok\n" or "error: ...\n",
// package ebpf/control). Reports queue in a bounded channel served by one
// goroutine, so a slow or absent controller never stalls the packet path;
// when the queue is full the report is dropped and counted.
type SocketReporter struct {
	path    string
	ttl     time.Duration
	log     *slog.Logger
	queue   chan report
	onDone  func(result string)
	stop    chan struct{}
	stopped sync.WaitGroup
}

type report struct {
	src    netip.Addr
	reason string
}

// NewSocketReporter starts a reporter for the control socket at path that
// asks for blocks of ttl (at most MaxAbuseTTL); Close stops it. onDone, if set, is called with "ok", "error" or "queue_full".
func NewSocketReporter(path string, ttl time.Duration, log *slog.Logger, onDone func(string)) *SocketReporter {
	r := &SocketReporter{path: path, ttl: min(ttl, MaxAbuseTTL), log: log, queue: make(chan report, 256), onDone: onDone, stop: make(chan struct{})}
	if r.onDone == nil {
		r.onDone = func(string) {}
	}
	r.stopped.Add(1)
	go r.run()
	return r
}

// Report implements AbuseReporter.
func (r *SocketReporter) Report(src netip.Addr, reason string) {
	select {
	case r.queue <- report{src.Unmap(), reason}:
	default:
		r.onDone("queue_full")
	}
}

// Close stops the reporter goroutine.
func (r *SocketReporter) Close() {
	close(r.stop)
	r.stopped.Wait()
}

func (r *SocketReporter) run() {
	defer r.stopped.Done()
	var c *control.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		var rep report
		select {
		case <-r.stop:
			return
		case rep = <-r.queue:
		}
		// One reconnect attempt per report: the controller may have
		// restarted since the last one.
		for attempt := 0; attempt < 2; attempt++ {
			if c == nil {
				var err error
				if c, err = control.Dial(r.path); err != nil {
					r.log.Warn("cannot report abusive source to the XDP controller", "src", rep.src, "err", err)
					r.onDone("error")
					break
				}
			}
			err := c.Block(rep.src, r.ttl, rep.reason)
			if err == nil {
				r.log.Info("abusive source blocked by the XDP controller", "src", rep.src, "reason", rep.reason, "ttl", r.ttl)
				r.onDone("ok")
				break
			}
			if _, refused := err.(*control.Error); refused {
				r.log.Warn("XDP controller refused a block", "src", rep.src, "err", err)
				r.onDone("error")
				break
			}
			c.Close()
			c = nil
			if attempt == 1 {
				r.log.Warn("cannot report abusive source to the XDP controller", "src", rep.src, "err", err)
				r.onDone("error")
			}
		}
	}
}
