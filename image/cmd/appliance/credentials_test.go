package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testAllow = []string{"supernode.*", "supernode-xdp.*", "network.network.*", "network.netdev.*", "network.link.*"}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "vm1.creds", "# fleet member 1\r\n\n"+
		"supernode.software = edge-1 \n"+
		"  supernode.fleet_seeds=10.0.0.11:7946, 10.0.0.12:7946\n"+
		"network.network.10-uplink = [Match]\\nType=ether\\n[Network]\\nAddress=10.0.0.11/24\n"+
		"supernode.fleet_key = YWJj=\n"+
		"supernode.empty =\n"+
		"supernode-xdp.conf = a\\\\b\\tc\n")
	smbios, fwcfg, err := resolveCredentials(credentialFlags{files: []string{f}, args: []string{"supernode.software=edge-2", "supernode.lease=1m"}}, "fw_cfg", testAllow)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"supernode.software":        "edge-2", // -credential wins over -config
		"supernode.fleet_seeds":     "10.0.0.11:7946, 10.0.0.12:7946",
		"network.network.10-uplink": "[Match]\nType=ether\n[Network]\nAddress=10.0.0.11/24",
		"supernode.fleet_key":       "YWJj=", // '=' after the first belongs to the value
		"supernode.empty":           "",
		"supernode-xdp.conf":        "a\\b\tc",
		"supernode.lease":           "1m",
	}
	if smbios != nil || len(fwcfg) != len(want) {
		t.Fatalf("smbios %q fwcfg %q", smbios, fwcfg)
	}
	for k, v := range want {
		if fwcfg[k] != v {
			t.Errorf("%s = %q, want %q", k, fwcfg[k], v)
		}
	}
	smbios, fwcfg, err = resolveCredentials(credentialFlags{args: []string{"supernode.software=x"}}, "smbios", testAllow)
	if err != nil || fwcfg != nil || smbios["supernode.software"] != "x" {
		t.Fatalf("smbios: %q %q %v", smbios, fwcfg, err)
	}
	if s, f, err := resolveCredentials(credentialFlags{}, "fw_cfg", testAllow); s != nil || f != nil || err != nil {
		t.Fatalf("no credentials: %v %v %v", s, f, err)
	}
}

// Every mistake is one sentence that names the problem and the fix.
func TestResolveCredentialsHostile(t *testing.T) {
	dir := t.TempDir()
	long := "supernode." + strings.Repeat("x", 40)
	for _, c := range []struct {
		name string
		file string // contents of a -config file, if any
		args []string
		via  string
		want string
	}{
		{"no equals in file", "supernode.software\n", nil, "fw_cfg", `line 1: "supernode.software" is not NAME=VALUE; write`},
		{"no name", " = x\n", nil, "fw_cfg", "is not NAME=VALUE"},
		{"no equals flag", "", []string{"supernode.software"}, "fw_cfg", `-credential "supernode.software" is not NAME=VALUE`},
		{"not allowlisted", "", []string{"journal.forward_to_socket=10.0.2.2:9"}, "fw_cfg", `"journal.forward_to_socket" is not on the image's credential allowlist (supernode.* supernode-xdp.*`},
		{"unit dropin", "systemd.unit-dropin.supernode.service=[Service]\n", nil, "smbios", "not on the image's credential allowlist"},
		{"path", "", []string{"supernode.../../x=1"}, "fw_cfg", "is not a plain file name"},
		{"control char", "", []string{"supernode.a\tb=1"}, "fw_cfg", "outside printable ASCII"},
		{"bad escape", "supernode.conf = a\\qb\n", nil, "fw_cfg", `line 1: credential "supernode.conf": unknown escape \q`},
		{"lone backslash", "", []string{`supernode.conf=a\`}, "fw_cfg", "lone"},
		{"dup in file", "supernode.lease=1m\nsupernode.lease=2m\n", nil, "fw_cfg", "sets supernode.lease on lines 1 and 2; keep one"},
		{"dup flag", "", []string{"supernode.lease=1m", "supernode.lease=2m"}, "fw_cfg", "given twice"},
		{"bad via", "", []string{"supernode.lease=1m"}, "cdrom", `-credential-via "cdrom" is not a channel; use fw_cfg or smbios`},
		{"long for fw_cfg", "", []string{long + "=1"}, "fw_cfg", "use -credential-via smbios"},
		{"nul for smbios", "", []string{"supernode.conf=a\x00b"}, "smbios", "NUL byte"},
		{"too big", "supernode.conf=" + strings.Repeat("x", 1<<20+1) + "\n", nil, "fw_cfg", "more than systemd's limit"},
	} {
		cf := credentialFlags{args: c.args}
		if c.file != "" {
			cf.files = []string{writeFile(t, dir, "c.creds", c.file)}
		}
		_, _, err := resolveCredentials(cf, c.via, testAllow)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	// The long name is fine by SMBIOS.
	if _, _, err := resolveCredentials(credentialFlags{args: []string{long + "=1"}}, "smbios", testAllow); err != nil {
		t.Errorf("long name by SMBIOS: %v", err)
	}
	if _, _, err := resolveCredentials(credentialFlags{files: []string{filepath.Join(dir, "missing")}}, "fw_cfg", testAllow); err == nil ||
		!strings.Contains(err.Error(), "cannot be read") || !strings.Contains(err.Error(), "give a readable file") {
		t.Errorf("missing file: %v", err)
	}
}

// `appliance boot` refuses bad credentials with exit 2 and one line,
// before it looks for the image or starts QEMU; --help lists the flags.
func TestBootCredentialFlags(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, dir, "disk.raw", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"boot", "-credential", "systemd.extra-unit.x.service=[Unit]", img}, "is not on the image's credential allowlist"},
		{[]string{"boot", "-credential", "supernode.software", img}, "is not NAME=VALUE"},
		{[]string{"boot", "-config", filepath.Join(dir, "nope"), img}, "cannot be read"},
		{[]string{"boot", "-credential-via", "floppy", "-credential", "supernode.software=x", img}, "is not a channel"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "appliance: ") || !strings.Contains(lines[0], c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, errb.String(), c.want)
		}
	}
}

func TestBootHelpListsCredentialFlags(t *testing.T) {
	// --help prints the usage on os.Stdout (parse); the usage text is
	// what it prints.
	for _, f := range []string{"-config FILE", "-credential NAME=VALUE", "-credential-via fw_cfg|smbios"} {
		if !strings.Contains(usage, f) {
			t.Errorf("usage lacks %s", f)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"boot", "--help"}, &out, &errb); code != 0 {
		t.Errorf("boot --help: exit %d: %s", code, errb.String())
	}
}
