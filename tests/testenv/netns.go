package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var nsCounter atomic.Uint32

// NS is a named network namespace (`ip netns`) that lives as long as the test.
type NS struct {
	Name string
}

// NewNS creates a network namespace with a name unique to this process,
// brings its loopback up, and deletes it (killing whatever still runs in it)
// when the test ends.
func NewNS(t testing.TB, prefix string) *NS {
	t.Helper()
	RequireRoot(t)
	RequireCommands(t, "ip")
	name := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), nsCounter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				exec.Command("kill", "-9", pid).Run()
			}
		}
		exec.Command("ip", "netns", "del", name).Run()
	})
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Cmd returns a command that runs inside the namespace.
func (n *NS) Cmd(args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
}

// Exec runs a command inside the namespace and returns its standard output;
// a non-zero exit fails the test with the command's output.
func (n *NS) Exec(t testing.TB, args ...string) string {
	t.Helper()
	cmd := n.Cmd(args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in netns %s: %s: %v\n%s%s", n.Name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// Start starts a long-running command inside the namespace; setup (may be
// nil) can set its Stdout, Stderr or Env first. The command gets SIGTERM, then
// SIGKILL after 5 s, when the test ends.
func (n *NS) Start(t testing.TB, setup func(*exec.Cmd), args ...string) *exec.Cmd {
	t.Helper()
	cmd := n.Cmd(args...)
	if setup != nil {
		setup(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("in netns %s: start %s: %v", n.Name, strings.Join(args, " "), err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(unix.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

// Do runs fn with the calling goroutine's OS thread switched into the
// namespace, so Go code (sockets, netlink, XDP attach) acts inside it.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + n.Name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", n.Name, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with the goroutine instead of
		// serving other goroutines from the wrong namespace.
		return fmt.Errorf("setns back from %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return fnErr
}

// Veth joins namespaces a and b with a veth pair, gives each end its address
// (CIDR, IPv4 or IPv6; several separated by commas), brings both up and
// returns the interface names inside a and b.
func Veth(t testing.TB, a *NS, aAddr string, b *NS, bAddr string) (aIf, bIf string) {
	t.Helper()
	id := nsCounter.Add(1)
	aIf = fmt.Sprintf("va%d_%d", os.Getpid()%100000, id)
	bIf = fmt.Sprintf("vb%d_%d", os.Getpid()%100000, id)
	if len(aIf) > 15 {
		aIf, bIf = aIf[:15], bIf[:15]
	}
	if out, err := exec.Command("ip", "link", "add", aIf, "netns", a.Name, "type", "veth", "peer", "name", bIf, "netns", b.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth %s/%s: %v: %s", aIf, bIf, err, out)
	}
	for _, side := range []struct {
		ns    *NS
		ifc   string
		addrs string
	}{{a, aIf, aAddr}, {b, bIf, bAddr}} {
		for _, addr := range strings.Split(side.addrs, ",") {
			if addr = strings.TrimSpace(addr); addr == "" {
				continue
			}
			args := []string{"ip", "addr", "add", addr, "dev", side.ifc}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			side.ns.Exec(t, args...)
		}
		side.ns.Exec(t, "ip", "link", "set", side.ifc, "up")
	}
	return aIf, bIf
}
