package fleetvm

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// The fleet's network, inside this test's own namespace (so it never meets
// another test's addresses): a bridge with the test's client on .1 and the
// appliances' tap devices on it.
const (
	fleetPrefix = "10.77.0.0/24"
	clientIP    = "10.77.0.1"
	bridge      = "fvbr0"
	gossipPort  = 7946 // fleet_bind's port; the data channel is 7947
	mgmtPort    = 9443 // inventory.ManagementHTTPS
)

// Bounded waits: TCG on two shared cores boots one appliance in 2-4 min,
// three in parallel take longer.
const (
	bootTimeout   = 25 * time.Minute
	fleetTimeout  = 5 * time.Minute // first lookup through another member
	detectTimeout = 3 * time.Minute // the survivors declare the dead member dead
	lookupTimeout = 2 * time.Minute // each lookup after the failure
)

// Journal lines on the serial console (SMBIOS kernel-cmdline-extra; the
// unsigned test image's stub reads it), so the host sees the services.
const consoleJournal = "systemd.journald.forward_to_console=1"

func accel() string {
	if a := os.Getenv("SUPERNODE_QEMU_ACCEL"); a != "" {
		return a
	}
	return "auto"
}

type appliance struct {
	name string // vm1..vm3, also its fleet_name
	ip   string
	tap  string
	vm   *qemu.VM
}

func (a *appliance) stun() string { return fmt.Sprintf("%s:3478", a.ip) }

// credentials is everything that makes one image this appliance: the
// static address (systemd-network-generator writes network.network.* to
// /run/systemd/network, where 10-fleet sorts before the image's DHCP
// 80-supernode-ethernet), the fleet, and the XDP policy for a private
// fleet network. All of it goes by fw_cfg.
func credentials(a *appliance, seeds, fleetKey string) map[string]string {
	return map[string]string{
		"network.network.10-fleet": "[Match]\nType=ether\nKind=!*\n\n[Network]\nAddress=" + a.ip + "/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
		// A wildcard bind never races the static address; the members
		// reach this one at fleet_advertise, and gossip from outside
		// fleet_allow is refused unread.
		"supernode.fleet_bind":      fmt.Sprintf("0.0.0.0:%d", gossipPort),
		"supernode.fleet_advertise": a.ip,
		"supernode.fleet_name":      a.name,
		"supernode.fleet_seeds":     seeds,
		"supernode.fleet_key":       fleetKey,
		"supernode.fleet_allow":     fleetPrefix,
		// Keys whose credential names are longer than the 28 bytes a
		// fw_cfg name carries go in one supernode.conf credential. The
		// lease outlives the test, so a peer found after the failure was
		// kept by the replicas alone (the peers register once, without
		// keepalives); failure detection is relaxed for TCG, where a
		// busy guest can miss a 500 ms probe.
		"supernode.conf": "lease = 10m\nfleet_probe_interval = 2s\nfleet_probe_timeout = 1s\nfleet_suspicion_mult = 6\n",
		// The test's client (10.77.0.1) is a private source, a bogon to
		// the XDP filter by default. The fleet ports are NOT opened here:
		// appliance-firewall opens them, in nftables and in the XDP
		// filter, to fleet_allow only, because the fleet is configured.
		"supernode-xdp.allow_bogons": fleetPrefix,
		// The opt-in management listener, for the test's prefix only
		// (one appliance-mgmt.conf credential: appliance-mgmt.<key> names
		// are longer than fw_cfg carries).
		"appliance-mgmt.conf": "management_listen = 0.0.0.0:" + fmt.Sprint(mgmtPort) + "\nmanagement_allow = " + fleetPrefix + "\n",
	}
}

