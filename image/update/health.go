package update

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
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
			switch st := states[u]; {
			case st.active == "active":
			case st.active == "failed", st.active == "inactive":
				// inactive after the boot transaction reached this
				// unit (we are ordered after them all): it was never
				// started, or it stopped.
				return fmt.Errorf("%s is %s", u, st.active)
			case st.restarts >= MaxRestarts:
				// Restart=always with a slow start (an emulated
				// machine) never reaches the start limit: a unit
				// that keeps failing would hold the gate to its
				// deadline.
				return fmt.Errorf("%s restarted %d times without becoming ready (%s)", u, st.restarts, st.active)
			default:
				waiting = append(waiting, u+" "+st.active)
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

// MaxRestarts: a serving unit restarted this often during the boot is not
// going to become ready (a healthy one starts once).
const MaxRestarts = 3

type unitState struct {
	active   string
	restarts int
}

// unitStates asks systemd for each unit's ActiveState and NRestarts.
func unitStates(ctx context.Context, systemctl string, units []string) (map[string]unitState, error) {
	args := append([]string{"show", "--property=Id,ActiveState,NRestarts", "--"}, units...)
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, systemctl, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s show %s: %v: %s", systemctl, strings.Join(units, " "), err, strings.TrimSpace(stderr.String()))
	}
	return parseUnitStates(string(out)), nil
}

// parseUnitStates reads systemctl show's blocks (one per unit, separated
// by blank lines).
func parseUnitStates(out string) map[string]unitState {
	states := map[string]unitState{}
	for _, block := range strings.Split(strings.TrimSpace(out), "\n\n") {
		var id string
		var st unitState
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "Id="); ok {
				id = v
			} else if v, ok := strings.CutPrefix(line, "ActiveState="); ok {
				st.active = v
			} else if v, ok := strings.CutPrefix(line, "NRestarts="); ok {
				st.restarts, _ = strconv.Atoi(v)
			}
		}
		if id != "" {
			states[id] = st
		}
	}
	return states
}
