package fleet

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// Failure-detector settings of the test fleet: memberlist's LAN profile
// scaled down 2x so a test takes seconds, not tens of seconds (and a loaded
// CI machine still does not suspect live members). The bound a test asserts
// is computed from them, as memberlist computes its timeouts.
const (
	probeInterval = 500 * time.Millisecond
	probeTimeout  = 250 * time.Millisecond
	suspicionMult = 4
	rejoinEvery   = time.Second
)

// convergeBound is the longest memberlist may take to declare a crashed
// member dead: Lifeguard's suspicion timeout starts at
// SuspicionMaxTimeoutMult (6) x SuspicionMult x log10(N) (at least 1) x
// ProbeInterval, after up to one probe round to notice; plus gossip slack.
func convergeBound() time.Duration {
	return probeInterval + probeTimeout + 6*suspicionMult*probeInterval + 2*time.Second
}

type lab struct {
	t       *testing.T
	sw      *testenv.NS
	members []*member
	key     string
	seeds   string
}

type member struct {
	lab   *lab
	i     int
	name  string
	ip    string
	ns    *testenv.NS
	key   string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	log   string
}

func fleetKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newLab builds n member namespaces on one bridge (in its own namespace),
// addresses 10.77.0.1..n/24, without starting anything.
func newLab(t *testing.T, n int) *lab {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip")
	l := &lab{t: t, key: fleetKey()}
	l.sw = testenv.NewNS(t, "flsw")
	l.sw.Exec(t, "ip", "link", "add", "br0", "type", "bridge")
	l.sw.Exec(t, "ip", "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		m := &member{lab: l, i: i, name: fmt.Sprintf("node-%d", i+1), ip: fmt.Sprintf("10.77.0.%d", i+1), key: l.key}
		m.ns = testenv.NewNS(t, "fl")
		_, swIf := testenv.Veth(t, m.ns, m.ip+"/24", l.sw, "")
		l.sw.Exec(t, "ip", "link", "set", swIf, "master", "br0")
		l.members = append(l.members, m)
	}
	l.seeds = "10.77.0.1:7946, 10.77.0.2:7946"
	return l
}

// files writes the member's config file (plus extra lines) and its key as
// the systemd credential supernode.fleet_key, as the appliance provides it,
// and opens its log.
func (m *member) files(extra string) (confPath, creds string, logf *os.File) {
	t := m.lab.t
	dir := t.TempDir()
	cfg := fmt.Sprintf(`# fleet member %s
fleet_bind = %s:7946
fleet_name = %s
fleet_seeds = %s
fleet_probe_interval = %s
fleet_probe_timeout = %s
fleet_suspicion_mult = %d
fleet_rejoin_interval = %s
fleet_lookup_timeout = 300ms
listen = %s:3478
sockets = 1
rate_limit = 0
`, m.name, m.ip, m.name, m.lab.seeds, probeInterval, probeTimeout, suspicionMult, rejoinEvery, m.ip) + extra
	confPath = filepath.Join(dir, "supernode.conf")
	creds = filepath.Join(dir, "credentials")
	os.Mkdir(creds, 0o700)
	if err := os.WriteFile(confPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "supernode.fleet_key"), []byte(m.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.log = filepath.Join(dir, "member.log")
	if d := os.Getenv("FLEET_LOG_DIR"); d != "" { // keep logs for debugging
		m.log = filepath.Join(d, fmt.Sprintf("%s-%s-%d.log", t.Name(), m.name, time.Now().UnixNano()))
	}
	logf, err := os.Create(m.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(m.log)
			t.Logf("log of %s (last 3000 bytes):\n%s", m.name, tail(b, 3000))
		}
	})
	return confPath, creds, logf
}

