// Package xdp holds the end-to-end tests of the XDP filter and its
// controller: two network namespaces joined by a veth pair, the real
// supernode-xdp binary attached in native mode to the receiving end, and
// crafted attack frames sent from the other end through AF_PACKET. What the
// filter lets through is observed after XDP (an AF_PACKET tap and a UDP
// STUN responder in the receiver), and the filter's own counters are read
// through the control socket.
package xdp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

var (
	sndIP  = netip.MustParseAddr("11.11.0.1")
	rcvIP  = netip.MustParseAddr("11.11.0.2")
	rcvIP2 = netip.MustParseAddr("11.11.0.3") // second own address, for own-source spoofing
	sndIP6 = netip.MustParseAddr("2a00:1::1")
	rcvIP6 = netip.MustParseAddr("2a00:1::2")
)

const (
	stunPort = 3478
	tcpPort  = 8443
)

// env is one sender/receiver pair with the controller running in the
// receiver's namespace.
type env struct {
	t              *testing.T
	bin            string
	dir            string
	snd, rcv       *testenv.NS
	sndIf, rcvIf   string
	sndMAC, rcvMAC net.HardwareAddr
	pinDir         string
	confPath       string
	socket         string
	ctl            *exec.Cmd
	ctlLog         *syncBuffer
	prefix         []string // command prefix for the controller (setpriv)
	passOff        func()   // detaches the bare XDP_PASS program (flood benchmark)
	ctlMu          sync.Mutex
	ctlClient      *control.Client
	fastPath       bool     // binding_fast_path in baseConfig
	ctlArgs        []string // more arguments of supernode-xdp run
}

// baseConfig is the controller config every test starts from; extra lines
// are appended. The attack sources of the tests share the receiver's
// connected /24, so its protection from reports is off here
// (TestReportsCannotBlockProtected turns it on). The Binding fast path is
// off: these tests watch which crafted frames reach the receiver's stack,
// and the fast path would answer the clean STUN ones in the driver
// (fastpath_test.go and bindingbench_test.go turn it on with e.fastPath).
func (e *env) baseConfig() string {
	return fmt.Sprintf(`interfaces = %s
mode = native
pin_dir = %s
control_socket = %s
rescan_interval = 1s
metrics_listen = 127.0.0.1:9101
never_block_connected = false
udp_ports = %d
stun_ports = %d
tcp_ports = %d
binding_fast_path = %v
`, e.rcvIf, e.pinDir, e.socket, stunPort, stunPort, tcpPort, e.fastPath)
}

// overlay returns base with the "key = value" lines of extra replacing
// base's lines for the same keys (the config reader refuses a key set
// twice), then extra appended.
func overlay(base, extra string) string {
	set := map[string]bool{}
	for _, l := range strings.Split(extra, "\n") {
		if k, _, ok := strings.Cut(l, "="); ok {
			set[strings.TrimSpace(k)] = true
		}
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(base, "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && set[strings.TrimSpace(k)] {
			continue
		}
		b.WriteString(l)
	}
	return b.String() + extra
}

func newEnv(t *testing.T, extra string) *env {
	t.Helper()
	return newEnvAs(t, extra, -1)
}

// unitCaps are the capabilities ebpf/systemd/supernode-xdp.service grants.
var unitCaps = []string{"bpf", "net_admin", "perfmon"}

