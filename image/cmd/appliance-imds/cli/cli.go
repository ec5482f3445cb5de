// Package cli is command appliance-imds, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/supernode-appliance/appliance/image/credstore"
	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

func Main() {
	var cfg imds.Config
	flag := flag.NewFlagSet("appliance-imds", flag.ContinueOnError)
	version := flag.Bool("version", false, "print the version and exit")
	flag.StringVar(&cfg.SysRoot, "sys-root", "/", "root under which "+imds.DMIDir+" is read (tests)")
	flag.StringVar(&cfg.BaseURL, "base-url", imds.DefaultBaseURL, "metadata service base URL (tests)")
	flag.StringVar(&cfg.CredStore, "credstore", imds.DefaultCredStore, "credential store to write")
	flag.DurationVar(&cfg.Timeout, "timeout", imds.DefaultTimeout, "total time for the metadata service, retries included")
	stateDir := flag.String("state-dir", imds.DefaultStateDir, "where to mark daemons that must restart to read what was imported")
	flag.StringVar(&cfg.LastGood, "last-good", imds.DefaultLastGood, "the last accepted document, imported when the user data is bad or unreachable (\"\" disables)")
	noShadow := flag.Bool("no-shadow", false, "do not consult the system credential stores (tests)")
	daemon.ParseFlags(flag, os.Args[1:], func(w io.Writer) {
		fmt.Fprintln(w, "usage: appliance-imds [flags]\n\nOn AWS, GCP or Azure (recognised from DMI), import the allowlisted systemd\ncredentials in the instance's user data into the credential store; elsewhere do nothing.")
	})
	if *version {
		fmt.Println("appliance-imds", daemon.Version)
		return
	}
	if *noShadow {
		cfg.ShadowDirs = []string{}
	}
	cfg.Allowlist = imds.Allowlist
	r, err := imds.Run(context.Background(), cfg)
	from := ""
	if r.FellBack {
		from = " from the last good document"
	}
	credstore.Report(os.Stderr, "appliance-imds", r.Outcomes, from)
	// "<daemon>.imported" tells appliance-imds-restart@<daemon>.service
	// (ConditionPathExists=) that a running daemon has new credentials.
	// Also after a failure that imported the last good document instead.
	for _, d := range imds.Consumers(r.Outcomes) {
		merr := os.MkdirAll(*stateDir, 0o755)
		if merr == nil {
			merr = os.WriteFile(filepath.Join(*stateDir, d+".imported"), nil, 0o644)
		}
		if merr != nil && err == nil {
			err = fmt.Errorf("cannot mark %s for a restart: %v", d, merr)
		}
	}
	if err != nil {
		fail(err)
	}
	switch {
	case r.Platform == imds.None:
		fmt.Fprintf(os.Stderr, "appliance-imds: not a recognised cloud (DMI vendor %q); nothing to do\n", r.Vendor)
	case r.NoData:
		fmt.Fprintf(os.Stderr, "appliance-imds: %s instance has no user data; nothing to do\n", r.Platform)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "appliance-imds: %v\n", err)
	os.Exit(1)
}
