package xdp

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestBindingBenchmark is the benchmark behind tests/bench/xdp-binding.sh
// (issue #17 item 2; it only runs with SUPERNODE_XDP_BINDING_BENCH=1).
// One veth pair, XDP on both ends (the sender's bare XDP_PASS program
// receives what XDP_TX sends back), the same load generator
// (tests/loadgen, stun-loadgen) in the sender's namespace, and in the
// receiver's, side by side in one run: coturn (`turnserver --stun-only`),
// the userspace supernode (behind the XDP filter, fast path off) and the
// XDP fast path (same filter, fast path on; the supernode stays up for
// what goes up). Then the spoofed random-source flood of xdp-flood.sh (live
// XDP frames from 10.0.0.0/8) against the supernode and the fast path: the
// legitimate Binding answers kept, at the sender's maximum rate and at a
// fixed rate. Rounds interleave the set-ups; cells are medians.
func TestBindingBenchmark(t *testing.T) {
	if os.Getenv("SUPERNODE_XDP_BINDING_BENCH") != "1" {
		t.Skip("Binding benchmark: run tests/bench/xdp-binding.sh (sets SUPERNODE_XDP_BINDING_BENCH=1)")
	}
	testenv.RequireCommands(t, "turnserver")
	dur := 3 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SUPERNODE_XDP_BINDING_DURATION")); err == nil {
		dur = d
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("SUPERNODE_XDP_BINDING_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	fixed := 250000
	if n, err := strconv.Atoi(os.Getenv("SUPERNODE_XDP_FLOOD_RATE")); err == nil && n > 0 {
		fixed = n
	}
	const coturnPort = 3479 // served, but no STUN port: never answered in the driver
	// Budgets off: the one legitimate source sends tens of thousands of
	// requests a second, which its budget would (rightly) cut.
	e := newEnv(t, "udp_rate = 0\n")
	// coturn's port served too (baseConfig has the STUN port alone).
	config := func() string {
		return strings.Replace(e.baseConfig(), fmt.Sprintf("udp_ports = %d\n", stunPort),
			fmt.Sprintf("udp_ports = %d, %d\n", stunPort, coturnPort), 1) + "udp_rate = 0\n"
	}
	e.waitStarted()
	e.writeConfig(config())
	e.hup(`msg="configuration reloaded"`)
	attachPassOn(t, e.snd, e.sndIf)
	fullChecksums(t, e)

	loadgen := filepath.Join(e.dir, "stun-loadgen")
	build := exec.Command("go", "build", "-o", loadgen, "./tests/loadgen/cmd/stun-loadgen")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build stun-loadgen: %v\n%s", err, out)
	}
	snConf := filepath.Join(e.dir, "supernode.conf")
	writeFile(t, snConf, "listen = 0.0.0.0:3478\nmetrics_listen =\nrate_limit = 0\n")
	e.rcv.Exec(t, "ip", "route", "add", "default", "via", sndIP.String())
	e.rcv.Start(t, nil, filepath.Join(e.bin, "supernode"), "-config", snConf)
	e.rcv.Start(t, nil, "turnserver", "-n", "--stun-only", "--no-cli", "--no-tcp", "--no-tls", "--no-dtls",
		"--listening-ip="+rcvIP.String(), fmt.Sprintf("--listening-port=%d", coturnPort),
		"--userdb="+filepath.Join(e.dir, "turndb"), "--pidfile="+filepath.Join(e.dir, "turnserver.pid"),
		"--log-file=stdout", "--simple-log")
	waitSTUN(t, e, []netip.AddrPort{netip.AddrPortFrom(rcvIP, stunPort), netip.AddrPortFrom(rcvIP, coturnPort)})

	tmpl := e.pkt(netip.MustParseAddr("10.0.0.1"), 17, 40000, stunPort, 0)
	tmpl.payload = stunRequest(1)
	tmpl.noUDPChecksum = true // the generator rewrites the source
	gen := newLiveGen(t, e.snd, e.sndIf, tmpl.frame())

	fastPath := func(on bool) {
		e.fastPath = on
		e.writeConfig(config())
		e.hup(`msg="configuration reloaded"`)
	}
	measure := func(name string, port int, floodRate int, flooding bool) float64 {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		var sent atomic.Int64
		if flooding {
			go func() {
				defer close(done)
				if err := gen.run(ctx, floodRate, &sent); err != nil {
					t.Error(err)
				}
			}()
			time.Sleep(300 * time.Millisecond)
		} else {
			close(done)
		}
		tx0 := e.counters()["tx_binding"]
		out := e.snd.Exec(t, loadgen, "-duration", dur.String(), "-timeout", "200ms", fmt.Sprintf("%s:%d", rcvIP, port))
		tx := e.counters()["tx_binding"] - tx0
		stop()
		<-done
		m := regexp.MustCompile(`rps=([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stun-loadgen output: %s", out)
		}
		rps, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("%-10s flood=%-5v rate=%-6d answered %8.0f/s  tx_binding %d  (%s)", name, flooding, floodRate, rps, tx, strings.TrimSpace(out))
		if name == "xdp" && tx == 0 {
			t.Errorf("xdp set-up: nothing was answered in the driver")
		}
		if name != "xdp" && tx != 0 {
			t.Errorf("%s set-up: %d answered in the driver", name, tx)
		}
		time.Sleep(200 * time.Millisecond)
		return rps
	}

	type cells struct{ quiet, maxFlood, fixedFlood []float64 }
	res := map[string]*cells{"coturn": {}, "supernode": {}, "xdp": {}}
	for r := 0; r < rounds; r++ {
		fastPath(false)
		res["coturn"].quiet = append(res["coturn"].quiet, measure("coturn", coturnPort, 0, false))
		s := res["supernode"]
		s.quiet = append(s.quiet, measure("supernode", stunPort, 0, false))
		s.maxFlood = append(s.maxFlood, measure("supernode", stunPort, 0, true))
		s.fixedFlood = append(s.fixedFlood, measure("supernode", stunPort, fixed, true))
		fastPath(true)
		x := res["xdp"]
		x.quiet = append(x.quiet, measure("xdp", stunPort, 0, false))
		x.maxFlood = append(x.maxFlood, measure("xdp", stunPort, 0, true))
		x.fixedFlood = append(x.fixedFlood, measure("xdp", stunPort, fixed, true))
	}
	c := median(res["coturn"].quiet)
	t.Logf("medians of %d rounds, %s each; Binding answers per second (legitimate, one source, 4 sockets x 32 in flight):", rounds, dur)
	t.Logf("| answered by | no flood | vs coturn | flood at max rate | kept | flood at %d pkt/s | kept |", fixed)
	t.Logf("|---|---:|---:|---:|---:|---:|---:|")
	t.Logf("| coturn (userspace) | %.0f | 1.00x | - | - | - | - |", c)
	var result []string
	for _, name := range []string{"supernode", "xdp"} {
		x := res[name]
		q, m, f := median(x.quiet), median(x.maxFlood), median(x.fixedFlood)
		t.Logf("| %s | %.0f | %.2fx | %.0f | %.0f%% | %.0f | %.0f%% |", name, q, q/c, m, 100*m/q, f, 100*f/q)
		result = append(result, fmt.Sprintf("%s=%.0f/%.0f/%.0f", name, q, m, f))
	}
	fmt.Printf("RESULT coturn=%.0f %s (answers/s: no flood / max-rate flood / %d pkt/s flood)\n", c, strings.Join(result, " "), fixed)
}
