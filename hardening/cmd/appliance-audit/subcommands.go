package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/supernode-appliance/appliance/hardening"
)

// subcommands are the verbs besides the audit itself (which takes flags
// only). Each parses its own flags; the work is in package hardening.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"coverage": runCoverage,
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
