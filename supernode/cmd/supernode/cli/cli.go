// Package cli is command supernode, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/supernode-appliance/appliance/internal/conf"
	"github.com/supernode-appliance/appliance/internal/daemon"
	"github.com/supernode-appliance/appliance/supernode/daemonconf"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/supernode/server"
)

const defaultConfig = "/etc/supernode/supernode.conf"

// udpFDName names the UDP sockets in systemd's fd store: a restart gets them
// back, with every datagram that arrived meanwhile (zero-gap restarts).
const udpFDName = "supernode-udp"

// config is supernode.conf (supernode/daemonconf, shared with
// appliance-firewall, which opens the fleet's ports from it).
type config = daemonconf.Config

// defaults are the compiled-in values supernode.conf states.
func defaults() config { return daemonconf.Defaults() }

func Main() {
	cfg := defaults()
	fs := flag.NewFlagSet("supernode", flag.ContinueOnError)
	path := fs.String("config", defaultConfig, "configuration file (key = value lines)")
	version := fs.Bool("version", false, "print the version and exit")
	daemon.ParseFlags(fs, os.Args[1:], func(w io.Writer) {
		fmt.Fprintf(w, "usage: supernode [-config FILE] [-version]\n\nconfiguration keys: %s\n(see /usr/share/doc/supernode or supernode/README.md)\n", strings.Join(conf.Keys(&cfg), ", "))
	})
	if *version {
		fmt.Println("supernode", daemon.Version)
		return
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if err := conf.Load(&cfg, "supernode", *path, explicit); err != nil {
		fmt.Fprintln(os.Stderr, "supernode:", err)
		os.Exit(1)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "supernode:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	log := daemon.NewLogger(cfg.Debug)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	reg := daemon.NewRegistry()
	// With fleet_bind set, the directory becomes the fleet's sharded store
	// (a no-op otherwise); the node leaves the fleet gracefully on return.
	node, bind, err := fleet.Attach(&cfg.Config, cfg.Fleet, log, reg)
	if err != nil {
		return err
	}
	defer node.Close()
	inherited := daemon.Inherited(udpFDName)
	srv, err := server.NewInherited(cfg.Config, log, reg, inherited)
	if err != nil {
		return err
	}
	bind(srv)
	if err := storeSockets(srv); err != nil {
		// Serving works without it; only the next restart has a gap.
		log.Warn("cannot keep the UDP sockets in systemd's fd store; the next restart will drop the requests that arrive meanwhile (set FileDescriptorStoreMax= in the unit)", "err", err)
	}
	maddr, err := daemon.ServeMetrics(ctx, cfg.MetricsListen, reg, log)
	if err != nil {
		srv.Close()
		return err
	}
	var served atomic.Bool
	served.Store(true)
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ctx)
		served.Store(false)
	}()
	addrs := make([]string, 0, len(srv.Addrs()))
	for _, a := range srv.Addrs() {
		addrs = append(addrs, a.String())
	}
	sort.Strings(addrs)
	log.Info("supernode ready", "version", daemon.Version, "udp", strings.Join(addrs, ","), "inherited_sockets", len(inherited), "metrics", maddr, "max_peers", cfg.MaxPeers, "lease", cfg.Lease)
	daemon.Ready(status(srv.Stats(), 0))
	go daemon.Watchdog(ctx, served.Load)
	go statusLoop(ctx, srv, cfg.StatusInterval)
	go func() {
		<-ctx.Done()
		daemon.Stopping() // tell systemd at once; workers finish their batch
	}()

	err = <-done
	if ctx.Err() != nil {
		log.Info("supernode stopped", "peers", srv.Stats().Peers)
	}
	return err
}

// storeSockets hands duplicates of the server's sockets to the fd store.
func storeSockets(srv *server.Server) error {
	files, err := srv.Files()
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	return daemon.StoreFiles(udpFDName, files)
}

func status(s server.Stats, rate float64) string {
	return fmt.Sprintf("%d peers, %.0f req/s", s.Peers, rate)
}

func statusLoop(ctx context.Context, srv *server.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := srv.Stats().Requests, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st := srv.Stats()
			rate := float64(st.Requests-last) / now.Sub(lastAt).Seconds()
			last, lastAt = st.Requests, now
			daemon.Status(status(st, rate))
		}
	}
}
