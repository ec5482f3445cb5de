// Package cli is command supernode-xdp, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/internal/conf"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

const usage = `usage: supernode-xdp <command> [flags] [args]

Daemon:
  run        attach the XDP filter to the configured uplinks and serve the
             control socket and metrics (SIGHUP reloads the config)
  check      validate the config file and exit
  detach     remove the filter from every interface and delete its pins
             (maps included: counters and dynamic blocks); refused while
             the daemon runs, -force stops it first

Operator commands (talk to the running daemon over its control socket):
  status              controller summary
  counters [IFACE]    packets and bytes by verdict reason (all interfaces,
                      or the one named)
  blocks              dynamic blocks with seconds left and reason
  interfaces          interfaces the filter is attached to, with mode and
                      the id of the program instance on each
  block IP TTL [REASON]  drop every packet from IP (its /64 for IPv6) for TTL
                      (seconds, or 10m, 1h; at most report_max_ttl). Refused
                      for protected sources (gateways, resolvers, NTP/DHCP
                      servers, own addresses and subnets, never_block);
                      -force (root) overrides both, up to max_block_ttl
  unblock IP          remove a dynamic block

Flags:
  -config FILE   config file (default ` + controller.DefaultConfigPath + `)
  -socket PATH   control socket (default ` + control.DefaultSocket + `)
  -debug         debug logging (run)
  -overlay FILE  ports and trusted prefixes appliance-firewall adds for the
                 configured fleet and management listener (default
                 ` + controller.OverlayPath + `; absent: none)
  -force         detach: stop the running daemon (SIGTERM) first;
                 block: block a protected source or beyond report_max_ttl

Config keys: `

