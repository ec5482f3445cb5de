package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// TestOneNetworkCannotFillDirectory: issue #11 item 5, with the compiled-in
// defaults. Before the fix every registration from one /24 was accepted
// until max_peers; now the /24's quota (4096) ends it with 473 Quota
// Exceeded, counted, and another network still registers.
func TestOneNetworkCannotFillDirectory(t *testing.T) {
	const maxPeers = 5000
	w := testWorker(t, func(c *Config) { c.MaxPeers = maxPeers })
	start := time.Now()
	refused, at := 0, -1
	for i := range maxPeers {
		p := newTestPeer(fmt.Sprintf("203.0.113.%d:%d", i%256, 1024+i))
		switch code := p.register(t, w, 1); code {
		case 0:
		case wire.CodeQuota:
			if at < 0 {
				at = i
			}
			refused++
			if refused == 10 {
				break
			}
		default:
			t.Fatalf("registration %d: error %d", i, code)
		}
		if refused == 10 {
			break
		}
	}
	if at < 0 {
		t.Fatalf("one /24 registered %d peers, the whole directory", w.s.store.Len())
	}
	if at != Defaults().QuotaIPv4Net24 {
		t.Fatalf("first refusal at peer %d, want %d (quota_ipv4_24)", at, Defaults().QuotaIPv4Net24)
	}
	if got := counterValue(t, w.s.m.quota[0]); got != 10 {
		t.Fatalf("quota_refusals{prefix=ipv4_24} = %v, want 10", got)
	}
	if code := newTestPeer("203.0.114.1:4000").register(t, w, 1); code != 0 {
		t.Fatalf("another /24: error %d", code)
	}
	t.Logf("%d registrations in %s", at+11, time.Since(start).Round(time.Millisecond))
}

// TestQuotaIPv6: the /64 and /48 quotas, with small values.
func TestQuotaIPv6(t *testing.T) {
	w := testWorker(t, func(c *Config) { c.QuotaIPv6Net64, c.QuotaIPv6Net48 = 1, 2 })
	for i, c := range []struct {
		src  string
		code int
	}{
		{"[2001:db8:0:1::1]:4000", 0},
		{"[2001:db8:0:1::2]:4000", wire.CodeQuota}, // same /64
		{"[2001:db8:0:2::1]:4000", 0},
		{"[2001:db8:0:3::1]:4000", wire.CodeQuota}, // third /64 of the /48
		{"[2001:db8:1::1]:4000", 0},                // another /48
	} {
		if code := newTestPeer(c.src).register(t, w, 1); code != c.code {
			t.Fatalf("peer %d at %s: code %d, want %d", i, c.src, code, c.code)
		}
	}
	if a, b := counterValue(t, w.s.m.quota[1]), counterValue(t, w.s.m.quota[2]); a != 1 || b != 1 {
		t.Fatalf("quota refusals /64 %v /48 %v, want 1 and 1", a, b)
	}
}
