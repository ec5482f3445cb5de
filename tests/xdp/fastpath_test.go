package xdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	pion "github.com/pion/stun/v3"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestBindingFastPathMatchesUserspace is issue #17's reference test for the
// Binding fast path: the userspace supernode stays the reference, and every
// request a real client sends gets, byte for byte, the same answer from the
// driver (XDP_TX) as from the supernode.
//
// Two namespaces on a veth pair; the real supernode and supernode-xdp on the
// receiver; XDP on both ends (a bare XDP_PASS program on the sender, so the
// answers XDP_TX sends back are received). The requests are what pion/stun,
// coturn's turnutils_stunclient and Debian's stun (RFC 3489) send: the
// tools run against the receiver with the fast path on (and must print the
// mapped address: their kernel sockets accept the driver's answers, so the
// IPv4 and UDP checksums are right), an AF_PACKET tap on the sender keeps
// their requests, and each request is then sent again from one socket with
// the fast path on and off; the two answers must be identical, and the
// filter's tx_binding counter must say which path answered.
func TestBindingFastPathMatchesUserspace(t *testing.T) {
	e := newEnv(t, "")
	attachPassOn(t, e.snd, e.sndIf)
	fullChecksums(t, e)
	e.waitStarted()
	setFastPath := func(on bool) {
		e.fastPath = on
		e.writeConfig(e.baseConfig())
		e.hup(`msg="configuration reloaded"`)
	}
	setFastPath(true)
	snConf := filepath.Join(e.dir, "supernode.conf")
	writeFile(t, snConf, "listen = :3478\nmetrics_listen =\nrate_limit = 0\n")
	e.rcv.Start(t, nil, filepath.Join(e.bin, "supernode"), "-config", snConf)
	servers := []netip.AddrPort{netip.AddrPortFrom(rcvIP, stunPort), netip.AddrPortFrom(rcvIP6, stunPort)}
	waitSTUN(t, e, servers)

	// The requests: built with pion/stun, and captured from the tools.
	type request struct {
		name     string
		msg      []byte
		fastPath bool // answered in the driver (else it goes up)
	}
	var reqs []request
	for _, fp := range []bool{false, true} {
		setters := []pion.Setter{pion.TransactionID, pion.BindingRequest}
		name := "pion"
		if fp {
			setters, name = append(setters, pion.Fingerprint), name+" fingerprint"
		}
		reqs = append(reqs, request{name, pion.MustBuild(setters...).Raw, true})
	}
	withSoftware := pion.MustBuild(pion.TransactionID, pion.BindingRequest, pion.NewSoftware("pion"), pion.Fingerprint)
	reqs = append(reqs, request{"pion software+fingerprint (goes up)", withSoftware.Raw, false})

	tap := newRequestTap(t, e.snd, e.sndIf)
	if _, err := exec.LookPath("turnutils_stunclient"); err == nil {
		for _, s := range servers {
			out, err := e.snd.Cmd("turnutils_stunclient", "-p", fmt.Sprint(stunPort), s.Addr().String()).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "UDP reflexive addr") {
				t.Fatalf("turnutils_stunclient against the fast path: %v\n%s", err, out)
			}
		}
		for i, m := range tap.take() {
			reqs = append(reqs, request{fmt.Sprintf("turnutils_stunclient #%d", i), m, true})
		}
	} else {
		testenv.RequireCommands(t, "turnutils_stunclient") // skip or fail (CI)
	}
	if _, err := exec.LookPath("stun"); err == nil {
		// RFC 3489 test 1: a Binding request, CHANGE-REQUEST without flags.
		out, _ := e.snd.Cmd("stun", rcvIP.String(), "1", "-v", "-p", "41000").CombinedOutput()
		if want := "MappedAddress = " + netip.AddrPortFrom(sndIP, 41000).String(); !strings.Contains(string(out), want) {
			t.Fatalf("stun against the fast path: want %q in\n%s", want, out)
		}
		for i, m := range tap.take() {
			reqs = append(reqs, request{fmt.Sprintf("stun (RFC 3489) #%d", i), m, len(m) <= 28})
		}
	} else {
		testenv.RequireCommands(t, "stun")
	}

	ask := func(src netip.AddrPort, server netip.AddrPort, msg []byte) []byte {
		t.Helper()
		var ans []byte
		if err := e.snd.Do(func() error {
			c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(src), net.UDPAddrFromAddrPort(server))
			if err != nil {
				return err
			}
			defer c.Close()
			for try := 0; try < 3 && ans == nil; try++ {
				c.Write(msg)
				c.SetReadDeadline(time.Now().Add(time.Second))
				buf := make([]byte, 1500)
				if n, err := c.Read(buf); err == nil {
					ans = buf[:n]
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ans
	}

	answers := map[string][]byte{}
	for _, on := range []bool{true, false} {
		setFastPath(on)
		for i, r := range reqs {
			for _, server := range servers {
				if server.Addr().Is6() && binary.BigEndian.Uint32(r.msg[4:]) != 0x2112A442 {
					continue // the classic tool is IPv4 only; so are its requests here
				}
				src := netip.AddrPortFrom(sndIP, uint16(42000+i))
				if server.Addr().Is6() {
					src = netip.AddrPortFrom(sndIP6, uint16(42000+i))
				}
				key := fmt.Sprintf("%s via %s", r.name, server.Addr())
				tx0 := e.counters()["tx_binding"]
				ans := ask(src, server, r.msg)
				if ans == nil {
					t.Fatalf("%s: no answer (fast path %v)", key, on)
				}
				// The kernel may count before the socket sees the answer
				// only in one order; the counter is read after the answer.
				if tx := e.counters()["tx_binding"] - tx0; tx != map[bool]uint64{true: 1, false: 0}[on && r.fastPath] {
					t.Errorf("%s: tx_binding moved by %d with the fast path %v", key, tx, on)
				}
				if !on {
					if !bytes.Equal(ans, answers[key]) {
						t.Errorf("%s: the driver answered\n% x\nthe supernode answers\n% x", key, answers[key], ans)
					} else {
						t.Logf("%s: %d-byte request, %d-byte answer, identical from both paths", key, len(r.msg), len(ans))
					}
				}
				answers[key] = ans
			}
		}
	}
	// The controller's metrics carry the answers given in the driver.
	body := e.scrape("/metrics")
	m := regexp.MustCompile(fmt.Sprintf(`supernode_xdp_packets_total\{interface="%s",reason="binding",verdict="tx"\} (\S+)`, e.rcvIf)).FindStringSubmatch(body)
	if m == nil || m[1] == "0" {
		t.Fatalf("no answered-in-driver packets in the metrics:\n%s", body)
	}
	t.Logf("metrics: %s", m[0])
}

// attachPassOn puts a bare XDP_PASS program on the sender's end, so that
// veth delivers the frames the receiver's XDP_TX sends back (veth accepts
// xdp_frames only on an end with XDP).
func attachPassOn(t *testing.T, ns *testenv.NS, ifname string) {
	t.Helper()
	off := attachPass(t, ns, ifname)
	t.Cleanup(off)
}

// fullChecksums makes the sender's kernel compute UDP checksums itself.
// With veth's default transmit checksum offload a datagram crosses the pair
// with only the pseudo-header sum in its checksum field (CHECKSUM_PARTIAL),
// which the fast path, checking it as a NIC's frame must be checked, takes
// for a bad checksum and sends up. Frames from a wire always carry the whole
// checksum.
func fullChecksums(t *testing.T, e *env) {
	t.Helper()
	// ethtool -K IF tx off, without ethtool: the legacy ETHTOOL_STXCSUM.
	if err := e.snd.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		val := struct{ cmd, data uint32 }{cmd: 0x17} // ETHTOOL_STXCSUM, off
		var ifr struct {
			name [unix.IFNAMSIZ]byte
			data uintptr
			_    [16]byte
		}
		copy(ifr.name[:], e.sndIf)
		ifr.data = uintptr(unsafe.Pointer(&val))
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		runtime.KeepAlive(&val)
		if errno != 0 {
			return fmt.Errorf("ETHTOOL_STXCSUM off on %s: %w", e.sndIf, errno)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// waitStarted waits until the controller has logged that it started: a
// SIGHUP before that (right after newEnv) is lost.
func (e *env) waitStarted() {
	e.t.Helper()
	for i := 0; i < 200; i++ {
		if strings.Contains(e.ctlLog.String(), "msg=started") {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	e.t.Fatalf("the controller did not log that it started:\n%s", e.ctlLog.String())
}

// waitSTUN waits until the supernode answers on every server address.
func waitSTUN(t *testing.T, e *env, servers []netip.AddrPort) {
	t.Helper()
	for _, s := range servers {
		ok := false
		for i := 0; i < 50 && !ok; i++ {
			e.snd.Do(func() error {
				c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s))
				if err != nil {
					return nil
				}
				defer c.Close()
				c.Write(pion.MustBuild(pion.TransactionID, pion.BindingRequest).Raw)
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				buf := make([]byte, 1500)
				_, err = c.Read(buf)
				ok = err == nil
				return nil
			})
		}
		if !ok {
			t.Fatalf("no STUN answer from %s", s)
		}
	}
}

// requestTap keeps the STUN payloads of the UDP datagrams the sender sends
// to the STUN port (AF_PACKET, outgoing frames only).
type requestTap struct {
	fd   int
	mu   sync.Mutex
	msgs [][]byte
}

func newRequestTap(t *testing.T, ns *testenv.NS, ifname string) *requestTap {
	t.Helper()
	tap := &requestTap{}
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		tap.fd = fd
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		buf := make([]byte, 2048)
		for {
			select {
			case <-done:
				return
			default:
			}
			n, from, err := unix.Recvfrom(tap.fd, buf, 0)
			if err != nil {
				continue
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
				continue
			}
			var l4 []byte
			switch {
			case n >= 28 && buf[0] == 0x45 && buf[9] == 17:
				l4 = buf[20:n]
			case n >= 48 && buf[0]>>4 == 6 && buf[6] == 17:
				l4 = buf[40:n]
			default:
				continue
			}
			if binary.BigEndian.Uint16(l4[2:]) != stunPort || len(l4) < 28 {
				continue
			}
			tap.mu.Lock()
			tap.msgs = append(tap.msgs, append([]byte(nil), l4[8:]...))
			tap.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(done); <-stopped; unix.Close(tap.fd) })
	return tap
}

// take returns the requests captured so far, each distinct request shape
// (length and type) once, and forgets them.
func (tap *requestTap) take() [][]byte {
	time.Sleep(200 * time.Millisecond)
	tap.mu.Lock()
	defer tap.mu.Unlock()
	seen := map[string]bool{}
	var out [][]byte
	for _, m := range tap.msgs {
		k := fmt.Sprintf("%d/%x/%x", len(m), m[:2], m[20:min(len(m), 24)])
		if !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	tap.msgs = nil
	return out
}
