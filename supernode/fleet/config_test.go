package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/internal/conf"
)

// TestConfigThroughConf: the fleet block loads through the one config
// loader, embedded in a daemon's config, with the key from the systemd
// credential supernode.fleet_key rather than the file.
func TestConfigThroughConf(t *testing.T) {
	type daemon struct {
		Listen string `conf:"listen"`
		Fleet  Config
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "supernode.conf")
	os.WriteFile(file, []byte(`listen = :3478
fleet_bind = 10.0.0.11:7946
fleet_seeds = 10.0.0.11:7946, 10.0.0.12:7946
fleet_probe_interval = 2s
`), 0o600)
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	key := newKey(t)
	os.WriteFile(filepath.Join(creds, "supernode.fleet_key"), []byte(key+"\n"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", creds)

	cfg := daemon{Fleet: DefaultConfig()}
	if err := conf.Load(&cfg, "supernode", file, true); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Fleet.Validate(); err != nil {
		t.Fatal(err)
	}
	f := cfg.Fleet
	if !f.Enabled() || f.Bind.String() != "10.0.0.11:7946" || len(f.Seeds) != 2 || f.ProbeInterval != 2*time.Second {
		t.Fatalf("loaded %+v", f)
	}
	if len(f.Keys) != 1 || f.Keys[0] != key {
		t.Fatalf("key from the credential: %q", f.Keys)
	}
	if f.Replicas != DefaultReplicas || f.dataPort() != 7947 {
		t.Fatalf("defaults lost: replicas %d, data port %d", f.Replicas, f.dataPort())
	}

	// A typo is one sentence naming the key.
	os.WriteFile(file, []byte("fleet_seed = 10.0.0.1:7946\n"), 0o600)
	err := conf.Load(&daemon{Fleet: DefaultConfig()}, "supernode", file, true)
	if err == nil || !strings.Contains(err.Error(), `unknown key "fleet_seed"`) {
		t.Fatalf("typo: %v", err)
	}
}
