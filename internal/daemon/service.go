// Package daemon is the systemd glue every appliance daemon shares: one
// logger (the journal under systemd, stderr otherwise), sd_notify READY,
// STATUS and STOPPING, the watchdog, and the management HTTP listener that
// serves Prometheus metrics (never on a public port).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/coreos/go-systemd/v22/journal"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/internal/version"
)

// Version is the build's version: the one version of internal/version,
// which the Makefile stamps with -ldflags -X.
var Version = version.Version

// NewLogger returns the process logger: structured records in the journal
// when stderr is connected to it (JOURNAL_STREAM, systemd.exec(5)), text on
// stderr otherwise. debug lowers the level.
func NewLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	if journal.Enabled() && os.Getenv("JOURNAL_STREAM") != "" {
		return slog.New(&journalHandler{level: level})
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Ready tells systemd the service is up (Type=notify). Outside systemd it does
// nothing.
func Ready(status string) {
	daemon.SdNotify(false, daemon.SdNotifyReady+"\nSTATUS="+status)
}

// Status sets the one line `systemctl status` shows.
func Status(status string) { daemon.SdNotify(false, "STATUS="+status) }

// Stopping tells systemd a graceful stop has begun.
func Stopping() { daemon.SdNotify(false, daemon.SdNotifyStopping) }

// Reloading tells systemd a reload has begun; call Ready again when done.
// (Type=notify-reload in systemd 253+ wants the monotonic timestamp too.)
func Reloading() {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	daemon.SdNotify(false, fmt.Sprintf("%s\nMONOTONIC_USEC=%d", daemon.SdNotifyReloading, ts.Nano()/1000))
}

// Watchdog pets the systemd watchdog at half its interval while healthy()
// returns true, until ctx ends. Without WatchdogSec= it returns at once.
func Watchdog(ctx context.Context, healthy func() bool) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if healthy == nil || healthy() {
				daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			}
		}
	}
}

// NewRegistry returns the process's one metrics registry, with the Go runtime
// and process collectors already registered.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), BuildInfo(procCmdline()))
	return r
}

// ServeMetrics serves /metrics (and /healthz) from reg on addr until ctx
// ends. It returns after the listener is bound, so a bad address is reported
// at start; serving errors after that go to log.
func ServeMetrics(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (net.Addr, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for metrics on %s: %v; pick a free address with metrics_listen", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	return ln.Addr(), nil
}
