package fleet

import (
	"log/slog"
	"net/netip"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// Attach is the daemon's whole wiring: when fc enables the fleet it starts
// this member, puts a Directory over a new attached table into sc.Store
// (sized by sc.MaxPeers and sc.Lease), and returns bind, to be called with
// the server once server.New has returned, so introductions routed here by
// other members are delivered by it (Server.DeliverIntroduction). Without a
// fleet it returns a nil Node (whose Close does nothing) and a no-op bind.
func Attach(sc *server.Config, fc Config, log *slog.Logger, reg prometheus.Registerer) (*Node, func(*server.Server), error) {
	if !fc.Enabled() {
		return nil, func(*server.Server) {}, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var srv atomic.Pointer[server.Server]
	n, err := Start(Options{
		Config:   fc,
		Capacity: uint32(min(sc.MaxPeers, 1<<32-1)),
		Logger:   log,
		Registry: reg,
		Lease:    sc.Lease,
		OnIntroduceBatch: func(sb *server.SendBatch, k Key, reflexive netip.AddrPort, payload []byte) {
			if s := srv.Load(); s != nil {
				if err := s.DeliverIntroductionBatch(sb, directory.Key(k), reflexive, payload); err != nil {
					log.Debug("fleet introduction not delivered", "err", err)
				}
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	sc.Store = NewDirectory(n, directory.New(sc.Directory()))
	return n, func(s *server.Server) { srv.Store(s) }, nil
}
