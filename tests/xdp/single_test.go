package xdp

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondControllerRefused (issue #20 item 5): a second supernode-xdp
// pointed at the same pin_dir, or at the same control socket, must refuse
// to start with one sentence, before it touches a pin, a map or the
// socket: the first one keeps its program in the link, its socket and its
// policy. (The first version took the link over, wrote its policy into
// the shared maps and, with metrics_listen empty, replaced the socket.)
func TestSecondControllerRefused(t *testing.T) {
	e := newEnv(t, "")
	prog, kernel := e.programID(), e.kernelProgID()
	pid := e.ctl.Process.Pid

	second := func(t *testing.T, config string) (string, int) {
		t.Helper()
		path := filepath.Join(e.dir, "second.conf")
		writeFile(t, path, config)
		cmd := e.rcv.Cmd(filepath.Join(e.bin, "supernode-xdp"), "run", "-config", path)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return out.String(), exitCode(err)
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("the second controller kept running; log:\n%s", out.String())
			return out.String(), -1
		}
	}
	check := func(t *testing.T, out string, code int, want ...string) {
		t.Helper()
		if code != 1 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("second controller: exit %d with %q; want exit 1 and one line", code, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("second controller's refusal %q does not mention %q", out, w)
			}
		}
		if p, k := e.programID(), e.kernelProgID(); p != prog || k != kernel {
			t.Errorf("program on %s: controller says %d, kernel %d; want both unchanged (%d, %d)", e.rcvIf, p, k, prog, kernel)
		}
		if _, err := os.Stat(e.socket); err != nil {
			t.Errorf("the running controller's socket is gone: %v", err)
		}
		e.redial()
		if _, err := e.client().Status(); err != nil {
			t.Errorf("the running controller no longer answers on its socket: %v", err)
		}
	}

	t.Run("same config", func(t *testing.T) {
		out, code := second(t, e.baseConfig())
		check(t, out, code, "already runs", e.pinDir, "pid "+strconv.Itoa(pid))
	})
	t.Run("metrics_listen empty, policy edited", func(t *testing.T) {
		out, code := second(t, overlay(e.baseConfig(), "metrics_listen =\nudp_ports = 3478, 9999\n"))
		check(t, out, code, "already runs", e.pinDir)
	})
	t.Run("own pin_dir, same socket", func(t *testing.T) {
		cfg := strings.Replace(e.baseConfig(), "pin_dir = "+e.pinDir, "pin_dir = "+e.pinDir+"-other", 1)
		cfg = strings.Replace(cfg, "interfaces = "+e.rcvIf, "interfaces = nomatch0", 1)
		out, code := second(t, overlay(cfg, "metrics_listen =\n"))
		check(t, out, code, "control_socket", e.socket, "served by")
	})
	if strings.Contains(e.ctlLog.String(), "level=ERROR") {
		t.Errorf("the first controller logged errors:\n%s", e.ctlLog.String())
	}
}
