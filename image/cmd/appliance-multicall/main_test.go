package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/builder"
)

func TestDispatch(t *testing.T) {
	for _, c := range []struct {
		argv     []string
		want     string // the command's argv[0], "" for none
		code     int
		out, err string
	}{
		{argv: []string{"/usr/bin/supernode", "-config", "x"}, want: "/usr/bin/supernode"},
		{argv: []string{"appliance-mgmt", "firewall"}, want: "appliance-mgmt"},
		{argv: []string{"/usr/bin/appliance-multicall", "supernode-xdp", "status"}, want: "supernode-xdp"},
		{argv: []string{"/usr/bin/appliance-multicall"}, code: 2, err: "usage:"},
		{argv: []string{"/usr/bin/appliance-multicall", "--help"}, out: "usage:"},
		{argv: []string{"/usr/bin/appliance-multicall", "--list"}, out: "appliance-audit\nappliance-config\n"},
		{argv: []string{"/usr/bin/appliance-multicall", "--version"}, out: "appliance-multicall "},
		{argv: []string{"/usr/bin/appliance-multicall", "--no-such-flag"}, code: 2, err: "appliance-multicall: unknown command"},
		{argv: []string{"/usr/bin/sh"}, code: 2, err: `unknown command "sh"`},
		{argv: []string{"/usr/bin/appliance-multicall", "appliance-multicall"}, code: 2, err: "unknown command"},
		{argv: []string{"/usr/bin/appliance-multicall", "../supernode"}, code: 2, err: "unknown command"},
		{argv: nil, code: 2, err: `unknown command ""`},
	} {
		var out, errb bytes.Buffer
		run, args, code := dispatch(c.argv, &out, &errb)
		if (run != nil) != (c.want != "") || code != c.code {
			t.Errorf("%q: command %v code %d; want %q code %d", c.argv, run != nil, code, c.want, c.code)
			continue
		}
		if c.want != "" && (len(args) == 0 || args[0] != c.want || args[len(args)-1] != c.argv[len(c.argv)-1]) {
			t.Errorf("%q: the command sees %q; want argv[0] %q", c.argv, args, c.want)
		}
		if !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.err) {
			t.Errorf("%q: stdout %q stderr %q; want %q and %q", c.argv, out.String(), errb.String(), c.out, c.err)
		}
	}
}

// TestLinksRunTheirCommand builds the binary and calls it through links
// named like the image's, as systemd does (argv[0] is the link's path).
func TestLinksRunTheirCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, Name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range names() {
		link := filepath.Join(dir, c)
		if err := os.Symlink(Name, link); err != nil {
			t.Fatal(err)
		}
		// Every command answers -h/--help with a usage naming itself.
		out, _ := exec.Command(link, "--help").CombinedOutput()
		if first := strings.SplitN(strings.ToLower(string(out)), "\n", 3); !strings.Contains(strings.Join(first[:min(2, len(first))], " "), "usage") || !strings.Contains(string(out), c+" ") {
			t.Errorf("%s --help through the link printed %q; want its own usage", c, out)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "supernode"), "-version").Output()
	if err != nil || !strings.HasPrefix(string(out), "supernode ") {
		t.Errorf("supernode -version: %q %v", out, err)
	}
	if err := os.Symlink(Name, filepath.Join(dir, "bash")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "bash"), "-c", "id")
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), `unknown command "bash"`) {
		t.Errorf("a link with another name ran: %q %v; want exit 2 and unknown command", out, err)
	}
}

// Every command the image links to this binary (builder.Commands, the
// update commands included) must be one it runs: a link it does not know
// would start nothing at boot.
func TestRunsEveryCommandTheImageLinks(t *testing.T) {
	for _, c := range builder.Commands {
		if _, ok := commands[c]; !ok {
			t.Errorf("the image links /usr/bin/%s to %s, which has no such command", c, Name)
		}
	}
	if len(commands) != len(builder.Commands) {
		t.Errorf("%s runs %v; the image links %v", Name, names(), builder.Commands)
	}
	if len(builder.Binaries) != 1 || builder.Binaries[0] != Name {
		t.Errorf("the image installs %v; want %s alone", builder.Binaries, Name)
	}
}
