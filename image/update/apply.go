package update

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Sysupdate is systemd-sysupdate in the image (package systemd-container).
const Sysupdate = "/usr/lib/systemd/systemd-sysupdate"

// Apply hands a staged (verified) bundle to systemd-sysupdate: `update
// VERSION` with --transfer-source=DIR, so sysupdate reads nothing but the
// verified copies. esp is the mounted ESP (SYSTEMD_ESP_PATH) where the UKI
// transfer writes. sysupdate writes the empty (or older) slot and the UKI
// last; the next boot picks the new version.
func Apply(ctx context.Context, st *Staged, sysupdate, definitions, esp string) ([]byte, error) {
	args := []string{"--no-pager", "--transfer-source=" + st.Dir}
	if definitions != "" {
		args = append(args, "--definitions="+definitions)
	}
	args = append(args, "update", st.Payloads.Version)
	cmd := exec.CommandContext(ctx, sysupdate, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_ESP_PATH="+esp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s update %s failed (%v): %s", sysupdate, st.Payloads.Version, err, lastLine(string(out)))
	}
	return out, nil
}

// RunningVersion is IMAGE_VERSION of the running system's os-release.
func RunningVersion(osRelease string) (string, error) {
	f, err := os.Open(osRelease)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "IMAGE_VERSION="); ok {
			return strings.Trim(v, `"'`), nil
		}
	}
	return "", fmt.Errorf("%s has no IMAGE_VERSION", osRelease)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
