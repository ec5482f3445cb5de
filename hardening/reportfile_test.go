package hardening

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeHello(w io.Writer) error { _, err := io.WriteString(w, "hello\n"); return err }

func TestWriteReportFile(t *testing.T) {
	dir := t.TempDir()
	onlyFiles := func(want ...string) {
		t.Helper()
		entries, _ := os.ReadDir(dir)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("directory holds %v, want %v", got, want)
		}
	}

	var stdout bytes.Buffer
	if err := WriteReportFile("-", &stdout, writeHello); err != nil || stdout.String() != "hello\n" {
		t.Fatalf("-: %q %v", stdout.String(), err)
	}
	onlyFiles()

	// A new file, then replacing it: atomic, no temporary file left, the
	// mode of an existing file kept.
	p := filepath.Join(dir, "r.json")
	if err := WriteReportFile(p, nil, writeHello); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o600)
	if err := WriteReportFile(p, nil, func(w io.Writer) error { _, err := io.WriteString(w, "two\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two\n" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the existing 0600", fi.Mode())
	}
	onlyFiles("r.json")

	// A symlink to a regular file stays a symlink; its target is replaced.
	link := filepath.Join(dir, "link.json")
	os.Symlink("r.json", link)
	if err := WriteReportFile(link, nil, writeHello); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(p); string(b) != "hello\n" {
		t.Errorf("target content %q", b)
	}
	onlyFiles("link.json", "r.json")

	// A pipe is written in place (what /dev/stdout is under a shell pipe).
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteReportFile(fifo, nil, writeHello); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "hello\n" {
		t.Errorf("pipe read %q", s)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Error("the pipe was replaced")
	}
	onlyFiles("fifo", "link.json", "r.json")

	// A character device: /dev/null written in place, nothing created in /dev.
	if err := WriteReportFile("/dev/null", nil, writeHello); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/null.tmp"); err == nil {
		t.Error("/dev/null.tmp created")
	}
	if fi, _ := os.Stat("/dev/null"); fi.Mode()&os.ModeCharDevice == 0 {
		t.Error("/dev/null is no longer a device")
	}

	// A directory that does not exist: one sentence, no Go op prefix.
	err := WriteReportFile(filepath.Join(dir, "no", "r.json"), nil, writeHello)
	if err == nil || strings.Contains(err.Error(), "open ") || strings.Count(err.Error(), "no/r.json") != 1 {
		t.Errorf("missing directory: %v", err)
	}
}
