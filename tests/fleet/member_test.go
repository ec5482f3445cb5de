package fleet

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/supernode-appliance/appliance/internal/conf"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// The fleet member under test runs as this test binary re-executed with
// FLEET_MEMBER=1 inside a namespace: a real process that can be SIGKILLed,
// configured the way the daemon is (a config file through conf.Load, the key
// from the systemd credential supernode.fleet_key). It reads one command per
// line on stdin and answers one line on stdout, so the tests can register
// thousands of synthetic peers and read a member's state directly.
// TestFleetDaemons runs bin/supernode itself, driven only from outside.
func TestMain(m *testing.M) {
	if os.Getenv("FLEET_MEMBER") == "1" {
		os.Exit(runMember())
	}
	os.Exit(m.Run())
}

// memberConfig is what the daemon's config becomes with the fleet wired
// in: the server's keys plus the fleet block, one file.
type memberConfig struct {
	server.Config
	Fleet fleet.Config
}

func (c *memberConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	return c.Fleet.Validate()
}

// runMember is the wiring supernode/fleet/README.md asks of the daemon:
// fleet.Attach, then the real server, then bind.
func runMember() int {
	cfg := memberConfig{Config: server.Defaults(), Fleet: fleet.DefaultConfig()}
	if err := conf.Load(&cfg, "supernode", os.Getenv("FLEET_CONFIG"), true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	n, bind, err := fleet.Attach(&cfg.Config, cfg.Fleet, log, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := server.New(cfg.Config, log, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		n.Close()
		return 1
	}
	bind(srv)
	ctx, stopServer := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { stopServer(); <-served }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	out := bufio.NewWriter(os.Stdout)
	for {
		select {
		case <-sig:
			n.Close()
			return 0
		case line, ok := <-lines:
			if !ok {
				n.Close()
				return 0
			}
			fmt.Fprintln(out, command(n, reg, strings.Fields(line)))
			out.Flush()
		}
	}
}

// peerEntry is synthetic peer i at version ver (the reflexive port encodes
// both, so a lookup can tell a stale record from a fresh one).
func peerEntry(i, ver int) fleet.Entry {
	return fleet.Entry{
		Key:       fleet.Key(sha256.Sum256([]byte(fmt.Sprintf("peer-%d", i)))),
		Reflexive: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), uint16(20000+ver)),
		Local:     []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5000)},
		Lease:     60 * time.Second,
	}
}

func atoi(s string) int { v, _ := strconv.Atoi(s); return v }

func command(n *fleet.Node, reg *prometheus.Registry, args []string) string {
	if len(args) == 0 {
		return "error: empty command"
	}
	switch args[0] {
	case "members": // members COUNT NAME,NAME...
		var names []string
		for _, m := range n.Members() {
			names = append(names, m.Name)
		}
		return fmt.Sprintf("members %d %s", len(names), strings.Join(names, ","))
	case "reg": // reg FROM TO VER: register peers [FROM,TO) here
		for i := atoi(args[1]); i < atoi(args[2]); i++ {
			n.Register(peerEntry(i, atoi(args[3])))
		}
		return "ok"
	case "find": // find FROM TO VER -> found F missing M stale S first-missing X
		found, missing, stale, first := 0, 0, 0, -1
		for i := atoi(args[1]); i < atoi(args[2]); i++ {
			want := peerEntry(i, atoi(args[3]))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			e, ok, _ := n.Lookup(ctx, want.Key)
			cancel()
			switch {
			case !ok:
				missing++
				if first < 0 {
					first = i
				}
			case e.Reflexive != want.Reflexive:
				stale++
			default:
				found++
			}
		}
		return fmt.Sprintf("found %d missing %d stale %d first-missing %d", found, missing, stale, first)
	case "share": // share FROM TO -> owned O of [FROM,TO) by this member
		owned := 0
		for i := atoi(args[1]); i < atoi(args[2]); i++ {
			for _, o := range n.Owners(peerEntry(i, 0).Key) {
				if o == n.Name() {
					owned++
				}
			}
		}
		return fmt.Sprintf("owned %d", owned)
	case "holds": // holds HEX -> holds 0|1: a replica of that peer key is stored here
		var k fleet.Key
		if b, err := hex.DecodeString(args[1]); err != nil || len(b) != len(k) {
			return "error: bad key"
		} else {
			copy(k[:], b)
		}
		if n.Holds(k) {
			return "holds 1"
		}
		return "holds 0"
	case "metric": // metric NAME [LABEL=VALUE] -> value V (sum over matches)
		return fmt.Sprintf("value %g", gather(reg, args[1], args[2:]))
	}
	return "error: unknown command " + args[0]
}

func gather(reg *prometheus.Registry, name string, labels []string) float64 {
	mfs, _ := reg.Gather()
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, l := range labels {
				k, v, _ := strings.Cut(l, "=")
				ok := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						ok = true
					}
				}
				if !ok {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

var _ = testing.Short
