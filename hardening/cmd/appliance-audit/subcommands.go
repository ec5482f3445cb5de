package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/supernode-appliance/appliance/hardening"
)

// subcommands are the verbs besides the audit itself (which takes flags
// only). Each parses its own flags; the work is in package hardening.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"coverage": runCoverage,
	"oscal":    runOSCAL,
}

const coverageUsage = `Usage: appliance-audit coverage [--markdown] [--no-open] [--json FILE]

Prints, for each reference the profile cites (CIS Debian 12 v1.1.0, KSPP as
kernel-hardening-checker lists it, systemd-analyze security, the STIG rules
cited), how many of its items are implemented, documented exceptions, not
applicable or open, with percentages, then every open item.
`

func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("coverage", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	markdown := fs.Bool("markdown", false, "")
	noOpen := fs.Bool("no-open", false, "")
	jsonOut := fs.String("json", "", "")
	if code, done := parseSub(fs, args, coverageUsage, stdout, stderr); done {
		return code
	}
	c, err := hardening.DefaultCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit coverage: %v\n", err)
		return 2
	}
	if *jsonOut != "" {
		if err := writeFileAtomic(*jsonOut, c.WriteCoverageJSON); err != nil {
			fmt.Fprintf(stderr, "appliance-audit coverage: %v\n", err)
			return 2
		}
	}
	if *markdown {
		c.WriteCoverageMarkdown(stdout)
		return 0
	}
	c.WriteCoverageText(stdout, !*noOpen)
	return 0
}

// parseSub parses a subcommand's flags; done means return code now.
func parseSub(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0, true
		}
		fmt.Fprintf(stderr, "appliance-audit %s: %v; see --help\n", fs.Name(), err)
		return 2, true
	}
	return 0, false
}

const oscalUsage = `Usage:
  appliance-audit oscal component-definition [--profile FILE] [-o FILE]
  appliance-audit oscal assessment-results --report REPORT.json [-o FILE]

component-definition: the appliance as an OSCAL 1.1.1 component definition:
the profile's controls, and the NIST SP 800-53 rev5 controls they reach
through the CIS recommendations they implement.
assessment-results: an audit report (appliance-audit --json) as OSCAL 1.1.1
assessment results: one observation and one finding per control.
Writes to stdout unless -o is given. SOURCE_DATE_EPOCH, if set, is the
component definition's last-modified time.
`

func runOSCAL(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "component-definition" && args[0] != "assessment-results") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprint(stdout, oscalUsage)
			return 0
		}
		fmt.Fprintln(stderr, "appliance-audit oscal: say component-definition or assessment-results; see oscal --help")
		return 2
	}
	kind := args[0]
	fs := flag.NewFlagSet("oscal "+kind, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "")
	profile := fs.String("profile", "", "")
	report := fs.String("report", "", "")
	if code, done := parseSub(fs, args[1:], oscalUsage, stdout, stderr); done {
		return code
	}
	var write func(io.Writer) error
	switch kind {
	case "component-definition":
		p, err := loadProfile(*profile)
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit oscal: %v\n", err)
			return 2
		}
		c, err := hardening.DefaultCatalog()
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit oscal: %v\n", err)
			return 2
		}
		modified := time.Now()
		if sde := os.Getenv("SOURCE_DATE_EPOCH"); sde != "" {
			var secs int64
			if _, err := fmt.Sscan(sde, &secs); err != nil {
				fmt.Fprintf(stderr, "appliance-audit oscal: SOURCE_DATE_EPOCH=%q is not a number of seconds\n", sde)
				return 2
			}
			modified = time.Unix(secs, 0)
		}
		write = func(w io.Writer) error { return hardening.WriteOSCALComponentDefinition(w, p, c, modified) }
	case "assessment-results":
		if *report == "" {
			fmt.Fprintln(stderr, "appliance-audit oscal assessment-results: give the audit's JSON report with --report FILE (from appliance-audit --json FILE)")
			return 2
		}
		f, err := os.Open(*report)
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit oscal: %v\n", err)
			return 2
		}
		rep, err := hardening.ReadReport(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit oscal: %s: %v\n", *report, err)
			return 2
		}
		write = rep.WriteOSCALAssessmentResults
	}
	if err := writeTo(*out, stdout, write); err != nil {
		fmt.Fprintf(stderr, "appliance-audit oscal: %v\n", err)
		return 2
	}
	return 0
}

// writeTo writes to a file (atomically) or, without a path, to stdout.
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	return writeFileAtomic(path, write)
}