// TestThreeApplianceFleet: three appliances boot in parallel from the same
// cached image (each on a throw-away snapshot), on one bridge, configured
// only by fw_cfg credentials. Peers register at every member and are found
// through another one; then vm3 loses power, and once the survivors have
// declared it dead every peer is still found through each survivor.
func TestThreeApplianceFleet(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "qemu-system-x86_64", "ip")
	start := time.Now()
	step := func(format string, a ...any) {
		t.Logf("[%6.1fs] %s", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	img := filepath.Join(testenv.Image(t), "supernode-appliance.qcow2")
	client := filepath.Join(testenv.BuildBinaries(t), "supernode-client")
	step("image %s ready", img)

	ns := testenv.NewNS(t, "fleetvm")
	ns.Exec(t, "ip", "link", "add", bridge, "type", "bridge")
	ns.Exec(t, "ip", "addr", "add", clientIP+"/24", "dev", bridge)
	ns.Exec(t, "ip", "link", "set", bridge, "up")

	key := make([]byte, 32)
	rand.Read(key)
	fleetKey := base64.StdEncoding.EncodeToString(key)
	apps := make([]*appliance, 3)
	var seeds []string
	for i := range apps {
		apps[i] = &appliance{name: fmt.Sprintf("vm%d", i+1), ip: fmt.Sprintf("10.77.0.%d", 11+i), tap: fmt.Sprintf("fvtap%d", i+1)}
		seeds = append(seeds, fmt.Sprintf("%s:%d", apps[i].ip, gossipPort))
	}
	for i, a := range apps {
		ns.Exec(t, "ip", "tuntap", "add", "dev", a.tap, "mode", "tap")
		ns.Exec(t, "ip", "link", "set", a.tap, "master", bridge, "up")
		vm, err := qemu.Start(context.Background(), qemu.Options{
			Image: img, Accel: accel(), CPUs: 1,
			NetNS: ns.Name, Tap: a.tap, MAC: fmt.Sprintf("52:54:00:77:00:%02x", 11+i),
			ExtraCmdline:     consoleJournal,
			FwCfgCredentials: credentials(a, strings.Join(seeds, ","), fleetKey),
		})
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		a.vm = vm
		t.Cleanup(func() {
			if t.Failed() {
				keep := filepath.Join(os.TempDir(), "fleetvm-console-"+a.name+".log")
				os.WriteFile(keep, []byte(vm.Console()), 0o644)
				t.Logf("%s (%s): serial console saved to %s; last 3000 bytes:\n%s\nqemu stderr: %s", a.name, a.ip, keep, tail(vm.Console(), 3000), vm.Stderr())
			}
			vm.Close()
		})
		step("%s: QEMU started (%s, tap %s, %s)", a.name, vm.Accel, a.tap, a.ip)
	}

	// Boot all three at once; each reports when its supernode is ready.
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(apps))
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen, err := a.vm.WaitConsole(ctx, "supernode ready", "Failed to start supernode.service", "emergency mode")
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("%s did not get to supernode READY: %v", a.name, err)
			case seen != "supernode ready":
				errs[i] = fmt.Errorf("%s: %s", a.name, lineWith(a.vm.Console(), seen))
			default:
				step("%s: supernode READY", a.name)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, a := range apps {
		// The fw_cfg credentials arrived: the static address and the fleet.
		if l := lineWith(a.vm.Console(), "joined the fleet"); l != "" {
			step("%s: %s", a.name, l)
		}
	}

	// Two peers register at each member, once (no keepalive). The keys
	// are chosen so that vm3 co-owns a peer with vm1 and one with vm2:
	// those are the registrations a lost vm3 puts at risk, and each
	// survivor then hands one over when it sees vm3 gone.
	dir := t.TempDir()
	type peer struct {
		key, hex string
		owners   []string
		at       *appliance
		mapped   string
	}
	ring := fleetRing(t, key, apps)
	var peers []*peer
	covered := map[string]bool{}
	for i := 0; len(peers) < 6; i++ {
		if i == 200 {
			t.Fatalf("no key co-owned by vm3 with each survivor among 200; owners so far %v", covered)
		}
		p := &peer{}
		p.key, p.hex = keygen(t, client, dir, fmt.Sprintf("peer%d.key", i))
		p.owners = owners(t, ring, p.hex)
		pair := strings.Join(p.owners, "+")
		// The first four peers take any owners; the last two must
		// complete vm1+vm3 and vm2+vm3 if those are still missing.
		need := !covered["vm1+vm3"] || !covered["vm2+vm3"]
		if len(peers) >= 4 && need && (covered[pair] || !strings.Contains(pair, "vm3")) {
			continue
		}
		covered[pair] = true
		p.at = apps[len(peers)%3]
		peers = append(peers, p)
	}
	for i, p := range peers {
		p.mapped = register(t, ns, client, p.key, p.at)
		step("peer %d (%.8s..., owners %s) registered at %s, mapped %s", i, p.hex, strings.Join(p.owners, "+"), p.at.name, p.mapped)
	}

	// Each is found through the next member: the fleet formed from the
	// credentials alone (a member knows a peer of another member only
	// through the fleet).
	for i, p := range peers {
		via := apps[(i+1)%3]
		n, err := lookup(t, ns, client, dir, p.hex, p.mapped, via, fleetTimeout)
		if err != nil {
			t.Fatalf("peer %d registered at %s, looked up through %s: %v", i, p.at.name, via.name, err)
		}
		step("peer %d (registered at %s) found through %s (%d attempts)", i, p.at.name, via.name, n)
	}

	// Every member is observed from outside through its management
	// listener: the supernode sees a fleet of three, the XDP filter's
	// counters and the live audit's verdicts are there, and so is the
	// build info.
	for _, a := range apps {
		body := scrape(t, ns, a, fleetTimeout)
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^supernode_fleet_members\{daemon="supernode"\} 3$`),
			regexp.MustCompile(`supernode_xdp_packets_total\{daemon="supernode-xdp",`),
			regexp.MustCompile(`appliance_audit_control_status\{control="net-nftables-default-deny",daemon="appliance-audit",severity="high",status="pass"\} 1`),
			regexp.MustCompile(`supernode_build_info\{commit="[^"]*",daemon="appliance-mgmt",root_hash="[0-9a-f]{64}",version="[^"]+"\} 1`),
		} {
			if !want.MatchString(body) {
				t.Errorf("%s: the management scrape lacks %s", a.name, want)
			}
		}
		for _, l := range regexp.MustCompile(`appliance_audit_control_status\{[^}]*status="(fail|error)"\} 1`).FindAllString(body, -1) {
			t.Errorf("%s: live audit: %s", a.name, l)
		}
		step("%s: management listener scraped (%d bytes)", a.name, len(body))
	}

	// vm3 loses power. The survivors must declare it dead, and then every
	// peer, vm3's own included, is still found through each of them.
	dead := apps[2]
	if err := dead.vm.Kill(); err != nil {
		t.Fatal(err)
	}
	step("%s: killed (power cut)", dead.name)
	dctx, dcancel := context.WithTimeout(context.Background(), detectTimeout)
	defer dcancel()
	for _, a := range apps[:2] {
		// The fleet's WARN "fleet member failed ... member=vm3", or its
		// handoff to the new owners once the view lost vm3 (each survivor
		// co-owned a peer with vm3, so each hands one over).
		l, err := waitLine(dctx, a.vm, []string{"fleet member failed", "member=" + dead.name}, []string{"membership changed: re-replicated", "members=2"})
		if err != nil {
			t.Fatalf("%s never showed that %s is gone from the fleet: %v", a.name, dead.name, err)
		}
		step("%s: %s", a.name, l)
	}
	lost := 0
	for i, p := range peers {
		for _, via := range apps[:2] {
			n, err := lookup(t, ns, client, dir, p.hex, p.mapped, via, lookupTimeout)
			if err != nil {
				lost++
				t.Errorf("after %s died, peer %d (registered at %s) through %s: %v", dead.name, i, p.at.name, via.name, err)
				continue
			}
			step("after %s died: peer %d (registered at %s) found through %s (%d attempts)", dead.name, i, p.at.name, via.name, n)
		}
	}
	step("done: %d of %d peers lost after %s died", lost, len(peers), dead.name)
}

// scrape fetches http://IP:9443/metrics from the test's namespace until the
// live audit's results and the supernode's metrics are both in it.
func scrape(t *testing.T, ns *testenv.NS, a *appliance, limit time.Duration) string {
	t.Helper()
	addr := fmt.Sprintf("%s:%d", a.ip, mgmtPort)
	url := "http://" + addr + "/metrics"
	deadline := time.Now().Add(limit)
	var body string
	for time.Now().Before(deadline) {
		b, err := testenv.HTTPGet(ns.Do, addr, "/metrics")
		if err == nil {
			body = b
		}
		if err == nil && strings.Contains(body, "appliance_audit_control_status{") &&
			strings.Contains(body, `source_up{daemon="appliance-mgmt",source="supernode"} 1`) {
			return body
		}
		time.Sleep(3 * time.Second)
	}
	t.Fatalf("%s: no complete scrape of %s within %s; last body:\n%.2000s", a.name, url, limit, body)
	return ""
}

func keygen(t *testing.T, client, dir, name string) (file, hex string) {
	t.Helper()
	file = filepath.Join(dir, name)
	out, err := exec.Command(client, "keygen", "-o", file).Output()
	if err != nil {
		t.Fatalf("supernode-client keygen: %v", err)
	}
	return file, strings.TrimSpace(string(out))
}

// register registers the key at a, once, from the namespace; it retries
// while the appliance does not answer yet and returns the mapped address.
func register(t *testing.T, ns *testenv.NS, client, key string, a *appliance) string {
	t.Helper()
	var last string
	for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(2 * time.Second) {
		var stderr strings.Builder
		cmd := ns.Cmd(client, "register", "-key", key, "-once", a.stun())
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var mapped string
		if err == nil {
			if _, err := fmt.Sscanf(string(out), "registered mapped=%s", &mapped); err == nil {
				return mapped
			}
		}
		last = fmt.Sprintf("%v: %s%s", err, out, stderr.String())
	}
	t.Fatalf("register at %s (%s) for 3 minutes: last answer %s", a.name, a.ip, last)
	return ""
}

// lookup looks hex up through a with a new looker key per attempt (so the
// introduction budget of one requester never answers for the fleet) until
// the answer names the peer at its registered address; it returns the
// number of attempts, or the last answer when the time is up.
func lookup(t *testing.T, ns *testenv.NS, client, dir, hex, mapped string, a *appliance, limit time.Duration) (int, error) {
	t.Helper()
	want := "peer " + hex + " reflexive=" + mapped
	var last string
	n := 0
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(2 * time.Second) {
		n++
		looker, _ := keygen(t, client, dir, fmt.Sprintf("looker-%s-%d-%d.key", a.name, time.Now().UnixNano(), n))
		var stderr strings.Builder
		cmd := ns.Cmd(client, "lookup", "-key", looker, "-peer", hex, a.stun())
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if got := strings.TrimSpace(string(out)); strings.HasPrefix(got, want) {
			return n, nil
		}
		last = fmt.Sprintf("%v: %s%s", err, strings.TrimSpace(string(out)), strings.TrimSpace(stderr.String()))
	}
	return n, fmt.Errorf("no answer %q within %s (%d attempts); last: %s", want, limit, n, last)
}

// waitLine waits until a console line holds every string of one of the
// alternatives, and returns it.
func waitLine(ctx context.Context, vm *qemu.VM, alternatives ...[]string) (string, error) {
	for {
		for _, l := range strings.Split(vm.Console(), "\n") {
			for _, parts := range alternatives {
				all := true
				for _, p := range parts {
					all = all && strings.Contains(l, p)
				}
				if all {
					return strings.TrimSpace(l), nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no console line with all of one of %q: %w", alternatives, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// fleetRing is the rendezvous ring the members compute: their names, and
// the hash seed derived from the fleet key as supernode/fleet/keyring.go
// does (HMAC-SHA256 of the label, first 8 bytes little-endian).
func fleetRing(t *testing.T, fleetKey []byte, apps []*appliance) *fleet.Ring {
	t.Helper()
	m := hmac.New(sha256.New, fleetKey)
	m.Write([]byte("supernode-fleet rendezvous seed v1"))
	seed := binary.LittleEndian.Uint64(m.Sum(nil))
	var names []string
	for _, a := range apps {
		names = append(names, a.name)
	}
	return fleet.NewRing(fleet.NewHasher(seed), names)
}

// owners are the R=2 members that hold the peer's registration, sorted.
func owners(t *testing.T, ring *fleet.Ring, hexKey string) []string {
	t.Helper()
	b, err := hex.DecodeString(hexKey)
	if err != nil || len(b) != 32 {
		t.Fatalf("supernode-client keygen printed %q, not 64 hex digits", hexKey)
	}
	var k fleet.Key
	copy(k[:], b)
	o := ring.OwnerNames(&k, fleet.DefaultReplicas)
	sort.Strings(o)
	return o
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
