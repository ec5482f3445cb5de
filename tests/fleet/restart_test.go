package fleet

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// serviceManager is the part of systemd a zero-gap restart relies on, for
// hosts where systemd is not PID 1 (this CI): a NOTIFY_SOCKET that keeps
// the descriptors sent with FDSTORE=1 (FileDescriptorStoreMax=; keep=false
// is a unit without it, as before the fd store), and a start that passes
// them back as LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID, exactly as
// systemd.exec(5) describes. The daemon is the real bin/supernode.
type serviceManager struct {
	t      *testing.T
	path   string
	keep   bool
	mu     sync.Mutex
	stored []*os.File
	ready  chan struct{}
}

func newServiceManager(t *testing.T, keep bool) *serviceManager {
	m := &serviceManager{t: t, path: filepath.Join(t.TempDir(), "notify"), keep: keep, ready: make(chan struct{}, 4)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: m.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		for _, f := range m.stored {
			f.Close()
		}
	})
	go func() {
		buf, oob := make([]byte, 4096), make([]byte, 4096)
		for {
			n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
			if err != nil {
				return
			}
			var fds []int
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for i := range msgs {
				if r, err := unix.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, r...)
				}
			}
			state := string(buf[:n])
			m.mu.Lock()
			switch {
			case strings.Contains(state, "FDSTOREREMOVE=1"):
				for _, f := range m.stored {
					f.Close()
				}
				m.stored = nil
			case strings.Contains(state, "FDSTORE=1") && m.keep:
				for _, fd := range fds {
					m.stored = append(m.stored, os.NewFile(uintptr(fd), "supernode-udp"))
				}
				fds = nil
			}
			m.mu.Unlock()
			for _, fd := range fds {
				unix.Close(fd)
			}
			if strings.Contains(state, "READY=1") {
				m.ready <- struct{}{}
			}
		}
	}()
	return m
}

// start runs the daemon with the stored descriptors and waits for READY.
func (m *serviceManager) start(bin, conf string) *exec.Cmd {
	m.mu.Lock()
	names := make([]string, len(m.stored))
	for i := range names {
		names[i] = "supernode-udp"
	}
	// LISTEN_PID must be the daemon's own pid: the shell sets it and execs.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, bin, "-config", conf)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+m.path, fmt.Sprintf("LISTEN_FDS=%d", len(m.stored)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	cmd.ExtraFiles = append([]*os.File(nil), m.stored...)
	m.mu.Unlock()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	select {
	case <-m.ready:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		m.t.Fatalf("supernode did not become ready: %s", stderr.String())
	}
	return cmd
}

// restartLoss sends Binding requests at rate for total, restarts the
// daemon (SIGTERM, wait, start) after a third of it, and returns how many
// requests got no answer and the longest gap between answers.
func restartLoss(t *testing.T, bin string, keep bool, rate int, total time.Duration) (lost, sent int, gap time.Duration) {
	m := newServiceManager(t, keep)
	probe, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	conf := filepath.Join(t.TempDir(), "supernode.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listen = 127.0.0.1:%d\nsockets = 2\nrate_limit = 0\nmetrics_listen =\n", port)), 0o600)
	cmd := m.start(bin, conf)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu sync.Mutex
	answered := map[[12]byte]bool{}
	var last time.Time
	go func() {
		buf := make([]byte, 1500)
		msg := stun.New()
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if isRefused(err) {
					continue // ICMP port unreachable while no socket exists
				}
				return
			}
			if msg.Decode(buf[:n]) != nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			answered[msg.TransactionID] = true
			if !last.IsZero() && now.Sub(last) > gap {
				gap = now.Sub(last)
			}
			last = now
			mu.Unlock()
		}
	}()
	restarted := make(chan struct{})
	go func() {
		time.Sleep(total / 3)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		cmd = m.start(bin, conf)
		close(restarted)
	}()
	req := stun.New()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for end := time.Now().Add(total); time.Now().Before(end); <-tick.C {
		req.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
		req.AddFingerprint()
		conn.Write(req.Raw)
		sent++
	}
	<-restarted
	time.Sleep(time.Second) // answers in flight
	mu.Lock()
	defer mu.Unlock()
	return sent - len(answered), sent, gap
}

func isRefused(err error) bool { return strings.Contains(err.Error(), "connection refused") }

// TestRestartLosesNoReplies (issue #20 item 7): restarting the real
// daemon under 2,000 requests/s loses no reply when the service manager
// keeps its sockets in the fd store; the same restart without the fd store
// (as before) is measured beside it.
func TestRestartLosesNoReplies(t *testing.T) {
	bin := filepath.Join(testenv.BuildBinaries(t), "supernode")
	const rate, total = 2000, 3 * time.Second
	lostOld, sentOld, gapOld := restartLoss(t, bin, false, rate, total)
	lost, sent, gap := restartLoss(t, bin, true, rate, total)
	t.Logf("restart at %d req/s without the fd store: %d of %d lost, longest gap %s", rate, lostOld, sentOld, gapOld.Round(time.Millisecond))
	t.Logf("restart at %d req/s with the fd store:    %d of %d lost, longest gap %s", rate, lost, sent, gap.Round(time.Millisecond))
	if lost != 0 {
		t.Fatalf("a restart with the fd store lost %d of %d replies", lost, sent)
	}
}

// TestSecondDaemonRefused (issue #20 item 4): a second bin/supernode on the
// port a running one serves exits 1 with one sentence instead of logging
// "supernode ready" and taking half the peers into a directory of its own.
func TestSecondDaemonRefused(t *testing.T) {
	bin := filepath.Join(testenv.BuildBinaries(t), "supernode")
	probe, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	conf := filepath.Join(t.TempDir(), "supernode.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listen = 127.0.0.1:%d\nmetrics_listen =\n", port)), 0o600)
	m := newServiceManager(t, false)
	first := m.start(bin, conf)
	defer func() { first.Process.Kill(); first.Wait() }()
	for _, listen := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf(":%d", port)} {
		conf2 := filepath.Join(t.TempDir(), "supernode.conf")
		os.WriteFile(conf2, []byte(fmt.Sprintf("listen = %s\nmetrics_listen =\n", listen)), 0o600)
		// Bounded: a second daemon that does start would otherwise run on.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := exec.CommandContext(ctx, bin, "-config", conf2).CombinedOutput()
		cancel()
		if err == nil || strings.Contains(string(out), "supernode ready") {
			t.Fatalf("a second supernode on %s started: %v\n%s", listen, err, out)
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "already served by another process") {
			t.Fatalf("second supernode on %s: %v\n%s", listen, err, out)
		}
	}
}