// newEnvAs is newEnv with the controller running as uid (and gid) with only
// the unit's capabilities (unitCaps), when uid >= 0: its pin and socket directories
// are created for it, as tmpfiles.d and RuntimeDirectory= do on the
// appliance.
func newEnvAs(t *testing.T, extra string, uid int) *env {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip")
	e := &env{t: t, bin: binDir(t), dir: t.TempDir()}
	// Unprivileged controllers and socket clients must reach into it
	// (t.TempDir's parent is 0700).
	os.Chmod(filepath.Dir(e.dir), 0o755)
	os.Chmod(e.dir, 0o755)
	bpffs := filepath.Join(e.dir, "bpf")
	if err := os.Mkdir(bpffs, 0o755); err != nil {
		t.Fatal(err)
	}
	// A private bpffs per test: pins of parallel tests cannot collide, and
	// unmounting it at the end drops every pin (maps, links) at once.
	// Mode 0711 as on the appliance (systemd's 0700, opened for traversal
	// by supernode-xdp.tmpfiles.conf).
	if err := unix.Mount("bpf", bpffs, "bpf", 0, "mode=0711"); err != nil {
		t.Fatalf("mount bpffs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(bpffs, unix.MNT_DETACH) })
	e.pinDir = filepath.Join(bpffs, "supernode-xdp")
	e.socket = filepath.Join(e.dir, "run", "control.sock")
	e.confPath = filepath.Join(e.dir, "supernode-xdp.conf")

	e.snd, e.rcv = testenv.NewNS(t, "xs"), testenv.NewNS(t, "xr")
	e.sndIf, e.rcvIf = testenv.Veth(t, e.snd, sndIP.String()+"/24,"+sndIP6.String()+"/64", e.rcv, rcvIP.String()+"/24,"+rcvIP2.String()+"/24,"+rcvIP6.String()+"/64")
	e.sndMAC = e.mac(e.snd, e.sndIf)
	e.rcvMAC = e.mac(e.rcv, e.rcvIf)
	// Static neighbours: the tests send from spoofed sources that would
	// otherwise leave the receiver's replies waiting on ARP.
	e.rcv.Exec(t, "ip", "neigh", "replace", sndIP.String(), "lladdr", e.sndMAC.String(), "dev", e.rcvIf, "nud", "permanent")
	e.snd.Exec(t, "ip", "neigh", "replace", rcvIP.String(), "lladdr", e.rcvMAC.String(), "dev", e.sndIf, "nud", "permanent")

	e.writeConfig(overlay(e.baseConfig(), extra))
	if uid >= 0 {
		testenv.RequireCommands(t, "setpriv")
		for _, d := range []string{e.pinDir, filepath.Dir(e.socket)} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(d, uid, uid); err != nil {
				t.Fatal(err)
			}
		}
		e.prefix = leastPrivilege(uid, unitCaps...)
	}
	e.startController()
	if mode := e.waitAttached(); mode != "native" {
		t.Fatalf("filter attached in mode %q, want native", mode)
	}
	return e
}

// binDir is where bin/supernode-xdp is: `make build` via testenv, or
// SUPERNODE_BIN_DIR when set (binaries built beforehand, e.g. while another
// part of the tree does not build).
func binDir(t *testing.T) string {
	if d := os.Getenv("SUPERNODE_BIN_DIR"); d != "" {
		return d
	}
	return testenv.BuildBinaries(t)
}

func (e *env) mac(ns *testenv.NS, ifname string) net.HardwareAddr {
	var hw net.HardwareAddr
	if err := ns.Do(func() error {
		i, err := net.InterfaceByName(ifname)
		if err == nil {
			hw = i.HardwareAddr
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return hw
}

func (e *env) writeConfig(text string) {
	e.t.Helper()
	if err := os.WriteFile(e.confPath, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// startController runs bin/supernode-xdp in the receiver's namespace (under
// e.prefix, if set).
func (e *env) startController() {
	e.t.Helper()
	e.ctlLog = &syncBuffer{}
	args := append(append([]string{}, e.prefix...), filepath.Join(e.bin, "supernode-xdp"), "run", "-config", e.confPath)
	args = append(args, e.ctlArgs...)
	e.ctl = e.rcv.Start(e.t, func(c *exec.Cmd) { c.Stdout, c.Stderr = e.ctlLog, e.ctlLog }, args...)
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("controller log:\n%s", e.ctlLog.String())
		}
	})
}

// stopController stops the controller (signal sig) and waits for it.
func (e *env) stopController(sig os.Signal) {
	e.t.Helper()
	e.ctl.Process.Signal(sig)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if syscallGone(e.ctl.Process.Pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("controller did not stop on %v", sig)
}

func syscallGone(pid int) bool {
	// Zombie or gone: /proc/PID/stat state Z, or no such process.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// client returns the test's connection to the control socket, dialling
// again after a controller restart.
func (e *env) client() *control.Client {
	e.t.Helper()
	e.ctlMu.Lock()
	defer e.ctlMu.Unlock()
	if e.ctlClient != nil {
		return e.ctlClient
	}
	c, err := control.Dial(e.socket)
	if err != nil {
		e.t.Fatal(err)
	}
	e.ctlClient = c
	e.t.Cleanup(func() { c.Close() })
	return c
}

// redial drops the cached control connection (the controller restarted).
func (e *env) redial() {
	e.ctlMu.Lock()
	defer e.ctlMu.Unlock()
	if e.ctlClient != nil {
		e.ctlClient.Close()
		e.ctlClient = nil
	}
}

// waitAttached waits until the controller reports the receiving interface
// and returns its mode.
func (e *env) waitAttached() string {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := control.Dial(e.socket); err == nil {
			ifs, err := c.Interfaces()
			c.Close()
			if err == nil && len(ifs) == 1 && ifs[0].Name == e.rcvIf {
				return ifs[0].Mode
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("controller did not attach to %s in time; log:\n%s", e.rcvIf, e.ctlLog.String())
	return ""
}

// counters returns the filter's packet counters by reason, summed over
// every interface.
func (e *env) counters() map[string]uint64 { return e.countersOf("") }

// ifaceCounters is counters for one interface.
func (e *env) ifaceCounters(name string) map[string]uint64 { return e.countersOf(name) }

func (e *env) countersOf(iface string) map[string]uint64 {
	e.t.Helper()
	var ks []control.Counter
	var err error
	if iface == "" {
		ks, err = e.client().Counters()
	} else {
		ks, err = e.client().InterfaceCounters(iface)
	}
	if err != nil {
		// Errorf, not Fatal: this runs inside subtests too.
		e.t.Errorf("counters %s: %v", iface, err)
		e.redial()
	}
	m := map[string]uint64{}
	for _, k := range ks {
		m[k.Reason] = k.Packets
	}
	return m
}

// pkt returns a template packet from src to the receiver's address of the
// same family.
func (e *env) pkt(src netip.Addr, proto uint8, sport, dport uint16, id uint16) pkt {
	dst := rcvIP
	if src.Is6() {
		dst = rcvIP6
	}
	return pkt{srcMAC: e.sndMAC, dstMAC: e.rcvMAC, src: src, dst: dst, proto: proto, sport: sport, dport: dport, id: id}
}

// stunServer answers Binding requests on the receiver's STUN port and
// counts every datagram that reaches userspace, by source address.
type stunServer struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	bySrc map[netip.Addr]int
}

func (e *env) startSTUN() *stunServer {
	e.t.Helper()
	s := &stunServer{bySrc: map[netip.Addr]int{}}
	if err := e.rcv.Do(func() (err error) {
		s.conn, err = net.ListenUDP("udp4", &net.UDPAddr{Port: stunPort})
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	s.conn.SetReadBuffer(4 << 20)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := s.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.bySrc[from.Addr().Unmap()]++
			s.mu.Unlock()
			if resp := stunResponse(buf[:n], from); resp != nil {
				s.conn.WriteToUDPAddrPort(resp, from)
			}
		}
	}()
	e.t.Cleanup(func() { s.conn.Close() })
	return s
}

func (s *stunServer) from(a netip.Addr) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySrc[a]
}

// legit is a well-behaved STUN client in the sender's namespace: a kernel
// UDP socket from the sender's real address.
type legit struct {
	conn           *net.UDPConn
	sent, answered atomic.Int64
	tid            atomic.Uint64
}

func (e *env) legitClient() *legit {
	e.t.Helper()
	l := &legit{}
	if err := e.snd.Do(func() (err error) {
		l.conn, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(rcvIP, stunPort)))
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { l.conn.Close() })
	return l
}

// ask sends one Binding request and waits up to timeout for its answer.
func (l *legit) ask(timeout time.Duration) bool {
	tid := l.tid.Add(1)
	l.sent.Add(1)
	if _, err := l.conn.Write(stunRequest(tid)); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	l.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return false
		}
		if n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 && bytes.Equal(buf[12:20], stunRequest(tid)[12:20]) {
			l.answered.Add(1)
			return true
		}
	}
}

// run asks every interval until ctx ends and returns (sent, answered).
func (l *legit) run(ctx context.Context, interval time.Duration) (int64, int64) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return l.sent.Load(), l.answered.Load()
		case <-t.C:
			l.ask(time.Second)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the controller's stdout and stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// leastPrivilege is a setpriv prefix that runs a command as uid/gid with
// exactly the named capabilities (effective, permitted, ambient, bounding).
func leastPrivilege(uid int, caps ...string) []string {
	set := "-all"
	for _, c := range caps {
		set += ",+" + c
	}
	id := strconv.Itoa(uid)
	return []string{"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups",
		"--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
