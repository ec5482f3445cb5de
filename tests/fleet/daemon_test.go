package fleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestFleetDaemons runs the fleet as the appliance does: the real
// bin/supernode daemon in each member namespace, configured by its config
// file and the supernode.fleet_key credential, nothing else. A peer that
// registers at one member is found through another, and each daemon's
// /metrics shows the fleet. (The other fleet tests run members as this test
// binary so they can drive and inspect them; this one proves the daemon
// wires the same code.)
func TestFleetDaemons(t *testing.T) {
	const n = 3
	l := newLab(t, n)
	bin := testenv.BuildBinaries(t)
	client := filepath.Join(bin, "supernode-client")
	cl := l.clientNS()
	for _, m := range l.members {
		confPath, creds, logf := m.files("metrics_listen = " + m.ip + ":9478\n")
		m.cmd = m.ns.Start(t, func(c *exec.Cmd) {
			c.Env = append(os.Environ(), "CREDENTIALS_DIRECTORY="+creds)
			c.Stdout, c.Stderr = logf, logf
		}, filepath.Join(bin, "supernode"), "-config", confPath)
	}
	members := regexp.MustCompile(`(?m)^supernode_fleet_members (\S+)$`)
	deadline := time.Now().Add(20 * time.Second)
	for _, m := range l.members {
		for {
			got := members.FindStringSubmatch(m.scrape(t))
			if got != nil && got[1] == strconv.Itoa(n) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: supernode_fleet_members = %v, want %d", m.name, got, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	dir := t.TempDir()
	looker, _ := keygen(t, client, dir, "looker.key")
	for i := range 4 {
		key, hex := keygen(t, client, dir, fmt.Sprintf("peer%d.key", i))
		at, via := l.members[i%n], l.members[(i+1)%n]
		want := "peer " + hex + " reflexive=" + register(t, cl, client, key, at)
		got := ""
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			cmd := cl.Cmd(client, "lookup", "-key", looker, "-peer", hex, via.ip+":3478")
			o, _ := cmd.Output()
			if got = strings.TrimSpace(string(o)); strings.HasPrefix(got, want) {
				break
			}
		}
		if !strings.HasPrefix(got, want) {
			t.Fatalf("peer %d registered at %s, looked up at %s: %q, want %q", i, at.name, via.name, got, want)
		}
	}
	// The replicas live in the daemons' fleet stores: 4 peers x 2 owners
	// (replication is asynchronous, so wait for it).
	entries := regexp.MustCompile(`(?m)^supernode_fleet_entries (\S+)$`)
	var total float64
	var per []string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		total, per = 0, nil
		for _, m := range l.members {
			v := 0.0
			if got := entries.FindStringSubmatch(m.scrape(t)); got != nil {
				v, _ = strconv.ParseFloat(got[1], 64)
			}
			total += v
			per = append(per, fmt.Sprintf("%s=%v", m.name, v))
		}
		if total == 8 || time.Now().After(end) {
			break
		}
	}
	if total != 8 {
		t.Errorf("the daemons hold %v fleet entries in all (%s), want 8 (4 peers x 2 replicas)", total, strings.Join(per, " "))
	}
	t.Logf("fleet entries per daemon: %s", strings.Join(per, " "))
}

// scrape GETs /metrics from the member's daemon, inside its namespace ("" if
// it does not answer yet).
func (m *member) scrape(t *testing.T) string {
	t.Helper()
	body, _ := testenv.HTTPGet(m.ns.Do, m.ip+":9478", "/metrics")
	return body
}