func Main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "supernode-xdp", daemon.Version)
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(stderr) }
	configPath := fs.String("config", controller.DefaultConfigPath, "config file")
	socket := fs.String("socket", control.DefaultSocket, "control socket")
	debug := fs.Bool("debug", false, "debug logging")
	overlay := fs.String("overlay", controller.OverlayPath, "ports and trusted prefixes appliance-firewall adds (absent file: none)")
	force := fs.Bool("force", false, "detach: stop a running controller first; block: override the never-block list and report_max_ttl")
	// Flags may come before or after the arguments
	// (supernode-xdp block 192.0.2.7 600 -socket PATH).
	var rest []string
	for todo := args[1:]; ; {
		if err := fs.Parse(todo); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		todo = fs.Args()[1:]
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	overlayPath = *overlay

	switch cmd {
	case "run":
		return runDaemon(*configPath, explicit, *debug, stderr)
	case "check":
		if _, err := loadConfig(*configPath, explicit); err != nil {
			fmt.Fprintln(stderr, "supernode-xdp:", err)
			return 1
		}
		return 0
	case "detach":
		cfg, err := loadConfig(*configPath, explicit)
		if err != nil {
			fmt.Fprintln(stderr, "supernode-xdp:", err)
			return 1
		}
		rep, err := controller.Detach(cfg.PinDir, *force)
		fmt.Fprint(stdout, rep)
		if err != nil {
			fmt.Fprintln(stderr, "supernode-xdp:", err)
			return 1
		}
		return 0
	case "status", "counters", "blocks", "interfaces", "block", "unblock":
		if err := operate(cmd, rest, *socket, *force, stdout); err != nil {
			fmt.Fprintln(stderr, "supernode-xdp:", err)
			var usageErr usageError
			if errors.As(err, &usageErr) {
				return 2
			}
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "supernode-xdp: unknown command %q; run supernode-xdp --help for the list\n", cmd)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	c := controller.DefaultConfig()
	fmt.Fprintln(w, strings.Join(conf.Keys(&c), ", "))
}

func loadConfig(path string, mustExist bool) (controller.Config, error) {
	cfg := controller.DefaultConfig()
	if err := conf.Load(&cfg, controller.Name, path, mustExist); err != nil {
		return cfg, err
	}
	// What the fleet and the management listener add (appliance-firewall).
	// A bad overlay never costs the filter: it is left out, so those ports
	// stay closed, and said.
	if err := controller.ApplyOverlay(&cfg, overlayPath); err != nil {
		fmt.Fprintln(os.Stderr, "supernode-xdp: ignoring the overlay, so the fleet's and management ports stay closed:", err)
	}
	return cfg, nil
}

// overlayPath is -overlay, controller.OverlayPath by default.
var overlayPath = controller.OverlayPath

func runDaemon(configPath string, explicit, debug bool, stderr io.Writer) int {
	cfg, err := loadConfig(configPath, explicit)
	if err != nil {
		fmt.Fprintln(stderr, "supernode-xdp:", err)
		return 1
	}
	log := daemon.NewLogger(debug || cfg.Debug)
	ctx, cancel := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	defer cancel()

	c, err := controller.New(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "supernode-xdp:", err)
		return 1
	}
	defer c.Close() // the pins keep the filter attached after we exit
	reg := daemon.NewRegistry()
	if err := c.Register(reg); err != nil {
		log.Error("cannot register metrics", "err", err)
		return 1
	}
	if _, err := daemon.ServeMetrics(ctx, cfg.MetricsListen, reg, log); err != nil {
		fmt.Fprintln(stderr, "supernode-xdp:", err)
		return 1
	}
	if err := c.ServeControl(ctx); err != nil {
		fmt.Fprintln(stderr, "supernode-xdp:", err)
		return 1
	}
	if err := c.Sync(); err != nil {
		log.Error("initial attach incomplete; retrying at each rescan", "err", err)
	}
	// SIGHUP is caught before READY and the "started" line: a reload sent
	// as soon as either appears must not find the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, unix.SIGHUP)
	log.Info("started", "version", daemon.Version, "status", c.StatusLine())
	daemon.Ready(c.StatusLine())
	go daemon.Watchdog(ctx, c.Healthy)

	go func() {
		for range hup {
			daemon.Reloading()
			next, err := loadConfig(configPath, explicit)
			if err == nil {
				err = c.Reload(next)
			}
			c.ReloadResult(err)
			if err != nil {
				log.Error("reload rejected; the previous configuration keeps running", "err", err)
			} else {
				log.Info("configuration reloaded")
			}
			daemon.Ready(c.StatusLine())
		}
	}()

	c.Run(ctx)
	daemon.Stopping()
	if on := c.AttachedPins(); len(on) > 0 {
		log.Info("stopping; the filter stays attached through its pinned links", "interfaces", strings.Join(on, ","))
	} else {
		log.Info("stopping; the filter is attached to no interface")
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func operate(cmd string, args []string, socket string, force bool, stdout io.Writer) error {
	want := map[string][2]int{"block": {2, 3}, "unblock": {1, 1}, "counters": {0, 1}}[cmd]
	if len(args) < want[0] || len(args) > want[1] && cmd != "block" {
		return usageError{fmt.Sprintf("%s takes %s; see supernode-xdp --help", cmd, map[string]string{
			"block": "IP TTL [REASON]", "unblock": "IP", "status": "no arguments", "counters": "at most an interface name",
			"blocks": "no arguments", "interfaces": "no arguments"}[cmd])}
	}
	var addr netip.Addr
	if cmd == "block" || cmd == "unblock" {
		var err error
		if addr, err = netip.ParseAddr(args[0]); err != nil {
			return usageError{fmt.Sprintf("%q is not an IP address", args[0])}
		}
	}
	c, err := control.Dial(socket)
	if err != nil {
		return err
	}
	defer c.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch cmd {
	case "block":
		ttl, err := parseTTL(args[1])
		if err != nil {
			return usageError{err.Error()}
		}
		got, err := c.BlockAs(addr, ttl, strings.Join(args[2:], " "), force)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "blocked %s for %s\n", control.FormatBlock(got.Prefix), got.TTL)
		if got.TTL < ttl {
			fmt.Fprintf(tw, "(shortened from %s by report_max_ttl; use -force for a longer block)\n", ttl)
		}
		return nil
	case "unblock":
		return c.Unblock(addr)
	case "status":
		st, err := c.Status()
		for _, kv := range st {
			fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
		}
		return err
	case "counters":
		ks, err := c.Counters()
		if len(args) == 1 {
			ks, err = c.InterfaceCounters(args[0])
		}
		fmt.Fprintln(tw, "REASON\tPACKETS\tBYTES")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", k.Reason, k.Packets, k.Bytes)
		}
		return err
	case "blocks":
		bs, err := c.List()
		fmt.Fprintln(tw, "ADDRESS\tEXPIRES IN\tREASON")
		for _, b := range bs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", control.FormatBlock(b.Prefix), time.Until(b.Expires).Round(time.Second), b.Reason)
		}
		return err
	case "interfaces":
		is, err := c.Interfaces()
		fmt.Fprintln(tw, "INTERFACE\tIFINDEX\tMODE\tPROGRAM")
		for _, i := range is {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", i.Name, i.Index, i.Mode, i.Program)
		}
		return err
	}
	return nil
}

// parseTTL accepts whole seconds ("600") or a Go duration ("10m", "1h").
func parseTTL(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= time.Second {
		return d, nil
	}
	return 0, fmt.Errorf("TTL %q is not a positive number of seconds or a duration like 10m", s)
}
