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
