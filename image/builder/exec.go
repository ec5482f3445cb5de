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
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return stdout.Bytes(), fmt.Errorf("%s failed: %v: %s", name, err, lastLines(stderr.String()+stdout.String(), 10))
	}
	return stdout.Bytes(), nil
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
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", s.Epoch), "TZ=UTC", "LC_ALL=C.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s failed: %v: %s", argv[0], err, lastLines(stderr.String()+stdout.String(), 10))
	}
	return stdout.Bytes(), nil
}

// inRoot runs argv chrooted into the appliance root (with /proc, /sys, /dev
// in a private mount namespace that dies with the command).
// SOURCE_DATE_EPOCH is set explicitly (not only inherited): tools such as
// systemd-sysusers stamp it into /etc/shadow.
func (s *State) inRoot(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := tools.Command(ctx, s.Rootfs, nil, argv...)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", s.Epoch), "TZ=UTC", "LC_ALL=C.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s (in the image root) failed: %v: %s", argv[0], err, lastLines(stderr.String()+stdout.String(), 10))
	}
	return stdout.Bytes(), nil
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
