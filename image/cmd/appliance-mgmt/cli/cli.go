// Package cli is command appliance-mgmt, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/supernode-appliance/appliance/image/mgmt"
	"github.com/supernode-appliance/appliance/internal/conf"
	"github.com/supernode-appliance/appliance/internal/daemon"
	"github.com/supernode-appliance/appliance/supernode/daemonconf"
)

func Main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "firewall":
		return firewall(args, stdout, stderr)
	case "logship":
		return logship(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "appliance-mgmt: unknown command %q; use serve, firewall or logship (appliance-mgmt -h)\n", cmd)
	return 2
}

func usage(w io.Writer) {
	c := mgmt.DefaultConfig()
	fmt.Fprintf(w, "usage: appliance-mgmt [serve] [-config FILE] [-version]\n       appliance-mgmt firewall [-config FILE] [-supernode-config FILE] [-nft PATH] [-overlay FILE] [-dry-run]\n       appliance-mgmt logship [-config FILE] [-drop-in FILE] [-ca FILE] [-dry-run]\n\nconfiguration keys: %s\n(see mgmt/README.md)\n", strings.Join(conf.Keys(&c), ", "))
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appliance-mgmt", flag.ContinueOnError)
	path := fs.String("config", mgmt.DefaultPath, "configuration file (key = value lines)")
	version := fs.Bool("version", false, "print the version and exit")
	daemon.ParseFlags(fs, args, usage)
	if *version {
		fmt.Fprintln(stdout, "appliance-mgmt", daemon.Version)
		return 0
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg := mgmt.DefaultConfig()
	if err := conf.Load(&cfg, mgmt.Name, *path, explicit); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt:", err)
		return 1
	}
	log := daemon.NewLogger(cfg.Debug)
	if !cfg.Enabled() {
		log.Info("management_listen is not set; the management listener stays off")
		daemon.Ready("off: management_listen is not set")
		return 0
	}
	reg := daemon.NewRegistry()
	srv, err := mgmt.NewServer(cfg, reg, log)
	if err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt:", err)
		return 1
	}
	l, err := srv.Listen()
	if err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	scheme := "http"
	if cfg.TLS() != nil {
		scheme = "https"
		if cfg.TLS().ClientCAs != nil {
			scheme = "https+client-certificates"
		}
	} else {
		log.Warn("management listener without TLS: metrics travel in clear text; set management_tls_cert and management_tls_key")
	}
	log.Info("management listener ready", "version", daemon.Version, "listen", l.Addr().String(), "scheme", scheme, "allow", fmt.Sprint(cfg.Allow))
	fmt.Fprintf(stdout, "listening %s %s\n", scheme, l.Addr())
	daemon.Ready(fmt.Sprintf("serving %s on %s", scheme, l.Addr()))
	if err := srv.Serve(ctx, l); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt:", err)
		return 1
	}
	return 0
}

// loose wraps a config so conf.Load fills it without its Validate: the
// firewall step needs the addresses and prefixes, not the fleet key or
// the TLS key, and is not given them (see appliance-firewall.service).
type looseSupernode struct{ C daemonconf.Config }
type looseMgmt struct{ C mgmt.Config }

func firewall(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appliance-mgmt firewall", flag.ContinueOnError)
	path := fs.String("config", mgmt.DefaultPath, "appliance-mgmt configuration file")
	snPath := fs.String("supernode-config", daemonconf.DefaultPath, "supernode configuration file")
	nft := fs.String("nft", "nft", "the nft program")
	overlay := fs.String("overlay", mgmt.XDPOverlay, "XDP overlay file to write (empty: none)")
	dry := fs.Bool("dry-run", false, "print the nft script and the XDP overlay instead of applying them")
	daemon.ParseFlags(fs, args, usage)
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	sn := looseSupernode{C: daemonconf.Defaults()}
	if err := conf.Load(&sn, daemonconf.Name, *snPath, explicit["supernode-config"]); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt firewall:", err)
		return 1
	}
	m := looseMgmt{C: mgmt.DefaultConfig()}
	if err := conf.Load(&m, mgmt.Name, *path, explicit["config"]); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt firewall:", err)
		return 1
	}
	plan, err := mgmt.PlanFor(sn.C, m.C)
	if err != nil {
		// Fail closed: empty the sets so nothing stays open from before.
		fmt.Fprintln(stderr, "appliance-mgmt firewall:", err, "(the fleet and management ports stay closed)")
		if !*dry {
			mgmt.Plan{}.Apply(*nft, *overlay)
		}
		return 1
	}
	// A bad log_target is appliance-logship's to report; here it only
	// means no collector to accept.
	if a, ok := mgmt.LogCollector(m.C); ok {
		plan.Collector = netip.PrefixFrom(a, a.BitLen())
	}
	if *dry {
		fmt.Fprint(stdout, plan.NftScript("inet filter"), "\n", plan.Overlay())
		return 0
	}
	if err := plan.Apply(*nft, *overlay); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt firewall:", err)
		return 1
	}
	fmt.Fprintf(stdout, "fleet ports open to %v; management port open to %v\n", plan.Fleet, plan.Mgmt)
	if plan.Alternate {
		fmt.Fprintln(stdout, "RFC 5780 alternate port open to everyone (alternate_address is set)")
	}
	return 0
}

// logship writes (or removes) systemd-netlogd's drop-in from the log_*
// keys. A bad value removes the drop-in, so no half-configured forwarder
// starts, and says what to fix; the appliance keeps serving either way.
func logship(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appliance-mgmt logship", flag.ContinueOnError)
	path := fs.String("config", mgmt.DefaultPath, "appliance-mgmt configuration file")
	dropIn := fs.String("drop-in", mgmt.NetlogdDropIn, "systemd-netlogd drop-in to write")
	ca := fs.String("ca", mgmt.LogCAFile, "where the collector's CA is written")
	dry := fs.Bool("dry-run", false, "print the drop-in instead of writing it")
	daemon.ParseFlags(fs, args, usage)
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	m := looseMgmt{C: mgmt.DefaultConfig()}
	if err := conf.Load(&m, mgmt.Name, *path, explicit); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt logship:", err)
		return 1
	}
	l, err := mgmt.LogShippingFor(m.C)
	if err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt logship:", err, "(logs are not shipped)")
		if !*dry {
			mgmt.LogShipping{}.Apply(*dropIn, *ca)
		}
		return 1
	}
	if *dry {
		if l.Enabled() {
			fmt.Fprint(stdout, l.DropIn())
		}
		return 0
	}
	if err := l.Apply(*dropIn, *ca); err != nil {
		fmt.Fprintln(stderr, "appliance-mgmt logship:", err)
		return 1
	}
	switch {
	case !l.Enabled():
		fmt.Fprintln(stdout, "log shipping off (log_target is not set)")
	case l.Encrypted():
		fmt.Fprintf(stdout, "shipping the journal to %s://%s (%s, certificate verified)\n", l.Protocol, l.Addr, l.Format)
	default:
		fmt.Fprintf(stdout, "shipping the journal to %s://%s (%s) in clear text; use tls:// or dtls:// with log_ca to protect it\n", l.Protocol, l.Addr, l.Format)
	}
	return 0
}
