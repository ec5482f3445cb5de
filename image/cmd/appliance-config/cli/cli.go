// Package cli is command appliance-config, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/supernode-appliance/appliance/image/confpart"
	"github.com/supernode-appliance/appliance/image/credstore"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

func Main() {
	var cfg confpart.Config
	fs := flag.NewFlagSet("appliance-config", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&cfg.Dir, "dir", confpart.DefaultMountDir, "the configuration partition, mounted read-only")
	fs.StringVar(&cfg.KeyFile, "key", confpart.KeyPath, "the configuration-signing public key; when the file exists only configuration it signed is accepted")
	fs.StringVar(&cfg.CredStore, "credstore", credstore.DefaultCredStore, "credential store to write")
	fs.StringVar(&cfg.LastGood, "last-good", confpart.DefaultLastGood, "the last accepted configuration, imported when the partition's is bad (\"\" disables)")
	noShadow := fs.Bool("no-shadow", false, "do not consult the system credential stores (tests)")
	fs.BoolVar(&cfg.RequireMount, "require-mount", true, "the -dir must be a mount point (false for tests on a plain directory)")
	daemon.ParseFlags(fs, os.Args[1:], func(w io.Writer) {
		fmt.Fprintln(w, "usage: appliance-config [flags]\n\nImport the allowlisted systemd credentials of appliance.conf on the\nconfiguration partition into the credential store.")
	})
	if *version {
		fmt.Println("appliance-config", daemon.Version)
		return
	}
	if *noShadow {
		cfg.ShadowDirs = []string{}
	}
	cfg.Allowlist = credstore.Allowlist
	r, err := confpart.Run(cfg)
	from := " from " + r.File
	if r.FellBack {
		from = " from the last good configuration"
	}
	signed := ""
	if r.Signed != "" && !r.FellBack {
		signed = " (signature by " + r.Signed + " verified)"
	}
	credstore.Report(os.Stderr, "appliance-config", r.Outcomes, from+signed)
	if err != nil {
		fmt.Fprintf(os.Stderr, "appliance-config: %v\n", err)
		os.Exit(1)
	}
	if r.NoData {
		fmt.Fprintf(os.Stderr, "appliance-config: no settings on the configuration partition; the built-in configuration serves\n")
	}
}
