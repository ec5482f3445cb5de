package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/supernode-appliance/appliance/hardening"
)

// subcommands are the verbs besides the audit itself (which takes flags
// only). Each parses its own flags; the work is in package hardening.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"coverage": runCoverage,
	"oscal":    runOSCAL,
	"diff":     runDiff,
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

const diffUsage = `Usage: appliance-audit diff [--markdown] [--json FILE] [--profile FILE] OLD NEW

OLD and NEW are both profiles (*.hcl), both audit reports (*.json, from
--json), or both images (*.raw, *.qcow2: each is audited, read-only, against
the embedded profile or --profile, and the results compared). Lists controls
added, removed, changed in setting or severity (profiles) and verdicts that
changed (reports, images), regressions first. --markdown writes a release
notes section.

Exit status: 0 no difference, 1 differences, 2 usage or setup error.
`

func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	markdown := fs.Bool("markdown", false, "")
	jsonOut := fs.String("json", "", "")
	profile := fs.String("profile", "", "")
	if code, done := parseSub(fs, args, diffUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "appliance-audit diff: give two profiles, two reports or two images: diff OLD NEW; see diff --help")
		return 2
	}
	oldPath, newPath := fs.Arg(0), fs.Arg(1)
	kind := diffKind(oldPath)
	if k := diffKind(newPath); k != kind {
		fmt.Fprintf(stderr, "appliance-audit diff: %s is a %s but %s is a %s; compare like with like\n", oldPath, kind, newPath, k)
		return 2
	}
	d := &hardening.Diff{}
	switch kind {
	case "profile":
		a, err := hardening.Load(oldPath)
		if err == nil {
			var b *hardening.Profile
			if b, err = hardening.Load(newPath); err == nil {
				d.Profile = hardening.DiffProfiles(a, b)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
	case "report":
		a, err := readReportFile(oldPath)
		if err == nil {
			var b *hardening.Report
			if b, err = readReportFile(newPath); err == nil {
				d.Results = hardening.DiffReports(a, b)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
	case "image":
		p, err := loadProfile(*profile)
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if d, err = hardening.DiffImages(ctx, p, oldPath, newPath); err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
	}
	if *jsonOut != "" {
		if err := writeFileAtomic(*jsonOut, d.WriteJSON); err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
	}
	if *markdown {
		d.WriteMarkdown(stdout)
	} else {
		d.WriteText(stdout)
	}
	if d.Empty() {
		return 0
	}
	return 1
}

func diffKind(path string) string {
	switch filepath.Ext(path) {
	case ".hcl":
		return "profile"
	case ".json":
		return "report"
	}
	return "image"
}

func readReportFile(path string) (*hardening.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := hardening.ReadReport(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