// start runs the member process (this test binary as a member, driven
// over stdin; see member_test.go).
func (m *member) start() {
	t := m.lab.t
	confPath, creds, logf := m.files("")
	var stdout io.ReadCloser
	m.cmd = m.ns.Start(t, func(c *exec.Cmd) {
		c.Env = append(os.Environ(), "FLEET_MEMBER=1", "FLEET_CONFIG="+confPath, "CREDENTIALS_DIRECTORY="+creds)
		c.Stderr = logf
		m.in, _ = c.StdinPipe()
		stdout, _ = c.StdoutPipe()
	}, os.Args[0], "-test.run=^$")
	m.lines = make(chan string, 16)
	go func(lines chan string) {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}(m.lines)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// do sends one command and returns its one-line answer.
func (m *member) do(format string, args ...any) string {
	t := m.lab.t
	t.Helper()
	line := fmt.Sprintf(format, args...)
	if _, err := fmt.Fprintln(m.in, line); err != nil {
		t.Fatalf("%s: %s: %v", m.name, line, err)
	}
	select {
	case out, ok := <-m.lines:
		if !ok {
			t.Fatalf("%s exited during %q", m.name, line)
		}
		return out
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no answer to %q", m.name, line)
	}
	return ""
}

// kill sends SIGKILL: no leave message, the others must detect the failure.
func (m *member) kill() {
	m.cmd.Process.Kill()
	for range m.lines {
	}
}

func (m *member) members() int {
	var n int
	fmt.Sscanf(m.do("members"), "members %d", &n)
	return n
}

func (m *member) metric(name string, labels ...string) float64 {
	var v float64
	fmt.Sscanf(m.do("metric %s %s", name, strings.Join(labels, " ")), "value %g", &v)
	return v
}

// waitMembers waits until each of ms sees want members; it returns how
// long that took.
func waitMembers(t *testing.T, ms []*member, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok := true
		for _, m := range ms {
			if m.members() != want {
				ok = false
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			var views []string
			for _, m := range ms {
				views = append(views, m.name+": "+m.do("members"))
			}
			t.Fatalf("membership did not converge to %d within %s: %s", want, within, strings.Join(views, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReplicas waits until the members together hold want replicas: all R
// copies in place, not just one that answers lookups.
func waitReplicas(t *testing.T, ms []*member, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		total := 0
		for _, m := range ms {
			total += int(m.metric("supernode_fleet_entries"))
		}
		if total == want {
			return
		}
		if time.Now().After(deadline) {
			var each []string
			for _, m := range ms {
				each = append(each, fmt.Sprintf("%s holds %v, %s", m.name, m.metric("supernode_fleet_entries"), m.do("share 0 %d", want/2)))
			}
			t.Fatalf("the members hold %d replicas, want %d: %s", total, want, strings.Join(each, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// expectAll checks that every member in ms finds peers [from,to) at version
// ver.
func expectAll(t *testing.T, ms []*member, from, to, ver int) {
	t.Helper()
	want := fmt.Sprintf("found %d missing 0 stale 0 first-missing -1", to-from)
	for _, m := range ms {
		if got := m.do("find %d %d %d", from, to, ver); got != want {
			t.Fatalf("lookups at %s of peers %d..%d v%d: %s", m.name, from, to-1, ver, got)
		}
	}
}

// waitAll is expectAll after replication had time to settle.
func waitAll(t *testing.T, ms []*member, from, to, ver int, within time.Duration) {
	t.Helper()
	want := fmt.Sprintf("found %d missing 0 stale 0 first-missing -1", to-from)
	deadline := time.Now().Add(within)
	for _, m := range ms {
		for {
			got := m.do("find %d %d %d", from, to, ver)
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lookups at %s of peers %d..%d v%d: %s", m.name, from, to-1, ver, got)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

const peersPerMember = 200

// TestFleetCrashAndRejoin: three members in three namespaces; peers register
// at different members and are found from every member; a SIGKILLed member
// loses nothing (replicas), membership converges within the failure
// detector's bound, and the restarted member rejoins and takes back its
// share.
func TestFleetCrashAndRejoin(t *testing.T) {
	l := newLab(t, 3)
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, l.members, 3, 15*time.Second)
	total := peersPerMember * len(l.members)
	for i, m := range l.members {
		if got := m.do("reg %d %d 1", i*peersPerMember, (i+1)*peersPerMember); got != "ok" {
			t.Fatal(got)
		}
	}
	waitAll(t, l.members, 0, total, 1, 5*time.Second)
	waitReplicas(t, l.members, total*2)

	victim, live := l.members[2], l.members[:2]
	victim.kill()
	killed := time.Now()
	// Right after the crash, before anyone noticed: replicas answer (a
	// lookup the dead owner would have answered is hedged to the other).
	expectAll(t, live[:1], 2*peersPerMember, 2*peersPerMember+50, 1)
	waitMembers(t, live, 2, convergeBound())
	took := time.Since(killed)
	if took > convergeBound() {
		t.Fatalf("membership took %s to converge after SIGKILL, bound %s", took, convergeBound())
	}
	t.Logf("membership converged %s after SIGKILL (bound %s)", took.Round(10*time.Millisecond), convergeBound())
	expectAll(t, live, 0, total, 1)

	// The victim's peers notice their supernode is gone and re-register at
	// a survivor (version 2): the directory is complete and current again.
	if got := live[0].do("reg %d %d 2", 2*peersPerMember, total); got != "ok" {
		t.Fatal(got)
	}
	waitAll(t, live, 2*peersPerMember, total, 2, 5*time.Second)

	// Restart: it rejoins through the seeds and receives its share.
	victim.start()
	waitMembers(t, l.members, 3, 15*time.Second)
	var owned int
	fmt.Sscanf(victim.do("share 0 %d", total), "owned %d", &owned)
	if owned < total/3 { // expected 2/3 of the keys with R=2 of 3
		t.Fatalf("restarted member owns %d of %d keys", owned, total)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		held := int(victim.metric("supernode_fleet_entries"))
		if held == owned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted member holds %d replicas, owns %d keys", held, owned)
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectAll(t, l.members, 0, 2*peersPerMember, 1)
	expectAll(t, l.members, 2*peersPerMember, total, 2)

	// SIGTERM is a graceful leave: gossiped at once, not detected by the
	// suspicion timeout, and counted as a leave, not a failure.
	leaving, rest := l.members[1], []*member{l.members[0], l.members[2]}
	waitReplicas(t, l.members, total*2)
	failsBefore := rest[0].metric("supernode_fleet_member_events_total", "event=fail")
	leaving.cmd.Process.Signal(syscall.SIGTERM)
	for range leaving.lines {
	}
	took = waitMembers(t, rest, 2, convergeBound())
	if took > suspicionMult*probeInterval {
		t.Errorf("a graceful leave took %s to be seen, as long as a failure", took)
	}
	if n := rest[0].metric("supernode_fleet_member_events_total", "event=leave"); n < 1 {
		t.Errorf("%s counted %v leaves", rest[0].name, n)
	}
	if n := rest[0].metric("supernode_fleet_member_events_total", "event=fail"); n != failsBefore {
		t.Errorf("the graceful leave was counted as a failure")
	}
	expectAll(t, rest, 0, 2*peersPerMember, 1)
	expectAll(t, rest, 2*peersPerMember, total, 2)
}

// TestFleetPartitionHeals: four members split 2|2 by blackhole routes; each
// half carries on alone; after the heal the halves merge again (the rejoin
// loop) and every registration refreshed after the heal is found everywhere.
func TestFleetPartitionHeals(t *testing.T) {
	l := newLab(t, 4)
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, l.members, 4, 15*time.Second)
	total := peersPerMember * len(l.members)
	for i, m := range l.members {
		m.do("reg %d %d 1", i*peersPerMember, (i+1)*peersPerMember)
	}
	waitAll(t, l.members, 0, total, 1, 5*time.Second)

	a, b := l.members[:2], l.members[2:]
	cut := func(op string) {
		for _, x := range a {
			for _, y := range b {
				x.ns.Exec(t, "ip", "route", op, "blackhole", y.ip+"/32")
				y.ns.Exec(t, "ip", "route", op, "blackhole", x.ip+"/32")
			}
		}
	}
	cut("add")
	waitMembers(t, a, 2, convergeBound())
	waitMembers(t, b, 2, convergeBound())
	// Each half keeps serving the peers attached to it.
	for i, m := range l.members {
		m.do("reg %d %d 2", i*peersPerMember, (i+1)*peersPerMember)
	}
	waitAll(t, a, 0, 2*peersPerMember, 2, 5*time.Second)
	waitAll(t, b, 2*peersPerMember, total, 2, 5*time.Second)

	cut("del")
	took := waitMembers(t, l.members, 4, 10*rejoinEvery+convergeBound())
	t.Logf("partition healed: 4 members everywhere %s after the routes came back", took.Round(10*time.Millisecond))
	// Peers refresh after the heal (version 3): nothing is lost, nothing
	// stale is served.
	for i, m := range l.members {
		m.do("reg %d %d 3", i*peersPerMember, (i+1)*peersPerMember)
	}
	waitAll(t, l.members, 0, total, 3, 5*time.Second)
}

// TestFleetWrongKey: a member started with another key, pointed at the
// fleet's seeds, can neither join nor place entries in the fleet.
func TestFleetWrongKey(t *testing.T) {
	l := newLab(t, 4)
	fleetMembers, intruder := l.members[:3], l.members[3]
	intruder.key = fleetKey()
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, fleetMembers, 3, 15*time.Second)
	intruder.do("reg 5000 5050 1")
	// Several probe and rejoin rounds.
	time.Sleep(3 * rejoinEvery)
	for _, m := range fleetMembers {
		if n := m.members(); n != 3 {
			t.Fatalf("%s sees %d members: the intruder got in", m.name, n)
		}
	}
	if n := intruder.members(); n != 1 {
		t.Fatalf("intruder sees %d members", n)
	}
	if got := fleetMembers[0].do("find 5000 5050 1"); got != "found 0 missing 50 stale 0 first-missing 5000" {
		t.Fatalf("intruder's peers in the fleet: %s", got)
	}
	// Its attempts did arrive, and were refused for the key.
	if n := fleetMembers[0].metric("supernode_fleet_dropped_total", "reason=gossip_decrypt"); n < 1 {
		t.Fatalf("%s counted %v undecryptable gossip messages; the intruder never reached it?", fleetMembers[0].name, n)
	}
}

// TestFleetClientsAcrossMembers drives the real server with the fleet as its
// directory, through supernode-client from a client namespace: peers
// register at different members and every member finds every peer; after a
// SIGKILL the dead member's peers are still found at the others.
func TestFleetClientsAcrossMembers(t *testing.T) {
	l := newLab(t, 3)
	bin := testenv.BuildBinaries(t)
	client := filepath.Join(bin, "supernode-client")
	cl := l.clientNS()
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, l.members, 3, 15*time.Second)

	dir := t.TempDir()
	keygen := func(name string) (file, hex string) { return keygen(t, client, dir, name) }
	const peers = 6
	type peerInfo struct{ key, hex, mapped string }
	var ps []peerInfo
	for i := 0; i < peers; i++ {
		key, hex := keygen(fmt.Sprintf("peer%d.key", i))
		ps = append(ps, peerInfo{key, hex, register(t, cl, client, key, l.members[i%3])})
	}
	lookers := make([]string, 3)
	for j := range lookers {
		lookers[j], _ = keygen(fmt.Sprintf("looker%d.key", j))
	}
	lookup := func(j int, p peerInfo) string {
		cmd := cl.Cmd(client, "lookup", "-key", lookers[j], "-peer", p.hex, l.members[j].ip+":3478")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Sprintf("%s (%v: %s)", strings.TrimSpace(string(out)), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out))
	}
	check := func(members []int, which func(i int) bool) {
		t.Helper()
		for _, j := range members {
			for i, p := range ps {
				if !which(i) {
					continue
				}
				got := ""
				deadline := time.Now().Add(5 * time.Second)
				for {
					got = lookup(j, p)
					if strings.HasPrefix(got, "peer "+p.hex+" reflexive="+p.mapped) || time.Now().After(deadline) {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				if !strings.HasPrefix(got, "peer "+p.hex+" reflexive="+p.mapped) {
					t.Fatalf("lookup at %s of peer %d (registered at %s as %s): %q", l.members[j].name, i, l.members[i%3].name, p.mapped, got)
				}
			}
		}
	}
	check([]int{0, 1, 2}, func(int) bool { return true })
	// Both replicas of every peer are in place before a member is killed.
	for i, p := range ps {
		deadline := time.Now().Add(10 * time.Second)
		for {
			held := 0
			for _, m := range l.members {
				if m.do("holds %s", p.hex) == "holds 1" {
					held++
				}
			}
			if held == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("peer %d has %d replicas, want 2", i, held)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var forwarded float64
	for _, m := range l.members {
		forwarded += m.metric("supernode_fleet_lookups_total", "path=forwarded", "result=found")
	}
	if forwarded == 0 {
		t.Fatal("no lookup went through the fleet")
	}

	// Introduction across members: the target listens at node-1, the
	// requester punches through node-2; node-2 finds the target in the
	// fleet and routes the introduction to node-1, which alone holds the
	// target's pinhole and session key.
	targetKey, targetHex := keygen("target.key")
	requesterKey, requesterHex := keygen("requester.key")
	var listenOut io.ReadCloser
	cl.Start(t, func(c *exec.Cmd) { listenOut, _ = c.StdoutPipe() }, client, "listen", "-key", targetKey, l.members[0].ip+":3478")
	heard := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(listenOut)
		for sc.Scan() {
			heard <- sc.Text()
		}
		close(heard)
	}()
	expectLine := func(prefix string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case line, ok := <-heard:
				if !ok {
					t.Fatalf("listen exited before printing %q", prefix)
				}
				if strings.HasPrefix(line, prefix) {
					return
				}
			case <-timeout:
				t.Fatalf("listen did not print %q", prefix)
			}
		}
	}
	expectLine("registered ")
	punch := cl.Cmd(client, "punch", "-key", requesterKey, "-peer", targetHex, "-message", "across-the-fleet", "-timeout", "10s", l.members[1].ip+":3478")
	out, err := punch.Output()
	if err != nil || !strings.Contains(string(out), "reply echo:across-the-fleet") {
		t.Fatalf("punch through node-2 to a peer at node-1: %v\n%s", err, out)
	}
	expectLine("introduced " + requesterHex)
	if n := l.members[0].metric("supernode_fleet_introductions_total", "direction=received"); n < 1 {
		t.Fatalf("node-1 received %v introductions through the fleet", n)
	}

	// SIGKILL node-1: the peers that registered there are still found at
	// the others (their replicas live on two members).
	l.members[0].kill()
	check([]int{1, 2}, func(i int) bool { return i%3 == 0 })
}

// clientNS is a namespace for clients on the lab's bridge, at 10.77.0.100.
func (l *lab) clientNS() *testenv.NS {
	cl := testenv.NewNS(l.t, "flcl")
	_, swIf := testenv.Veth(l.t, cl, "10.77.0.100/24", l.sw, "")
	l.sw.Exec(l.t, "ip", "link", "set", swIf, "master", "br0")
	return cl
}

// keygen makes a peer key with supernode-client in dir and returns its
// file and its public key in hex.
func keygen(t *testing.T, client, dir, name string) (file, hex string) {
	t.Helper()
	file = filepath.Join(dir, name)
	out, err := exec.Command(client, "keygen", "-o", file).Output()
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	return file, strings.TrimSpace(string(out))
}

// register registers the peer with key at m once, from cl, and returns the
// reflexive address m saw.
func register(t *testing.T, cl *testenv.NS, client, key string, m *member) string {
	t.Helper()
	out := cl.Exec(t, client, "register", "-key", key, "-once", m.ip+":3478")
	var mapped string
	if _, err := fmt.Sscanf(out, "registered mapped=%s", &mapped); err != nil {
		t.Fatalf("register at %s: %q", m.name, out)
	}
	return mapped
}
