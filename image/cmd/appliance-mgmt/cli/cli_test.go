package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad configuration stops the daemon before it listens, with one line;
// an empty one leaves it off (exit 0, nothing bound).
func TestServeRefusesHalfConfigured(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		text, want string
		code       int
	}{
		{"", "", 0},
		{"management_listen = 127.0.0.1:0\n", "management_allow is empty", 1},
		{"management_listen = 127.0.0.1:0\nmanagement_allow = 127.0.0.0/8\nmanagement_tls_cert = " + dir + "/missing.pem\nmanagement_tls_key = " + dir + "/missing.key\n", "management_tls_cert: cannot read", 1},
		{"management_listen = 127.0.0.1:0\nmanagement_allow = 0.0.0.0/0\n", "large part of the internet", 1},
		{"management_listn = 127.0.0.1:0\n", `unknown key "management_listn"`, 1},
	} {
		path := filepath.Join(dir, "c.conf")
		os.WriteFile(path, []byte(tc.text), 0o600)
		var out, errb bytes.Buffer
		t.Setenv("CREDENTIALS_DIRECTORY", "")
		code := run([]string{"serve", "-config", path}, &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code != tc.code || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(out.String(), "listening") {
			t.Errorf("config %q: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", tc.text, code, msg, out.String(), tc.code, tc.want)
		}
	}
	var errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &bytes.Buffer{}, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: %d %q", code, errb.String())
	}
}

// The firewall step reads the supernode's credentials the supernode reads:
// supernode.fleet_bind and supernode.fleet_allow from $CREDENTIALS_DIRECTORY.
func TestFirewallReadsCredentials(t *testing.T) {
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, "supernode.fleet_bind"), []byte("10.9.0.1:7946\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "supernode.fleet_allow"), []byte("10.9.0.0/24\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "appliance-mgmt.management_listen"), []byte("0.0.0.0:9443"), 0o600)
	os.WriteFile(filepath.Join(creds, "appliance-mgmt.management_allow"), []byte("192.0.2.0/28"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	var out, errb bytes.Buffer
	empty := filepath.Join(creds, "empty.conf")
	os.WriteFile(empty, nil, 0o600)
	if code := run([]string{"firewall", "-dry-run", "-supernode-config", empty, "-config", empty}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"add element inet filter fleet4 { 10.9.0.0/24 }", "add element inet filter mgmt4 { 192.0.2.0/28 }", "udp_ports = 7946, 7947", "tcp_ports = 7946, 9443"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
}

// The firewall step is given appliance-mgmt.log_target alone (not log_ca,
// see appliance-firewall.service): a TLS collector on a private network
// still gets its one address into the XDP overlay's allow_bogons, and a
// bad log_target adds nothing.
func TestFirewallAcceptsTheLogCollector(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"tls://10.0.2.2:6514", "allow_bogons = 10.0.2.2/32\n"},
		{"udp://[fd00::5]:514", "allow_bogons = fd00::5/128\n"},
		{"tls://collector.example:6514", ""},
	} {
		creds := t.TempDir()
		os.WriteFile(filepath.Join(creds, "appliance-mgmt.log_target"), []byte(tc.target), 0o600)
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		empty := filepath.Join(creds, "empty.conf")
		os.WriteFile(empty, nil, 0o600)
		var out, errb bytes.Buffer
		if code := run([]string{"firewall", "-dry-run", "-supernode-config", empty, "-config", empty}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.target, code, errb.String())
		}
		got := out.String()
		if tc.want == "" && strings.Contains(got, "allow_bogons") || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: dry run:\n%s", tc.target, got)
		}
	}
}
