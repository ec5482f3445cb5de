package xdp

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const nobody = 65534

// TestLeastPrivilege runs the daemon as an unprivileged uid holding only
// the capabilities the systemd unit grants (CAP_BPF, CAP_NET_ADMIN,
// CAP_PERFMON): it attaches natively, filters, and takes over its pinned
// link after a restart. CAP_SYS_ADMIN is not needed on this kernel.
func TestLeastPrivilege(t *testing.T) {
	e := newEnvAs(t, "", nobody)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.ctl.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	const want = 1<<unix.CAP_BPF | 1<<unix.CAP_NET_ADMIN | 1<<unix.CAP_PERFMON
	if !strings.Contains(string(status), fmt.Sprintf("CapEff:\t%016x", want)) ||
		!strings.Contains(string(status), fmt.Sprintf("Uid:\t%d", nobody)) {
		t.Fatalf("controller not running as uid %d with CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON only:\n%s", nobody, status)
	}
	obs := newObserver(t, e.rcv, e.rcvIf)
	tx := newRawSender(t, e.snd, e.sndIf)
	bogon := e.pkt(netip.MustParseAddr("172.16.0.9"), 17, 40000, stunPort, 0xF001)
	bogon.payload = stunRequest(1)
	before := e.counters()
	for i := 0; i < 10; i++ {
		tx.send(t, bogon.frame())
	}
	waitFor(func() bool { return e.counters()["drop_bogon"]-before["drop_bogon"] >= 10 })
	if d := e.counters()["drop_bogon"] - before["drop_bogon"]; d != 10 || obs.seenID(0xF001) != 0 {
		t.Errorf("unprivileged controller: drop_bogon moved %d (want 10), %d frames arrived (want 0)", d, obs.seenID(0xF001))
	}
	old := e.programID()
	e.stopController(unix.SIGTERM)
	e.redial()
	e.startController()
	if mode := e.waitAttached(); mode != "native" || e.programID() == old {
		t.Errorf("unprivileged restart: mode %q, program %d -> %d; want native and a new program", mode, old, e.programID())
	}
	// Socket owned by the daemon's uid, mode 0660.
	fi, err := os.Stat(e.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 || fi.Sys().(*syscall.Stat_t).Uid != nobody {
		t.Errorf("control socket mode %v uid %d, want 0660 owned by %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, nobody)
	}
}

// TestEachCapabilityIsNeeded shows that the unit's capability set is
// minimal: drop any one of the three and the filter does not load.
// CAP_NET_ADMIN: XDP is a networking program type (bpf_prog_load checks
// it). CAP_BPF: loading programs and creating maps at all. CAP_PERFMON: the
// verifier applies its Spectre v1 restrictions to loaders without it and
// then rejects variable-offset packet-pointer arithmetic, which every
// header parser needs (IHL, extension headers, VLAN tags).
func TestEachCapabilityIsNeeded(t *testing.T) {
	e := newEnv(t, "") // a root controller provides the namespaces; stop it
	e.stopController(unix.SIGTERM)
	for _, c := range []struct{ lacks, want string }{
		{"bpf", "operation not permitted"},
		{"net_admin", "operation not permitted"},
		{"perfmon", "prohibited"}, // the verifier: "pointer arithmetic ... prohibited"
	} {
		var caps []string
		for _, u := range unitCaps {
			if u != c.lacks {
				caps = append(caps, u)
			}
		}
		c := struct{ has, lacks, want string }{strings.Join(caps, "+"), "CAP_" + strings.ToUpper(c.lacks), c.want}
		pin := filepath.Join(filepath.Dir(e.pinDir), "only-"+c.has)
		run := filepath.Join(e.dir, "run-"+c.has)
		for _, d := range []string{pin, run} {
			os.MkdirAll(d, 0o700)
			os.Chown(d, nobody, nobody)
		}
		conf := filepath.Join(e.dir, c.has+".conf")
		writeFile(t, conf, strings.NewReplacer(e.pinDir, pin, e.socket, filepath.Join(run, "control.sock"), "127.0.0.1:9101", "127.0.0.1:9102").Replace(e.baseConfig()))
		args := append(leastPrivilege(nobody, strings.Split(c.has, "+")...), filepath.Join(e.bin, "supernode-xdp"), "run", "-config", conf)
		cmd := e.rcv.Cmd(args...)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			cmd.Process.Signal(unix.SIGTERM)
			<-exited
		}
		log := strings.ToLower(out.String())
		if !strings.Contains(log, c.want) {
			t.Errorf("lacking %s: want %q in the log, got:\n%s", c.lacks, c.want, out.String())
		}
		if strings.Contains(log, "attached xdp filter") {
			t.Errorf("lacking %s the filter was attached; the unit could drop it", c.lacks)
		}
	}
}

// TestControlSocketPermissions: mode 0660, group control_group; a user
// outside the group is refused, a member is served.
func TestControlSocketPermissions(t *testing.T) {
	e := newEnv(t, "control_group = nogroup\n")
	fi, err := os.Stat(e.socket)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 || st.Uid != 0 || st.Gid != nobody {
		t.Fatalf("control socket %v uid %d gid %d; want a 0660 socket owned by root:nogroup", fi.Mode(), st.Uid, st.Gid)
	}
	bin := filepath.Join(e.bin, "supernode-xdp")
	outsider := exec.Command("setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", bin, "status", "-socket", e.socket)
	out, err := outsider.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("a user outside control_group used the socket: %v\n%s", err, out)
	}
	member := exec.Command("setpriv", "--reuid=65533", "--regid=65533", fmt.Sprintf("--groups=%d", nobody), bin, "status", "-socket", e.socket)
	out, err = member.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "programs") {
		t.Errorf("a member of control_group was refused: %v\n%s", err, out)
	}
	// And the operator CLI's exit codes: usage errors exit 2.
	if err := exec.Command(bin, "block", "not-an-ip", "60", "-socket", e.socket).Run(); exitCode(err) != 2 {
		t.Errorf("block with a bad address: exit %d, want 2", exitCode(err))
	}
	if err := exec.Command(bin, "block", "11.11.0.5", "60", "cli test", "-socket", e.socket).Run(); err != nil {
		t.Errorf("block from the CLI: %v", err)
	}
	out, _ = exec.Command(bin, "blocks", "-socket", e.socket).Output()
	if !strings.Contains(string(out), "11.11.0.5") || !strings.Contains(string(out), "cli test") {
		t.Errorf("blocks does not list the CLI block:\n%s", out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
