package natlab

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a running command whose output lines are kept with the time
// each arrived, so the runner can time events between two processes.
type proc struct {
	name      string
	cmd       *exec.Cmd
	out, errb *lines
	done      chan struct{}
}

func start(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, out: newLines(), errb: newLines(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.errb
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop sends SIGTERM, then SIGKILL after 5 s.
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

// exited waits up to d and returns the exit code, or -1 if still running.
func (p *proc) exited(d time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

func (p *proc) String() string {
	return fmt.Sprintf("%s stdout:\n%s%s stderr:\n%s", p.name, p.out, p.name, p.errb)
}

type line struct {
	text string
	at   time.Time
}

// lines collects output and timestamps each complete line.
type lines struct {
	mu      sync.Mutex
	partial []byte
	all     []line
	changed chan struct{}
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (b *lines) Write(p []byte) (int, error) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.all = append(b.all, line{string(b.partial[:i]), now})
		b.partial = b.partial[i+1:]
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *lines) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, l := range b.all {
		s.WriteString(l.text + "\n")
	}
	s.Write(b.partial)
	return s.String()
}

// find returns the first line starting with prefix.
func (b *lines) find(prefix string) (line, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.all {
		if strings.HasPrefix(l.text, prefix) {
			return l, true
		}
	}
	return line{}, false
}

// wait waits up to d (or until done closes) for a line starting with prefix.
func (b *lines) wait(prefix string, d time.Duration, done <-chan struct{}) (line, bool) {
	deadline := time.After(d)
	for {
		b.mu.Lock()
		ch := b.changed
		b.mu.Unlock()
		if l, ok := b.find(prefix); ok {
			return l, true
		}
		select {
		case <-ch:
		case <-done:
			// cmd.Wait has copied all output by now: one last look.
			return b.find(prefix)
		case <-deadline:
			return line{}, false
		}
	}
}
