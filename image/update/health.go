package update

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/supernode-appliance/appliance/hardening"
)

// HealthOptions say what a healthy boot is.
type HealthOptions struct {
	// Serving units must reach "active": supernode (Type=notify, so active
	// means it sent READY=1) and supernode-xdp (active once the program is
	// attached to every configured interface).
	Serving []string
	// Audit is the live audit's unit; once it has run, Report is read and
	// must have no failing or unverifiable control (net-xdp-attached among
	// them: XDP on every uplink).
	Audit  string
	Report string
	// Deadline bounds the wait (emulated machines take minutes to READY).
	Deadline  time.Duration
	Poll      time.Duration
	Systemctl string
}

// DefaultHealth is the appliance's gate (appliance-health.service).
var DefaultHealth = HealthOptions{
	Serving:   []string{"supernode.service", "supernode-xdp.service"},
	Audit:     "appliance-audit.service",
	Report:    "/run/appliance-audit/report.json",
	Deadline:  10 * time.Minute,
	Poll:      2 * time.Second,
	Systemctl: "systemctl",
}

// Health waits for every serving unit and the audit, and returns nil when
// the boot is healthy, or one sentence saying what is not.
func Health(ctx context.Context, o HealthOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	units := append(append([]string(nil), o.Serving...), o.Audit)
	for {
		states, err := unitStates(ctx, o.Systemctl, units)
		if err != nil {
			return err
		}
		var waiting []string
		for _, u := range units {
			switch s := states[u]; s {
			case "active":
			case "failed", "inactive":
				// inactive after the boot transaction reached this
				// unit (we are ordered after them all): it was never
				// started, or it stopped.
				return fmt.Errorf("%s is %s", u, s)
			default:
				waiting = append(waiting, u+" "+s)
			}
		}
		if len(waiting) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy within %s: %s", o.Deadline, strings.Join(waiting, ", "))
		case <-time.After(o.Poll):
		}
	}
	f, err := os.Open(o.Report)
	if err != nil {
		return fmt.Errorf("the live audit left no report: %v", err)
	}
	defer f.Close()
	rep, err := hardening.ReadReport(f)
	if err != nil {
		return fmt.Errorf("the live audit's report %s: %v", o.Report, err)
	}
	if rep.Mode != "live" {
		return fmt.Errorf("%s is a %q audit, not the live one", o.Report, rep.Mode)
	}
	if rep.Failed() {
		var bad []string
		for _, r := range rep.Results {
			if r.Status == hardening.Fail || r.Status == hardening.Error {
				bad = append(bad, r.Control+" ("+string(r.Status)+")")
			}
		}
		sort.Strings(bad)
		return fmt.Errorf("the live audit failed: %s", strings.Join(bad, ", "))
	}
	return nil
}

// unitStates asks systemd for each unit's ActiveState.
func unitStates(ctx context.Context, systemctl string, units []string) (map[string]string, error) {
	args := append([]string{"show", "--property=Id,ActiveState", "--"}, units...)
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, systemctl, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s show %s: %v: %s", systemctl, strings.Join(units, " "), err, strings.TrimSpace(stderr.String()))
	}
	states := map[string]string{}
	// Blocks separated by blank lines, in the order asked.
	for _, block := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		var id, state string
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "Id="); ok {
				id = v
			} else if v, ok := strings.CutPrefix(line, "ActiveState="); ok {
				state = v
			}
		}
		if id != "" {
			states[id] = state
		}
	}
	return states, nil
}
