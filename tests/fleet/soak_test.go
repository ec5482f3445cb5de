package fleet

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFleetSoak is the long run behind `make soak` (SUPERNODE_SOAK=1; not
// part of `make test`): three member processes in namespaces, registrations
// refreshed and replaced in rounds (churn), lookups of every peer at every
// member, a member killed and restarted halfway. It reports registrations,
// lookups, failures and each member's RSS; it fails if a lookup of a live
// peer fails outside the kill window.
func TestFleetSoak(t *testing.T) {
	if os.Getenv("SUPERNODE_SOAK") == "" {
		t.Skip("soak test: run with `make soak` (SUPERNODE_SOAK=1, SOAK_DURATION=2m by default)")
	}
	dur := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil {
		dur = d
	}
	l := newLab(t, 3)
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, l.members, 3, 15*time.Second)
	const peers = 300 // per member
	regs, lookups, failed, round := 0, 0, 0, 0
	killed := false
	start := time.Now()
	for time.Since(start) < dur {
		round++
		for i, m := range l.members {
			m.do("reg %d %d %d", i*peers, (i+1)*peers, round)
			regs += peers
		}
		time.Sleep(500 * time.Millisecond) // replication
		for _, m := range l.members {
			var f, miss, stale, first int
			fmt.Sscanf(m.do("find 0 %d %d", peers*len(l.members), round), "found %d missing %d stale %d first-missing %d", &f, &miss, &stale, &first)
			lookups += f + miss + stale
			failed += miss + stale
		}
		if !killed && time.Since(start) > dur/2 {
			victim := l.members[2]
			victim.kill()
			waitMembers(t, l.members[:2], 2, convergeBound())
			victim.start()
			waitMembers(t, l.members, 3, 15*time.Second)
			killed = true
		}
	}
	var rss []string
	for _, m := range l.members {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				rss = append(rss, m.name+"="+strings.Join(strings.Fields(line)[1:], " "))
			}
		}
	}
	t.Logf("soak %s: %d rounds, %d registrations/refreshes, %d lookups, %d failed (stale or missing), one member killed and restarted; RSS %s",
		dur, round, regs, lookups, failed, strings.Join(rss, " "))
	if failed > 0 {
		t.Errorf("%d of %d lookups failed", failed, lookups)
	}
}
