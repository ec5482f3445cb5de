package hardening

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// liveUnitCaps reads the bounding and effective sets of the unit's running
// processes (found by cgroup) from /proc/<pid>/status.
func liveUnitCaps(t *Target, unit string, allowed map[string]bool) []Evidence {
	var ev []Evidence
	pids, _ := filepath.Glob(filepath.Join(t.Proc, "[0-9]*"))
	for _, pd := range pids {
		cg, err := os.ReadFile(filepath.Join(pd, "cgroup"))
		if err != nil || !strings.Contains(string(cg), "/"+unit) {
			continue
		}
		// systemd's own child between fork and exec is named "(name)" and
		// still holds the manager's capabilities; only the service counts.
		if comm, _ := os.ReadFile(filepath.Join(pd, "comm")); strings.HasPrefix(string(comm), "(") {
			continue
		}
		st, err := os.ReadFile(filepath.Join(pd, "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(st), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || (k != "CapBnd" && k != "CapEff") {
				continue
			}
			mask, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			var have, extra []string
			for i, name := range allCaps {
				if mask&(1<<uint(i)) != 0 {
					have = append(have, name)
					if !allowed[name] {
						extra = append(extra, name)
					}
				}
			}
			ev = append(ev, Evidence{Where: filepath.Join(pd, "status"), Found: fmt.Sprintf("%s %s", k, strings.Join(have, " ")),
				Expected: "within allowed set", OK: len(extra) == 0})
		}
	}
	return ev
}
