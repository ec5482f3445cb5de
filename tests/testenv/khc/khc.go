// Package khc runs kernel-hardening-checker for the tests (tests/kernel on
// the built configuration and command line, tests/image on a booted
// appliance's sysctls). Apart from testenv, which hardening's own tests
// import.
package khc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/kernel"
	"github.com/supernode-appliance/appliance/image/tools"
)

// Result is one row of kernel-hardening-checker -m json.
type Result struct {
	Option  string `json:"option_name"`
	Type    string `json:"type"` // kconfig, cmdline, sysctl
	Desired string `json:"desired_val"`
	Result  string `json:"check_result"`
	OK      bool   `json:"check_result_bool"`
}

// Input is what kernel-hardening-checker reads: a kernel configuration
// (-c), a command line (-l) and `sysctl -a` output (-s); empty ones are
// left out.
type Input struct {
	Config  []byte
	Cmdline string
	Sysctl  string
}

// HardenedKernel is the hardened kernel of the host's mirror from the
// shared cache (after an image build of it, a cache hit): its config and
// the build tree kernel-hardening-checker runs in.
func HardenedKernel(t testing.TB) kernel.Result {
	t.Helper()
	mirror, err := tools.HostMirror("/etc/apt")
	if err != nil {
		t.Fatal(err)
	}
	res, err := kernel.Build(context.Background(), builder.DefaultCacheDir, kernel.Inputs{Mirror: mirror}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Run runs kernel-hardening-checker (from trixie-backports, installed in
// the hardened kernel's build tree) in tree on in.
func Run(t testing.TB, tree string, in Input) []Result {
	t.Helper()
	work := t.TempDir()
	var args []string
	for _, f := range []struct {
		flag, name string
		body       []byte
	}{{"-c", "config", in.Config}, {"-l", "cmdline", []byte(in.Cmdline)}, {"-s", "sysctl", []byte(in.Sysctl)}} {
		if len(f.body) == 0 {
			continue
		}
		p := filepath.Join(work, f.name)
		if err := os.WriteFile(p, append(f.body, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f.flag, p)
	}
	out, err := tools.Run(context.Background(), tree, []string{work}, append(append([]string{"kernel-hardening-checker"}, args...), "-m", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Result
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("kernel-hardening-checker json: %v: %.300s", err, out)
	}
	return rows
}

// Exception returns the profile control that documents a FAIL as an
// exception: its check is the row's type (kconfig, cmdline, sysctl), its
// settings name the option, and it has an exception block.
func Exception(p *hardening.Profile, r Result) string {
	for _, c := range p.Controls {
		if c.Exception == nil || c.Check != r.Type {
			continue
		}
		if _, ok := c.Settings[r.Option]; ok {
			return c.ID
		}
	}
	return ""
}

// Counts is "kconfig N OK / M FAIL, cmdline ..." for the types present.
func Counts(rows []Result) string {
	counts := map[string][2]int{}
	for _, r := range rows {
		c := counts[r.Type]
		if r.OK {
			c[0]++
		} else {
			c[1]++
		}
		counts[r.Type] = c
	}
	var out []string
	for _, k := range []string{"kconfig", "cmdline", "sysctl"} {
		if c, ok := counts[k]; ok {
			out = append(out, fmt.Sprintf("%s %d OK / %d FAIL", k, c[0], c[1]))
		}
	}
	return strings.Join(out, ", ")
}
