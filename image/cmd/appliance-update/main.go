// Command appliance-update installs an update bundle into the inactive
// A/B slot, after checking it (image/update): SHA256SUMS.gpg against the
// operator key in the verified root, every payload's sha256, the names,
// and the version against the running one (no downgrades). Only the
// verified private copy is handed to systemd-sysupdate
// (--transfer-source=DIR); the next boot runs the new version.
//
//	appliance-update [-key FILE] [-min-version V] [-work DIR] [-esp DIR] [-check] SOURCE
//
// SOURCE is the bundle's directory (a mounted USB stick) or an https://
// URL of one. Exit status: 0 installed (or, with -check, verified); 1
// refused or failed (one sentence on stderr, nothing installed, the
// staging copy removed); 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/supernode-appliance/appliance/image/update"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

func main() {
	fs := flag.NewFlagSet("appliance-update", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and exit")
	keyPath := fs.String("key", update.OperatorKeyPath, "the operator's public key (in the verified root)")
	minVersion := fs.String("min-version", "", "refuse bundles older than this (default: the running IMAGE_VERSION)")
	osRelease := fs.String("os-release", "/usr/lib/os-release", "os-release naming the running version")
	work := fs.String("work", "/var/lib/appliance-update", "where the private staging copy is made")
	esp := fs.String("esp", "/efi", "the mounted EFI system partition (the UKI goes to its /EFI/Linux)")
	sysupdate := fs.String("sysupdate", update.Sysupdate, "systemd-sysupdate")
	definitions := fs.String("definitions", "", "sysupdate.d directory (default: sysupdate's own search path)")
	check := fs.Bool("check", false, "verify and stage only, install nothing")
	// The appliance's command-line contract (internal/daemon.ParseFlags),
	// plus the one SOURCE argument: --help on stdout with exit 0, a bad
	// flag or a missing or extra argument one line on stderr with exit 2.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Println("usage: appliance-update [flags] SOURCE\n\nVerify the update bundle at SOURCE (a directory or an https:// URL) and\ninstall it into the inactive slot with systemd-sysupdate.")
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return
	case err != nil:
		fmt.Fprintf(os.Stderr, "appliance-update: %v; see appliance-update --help\n", err)
		os.Exit(2)
	}
	if *version {
		fmt.Println("appliance-update", daemon.Version)
		return
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "appliance-update: give one SOURCE, the bundle's directory or an https:// URL; see appliance-update --help")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, fs.Arg(0), *keyPath, *minVersion, *osRelease, *work, *esp, *sysupdate, *definitions, *check); err != nil {
		fmt.Fprintln(os.Stderr, "appliance-update:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, src, keyPath, minVersion, osRelease, work, esp, sysupdate, definitions string, check bool) error {
	key, err := update.ReadKey(keyPath)
	if err != nil {
		return fmt.Errorf("%v; this image accepts no updates (build it with signing_key)", err)
	}
	running, _ := update.RunningVersion(osRelease)
	if minVersion == "" {
		minVersion = running
	}
	st, err := update.Stage(ctx, src, update.Options{Key: key, MinVersion: minVersion, WorkDir: work})
	if err != nil {
		return err
	}
	defer st.Remove()
	fmt.Printf("appliance-update: bundle %s verified: version %s (running %s), signed by %s\n", src, st.Payloads.Version, running, st.Signer)
	if check {
		return nil
	}
	out, err := update.Apply(ctx, st, sysupdate, definitions, esp)
	os.Stdout.Write(out)
	if err != nil {
		return err
	}
	fmt.Printf("appliance-update: version %s installed into the inactive slot; it runs after the next reboot\n", st.Payloads.Version)
	return nil
}
