package filter

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// The benchmarks time programs with BPF_PROG_TEST_RUN (Program.Benchmark):
// the kernel runs the program `repeat` times on one packet and reports the
// mean, so ns/packet excludes the syscall but includes the test-run loop,
// which is why the bare XDP_DROP floor is measured in the same run.

const benchRepeat = 200000

// benchClass is one traffic class: the packet and the reason our program
// must give it (checked once, so a benchmark never times the wrong path).
type benchClass struct {
	name  string
	frame []byte
	want  Reason
}

func benchClasses() []benchClass {
	garbage := make([]byte, 64)
	for i := range garbage {
		garbage[i] = byte(i * 37)
	}
	return []benchClass{
		{"stun-v4", udp4(client4, 40000, 3478, binding()), ReasonPassService},
		{"stun-v6", udp6(client6, 40000, 3478, binding()), ReasonPassService},
		{"flood-garbage-to-stun-port", udp4("31.1.2.3", 40000, 3478, garbage), ReasonDropSTUN},
		{"flood-closed-port", udp4("31.1.2.3", 40000, 9999, garbage), ReasonDropClosed},
		{"reflection-dns", udp4("31.1.2.3", 53, 3478, make([]byte, 512)), ReasonDropReflect},
		{"blocked-source", udp4("40.0.0.1", 40000, 3478, binding()), ReasonDropBlocked},
		{"tcp-syn-served", tcp4(client4, 45000, 443, tcpSYN), ReasonPassService},
		{"dns-reply", udp4("30.0.0.53", 53, 50000, make([]byte, 120)), ReasonPassReply},
	}
}

func benchConfig() Config {
	c := testConfig()
	// Budgets on, but too large to run out: the benchmark times the
	// token-bucket path, not the drop it leads to.
	c.UDPRate, c.UDPBurst = 1e9, 1e9
	c.SYNRate, c.SYNBurst = 1e9, 1e9
	c.ICMPRate, c.ICMPBurst = 1e9, 1e9
	return c
}

// BenchmarkPipeline times, per traffic class and in the same run, our
// filter, the bare XDP_DROP floor, and Debian's xdp-filter configured with
// the nearest equivalent rules (deny the closed port, deny the blocked
// source; it has no bogon, STUN, reflection or rate checks).
func BenchmarkPipeline(b *testing.B) {
	f := openTest(b, benchConfig())
	var floor floorObjects
	if err := loadFloorObjects(&floor, nil); err != nil {
		b.Fatal(err)
	}
	defer floor.Close()
	xf := loadXDPFilter(b)

	// The same STUN packet with the token buckets off: the per-source
	// state still caches the verdict.
	nb := benchConfig()
	nb.UDPRate, nb.SYNRate, nb.ICMPRate = 0, 0, 0
	noBudgets := openTest(b, nb)

	// Under a spoofed random-source flood every packet comes from an
	// unknown source. Once the admission budget is spent (here by one
	// other source), each one costs a missed slot lookup, the trie and a look
	// at the budget: that is the per-packet cost the flood is held to.
	sp := benchConfig()
	sp.TrackRate, sp.TrackBurst = 1, 1
	spoofed := openTest(b, sp)
	expect(b, spoofed, udp4("31.9.9.9", 40000, 3478, binding()), ReasonPassService)
	// A real flood keeps the budget spent; the benchmark repeats one
	// frame, which the budget's refill (1/s) would let in after a second
	// and then find tracked: keep it spent for the whole run.
	spendAdmission(b, spoofed)

	// A known source the controller then blocks (the supernode's abuse
	// reports): its state entry carries the block.
	abuser := netip.MustParseAddr("30.0.7.7")
	abuse := udp4(abuser.String(), 40000, 3478, binding())
	expect(b, f, abuse, ReasonPassService)
	if err := f.Block(abuser, time.Hour); err != nil {
		b.Fatal(err)
	}

	classes := benchClasses()
	classes = append(classes,
		benchClass{"stun-v4-budgets-off", classes[0].frame, ReasonPassService},
		benchClass{"stun-v4-spoofed-untracked", classes[0].frame, ReasonPassService},
		benchClass{"dynamically-blocked-known-source", abuse, ReasonDropDynamic})
	for _, c := range classes {
		b.Run(c.name, func(b *testing.B) {
			f := f
			switch c.name {
			case "stun-v4-budgets-off":
				f = noBudgets
			case "stun-v4-spoofed-untracked":
				f = spoofed
			}
			expect(b, f, c.frame, c.want)
			var ours, base, theirs time.Duration
			for b.Loop() {
				ours += timeProg(b, f.Program(), c.frame)
				base += timeProg(b, floor.XdpDrop, c.frame)
				theirs += timeProg(b, xf, c.frame)
			}
			n := float64(b.N)
			b.ReportMetric(float64(ours.Nanoseconds())/n, "filter-ns/pkt")
			b.ReportMetric(float64(base.Nanoseconds())/n, "floor-ns/pkt")
			b.ReportMetric(float64(theirs.Nanoseconds())/n, "xdpfilter-ns/pkt")
			b.ReportMetric(float64(ours)/float64(base), "filter/floor")
			b.ReportMetric(float64(theirs)/float64(base), "xdpfilter/floor")
		})
	}
}

func timeProg(b *testing.B, p *ebpf.Program, frame []byte) time.Duration {
	_, d, err := p.Benchmark(frame, benchRepeat, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// loadXDPFilter loads xdp-filter (xdp-tools) on a veth in a throwaway
// namespace, configures it, and returns its program. The namespace's
// deletion detaches it; the returned handle keeps the program alive.
func loadXDPFilter(b *testing.B) *ebpf.Program {
	testenv.RequireCommands(b, "xdp-filter", "ip")
	ns := testenv.NewNS(b, "b1xf")
	ns.Exec(b, "ip", "link", "add", "xfa", "type", "veth", "peer", "name", "xfb")
	ns.Exec(b, "ip", "link", "set", "xfa", "up")
	ns.Exec(b, "ip", "link", "set", "xfb", "up")
	// `ip netns exec` remounts /sys: xdp-filter needs a bpffs to pin its
	// maps, which lives as long as this one shell.
	ns.Exec(b, "sh", "-c", "mount -t bpf bpf /sys/fs/bpf && "+
		"xdp-filter load -m native -p allow -f tcp,udp,ipv4,ipv6 xfa && "+
		"xdp-filter port -m dst 9999 && "+
		"xdp-filter ip -m src 40.0.0.1")
	var links []struct {
		Xdp struct {
			Prog struct {
				ID uint32 `json:"id"`
			} `json:"prog"`
		} `json:"xdp"`
	}
	out := ns.Exec(b, "ip", "-j", "-d", "link", "show", "dev", "xfa")
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 || links[0].Xdp.Prog.ID == 0 {
		b.Fatalf("find xdp-filter's program id in %q: %v", out, err)
	}
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(links[0].Xdp.Prog.ID))
	if err != nil {
		b.Fatalf("open xdp-filter's program: %v", err)
	}
	b.Cleanup(func() { p.Close() })
	if info, err := p.Info(); err == nil {
		b.Log(fmt.Sprintf("xdp-filter program %q", info.Name))
	}
	return p
}
