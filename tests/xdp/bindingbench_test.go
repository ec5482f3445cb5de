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
// fixed rate, with the legitimate load as fast as the generator goes and
// paced (SUPERNODE_XDP_BINDING_PACED requests/s, 100,000 unless set; 0
// leaves the paced rows out). Rounds interleave the set-ups; cells are
// medians.
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
	paced := 100000 // legitimate requests/s of the paced rows; 0: none
	if n, err := strconv.Atoi(os.Getenv("SUPERNODE_XDP_BINDING_PACED")); err == nil && n >= 0 {
		paced = n
	}
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
	// A row is an answering set-up under one legitimate load: as fast as
	// the generator's window allows (paced 0: on two shared cores the
	// generator is then the limit, and whatever CPU the flood takes comes
	// off the answers), or paced to a fixed rate the set-up serves with
	// CPU to spare, which shows what the flood itself costs the answers.
	type row struct {
		name  string // coturn, supernode, xdp
		paced int    // legitimate requests/s; 0: closed loop
	}
	// Per column (no flood, flood at max rate, at the fixed rate): answers/s,
	// flood pkt/s received, the filter's cores and its ns per packet.
	type cells struct{ rps, pps, cores, ns [3][]float64 }
	res := map[row]*cells{}
	measure := func(r row, flood int) {
		x := res[r]
		if x == nil {
			x = &cells{}
			res[r] = x
		}
		port := stunPort
		if r.name == "coturn" {
			port = coturnPort
		}
		col := map[int]int{-1: 0, 0: 1, fixed: 2}[flood] // -1: no flood, 0: max rate
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		var sent atomic.Int64
		if flood >= 0 {
			go func() {
				defer close(done)
				if err := gen.run(ctx, flood, &sent); err != nil {
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
		args := []string{loadgen, "-duration", dur.String(), "-timeout", "200ms"}
		if r.paced > 0 {
			args = append(args, "-rate", strconv.Itoa(r.paced))
		}
		out := e.snd.Exec(t, append(args, fmt.Sprintf("%s:%d", rcvIP, port))...)
		tx := e.counters()["tx_binding"] - tx0
		// The flood that reached the receiving interface: its rx counter
		// (which counts what XDP dropped or answered) less the requests.
		rx := e.rxPackets() - rx0
		if m := regexp.MustCompile(`sent=([0-9]+)`).FindStringSubmatch(out); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			rx -= min(rx, n)
		}
		elapsed := time.Since(start)
		pps := float64(rx) / elapsed.Seconds()
		st := filterStats(t)
		st.Runtime -= st0.Runtime
		st.RunCount -= st0.RunCount
		stop()
		<-done
		m := regexp.MustCompile(`rps=([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stun-loadgen output: %s", out)
		}
		rps, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("%-9s paced=%-6d flood=%-6d answered %8.0f/s  flood received %8.0f pkt/s  tx_binding %d  (%s)", r.name, r.paced, flood, rps, pps, tx, strings.TrimSpace(out))
		if r.name == "xdp" && tx == 0 {
			t.Errorf("xdp set-up: nothing was answered in the driver")
		}
		if r.name != "xdp" && tx != 0 {
			t.Errorf("%s set-up: %d answered in the driver", r.name, tx)
		}
		x.rps[col], x.pps[col] = append(x.rps[col], rps), append(x.pps[col], pps)
		x.cores[col] = append(x.cores[col], st.Runtime.Seconds()/elapsed.Seconds())
		x.ns[col] = append(x.ns[col], float64(st.Runtime.Nanoseconds())/float64(max(st.RunCount, 1)))
		time.Sleep(200 * time.Millisecond)
	}

	rows := []row{{"supernode", 0}, {"xdp", 0}}
	if paced > 0 {
		rows = append(rows, row{"supernode", paced}, row{"xdp", paced})
	}
	for range rounds {
		fastPath(false)
		measure(row{"coturn", 0}, -1)
		for _, r := range rows {
			if r.name == "xdp" {
				fastPath(true)
			} else {
				fastPath(false)
			}
			for _, flood := range []int{-1, 0, fixed} {
				measure(r, flood)
			}
		}
	}
	c := median(res[row{"coturn", 0}].rps[0])
	t.Logf("medians of %d rounds, %s each; legitimate Binding answers per second (one source, 4 sockets x 32 in flight, closed loop or paced):", rounds, dur)
	t.Logf("| answered by | legitimate load | no flood | vs coturn | flood at max rate (pkt/s received) | kept | flood at %d pkt/s (received) | kept |", fixed)
	t.Logf("|---|---|---:|---:|---:|---:|---:|---:|")
	t.Logf("| coturn (userspace) | closed loop | %.0f | 1.00x | - | - | - | - |", c)
	load := func(r row) string {
		if r.paced == 0 {
			return "closed loop"
		}
		return fmt.Sprintf("paced, %d/s", r.paced)
	}
	var result []string
	for _, r := range rows {
		x := res[r]
		q, m, f := median(x.rps[0]), median(x.rps[1]), median(x.rps[2])
		t.Logf("| %s | %s | %.0f | %.2fx | %.0f (%.0f) | %.0f%% | %.0f (%.0f) | %.0f%% |", r.name, load(r), q, q/c, m, median(x.pps[1]), 100*m/q, f, median(x.pps[2]), 100*f/q)
		result = append(result, fmt.Sprintf("%s@%d=%.0f/%.0f/%.0f", r.name, r.paced, q, m, f))
	}
	t.Logf("The XDP filter's own time (BPF run-time statistics), medians: cores busy / ns per packet")
	t.Logf("| set-up | legitimate load | no flood | flood at max rate | flood at %d pkt/s |", fixed)
	t.Logf("|---|---|---:|---:|---:|")
	for _, r := range rows {
		x := res[r]
		var cell [3]string
		for i := range cell {
			cell[i] = fmt.Sprintf("%.3f / %.0f ns", median(x.cores[i]), median(x.ns[i]))
		}
		t.Logf("| %s | %s | %s | %s | %s |", r.name, load(r), cell[0], cell[1], cell[2])
	}
	fmt.Printf("RESULT coturn=%.0f %s (answers/s: no flood / max-rate flood / %d pkt/s flood)\n", c, strings.Join(result, " "), fixed)
}
