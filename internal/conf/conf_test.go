package conf

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type mgmt struct {
	Metrics netip.AddrPort `conf:"metrics_listen"`
}

type sample struct {
	Listen   []netip.AddrPort `conf:"listen"`
	MaxPeers int              `conf:"max_peers"`
	Lease    time.Duration    `conf:"lease"`
	Debug    bool             `conf:"debug"`
	Name     string           `conf:"name"`
	Blocked  []netip.Prefix   `conf:"blocklist"`
	Ports    []uint16         `conf:"ports"`
	mgmt
	Mgmt mgmt
}

func (s *sample) Validate() error {
	if s.MaxPeers < 1 {
		return errors.New("max_peers must be at least 1")
	}
	return nil
}

func TestParseAllTypes(t *testing.T) {
	s := sample{MaxPeers: 10, Name: "default"}
	doc := `
# comment
listen = 0.0.0.0:3478, [::]:3478   # trailing comment
max_peers = 0x10
lease = 90s
debug = true
blocklist = 10.0.0.0/8, 2001:db8::/32
ports = 3478,9100
metrics_listen = 127.0.0.1:9100
`
	if err := Parse(&s, strings.NewReader(doc), "test"); err != nil {
		t.Fatal(err)
	}
	if len(s.Listen) != 2 || s.Listen[1].Port() != 3478 || !s.Listen[1].Addr().Is6() {
		t.Errorf("listen = %v", s.Listen)
	}
	if s.MaxPeers != 16 || s.Lease != 90*time.Second || !s.Debug || s.Name != "default" {
		t.Errorf("got %+v", s)
	}
	if len(s.Blocked) != 2 || len(s.Ports) != 2 || s.Ports[1] != 9100 {
		t.Errorf("lists: %v %v", s.Blocked, s.Ports)
	}
	if s.Mgmt.Metrics.Port() != 9100 {
		t.Errorf("nested struct key not set: %v", s.Mgmt)
	}
}

func TestErrorsNameLineAndKey(t *testing.T) {
	cases := map[string]string{
		"lisen = 1.2.3.4:1":   `line 1: unknown key "lisen"`,
		"max_peers = many":    `line 1: bad value for "max_peers"`,
		"\n\nlease = forever": `line 3: bad value for "lease"`,
		"just words":          `line 1: expected "key = value"`,
		"ports = 70000":       `bad value for "ports": list item 1`,
		"listen = nonsense":   `bad value for "listen"`,
	}
	for doc, want := range cases {
		var s sample
		err := Parse(&s, strings.NewReader(doc), "x.conf")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", doc, err, want)
		}
	}
}

func TestLoadFileCredentialsAndValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sn.conf")
	os.WriteFile(file, []byte("max_peers = 5\nname = file\n"), 0o644)
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "sn.conf"), []byte("name = credfile\nlease = 1m\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "sn.max_peers"), []byte("7\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "sn.unrelated-secret"), []byte("xx"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", creds)

	s := sample{MaxPeers: 1}
	if err := Load(&s, "sn", file, true); err != nil {
		t.Fatal(err)
	}
	if s.MaxPeers != 7 || s.Name != "credfile" || s.Lease != time.Minute {
		t.Errorf("overlay order wrong: %+v", s)
	}

	os.WriteFile(filepath.Join(creds, "sn.max_peers"), []byte("0"), 0o600)
	err := Load(&sample{}, "sn", file, true)
	if err == nil || !strings.Contains(err.Error(), "max_peers must be at least 1") {
		t.Errorf("validation not applied: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	s := sample{MaxPeers: 3}
	if err := Load(&s, "sn", "/nonexistent/sn.conf", false); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	err := Load(&s, "sn", "/nonexistent/sn.conf", true)
	if err == nil || !strings.Contains(err.Error(), "cannot read config file") {
		t.Errorf("required missing file: %v", err)
	}
}

// A key set twice in one document is an error naming both lines; a value
// a parser rejects is described, never the parser's own error text.
func TestDuplicatesAndValueTexts(t *testing.T) {
	var s sample
	err := Parse(&s, strings.NewReader("max_peers = 1\n\nmax_peers = 2\n"), "x.conf")
	if err == nil || err.Error() != `x.conf line 3: "max_peers" is already set on line 1; keep one of the two lines` {
		t.Errorf("duplicate key: %v", err)
	}
	for doc, want := range map[string]string{
		"metrics_listen = 1.2.3.4": `x.conf line 1: bad value for "metrics_listen": "1.2.3.4" is not an address and port`,
		"blocklist = 10.0.0.0/33":  `x.conf line 1: bad value for "blocklist": list item 1: "10.0.0.0/33" is not an address with a prefix length`,
	} {
		err := Parse(&sample{}, strings.NewReader(doc), "x.conf")
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "Parse") {
			t.Errorf("%q: %v, want %q...", doc, err, want)
		}
	}
}

// A value that parses but fails validation is reported with the file and
// line (or credential) that set the key.
func TestValidationErrorsNameWhere(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	file := filepath.Join(dir, "sn.conf")
	os.WriteFile(file, []byte("name = x\n# comment\nmax_peers = 0\n"), 0o644)
	err := Load(&sample{}, "sn", file, true)
	if err == nil || err.Error() != file+" line 3: max_peers must be at least 1" {
		t.Errorf("file: %v", err)
	}
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "sn.max_peers"), []byte("0"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	err = Load(&sample{MaxPeers: 5}, "sn", "", false)
	if err == nil || err.Error() != "systemd credential sn.max_peers: max_peers must be at least 1" {
		t.Errorf("credential: %v", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	err = Load(&sample{}, "sn", "", false)
	if err == nil || !strings.Contains(err.Error(), "max_peers is at its default") {
		t.Errorf("default: %v", err)
	}
}
