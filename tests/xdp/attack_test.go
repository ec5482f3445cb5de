package xdp

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// TestAttackClasses sends each attack class as crafted frames from the other
// end of the veth and checks three things per class: nothing of it reaches
// the receiver's stack (AF_PACKET tap after XDP), the filter counted exactly
// those frames under the expected reason, and a legitimate STUN client keeps
// getting every answer meanwhile.
func TestAttackClasses(t *testing.T) {
	e := newEnv(t, "block = 11.11.0.66/32\n")
	obs := newObserver(t, e.rcv, e.rcvIf)
	srv := e.startSTUN()
	tx := newRawSender(t, e.snd, e.sndIf)

	// The legitimate client asks 50 times a second (half its budget) for
	// the whole test.
	l := e.legitClient()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan [2]int64)
	go func() { s, a := l.run(ctx, 20*time.Millisecond); done <- [2]int64{s, a} }()

	stun := stunRequest(42)
	public := netip.MustParseAddr("11.11.0.50")
	public6 := netip.MustParseAddr("2a00:1::50")
	junk := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	amp := make([]byte, 400) // a typical amplified answer's size

	type class struct {
		name   string
		reason string // "" for traffic that must pass
		frames []pkt
	}
	var id uint16 = 0xA000
	next := func() uint16 { id++; return id }
	one := func(p pkt) []pkt { return []pkt{p} }
	withFlags := func(p pkt, f uint8) pkt { p.tcpFlags = f; return p }
	withPayload := func(p pkt, b []byte) pkt { p.payload = b; return p }

	classes := []class{
		// Positive control: the same shape from a clean source passes, so
		// the tap and counters below can see traffic at all.
		{"control_clean_stun", "", one(withPayload(e.pkt(public, 17, 40000, stunPort, next()), stun))},
		{"bogon_rfc1918", "drop_bogon", one(withPayload(e.pkt(netip.MustParseAddr("10.1.2.3"), 17, 40000, stunPort, next()), stun))},
		{"bogon_loopback", "drop_bogon", one(withPayload(e.pkt(netip.MustParseAddr("127.0.0.1"), 17, 40000, stunPort, next()), stun))},
		{"bogon_class_e", "drop_bogon", one(withPayload(e.pkt(netip.MustParseAddr("240.1.2.3"), 17, 40000, stunPort, next()), stun))},
		{"land", "drop_land", one(withPayload(e.pkt(rcvIP, 17, stunPort, stunPort, next()), stun))},
		{"own_source", "drop_own_source", one(withPayload(e.pkt(rcvIP2, 17, 40000, stunPort, next()), stun))},
		{"tcp_null", "drop_tcp_flags", one(withFlags(e.pkt(public, 6, 40000, tcpPort, next()), 0))},
		{"tcp_xmas", "drop_tcp_flags", one(withFlags(e.pkt(public, 6, 40000, tcpPort, next()), tcpFIN|tcpPSH|tcpURG))},
		{"tcp_syn_fin", "drop_tcp_flags", one(withFlags(e.pkt(public, 6, 40000, tcpPort, next()), tcpSYN|tcpFIN))},
		{"tcp_syn_rst", "drop_tcp_flags", one(withFlags(e.pkt(public, 6, 40000, tcpPort, next()), tcpSYN|tcpRST))},
		{"tcp_fin_no_ack", "drop_tcp_flags", one(withFlags(e.pkt(public, 6, 40000, tcpPort, next()), tcpFIN))},
		{"reflection_dns", "drop_reflection", one(withPayload(e.pkt(public, 17, 53, stunPort, next()), amp))},
		{"reflection_ntp", "drop_reflection", one(withPayload(e.pkt(public, 17, 123, stunPort, next()), amp))},
		{"reflection_memcached", "drop_reflection", one(withPayload(e.pkt(public, 17, 11211, stunPort, next()), amp))},
		{"closed_udp_port", "drop_port_closed", one(withPayload(e.pkt(public, 17, 40000, 9999, next()), stun))},
		{"closed_tcp_port", "drop_port_closed", one(withFlags(e.pkt(public, 6, 40000, 22, next()), tcpSYN))},
		{"malformed_stun", "drop_stun", one(withPayload(e.pkt(public, 17, 40000, stunPort, next()), junk))},
		{"static_block", "drop_blocked", one(withPayload(e.pkt(netip.MustParseAddr("11.11.0.66"), 17, 40000, stunPort, next()), stun))},
		// IPv6: the same classes through the IPv6 parser (marker in the
		// flow label).
		{"control_clean_stun_v6", "", one(withPayload(e.pkt(public6, 17, 40000, stunPort, next()), stun))},
		{"bogon_v6_unique_local", "drop_bogon", one(withPayload(e.pkt(netip.MustParseAddr("fd00::1"), 17, 40000, stunPort, next()), stun))},
		{"bogon_v6_documentation", "drop_bogon", one(withPayload(e.pkt(netip.MustParseAddr("2001:db8::1"), 17, 40000, stunPort, next()), stun))},
		{"land_v6", "drop_land", one(withPayload(e.pkt(rcvIP6, 17, stunPort, stunPort, next()), stun))},
		{"reflection_v6_dns", "drop_reflection", one(withPayload(e.pkt(public6, 17, 53, stunPort, next()), amp))},
		{"tcp_xmas_v6", "drop_tcp_flags", one(withFlags(e.pkt(public6, 6, 40000, tcpPort, next()), tcpFIN|tcpPSH|tcpURG))},
		{"closed_udp_port_v6", "drop_port_closed", one(withPayload(e.pkt(public6, 17, 40000, 9999, next()), stun))},
		{"first_fragment_to_service", "drop_fragment", func() []pkt {
			p := withPayload(e.pkt(public, 17, 40000, stunPort, next()), stun)
			p.moreFrags = true
			return one(p)
		}()},
		{"non_first_fragment", "drop_fragment", func() []pkt {
			p := withPayload(e.pkt(public, 17, 0, 0, next()), amp)
			p.fragOff = 185 // 1480 bytes in
			return one(p)
		}()},
	}
	const n = 20
	for _, c := range classes {
		t.Run(c.name, func(t *testing.T) {
			before := e.counters()
			for i := 0; i < n; i++ {
				for _, p := range c.frames {
					tx.send(t, p.frame())
				}
			}
			want := n * len(c.frames)
			p := c.frames[0]
			waitFor(func() bool {
				if c.reason == "" {
					return obs.seen(p.src, p.id) >= want
				}
				return e.counters()[c.reason]-before[c.reason] >= uint64(want)
			})
			after := e.counters()
			got := obs.seen(p.src, p.id)
			if c.reason == "" {
				if got != want {
					t.Fatalf("%d of %d clean frames reached the receiver's stack, want all", got, want)
				}
				if d := after["pass_service"] - before["pass_service"]; d < uint64(want) {
					t.Fatalf("pass_service moved by %d, want >= %d", d, want)
				}
				return
			}
			if got != 0 {
				t.Errorf("%d of %d attack frames reached the receiver's stack, want 0", got, want)
			}
			if d := after[c.reason] - before[c.reason]; d != uint64(want) {
				t.Errorf("counter %s moved by %d, want exactly %d", c.reason, d, want)
			}
		})
	}

	t.Run("dynamic_block", func(t *testing.T) {
		src := netip.MustParseAddr("11.11.0.88")
		c := e.client()
		burst := func(id uint16) {
			for i := 0; i < 10; i++ {
				tx.send(t, withPayload(e.pkt(src, 17, 40000, stunPort, id), stun).frame())
			}
		}
		burst(0xB001)
		waitFor(func() bool { return obs.seen(src, 0xB001) == 10 })
		if got := obs.seen(src, 0xB001); got != 10 {
			t.Fatalf("before the block %d of 10 frames arrived", got)
		}
		if err := c.Block(src, time.Minute, "test abuse report"); err != nil {
			t.Fatal(err)
		}
		bs, err := c.List()
		if err != nil || len(bs) != 1 || bs[0].Addr != src || bs[0].Reason != "test abuse report" || time.Until(bs[0].Expires) < 50*time.Second {
			t.Fatalf("list after block = %+v, %v", bs, err)
		}
		before := e.counters()
		burst(0xB002)
		waitFor(func() bool { return e.counters()["drop_dynamic"]-before["drop_dynamic"] >= 10 })
		if got := obs.seen(src, 0xB002); got != 0 {
			t.Errorf("%d frames from a blocked source arrived; counters moved: %v", got, diff(before, e.counters()))
		}
		if d := e.counters()["drop_dynamic"] - before["drop_dynamic"]; d != 10 {
			t.Errorf("drop_dynamic moved by %d, want 10", d)
		}
		if err := c.Unblock(src); err != nil {
			t.Fatal(err)
		}
		burst(0xB003)
		waitFor(func() bool { return obs.seen(src, 0xB003) == 10 })
		if got := obs.seen(src, 0xB003); got != 10 {
			t.Errorf("after unblock %d of 10 frames arrived", got)
		}
	})

	t.Run("dynamic_block_expires", func(t *testing.T) {
		src := netip.MustParseAddr("11.11.0.89")
		if err := e.client().Block(src, time.Second, "short"); err != nil {
			t.Fatal(err)
		}
		tx.send(t, withPayload(e.pkt(src, 17, 40000, stunPort, 0xB101), stun).frame())
		time.Sleep(1500 * time.Millisecond)
		tx.send(t, withPayload(e.pkt(src, 17, 40000, stunPort, 0xB102), stun).frame())
		waitFor(func() bool { return obs.seen(src, 0xB102) == 1 })
		if obs.seen(src, 0xB101) != 0 || obs.seen(src, 0xB102) != 1 {
			t.Errorf("block with 1 s TTL: during %d (want 0), after %d (want 1)", obs.seen(src, 0xB101), obs.seen(src, 0xB102))
		}
	})

	t.Run("rate_limit_flood", func(t *testing.T) {
		// One source floods valid STUN far above its budget (default
		// udp_rate 100/s, udp_burst 200).
		src := netip.MustParseAddr("11.11.0.99")
		before := e.counters()
		const flood = 5000
		f := withPayload(e.pkt(src, 17, 40000, stunPort, 0xC001), stun).frame()
		start := time.Now()
		for i := 0; i < flood; i++ {
			tx.send(t, f)
		}
		elapsed := time.Since(start)
		waitFor(func() bool {
			k := e.counters()
			return k["drop_rate_udp"]-before["drop_rate_udp"]+uint64(obs.seen(src, 0xC001)) >= flood
		})
		passed := obs.seen(src, 0xC001)
		limit := 200 + int(100*elapsed.Seconds()) + 2
		if passed > limit || passed < 200 {
			t.Errorf("%d of %d flood frames passed in %v; the budget allows %d", passed, flood, elapsed, limit)
		}
		if d := e.counters()["drop_rate_udp"] - before["drop_rate_udp"]; d != uint64(flood-passed) {
			t.Errorf("drop_rate_udp moved by %d, want %d", d, flood-passed)
		}
		waitFor(func() bool { return srv.from(src) == passed })
		if got := srv.from(src); got != passed {
			t.Errorf("the STUN server got %d datagrams from the flooder, the tap saw %d", got, passed)
		}
		t.Logf("rate limit: %d of %d passed in %v", passed, flood, elapsed)
	})

	stop()
	res := <-done
	if res[0] < 50 || res[1] != res[0] {
		t.Errorf("legitimate client during the attacks: %d requests, %d answered; want all answered", res[0], res[1])
	}
	t.Logf("legitimate client: %d/%d answered during the attacks", res[1], res[0])
}

// diff returns the counters that moved between two readings.
func diff(before, after map[string]uint64) map[string]uint64 {
	d := map[string]uint64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// waitFor polls cond for up to 3 s (packets cross the veth asynchronously).
func waitFor(cond func() bool) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !cond() {
		time.Sleep(20 * time.Millisecond)
	}
}
