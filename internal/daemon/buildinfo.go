package daemon

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is the supernode_build_info gauge every daemon exports (always
// 1): the version, the source commit the Go toolchain recorded, and the
// dm-verity root hash the running appliance booted with, so a scrape tells
// which image and build answer.
func BuildInfo(cmdline string) prometheus.Collector {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "supernode_build_info",
		Help: "Always 1; labels name the build's version, source commit and the root hash the appliance booted with.",
		ConstLabels: prometheus.Labels{
			"version": Version, "commit": commit, "root_hash": RootHash(cmdline),
		},
	})
	g.Set(1)
	return g
}

// RootHash is the roothash= (or usrhash=) of a kernel command line, "" when
// there is none (a daemon run outside the appliance).
func RootHash(cmdline string) string {
	hash := ""
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "roothash="); ok {
			hash = v // the kernel and systemd take the last one
		}
	}
	return hash
}

// procCmdline is the kernel command line: /proc/cmdline, or, where the
// unit's ProcSubset=pid hides it, the copy systemd hands over as the
// credential kernel-cmdline (LoadCredential=kernel-cmdline:/proc/cmdline,
// read by the service manager outside the sandbox).
func procCmdline() string {
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		return string(b)
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "kernel-cmdline")); err == nil {
			return string(b)
		}
	}
	return ""
}
