package supernode

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// bins builds the binaries once and returns bin/, failing (CI) or skipping
// (elsewhere) while the supernode part has no binaries yet.
// SUPERNODE_TEST_BIN=DIR tests binaries already built in DIR instead (for
// example the ones installed into an image).
func bins(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SUPERNODE_TEST_BIN"); dir != "" {
		return dir
	}
	root := testenv.RepoRoot(t)
	for _, c := range []string{"supernode", "supernode-client"} {
		if _, err := os.Stat(filepath.Join(root, "supernode", "cmd", c)); err != nil {
			msg := fmt.Sprintf("supernode/cmd/%s does not exist yet; these tests run the built binaries", c)
			if testenv.InCI() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return testenv.BuildBinaries(t)
}

// runner starts processes on the host or, when ns is set, inside a
// network namespace.
type runner struct{ ns *testenv.NS }

func (r runner) cmd(args ...string) *exec.Cmd {
	if r.ns != nil {
		return r.ns.Cmd(args...)
	}
	return exec.Command(args[0], args[1:]...)
}

// do runs fn in the namespace (or directly on the host).
func (r runner) do(fn func() error) error {
	if r.ns != nil {
		return r.ns.Do(fn)
	}
	return fn()
}

// proc is a long-running process whose output the test can wait on.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lineBuffer
	errb *lineBuffer
	done chan struct{}
}

// start launches args and stops it (SIGTERM, then SIGKILL after 5 s) when
// the test ends.
func (r runner) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: r.cmd(args...), out: newLineBuffer(), errb: newLineBuffer(), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errb
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// exited waits up to d for the process to end and returns its exit code,
// or -1 if it is still running.
func (p *proc) exited(d time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
	}
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// waitLine waits until a line of stdout starts with prefix and returns it.
func (p *proc) waitLine(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	if l, ok := p.out.wait(prefix, d, p.done); ok {
		return l
	}
	t.Fatalf("%s printed no line starting %q within %s\nstdout:\n%s\nstderr:\n%s", p.name, prefix, d, p.out, p.errb)
	return ""
}

func (p *proc) String() string {
	return fmt.Sprintf("%s stdout:\n%s\n%s stderr:\n%s", p.name, p.out, p.name, p.errb)
}

// lineBuffer collects a process's output and lets a test wait for a line.
type lineBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{cond: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	close(b.cond)
	b.cond = make(chan struct{})
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wait returns the first line starting with prefix, waiting up to d for
// it, or less if done closes (the process exited: cmd.Wait has copied all
// of its output by then, so one last look settles it).
func (b *lineBuffer) wait(prefix string, d time.Duration, done <-chan struct{}) (string, bool) {
	deadline := time.After(d)
	final := false
	for {
		b.mu.Lock()
		s, ch := b.buf.String(), b.cond
		b.mu.Unlock()
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				return sc.Text(), true
			}
		}
		if final {
			return "", false
		}
		select {
		case <-ch:
		case <-done:
			final = true
		case <-deadline:
			return "", false
		}
	}
}

// supernode is a running bin/supernode.
type supernode struct {
	*proc
	addr    netip.AddrPort // public STUN/supernode port
	metrics string         // http://host:port of the management listener
}

// startSupernode runs bin/supernode with a config listening on listen (an
// IP; the port is chosen here) and its metrics on loopback, and waits until
// it answers a STUN Binding request.
func startSupernode(t *testing.T, r runner, bin string, listen netip.Addr, extra ...string) *supernode {
	t.Helper()
	port := freeUDPPort(t, r, listen)
	mport := freeTCPPort(t, r)
	addr := netip.AddrPortFrom(listen, port)
	conf := fmt.Sprintf("listen = %s\nmetrics_listen = 127.0.0.1:%d\n", addr, mport)
	for _, kv := range extra {
		conf += kv + "\n"
	}
	path := filepath.Join(t.TempDir(), "supernode.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := r.start(t, "supernode", filepath.Join(bin, "supernode"), "-config", path)
	s := &supernode{proc: p, addr: addr, metrics: fmt.Sprintf("http://127.0.0.1:%d", mport)}
	waitSTUN(t, r, addr, p)
	return s
}

// metric sums the samples of a Prometheus metric whose labels contain every
// fragment in labels (e.g. `method="register"`). The scrape runs inside the
// supernode's namespace because the management listener is on loopback.
func (s *supernode) metric(t *testing.T, r runner, name string, labels ...string) float64 {
	t.Helper()
	body, err := testenv.HTTPGet(r.do, strings.TrimPrefix(s.metrics, "http://"), "/metrics")
	if err != nil {
		t.Fatalf("scrape %s/metrics: %v", s.metrics, err)
	}
	v, found := sumMetric(body, name, labels...)
	if !found {
		t.Fatalf("metric %s{%s} not exported; the supernode exports:\n%s", name, strings.Join(labels, ","), metricNames(body))
	}
	return v
}

// sumMetric parses the Prometheus text format just enough for the tests.
func sumMetric(body, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		series := line[:sp]
		metric, lbl, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(lbl, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}

func metricNames(body string) string {
	var names []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "# TYPE ") && !strings.Contains(line, " go_") && !strings.Contains(line, " process_") && !strings.Contains(line, " promhttp_") {
			names = append(names, strings.TrimPrefix(line, "# TYPE "))
		}
	}
	return strings.Join(names, "\n")
}

