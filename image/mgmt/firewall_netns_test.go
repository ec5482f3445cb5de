package mgmt_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// dropWait is how long a probe waits for an answer before it counts the
// port as closed; every "closed" is paired with an "open" of the same
// probe through the same path, so a slow host cannot pass a broken gate.
const dropWait = 700 * time.Millisecond

// The hardening profile's ruleset, loaded with real nft in a namespace,
// and the real appliance-mgmt firewall step filling its sets: the fleet's
// ports reach members only, the management port the management prefixes
// only, and nothing reaches either until (or unless) they are configured.
func TestFirewallGatesInNetns(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "nft", "ip", "go", "setpriv")
	root := testenv.RepoRoot(t)
	prof, err := hardening.Load(filepath.Join(root, "hardening/profile.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := hardening.NftRuleset(prof)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The firewall step runs as nobody: it must read the configs and the
	// binary, and write the overlay into its runtime directory.
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	os.Mkdir(filepath.Join(dir, "run"), 0o755)
	os.Chown(filepath.Join(dir, "run"), 65534, 65534)
	bin := filepath.Join(dir, "appliance-mgmt")
	build := exec.Command("go", "build", "-o", bin, "./image/cmd/appliance-mgmt")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	fw := testenv.NewNS(t, "fw")
	member := testenv.NewNS(t, "member")
	stranger := testenv.NewNS(t, "stranger")
	testenv.Veth(t, fw, "10.77.0.1/24,fd77::1/64", member, "10.77.0.2/24,fd77::2/64")
	testenv.Veth(t, fw, "10.88.0.1/24", stranger, "10.88.0.2/24")
	rulesFile := filepath.Join(dir, "nftables.conf")
	os.WriteFile(rulesFile, []byte(rules), 0o644)
	fw.Exec(t, "nft", "-f", rulesFile)

	// Servers on every port in question, inside the appliance's namespace.
	ports := []string{"udp/3478", "udp/3479", "udp/7946", "tcp/7946", "udp/7947", "tcp/9443"}
	if err := fw.Do(func() error {
		for _, p := range ports {
			proto, port, _ := strings.Cut(p, "/")
			if proto == "udp" {
				c, err := net.ListenPacket("udp", "[::]:"+port)
				if err != nil {
					return err
				}
				t.Cleanup(func() { c.Close() })
				go func() {
					buf := make([]byte, 1500)
					for {
						n, from, err := c.ReadFrom(buf)
						if err != nil {
							return
						}
						c.WriteTo(buf[:n], from)
					}
				}()
				continue
			}
			l, err := net.Listen("tcp", "[::]:"+port)
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("hi"))
					c.Close()
				}
			}()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// reach reports which of ports answer from ns at addr.
	reach := func(ns *testenv.NS, addr string) map[string]bool {
		got := map[string]bool{}
		ns.Do(func() error {
			for _, p := range ports {
				proto, port, _ := strings.Cut(p, "/")
				c, err := net.DialTimeout(proto, net.JoinHostPort(addr, port), dropWait)
				if err != nil {
					continue
				}
				c.SetDeadline(time.Now().Add(dropWait))
				c.Write([]byte("ping"))
				n, _ := c.Read(make([]byte, 16))
				c.Close()
				got[p] = n > 0
			}
			return nil
		})
		return got
	}
	expect := func(phase string, ns *testenv.NS, addr string, open ...string) {
		t.Helper()
		got := reach(ns, addr)
		for _, p := range ports {
			want := p == "udp/3478" // open to anyone, the control
			for _, o := range open {
				want = want || o == p
			}
			if got[p] != want {
				t.Errorf("%s: from %s to %s: %s reachable %t, want %t", phase, ns.Name, addr, p, got[p], want)
			}
		}
	}
	caps := "+net_admin"
	firewall := func(sn, mg string) (string, error) {
		snf, mgf := filepath.Join(dir, "supernode.conf"), filepath.Join(dir, "appliance-mgmt.conf")
		os.WriteFile(snf, []byte(sn), 0o644)
		os.WriteFile(mgf, []byte(mg), 0o644)
		// As the unit runs it: an unprivileged uid with CAP_NET_ADMIN only.
		cmd := fw.Cmd("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all,"+caps, "--ambient-caps=-all,"+caps, "--bounding-set=-all,"+caps,
			bin, "firewall", "-supernode-config", snf, "-config", mgf, "-overlay", filepath.Join(dir, "run", "overlay.conf"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no CREDENTIALS_DIRECTORY of the host
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// Boot: the ruleset alone. Only the ungated port answers.
	expect("ruleset only", member, "10.77.0.1")
	expect("ruleset only", member, "fd77::1")
	expect("ruleset only", stranger, "10.88.0.1")

	// Fleet configured for the members' prefixes (IPv4 and IPv6), the
	// management listener for the stranger's address.
	if out, err := firewall("fleet_bind = 10.77.0.1:7946\nfleet_allow = 10.77.0.0/24, fd77::/64\n",
		"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.88.0.2/32\n"); err != nil {
		t.Fatalf("appliance-mgmt firewall: %v\n%s", err, out)
	}
	expect("fleet and management on", member, "10.77.0.1", "udp/7946", "tcp/7946", "udp/7947")
	expect("fleet and management on", member, "fd77::1", "udp/7946", "tcp/7946", "udp/7947")
	expect("fleet and management on", stranger, "10.88.0.1", "tcp/9443")
	ov := controller.DefaultConfig()
	if err := controller.ApplyOverlay(&ov, filepath.Join(dir, "run", "overlay.conf")); err != nil || !has(ov.UDPPorts, 7946, 7947) || !has(ov.TCPPorts, 7946, 9443) {
		t.Errorf("XDP overlay: %v, udp %v tcp %v", err, ov.UDPPorts, ov.TCPPorts)
	}

	// No fleet_allow: the prefix of the interface that holds fleet_bind,
	// as the supernode derives it. The stranger stays outside.
	if out, err := firewall("fleet_bind = 10.77.0.1:7946\n", ""); err != nil {
		t.Fatalf("appliance-mgmt firewall: %v\n%s", err, out)
	}
	expect("fleet on, derived prefix", member, "10.77.0.1", "udp/7946", "tcp/7946", "udp/7947")
	expect("fleet on, derived prefix", member, "fd77::1") // IPv4 prefix only
	expect("fleet on, derived prefix", stranger, "10.88.0.1")

	// A hostile fleet_allow is refused with one sentence and the sets are
	// emptied: fail closed, not "keep what was open".
	out, err := firewall("fleet_bind = 10.77.0.1:7946\nfleet_allow = 0.0.0.0/0\n", "")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(out, "fleet_allow: 0.0.0.0/0 would open the port") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("fleet_allow = 0.0.0.0/0: %v\n%s", err, out)
	}
	expect("after a refused config", member, "10.77.0.1")
	expect("after a refused config", stranger, "10.88.0.1")

	// RFC 5780's alternate port: closed above (nothing set
	// alternate_address), open to everyone with it, and nothing else.
	if out, err := firewall("alternate_address = 10.88.0.1\n", ""); err != nil || !strings.Contains(out, "RFC 5780 alternate port open to everyone") {
		t.Fatalf("appliance-mgmt firewall: %v\n%s", err, out)
	}
	expect("alternate address on", member, "10.77.0.1", "udp/3479")
	expect("alternate address on", member, "fd77::1", "udp/3479")
	expect("alternate address on", stranger, "10.88.0.1", "udp/3479")

	// Fleet and management off again: nothing reaches their ports.
	if out, err := firewall("", ""); err != nil {
		t.Fatalf("appliance-mgmt firewall: %v\n%s", err, out)
	}
	expect("fleet and management off", member, "10.77.0.1")
	expect("fleet and management off", member, "fd77::1")
	expect("fleet and management off", stranger, "10.88.0.1")
	if b, _ := os.ReadFile(filepath.Join(dir, "run", "overlay.conf")); strings.Contains(string(b), "=") {
		t.Errorf("the XDP overlay still opens something with nothing configured:\n%s", b)
	}

	// CAP_NET_ADMIN is needed: without it nft cannot touch the sets, and
	// the step says so in one line.
	caps = "+net_raw" // any other capability
	out, err = firewall("fleet_bind = 10.77.0.1:7946\nfleet_allow = 10.77.0.0/24\n", "")
	if err == nil || !strings.Contains(out, "nft could not fill the firewall's address sets") {
		t.Errorf("without CAP_NET_ADMIN: %v\n%s", err, out)
	}
	expect("without CAP_NET_ADMIN", member, "10.77.0.1")
}
