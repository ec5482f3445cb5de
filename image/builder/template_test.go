package builder

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Variables, locals and path.root are evaluated as Packer evaluates them,
// so one template builds the same image through both front doors.
func TestTemplateVariables(t *testing.T) {
	tmpl := writeTemplate(t, `
variable "name" {
  type    = string
  default = "edge"
}
variable "formats" {
  type    = list(string)
  default = ["raw"]
}
variable "stateless" {
  type        = bool
  description = "no default: must be given"
}
locals {
  host = "${local.prefix}-1"
  prefix = var.name
}
source "supernode" "x" {
  image_name = var.name
  formats    = var.formats
  stateless  = var.stateless
  hostname   = local.host
  bin_dir    = "${path.root}/bin"
}
build { sources = ["source.supernode.x"] }
`)
	if _, _, err := LoadTemplate(tmpl); err == nil || !strings.Contains(err.Error(), `variable "stateless" has no default`) {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv("PKR_VAR_name", "core")
	varFile := filepath.Join(t.TempDir(), "v.pkrvars.hcl")
	os.WriteFile(varFile, []byte(`formats = ["raw", "qcow2"]`+"\n"), 0o644)
	b, _, err := LoadTemplateWith(tmpl, TemplateOptions{Vars: map[string]string{"stateless": "true"}, VarFiles: []string{varFile}})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Config()
	if c.ImageName != "core" || c.Hostname != "core-1" || !c.Stateless || strings.Join(c.Formats, ",") != "raw,qcow2" {
		t.Fatalf("variables not applied: %+v", c)
	}
	if c.BinDir != filepath.Join(filepath.Dir(tmpl), "bin") {
		t.Fatalf("path.root: bin_dir %q, template in %s", c.BinDir, filepath.Dir(tmpl))
	}
	for name, o := range map[string]TemplateOptions{
		`the template declares no variable "nope"`: {Vars: map[string]string{"stateless": "true", "nope": "1"}},
		`is not a value of type bool`:              {Vars: map[string]string{"stateless": "maybe"}},
	} {
		if _, _, err := LoadTemplateWith(tmpl, o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want %q", o.Vars, err, name)
		}
	}
}

// Missing inputs stop the build before any work, all named in one sentence.
func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	c := &Config{BinDir: filepath.Join(dir, "bin"), SourceDir: dir}
	err := c.CheckInputs()
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), filepath.Join(dir, "bin", MultiCall)) ||
		!strings.Contains(err.Error(), filepath.Join(dir, "supernode/systemd")) || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("CheckInputs: %v", err)
	}
	for _, b := range Binaries {
		os.MkdirAll(c.BinDir, 0o755)
		os.WriteFile(filepath.Join(c.BinDir, b), nil, 0o755)
	}
	for _, d := range UnitDirs {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		os.WriteFile(filepath.Join(dir, d, "x.service"), nil, 0o644)
	}
	for src := range ConfigFiles {
		os.WriteFile(filepath.Join(dir, src), nil, 0o644)
	}
	if err := c.CheckInputs(); err != nil {
		t.Fatal(err)
	}
}

func TestOSRelease(t *testing.T) {
	old := "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nIMAGE_VERSION=old\n"
	got, err := OSRelease(old, "supernode-appliance", "1.2.3")
	want := "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nIMAGE_ID=supernode-appliance\nIMAGE_VERSION=1.2.3\n"
	if err != nil || got != want {
		t.Fatalf("OSRelease = %q, %v; want %q", got, err, want)
	}
	if _, err := OSRelease(old, "x", "1.0\nEVIL=1"); err == nil {
		t.Fatal("a version with a newline was accepted")
	}
}

// After CloseInheritedFDs a descriptor inherited without close-on-exec has
// it (Packer hands plugins fds 3-5 that way).
func TestCloseInheritedFDs(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := CloseInheritedFDs(); err != nil {
		t.Fatal(err)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("fd %d flags %#x, %v: not close-on-exec", fd, flags, err)
	}
}

// A tool killed by SIGINT (Ctrl-C reaches the whole process group before
// Packer cancels the plugin) is a cancellation, not a failure.
func TestInterruptedToolIsCancellation(t *testing.T) {
	cmd := exec.Command("sh", "-c", "kill -INT $$")
	_, err := capture(context.Background(), cmd, "sh")
	if !interrupted(err) {
		t.Fatalf("%v: not seen as interrupted", err)
	}
	if interrupted(exec.Command("false").Run()) {
		t.Fatal("exit 1 seen as interrupted")
	}
}
