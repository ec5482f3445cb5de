package update_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/update"
)

// fakeSysupdate records its arguments, environment and the staged files it
// was shown.
func fakeSysupdate(t *testing.T) (bin, log string) {
	dir := t.TempDir()
	bin, log = filepath.Join(dir, "systemd-sysupdate"), filepath.Join(dir, "log")
	script := "#!/bin/sh\necho \"$@\" > " + log + "\necho \"ESP=$SYSTEMD_ESP_PATH\" >> " + log +
		"\nfor a; do case $a in --transfer-source=*) ls \"${a#--transfer-source=}\" >> " + log + ";; esac; done\n"
	os.WriteFile(bin, []byte(script), 0o755)
	return bin, log
}

func TestApplyHandsSysupdateOnlyTheVerifiedCopy(t *testing.T) {
	k := newKey(t)
	src := bundle(t, k, "1.2.0", nil)
	st, _, err := stage(t, pub(k), src, "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Remove()
	bin, log := fakeSysupdate(t)
	if _, err := update.Apply(context.Background(), st, bin, "/usr/lib/sysupdate.d", "/run/esp"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	got := string(b)
	for _, want := range []string{"--transfer-source=" + st.Dir + " ", "update 1.2.0", "ESP=/run/esp", update.RootName("1.2.0", rootUUID), update.UKIName("1.2.0")} {
		if !strings.Contains(got, want) {
			t.Errorf("sysupdate saw %q, lacks %q", got, want)
		}
	}
	if strings.Contains(got, src) {
		t.Errorf("sysupdate was shown the unverified source %s", src)
	}
}

func TestRunningVersion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "os-release")
	os.WriteFile(p, []byte("ID=debian\nIMAGE_ID=supernode-appliance\nIMAGE_VERSION=1.2.3\n"), 0o644)
	if v, err := update.RunningVersion(p); err != nil || v != "1.2.3" {
		t.Fatalf("%q %v", v, err)
	}
}
