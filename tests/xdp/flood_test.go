package xdp

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/filter"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestFloodBenchmark is the flood benchmark behind tests/bench/xdp-flood.sh
// (it only runs with SUPERNODE_XDP_FLOOD=1: it takes about a minute and
// loads both cores). The real supernode serves STUN in the receiver's
// namespace; stun-loadgen measures the legitimate Binding requests it
// answers per second while a spoofed random-source reflection flood (UDP
// from port 53/123/... to the STUN port, 468-byte payloads, the shape of a
// DNS/NTP amplification attack) arrives at the highest rate one sender core
// reaches, with (a) no filter, (b) the equivalent nftables rules in the
// netdev ingress hook (the earliest nftables hook), (c) the XDP filter.
func TestFloodBenchmark(t *testing.T) {
	if os.Getenv("SUPERNODE_XDP_FLOOD") != "1" {
		t.Skip("flood benchmark: run tests/bench/xdp-flood.sh (sets SUPERNODE_XDP_FLOOD=1)")
	}
	dur := 5 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SUPERNODE_XDP_FLOOD_DURATION")); err == nil {
		dur = d
	}
	// Budgets off: the single legitimate source sends tens of thousands of
	// requests a second, which the per-source budget would (rightly) cut.
	e := newEnv(t, "udp_rate = 0\n")
	bin := e.bin
	if _, err := os.Stat(filepath.Join(bin, "supernode")); err != nil {
		t.Fatalf("flood benchmark needs the supernode in %s (make build)", bin)
	}
	// The independent load generator (tests/loadgen) is not a product
	// binary, so make build does not build it.
	loadgen := filepath.Join(e.dir, "stun-loadgen")
	build := exec.Command("go", "build", "-o", loadgen, "./tests/loadgen/cmd/stun-loadgen")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build stun-loadgen: %v\n%s", err, out)
	}
	tx := newRawSender(t, e.snd, e.sndIf)
	frames := e.floodFrames()
	snConf := filepath.Join(e.dir, "supernode.conf")
	writeFile(t, snConf, "listen = 0.0.0.0:3478\nmetrics_listen =\nrate_limit = 10000000\nrate_burst = 10000000\n")
	e.rcv.Start(t, nil, filepath.Join(bin, "supernode"), "-config", snConf)
	time.Sleep(500 * time.Millisecond)

	measure := func(name string, flooding bool) (rps float64, pps float64) {
		ctx, stop := context.WithCancel(context.Background())
		var sent atomic.Int64
		done := make(chan struct{})
		if flooding {
			go func() { defer close(done); flood(ctx, tx, frames, &sent) }()
			time.Sleep(300 * time.Millisecond) // flood at full rate first
		} else {
			close(done)
		}
		start, n0 := time.Now(), sent.Load()
		out := e.snd.Exec(t, loadgen, "-duration", dur.String(), "-timeout", "200ms", fmt.Sprintf("%s:%d", rcvIP, stunPort))
		pps = float64(sent.Load()-n0) / time.Since(start).Seconds()
		stop()
		<-done
		m := regexp.MustCompile(`rps=([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stun-loadgen output: %s", out)
		}
		rps, _ = strconv.ParseFloat(m[1], 64)
		t.Logf("%-9s flood=%-5v legit answered %8.0f/s  flood sent %8.0f pkt/s  (%s)", name, flooding, rps, pps, strings.TrimSpace(out))
		time.Sleep(300 * time.Millisecond)
		return rps, pps
	}

	// Interleave the three set-ups over several rounds and report medians:
	// the machine is shared, so any one 5 s window can be disturbed.
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("SUPERNODE_XDP_FLOOD_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	setups := []string{"none", "nftables", "xdp"}
	quiet := map[string][]float64{}
	flooded := map[string][]float64{}
	pps := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for _, s := range setups {
			e.setFilter(s)
			q, _ := measure(s, false)
			f, p := measure(s, true)
			quiet[s] = append(quiet[s], q)
			flooded[s] = append(flooded[s], f)
			pps[s] = append(pps[s], p)
		}
	}
	e.setFilter("none")
	t.Logf("medians of %d rounds, %s each:", rounds, dur)
	t.Logf("| filter | legit req/s, no flood | legit req/s, under flood | kept | flood pkt/s sent |")
	t.Logf("|---|---|---|---|---|")
	var result []string
	for _, s := range setups {
		q, f := median(quiet[s]), median(flooded[s])
		t.Logf("| %s | %.0f | %.0f | %.0f%% | %.0f |", s, q, f, 100*f/q, median(pps[s]))
		result = append(result, fmt.Sprintf("%s=%.0f/%.0f/%.0f%%", s, q, f, 100*f/q))
	}
	fmt.Printf("RESULT %s (legit req/s no-flood/flood/kept)\n", strings.Join(result, " "))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// setFilter puts one of the three set-ups in front of the receiver:
// "none", "nftables" (netdev ingress table) or "xdp" (the controller).
func (e *env) setFilter(name string) {
	e.t.Helper()
	// Off with everything first.
	if !syscallGone(e.ctl.Process.Pid) {
		e.stopController(unix.SIGTERM)
	}
	os.RemoveAll(filepath.Join(e.pinDir, "links"))
	exec.Command("ip", "netns", "exec", e.rcv.Name, "nft", "delete", "table", "netdev", "xdpbench").Run()
	time.Sleep(100 * time.Millisecond)
	if out := e.rcv.Exec(e.t, "ip", "link", "show", "dev", e.rcvIf); strings.Contains(out, "prog/xdp") {
		e.t.Fatalf("XDP still attached after removing the pins: %s", out)
	}
	switch name {
	case "xdp":
		e.redial()
		e.startController()
		if mode := e.waitAttached(); mode != "native" {
			e.t.Fatalf("XDP mode %q", mode)
		}
	case "nftables":
		nft := exec.Command("ip", "netns", "exec", e.rcv.Name, "nft", "-f", "-")
		nft.Stdin = strings.NewReader(nftRules(e.rcvIf))
		if out, err := nft.CombinedOutput(); err != nil {
			e.t.Fatalf("nft: %v\n%s", err, out)
		}
	}
}

// nftRules is the nftables equivalent of the filter's checks that this
// flood meets (reflector source ports to the service port), plus the bogon
// and closed-port rules a real ruleset would carry in front of them.
func nftRules(ifname string) string {
	var refl []string
	for _, p := range filter.DefaultReflectorPorts {
		refl = append(refl, strconv.Itoa(int(p)))
	}
	var bog []string
	for _, p := range filter.Bogons() {
		if p.Addr().Is4() {
			bog = append(bog, p.String())
		}
	}
	return fmt.Sprintf(`table netdev xdpbench {
	set bogons4 { type ipv4_addr; flags interval; elements = { %s } }
	chain ingress {
		type filter hook ingress device "%s" priority -500; policy accept;
		ip saddr @bogons4 drop
		udp dport %d udp sport { %s } drop
		udp dport != { %d, 32768-60999 } drop
	}
}
`, strings.Join(bog, ", "), ifname, stunPort, strings.Join(refl, ", "), stunPort)
}

// floodFrames builds 4096 spoofed reflection frames with random public
// sources; the sender cycles them, so it spends its time sending.
func (e *env) floodFrames() [][]byte {
	ports := filter.DefaultReflectorPorts
	frames := make([][]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range frames {
		var a [4]byte
		for {
			binary.BigEndian.PutUint32(a[:], r.Uint32())
			if a[0] >= 1 && a[0] < 224 && a[0] != 10 && a[0] != 127 && a[0] != 11 {
				break
			}
		}
		p := e.pkt(netip.AddrFrom4(a), 17, ports[i%len(ports)], stunPort, uint16(i))
		p.payload = make([]byte, 468)
		frames[i] = p.frame()
	}
	return frames
}

// flood sends frames as fast as one AF_PACKET socket can until ctx ends.
func flood(ctx context.Context, tx *rawSender, frames [][]byte, sent *atomic.Int64) {
	// sendmmsg: one system call per 64 frames.
	const batch = 64
	hdrs := make([]mmsghdr, batch)
	iovs := make([]unix.Iovec, batch)
	for i := 0; ctx.Err() == nil; i++ {
		for j := range hdrs {
			f := frames[(i*batch+j)%len(frames)]
			iovs[j].Base = &f[0]
			iovs[j].SetLen(len(f))
			hdrs[j].hdr.Iov = &iovs[j]
			hdrs[j].hdr.Iovlen = 1
		}
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(tx.fd), uintptr(unsafe.Pointer(&hdrs[0])), batch, 0, 0, 0)
		if errno == 0 {
			sent.Add(int64(n))
		}
	}
}

// mmsghdr is struct mmsghdr (sendmmsg(2)).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}
