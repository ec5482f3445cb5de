package hardening

import (
	"fmt"
	"io"
	"sort"
	"strconv"
)

// WriteMetrics writes Prometheus text exposition for the node_exporter
// textfile collector: a gauge per status, one per failing control, and the
// time of the run. The live audit unit writes it under /run so a scrape
// sees the boot-time result without another listener on the appliance.
func (r *Report) WriteMetrics(w io.Writer) error {
	fmt.Fprintln(w, "# HELP appliance_audit_controls Hardening controls by audit status.")
	fmt.Fprintln(w, "# TYPE appliance_audit_controls gauge")
	for _, s := range []Status{Pass, Fail, Exception, Error} {
		fmt.Fprintf(w, "appliance_audit_controls{mode=%q,profile_version=%q,status=%q} %d\n", r.Mode, r.ProfileVersion, s, r.Counts[s])
	}
	fmt.Fprintln(w, "# HELP appliance_audit_control_failed 1 for each control that failed or could not be checked.")
	fmt.Fprintln(w, "# TYPE appliance_audit_control_failed gauge")
	for _, res := range r.Results {
		if res.Status == Fail || res.Status == Error {
			fmt.Fprintf(w, "appliance_audit_control_failed{control=%q,severity=%q,status=%q} 1\n", res.Control, res.Severity, res.Status)
		}
	}
	if len(r.Sysctls) > 0 {
		// As node_exporter's sysctl collector reports them: a fleet can
		// alert on drift, and kernel-hardening-checker can read them back
		// (tests/image feeds it these).
		fmt.Fprintln(w, "# HELP appliance_audit_sysctl The running kernel's value of each sysctl kernel-hardening-checker checks (KSPP catalog); absent when the kernel has none.")
		fmt.Fprintln(w, "# TYPE appliance_audit_sysctl gauge")
		names := make([]string, 0, len(r.Sysctls))
		for k := range r.Sysctls {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if _, err := strconv.ParseInt(r.Sysctls[k], 10, 64); err == nil {
				fmt.Fprintf(w, "appliance_audit_sysctl{name=%q} %s\n", k, r.Sysctls[k])
			}
		}
	}
	fmt.Fprintln(w, "# HELP appliance_audit_last_run_timestamp_seconds When the audit ran.")
	fmt.Fprintln(w, "# TYPE appliance_audit_last_run_timestamp_seconds gauge")
	_, err := fmt.Fprintf(w, "appliance_audit_last_run_timestamp_seconds %d\n", r.Started.Unix())
	return err
}
