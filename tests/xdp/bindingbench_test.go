package xdp

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// filterStats sums the run-time statistics of every loaded program named
// xdp_filter (the receiver's filter: this test's namespaces hold the only
// one).
func filterStats(t *testing.T) (sum ebpf.ProgramStats) {
	t.Helper()
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return sum
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded meanwhile
		}
		if info, err := p.Info(); err == nil && info.Name == "xdp_filter" {
			if st, err := p.Stats(); err == nil {
				sum.Runtime += st.Runtime
				sum.RunCount += st.RunCount
			}
		}
		p.Close()
	}
}

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
	// The filter's own time (kernel.bpf_stats_enabled): cores it kept busy
	// and ns per packet, per set-up, to tell its cost from the generators'.
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		t.Fatalf("enable BPF run-time statistics: %v", err)
	}
	defer stats.Close()
	cpu := map[string][][2]float64{}
	// pinned: the legitimate generator on CPU 0 and the flood's sending
	// thread on CPU 1, with and without the flood, so the flood cannot take
	// the legitimate generator's second core; what is left to measure is
	// what the flood costs the answering path.
	measure := func(name string, port int, floodRate int, flooding, pinned bool) (rps, pps float64) {
		gen.cpu = -1
		var pin []string
		if pinned {
			gen.cpu, pin = 1, []string{"taskset", "-c", "0"}
		}
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
		st0 := filterStats(t)
		rx0, start := e.rxPackets(), time.Now()
		out := e.snd.Exec(t, append(pin, loadgen, "-duration", dur.String(), "-timeout", "200ms", fmt.Sprintf("%s:%d", rcvIP, port))...)
		tx := e.counters()["tx_binding"] - tx0
		// The flood that reached the receiving interface: its rx counter
		// (which counts what XDP dropped or answered) less the requests.
		rx := e.rxPackets() - rx0
		if m := regexp.MustCompile(`sent=([0-9]+)`).FindStringSubmatch(out); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			rx -= min(rx, n)
		}
		elapsed := time.Since(start)
		pps = float64(rx) / elapsed.Seconds()
		st := filterStats(t)
		st.Runtime -= st0.Runtime
		st.RunCount -= st0.RunCount
		cpu[name+fmt.Sprint(pinned, flooding, floodRate)] = append(cpu[name+fmt.Sprint(pinned, flooding, floodRate)],
			[2]float64{st.Runtime.Seconds() / elapsed.Seconds(), float64(st.Runtime.Nanoseconds()) / float64(max(st.RunCount, 1))})
		stop()
		<-done
		m := regexp.MustCompile(`rps=([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stun-loadgen output: %s", out)
		}
		rps, _ = strconv.ParseFloat(m[1], 64)
		t.Logf("%-10s pinned=%-5v flood=%-5v rate=%-6d answered %8.0f/s  flood received %8.0f pkt/s  tx_binding %d  (%s)", name, pinned, flooding, floodRate, rps, pps, tx, strings.TrimSpace(out))
		if name == "xdp" && tx == 0 {
			t.Errorf("xdp set-up: nothing was answered in the driver")
		}
		if name != "xdp" && tx != 0 {
			t.Errorf("%s set-up: %d answered in the driver", name, tx)
		}
		time.Sleep(200 * time.Millisecond)
		return rps, pps
	}

	type cells struct{ quiet, maxFlood, maxPPS, fixedFlood, fixedPPS []float64 }
	add := func(x *cells, name string, pinned bool) {
		q, _ := measure(name, stunPort, 0, false, pinned)
		m, mp := measure(name, stunPort, 0, true, pinned)
		f, fp := measure(name, stunPort, fixed, true, pinned)
		x.quiet, x.maxFlood, x.maxPPS = append(x.quiet, q), append(x.maxFlood, m), append(x.maxPPS, mp)
		x.fixedFlood, x.fixedPPS = append(x.fixedFlood, f), append(x.fixedPPS, fp)
	}
	res := map[string]*cells{"coturn": {}, "supernode": {}, "xdp": {}, "xdp-pinned": {}}
	pinnable := runtime.NumCPU() >= 2
	for r := 0; r < rounds; r++ {
		fastPath(false)
		c, _ := measure("coturn", coturnPort, 0, false, false)
		res["coturn"].quiet = append(res["coturn"].quiet, c)
		add(res["supernode"], "supernode", false)
		fastPath(true)
		add(res["xdp"], "xdp", false)
		if pinnable {
			add(res["xdp-pinned"], "xdp", true)
		}
	}
	c := median(res["coturn"].quiet)
	t.Logf("medians of %d rounds, %s each; Binding answers per second (legitimate, one source, 4 sockets x 32 in flight):", rounds, dur)
	t.Logf("| answered by | no flood | vs coturn | flood at max rate (pkt/s received) | kept | flood at %d pkt/s (received) | kept |", fixed)
	t.Logf("|---|---:|---:|---:|---:|---:|---:|")
	t.Logf("| coturn (userspace) | %.0f | 1.00x | - | - | - | - |", c)
	var result []string
	for _, name := range []string{"supernode", "xdp", "xdp-pinned"} {
		x := res[name]
		if len(x.quiet) == 0 {
			continue
		}
		q, m, f := median(x.quiet), median(x.maxFlood), median(x.fixedFlood)
		t.Logf("| %s | %.0f | %.2fx | %.0f (%.0f) | %.0f%% | %.0f (%.0f) | %.0f%% |", name, q, q/c, m, median(x.maxPPS), 100*m/q, f, median(x.fixedPPS), 100*f/q)
		result = append(result, fmt.Sprintf("%s=%.0f/%.0f/%.0f", name, q, m, f))
	}
	t.Logf("The XDP filter's own time (BPF run-time statistics), medians: cores busy / ns per packet")
	t.Logf("| set-up | no flood | flood at max rate | flood at %d pkt/s |", fixed)
	t.Logf("|---|---:|---:|---:|")
	for _, row := range []struct {
		label, name string
		pinned      bool
	}{{"supernode (fast path off)", "supernode", false}, {"xdp", "xdp", false}, {"xdp-pinned", "xdp", true}} {
		cell := func(flooding bool, rate int) string {
			v := cpu[row.name+fmt.Sprint(row.pinned, flooding, rate)]
			if len(v) == 0 {
				return "-"
			}
			var c, ns []float64
			for _, x := range v {
				c, ns = append(c, x[0]), append(ns, x[1])
			}
			return fmt.Sprintf("%.3f / %.0f ns", median(c), median(ns))
		}
		t.Logf("| %s | %s | %s | %s |", row.label, cell(false, 0), cell(true, 0), cell(true, fixed))
	}
	fmt.Printf("RESULT coturn=%.0f %s (answers/s: no flood / max-rate flood / %d pkt/s flood)\n", c, strings.Join(result, " "), fixed)
}
