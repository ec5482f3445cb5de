// Package server is the supernode's UDP service: STUN Binding for anyone,
// and the supernode methods (register, keepalive, lookup with introduction,
// leave) of package wire, over one port, on SO_REUSEPORT sockets with
// batched I/O, per-source rate limits, drop counters by reason, Prometheus
// metrics and an abuse hook towards the XDP filter.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Server is one supernode. New binds its sockets; Serve runs it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   directory.Store
	table   *directory.Table // the built-in store, nil if cfg.Store was given
	cookies *wire.Cookies
	limit   *limiter
	intros  *introLimiter
	m       *metrics
	abuse   AbuseReporter
	closeFn func()
	conns   []*net.UDPConn
	addrs   []netip.AddrPort
	disc    *discovery               // RFC 5780 addresses; nil without alternate_address
	pos     map[*net.UDPConn]discPos // each discovery socket's place

	// stopping makes workers return at their next read instead of
	// retrying: Serve ends reading with a read deadline, never by closing
	// a socket under a worker, so replies to a batch already read still go
	// out and a socket kept in systemd's fd store stays open for the next
	// process (zero-gap restart).
	stopping atomic.Bool
	remote   remoteLookups
}

// Stats is a snapshot for the systemd STATUS line.
type Stats struct {
	Peers    int
	Requests uint64 // datagrams accepted past the rate limit since start
}

// New validates cfg, binds every listen address (one SO_REUSEPORT socket per
// CPU unless sockets is set) and registers metrics in reg (nil: none). It
// refuses to share a port with a socket of another process (see
// claimPort): two supernodes on one port would split the directory.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	return NewInherited(cfg, log, reg, nil)
}

// NewInherited is New with sockets handed over by the previous process of
// this service (systemd's fd store or socket activation): a listen address
// that one of them is bound to is served on the inherited sockets, so
// datagrams queued in them while no process ran are answered; the others
// are bound afresh. Inherited sockets that match no listen address (the
// configuration changed) are closed. New takes ownership of every file.
func NewInherited(cfg Config, log *slog.Logger, reg prometheus.Registerer, inherited []*os.File) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		closeFiles(inherited)
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: cfg.Store, cookies: wire.NewCookies(cfg.CookieLifetime)}
	if s.store == nil {
		s.table = directory.New(cfg.Directory())
		s.store = s.table
	}
	s.limit = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.AbuseThreshold, cfg.AbuseWindow)
	s.intros = newIntroLimiter(cfg.IntroduceRate, cfg.IntroduceBurst)
	s.m = newMetrics(reg, func() float64 { return float64(s.store.Len()) }, func() float64 {
		// The built-in table and the fleet's directory both count expiries.
		if e, ok := s.store.(interface{ Expired() uint64 }); ok {
			return float64(e.Expired())
		}
		return 0
	})
	switch {
	case cfg.Abuse != nil:
		s.abuse = cfg.Abuse
	case cfg.AbuseSocket != "":
		r := NewSocketReporter(cfg.AbuseSocket, cfg.AbuseTTL, log, func(res string) { s.m.reports.WithLabelValues(res).Inc() })
		s.abuse, s.closeFn = r, r.Close
	default:
		s.abuse = LogReporter{Log: log}
	}
	s.remote.init(s, reg)
	n := cfg.Sockets
	if n == 0 {
		n = runtime.NumCPU()
	}
	have, err := udpConns(inherited)
	if err != nil {
		return nil, err
	}
	for _, l := range cfg.Listen {
		conns := takeMatching(&have, l)
		if len(conns) == 0 {
			if conns, err = listen(context.Background(), l, n); err != nil {
				closeConns(have)
				s.Close()
				return nil, err
			}
		}
		s.conns = append(s.conns, conns...)
		s.addrs = append(s.addrs, addrPortOf(conns[0].LocalAddr()))
	}
	if err := s.setupDiscovery(&have); err != nil {
		closeConns(have)
		s.Close()
		return nil, err
	}
	if len(have) > 0 {
		log.Info("closing inherited sockets that no listen address uses", "sockets", len(have))
		closeConns(have)
	}
	if err := s.claimPorts(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Files returns a duplicate of every socket, for the service manager's fd
// store: the next process of the service gets them back from NewInherited.
// The caller closes the files.
func (s *Server) Files() ([]*os.File, error) {
	out := make([]*os.File, 0, len(s.conns))
	for _, c := range s.conns {
		f, err := c.File()
		if err != nil {
			closeFiles(out)
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Addrs returns the bound addresses, one per listen entry (with the real
// port when the configuration said 0).
func (s *Server) Addrs() []netip.AddrPort { return s.addrs }

// Store returns the directory in use.
func (s *Server) Store() directory.Store { return s.store }

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	return Stats{Peers: s.store.Len(), Requests: s.m.total.Load()}
}

// Dropped returns how many datagrams were dropped for reason (a
// supernode_drops_total label value), for tests and diagnostics.
func (s *Server) Dropped(reason string) uint64 {
	for i, n := range dropNames {
		if n == reason {
			return s.m.dropCount[i].Load()
		}
	}
	return 0
}

// Close releases the sockets if Serve was never called.
func (s *Server) Close() {
	for _, c := range s.conns {
		c.Close()
	}
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
}

// Serve answers requests until ctx ends, then stops reading, answers what
// it has read (batches in hand and fleet lookups in flight), closes its
// sockets and returns nil. Datagrams that arrive after that stay queued in
// a socket the service manager still holds, for the next process.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(s.conns))
	for _, c := range s.conns {
		w, err := newWorker(s, c)
		if err != nil {
			s.Close()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.expireLoop(ctx)
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	s.stopping.Store(true)
	for _, c := range s.conns {
		// A read deadline in the past wakes every parked worker; nothing
		// reads these sockets in this process again.
		c.SetReadDeadline(time.Now())
	}
	wg.Wait()
	s.remote.wait()
	s.Close()
	return err
}

func (s *Server) expireLoop(ctx context.Context) {
	exp, ok := s.store.(interface{ Expire(time.Time) int })
	if !ok {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n := exp.Expire(now); n > 0 {
				s.log.Debug("leases expired", "peers", n)
			}
		}
	}
}

// isClosed tells a socket closed by shutdown from a real error.
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// stopped tells the end of Serve (a closed socket or the read deadline
// Serve sets) from a real error.
func (s *Server) stopped(err error) bool {
	return isClosed(err) || s.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)
}

func (s *Server) String() string { return fmt.Sprintf("supernode on %v", s.addrs) }
