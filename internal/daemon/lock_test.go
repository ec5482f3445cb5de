package daemon

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLock: a second holder is refused with the path and the first one's
// PID, for a lock file and for a locked directory; after release (or the
// holder's death) the lock can be taken again.
func TestLock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) is not installed")
	}
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "d.lock"), dir} {
		// Another process holds it: flock(1) on the same path (-o: the
		// lock stays with flock, not with its child).
		holder := exec.Command("flock", "-o", path, "sleep", "30")
		holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := holder.Start(); err != nil {
			t.Fatal(err)
		}
		var err error
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			var release func()
			if release, err = Lock(path); err != nil {
				break
			}
			release() // flock(1) has not locked it yet
			time.Sleep(10 * time.Millisecond)
		}
		var le *LockedError
		if !errors.As(err, &le) || le.Path != path || !strings.Contains(err.Error(), path) {
			t.Fatalf("Lock(%s) while another process holds it: %v; want a LockedError naming the path", path, err)
		}
		// flock(1) writes no PID, so this is /proc/locks speaking.
		if le.PID != holder.Process.Pid {
			t.Errorf("Lock(%s): holder PID %d, want %d", path, le.PID, holder.Process.Pid)
		}
		syscall.Kill(-holder.Process.Pid, syscall.SIGKILL) // flock and its sleep
		holder.Wait()
		// The killed sleep may still hold the lock for a moment.
		var release func()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if release, err = Lock(path); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("Lock(%s) after the holder died: %v", path, err)
		}
		if _, err := Lock(path); err == nil {
			t.Errorf("Lock(%s) twice in one process succeeded; flock locks are per open file", path)
		}
		release()
	}
	// A lock file carries its holder's PID.
	path := filepath.Join(dir, "pid.lock")
	release, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this PID %d", b, os.Getpid())
	}
}