// startCoturn runs coturn 4.6 as a plain STUN server (`--stun-only`) on
// the given addresses and waits until the first one answers.
func startCoturn(t *testing.T, r runner, addrs ...netip.Addr) netip.AddrPort {
	t.Helper()
	testenv.RequireCommands(t, "turnserver")
	port := freeUDPPort(t, r, addrs[0])
	dir := t.TempDir()
	args := []string{"turnserver", "-n", "--stun-only", "--no-cli", "--no-tcp", "--no-tls", "--no-dtls",
		"--listening-port", strconv.Itoa(int(port)), "--userdb", filepath.Join(dir, "turndb"),
		"--pidfile", filepath.Join(dir, "turnserver.pid"), "--log-file", "stdout", "--simple-log"}
	for _, a := range addrs {
		args = append(args, "--listening-ip", a.String())
	}
	p := r.start(t, "turnserver", args...)
	addr := netip.AddrPortFrom(addrs[0], port)
	waitSTUN(t, r, addr, p)
	return addr
}

// waitSTUN waits until addr answers a Binding request (pion/stun client).
func waitSTUN(t *testing.T, r runner, addr netip.AddrPort, p *proc) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := pionBinding(r, netip.AddrPort{}, addr, 200*time.Millisecond); err == nil {
			return
		}
		if p.exited(0) >= 0 {
			t.Fatalf("%s exited before answering on %s\n%s", p.name, addr, p)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer a STUN Binding on %s within 15 s\n%s", p.name, addr, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pionBinding sends one RFC 8489 Binding request with pion/stun (an
// implementation independent of ours) from local (zero: any) to server and
// returns the XOR-MAPPED-ADDRESS.
func pionBinding(r runner, local, server netip.AddrPort, timeout time.Duration) (netip.AddrPort, error) {
	var mapped netip.AddrPort
	err := r.do(func() error {
		var laddr *net.UDPAddr
		if local.IsValid() {
			laddr = net.UDPAddrFromAddrPort(local)
		}
		conn, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(server))
		if err != nil {
			return err
		}
		c, err := stun.NewClient(conn, stun.WithRTO(timeout/4), stun.WithTimeoutRate(timeout/8))
		if err != nil {
			conn.Close()
			return err
		}
		defer c.Close()
		type result struct {
			mapped netip.AddrPort
			err    error
		}
		ch := make(chan result, 1)
		send := func(r result) {
			select {
			case ch <- r:
			default: // a second event after the first: ignore
			}
		}
		m := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		if err := c.Start(m, func(e stun.Event) {
			if e.Error != nil {
				send(result{err: e.Error})
				return
			}
			if e.Message.Type != stun.BindingSuccess {
				send(result{err: fmt.Errorf("answer of type %s", e.Message.Type)})
				return
			}
			var x stun.XORMappedAddress
			if err := x.GetFrom(e.Message); err != nil {
				send(result{err: fmt.Errorf("answer without a valid XOR-MAPPED-ADDRESS: %v", err)})
				return
			}
			a, _ := netip.AddrFromSlice(x.IP)
			send(result{mapped: netip.AddrPortFrom(a.Unmap(), uint16(x.Port))})
		}); err != nil {
			return err
		}
		select {
		case res := <-ch:
			mapped = res.mapped
			return res.err
		case <-time.After(timeout + time.Second):
			return fmt.Errorf("no answer from %s within %s", server, timeout)
		}
	})
	return mapped, err
}

// freeUDPPort returns a UDP port free on ip inside r's namespace.
func freeUDPPort(t *testing.T, r runner, ip netip.Addr) uint16 {
	t.Helper()
	var port uint16
	if err := r.do(func() error {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return err
		}
		defer c.Close()
		port = c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
		return nil
	}); err != nil {
		t.Fatalf("pick a UDP port on %s: %v", ip, err)
	}
	return port
}

func freeTCPPort(t *testing.T, r runner) uint16 {
	t.Helper()
	var port uint16
	if err := r.do(func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		port = l.Addr().(*net.TCPAddr).AddrPort().Port()
		return nil
	}); err != nil {
		t.Fatalf("pick a TCP port: %v", err)
	}
	return port
}

// client runs bin/supernode-client once and returns stdout; a non-zero exit
// fails the test.
func client(t *testing.T, r runner, bin string, args ...string) string {
	t.Helper()
	cmd := r.cmd(append([]string{filepath.Join(bin, "supernode-client")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("supernode-client %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// waitPeers waits until the supernode's directory holds want peers
// (supernode_directory_peers), failing with p's output if it never does.
func (s *supernode) waitPeers(t *testing.T, r runner, want float64, p *proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.metric(t, r, "supernode_directory_peers")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			other := ""
			if p != nil {
				other = p.String()
			}
			t.Fatalf("directory holds %v peers after 10 s, want %v\n%s\n%s", got, want, other, s.proc)
		}
		if p != nil && p.exited(0) >= 0 {
			t.Fatalf("%s exited while waiting for the directory to hold %v peers\n%s", p.name, want, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
