// Package monitoring_test checks the shipped Grafana dashboard and
// Prometheus alert rules against the metrics the appliance really exports:
// each daemon's collectors are created as the daemons create them and
// asked to describe themselves.
package monitoring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/internal/daemon"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/supernode/server"
)

var quiet = slog.New(slog.DiscardHandler)

// names records, for every metric a collector describes, its label names;
// prometheus.Desc has no getters, its String() carries both.
type names map[string]map[string]bool

var (
	fqName = regexp.MustCompile(`fqName: "([^"]+)"`)
	labels = regexp.MustCompile(`(?:constLabels|variableLabels): \{([^}]*)\}`)
)

func (n names) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			continue
		}
		n.add(m[1])
		for _, l := range labels.FindAllStringSubmatch(d.String(), -1) {
			for _, kv := range strings.Split(l[1], ",") {
				if k, _, _ := strings.Cut(strings.TrimSpace(kv), "="); k != "" {
					n[m[1]][k] = true
				}
			}
		}
	}
	return nil
}
func (n names) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		n.Register(c)
	}
}
func (n names) Unregister(prometheus.Collector) bool { return true }

func (n names) add(m string, ls ...string) {
	if n[m] == nil {
		n[m] = map[string]bool{}
	}
	for _, l := range ls {
		n[m][l] = true
	}
}

// exported collects the metric names of the supernode (server and fleet),
// the XDP controller (root: it loads the filter) and the live audit's
// textfile.
func exported(t *testing.T) names {
	n := names{}
	n.Register(daemon.BuildInfo("")) // every daemon's registry has it
	cfg := server.Defaults()
	cfg.Listen = []string{"127.0.0.1:0"}
	cfg.Sockets = 1
	if _, err := server.New(cfg, quiet, n); err != nil {
		t.Fatal(err)
	}

	fc := fleet.DefaultConfig()
	fc.Name = "m1"
	fc.Bind = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freeUDP(t))
	fc.DataPort = freeUDP(t)
	fc.Keys = []string{base64.StdEncoding.EncodeToString(make([]byte, 32))}
	fc.ProbeInterval, fc.ProbeTimeout = 500*time.Millisecond, 250*time.Millisecond
	node, err := fleet.Start(fleet.Options{Config: fc, Registry: n, Capacity: 10, Logger: quiet,
		Supernode:   netip.MustParseAddrPort("127.0.0.1:3478"),
		OnIntroduce: func(fleet.Key, netip.AddrPort, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	node.Kill()

	if os.Geteuid() == 0 {
		pin := t.TempDir()
		if err := unix.Mount("bpf", pin, "bpf", 0, ""); err != nil {
			t.Fatalf("mount bpffs: %v", err)
		}
		defer unix.Unmount(pin, unix.MNT_DETACH)
		cc := controller.DefaultConfig()
		cc.PinDir = pin + "/supernode-xdp"
		cc.Interfaces = []string{"monitoring-test-none"} // attach nothing
		c, err := controller.New(cc, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Register(n); err != nil {
			t.Fatal(err)
		}
	} else if os.Getenv("SUPERNODE_CI") != "" {
		t.Fatal("the XDP controller's metrics need root (it loads the filter)")
	} else {
		t.Log("not root: the XDP controller's metrics are not checked")
		n.add("supernode_xdp_packets_total", "interface", "verdict", "reason")
		n.add("supernode_xdp_interface_attached", "interface", "mode")
		n.add("supernode_xdp_dynamic_blocks")
		n.add("supernode_xdp_dynamic_blocks_added_total")
		n.add("supernode_xdp_reloads_total", "result")
		n.add("supernode_xdp_block_refusals_total", "cause")
		n.add("supernode_xdp_block_ttl_capped_total")
	}

	var buf bytes.Buffer
	// One failing control, so the per-control series is written too.
	rep := &hardening.Report{Mode: "live", Counts: map[hardening.Status]int{},
		Results: []hardening.Result{{Control: "example", Severity: "high", Status: hardening.Fail}}}
	rep.WriteMetrics(&buf)
	for _, m := range regexp.MustCompile(`(?m)^(appliance_audit_[a-z_]+)(?:\{(.*)\})? `).FindAllStringSubmatch(buf.String(), -1) {
		n.add(m[1])
		for _, kv := range regexp.MustCompile(`([a-z_]+)=`).FindAllStringSubmatch(m[2], -1) {
			n.add(m[1], kv[1])
		}
	}
	return n
}

// ours matches the appliance's metric names inside a PromQL expression.
var ours = regexp.MustCompile(`\b(supernode_[a-z0-9_]+|appliance_audit_[a-z0-9_]+)\b`)

// labelsOf returns a metric's label names, accepting the series of a
// histogram (_bucket with le, _sum, _count); nil if no daemon exports it.
func (n names) labelsOf(m string) map[string]bool {
	if ls, ok := n[m]; ok {
		return ls
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if ls, ok := n[strings.TrimSuffix(m, suf)]; ok && strings.HasSuffix(m, suf) {
			if suf == "_bucket" {
				ls = maps.Clone(ls)
				ls["le"] = true
			}
			return ls
		}
	}
	return nil
}

var (
	selector = regexp.MustCompile(`\b((?:supernode|appliance_audit)_[a-z0-9_]+)\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
	grouping = regexp.MustCompile(`\b(?:by|without) \(([^)]*)\)`)
)

func check(t *testing.T, n names, where, expr string) {
	t.Helper()
	found := ours.FindAllString(expr, -1)
	if len(found) == 0 {
		t.Errorf("%s: %q names none of the appliance's metrics", where, expr)
	}
	union := map[string]bool{}
	for _, m := range found {
		ls := n.labelsOf(m)
		if ls == nil {
			t.Errorf("%s: %q names %s, which no daemon exports", where, expr, m)
		}
		for l := range ls {
			union[l] = true
		}
	}
	for _, sel := range selector.FindAllStringSubmatch(expr, -1) {
		for _, l := range matcher.FindAllStringSubmatch(sel[2], -1) {
			if ls := n.labelsOf(sel[1]); ls != nil && !ls[l[1]] {
				t.Errorf("%s: %q selects label %s, which %s does not have", where, expr, l[1], sel[1])
			}
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "instance" && l != "job" && !union[l] {
				t.Errorf("%s: %q groups by %s, a label none of its metrics has", where, expr, l)
			}
		}
	}
}

func TestDashboardAndAlertsNameExportedMetrics(t *testing.T) {
	n := exported(t)
	var all []string
	for m := range n {
		all = append(all, m)
	}
	sort.Strings(all)
	t.Logf("%d metrics exported: %s", len(all), strings.Join(all, " "))

	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if len(dash.Panels) < 8 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check(t, n, "dashboard panel "+p.Title, tg.Expr)
		}
	}

	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs := regexp.MustCompile(`(?m)^\s+expr: (.+)$`).FindAllStringSubmatch(string(rules), -1)
	alerts := regexp.MustCompile(`(?m)^\s+- alert: (\S+)$`).FindAllStringSubmatch(string(rules), -1)
	if len(exprs) == 0 || len(exprs) != len(alerts) {
		t.Fatalf("alerts.yml: %d alerts, %d expressions", len(alerts), len(exprs))
	}
	for i, e := range exprs {
		check(t, n, fmt.Sprintf("alert %s", alerts[i][1]), e[1])
	}
}

// freeUDP is a free UDP (and, for memberlist, TCP) port on loopback.
func freeUDP(t *testing.T) uint16 {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		l.Close()
		if err == nil {
			u.Close()
			return uint16(p)
		}
	}
	t.Fatal("no free port on loopback")
	return 0
}
