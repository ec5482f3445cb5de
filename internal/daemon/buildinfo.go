package daemon

import (
	"os"
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

func procCmdline() string {
	b, _ := os.ReadFile("/proc/cmdline")
	return string(b)
}
