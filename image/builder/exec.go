package builder

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"syscall"

	"github.com/supernode-appliance/appliance/image/tools"
)

// run runs a host tool and returns its stdout; a failure names the tool and
// carries the end of its stderr. The tool runs in its own process group so
// Ctrl-C kills it and its children together.
func run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if env != nil {
		cmd.Env = append(cmd.Environ(), env...)
	}
	return capture(ctx, cmd, name)
}

// capture runs cmd and returns its stdout; a failure is reported as "what
// failed" with the last lines of its output, or as the context's error
// when the build was cancelled.
func capture(ctx context.Context, cmd *exec.Cmd, what string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return stdout.Bytes(), fmt.Errorf("%s failed: %w: %s", what, err, lastLines(stderr.String()+stdout.String(), 10))
	}
	return stdout.Bytes(), nil
}

// reproducibleEnv is the environment every tool of the build sees:
// SOURCE_DATE_EPOCH set explicitly (not only inherited; tools such as
// systemd-sysusers stamp it into /etc/shadow), UTC and a fixed locale.
func (s *State) reproducibleEnv(cmd *exec.Cmd) {
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", s.Epoch), "TZ=UTC", "LC_ALL=C.UTF-8")
}

// inTools runs argv inside the tools tree with the work directory visible.
func (s *State) inTools(ctx context.Context, argv ...string) ([]byte, error) {
	binds := []string{s.Work}
	for _, p := range []string{s.Config.SecureBootKey, s.Config.SecureBootCert} {
		if p != "" {
			binds = append(binds, dirOf(p))
		}
	}
	cmd := tools.Command(ctx, s.ToolsRoot, binds, argv...)
	s.reproducibleEnv(cmd)
	out, err := capture(ctx, cmd, argv[0])
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inRoot runs argv chrooted into the appliance root (with /proc, /sys, /dev
// in a private mount namespace that dies with the command).
func (s *State) inRoot(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := tools.Command(ctx, s.Rootfs, nil, argv...)
	s.reproducibleEnv(cmd)
	out, err := capture(ctx, cmd, argv[0]+" (in the image root)")
	if err != nil {
		return nil, err
	}
	return out, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
