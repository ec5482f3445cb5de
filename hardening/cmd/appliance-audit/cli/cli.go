// Package cli is command appliance-audit, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

const usage = `Usage:
  appliance-audit --image PATH.raw|PATH.qcow2 (--manifest FILE | --root-hash HEX) [--cert FILE] [--debug] [options]
  appliance-audit --live [options]

Checks every control of the hardening profile and prints a summary
(failures first). Offline, the audit trusts what the operator gives, never
the image: the UKI must carry exactly the expected root hash (and, with a
manifest, exactly the published command line), and the root is verified
against that hash before anything else is read.

Image options:
  --manifest FILE  the builder's manifest.json: expected root hash and UKI command line
  --root-hash HEX  the expected dm-verity root hash
  --cert FILE      verify the UKI's Authenticode signature with this certificate (PEM or DER)
  --debug          the image is a debug image (debug exemptions apply); without it an
                   image whose stamp says "debug" fails
Options:
  --profile FILE   profile to audit against (default: the embedded profile)
  --json FILE      write the full report as JSON
  --sarif FILE     write SARIF 2.1.0
  --junit FILE     write JUnit XML
  --html FILE      write a self-contained HTML page (charts, every control with
                   its evidence; nothing is loaded from the network)
  --metrics FILE   write Prometheus text-format metrics (node_exporter textfile)
                   FILE "-" is stdout (one report at most; the summary then
                   goes to stderr); regular files are replaced atomically,
                   devices and pipes (/dev/stdout) are written in place
  --verbose        list passing controls too
  --print-profile  print the embedded profile and exit
  --version        print the version and exit

Exit status: 0 all controls pass or are documented exceptions, 1 a control
failed or could not be checked, 2 usage or setup error.
`

func Main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("appliance-audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	image := fs.String("image", "", "")
	live := fs.Bool("live", false, "")
	manifest := fs.String("manifest", "", "")
	rootHash := fs.String("root-hash", "", "")
	certPath := fs.String("cert", "", "")
	debug := fs.Bool("debug", false, "")
	profile := fs.String("profile", "", "")
	jsonOut := fs.String("json", "", "")
	sarifOut := fs.String("sarif", "", "")
	junitOut := fs.String("junit", "", "")
	htmlOut := fs.String("html", "", "")
	metricsOut := fs.String("metrics", "", "")
	verbose := fs.Bool("verbose", false, "")
	printProfile := fs.Bool("print-profile", false, "")
	version := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "appliance-audit: %v; see --help\n", err)
		return 2
	}
	switch {
	case *version:
		fmt.Fprintln(stdout, "appliance-audit", daemon.Version)
		return 0
	case *printProfile:
		stdout.Write(hardening.DefaultSource())
		return 0
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "appliance-audit: unexpected argument %q; pass the image with --image PATH\n", fs.Arg(0))
		return 2
	case (*image == "") == !*live:
		fmt.Fprintln(stderr, "appliance-audit: give exactly one of --image PATH or --live; see --help")
		return 2
	case *live && (*manifest != "" || *rootHash != "" || *certPath != "" || *debug):
		fmt.Fprintln(stderr, "appliance-audit: --manifest, --root-hash, --cert and --debug are for --image; see --help")
		return 2
	case *image != "" && (*manifest == "") == (*rootHash == ""):
		fmt.Fprintln(stderr, "appliance-audit: --image needs the expected root hash from you, not from the image: give exactly one of --manifest manifest.json or --root-hash HEX; see --help")
		return 2
	}
	summary := stdout // the text summary; stderr when a report takes stdout
	toStdout := 0
	for _, o := range []string{*jsonOut, *sarifOut, *junitOut, *htmlOut, *metricsOut} {
		if o == "-" {
			toStdout++
			summary = stderr
		}
	}
	if toStdout > 1 {
		fmt.Fprintln(stderr, "appliance-audit: only one report can go to stdout (-); write the others to files")
		return 2
	}
	p, err := loadProfile(*profile)
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var t *hardening.Target
	if *live {
		t, err = hardening.NewLiveTarget()
	} else {
		var o hardening.ImageOptions
		o, err = imageOptions(*manifest, *rootHash, *certPath, *debug)
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit: %v\n", err)
			return 2
		}
		var img *hardening.Image
		img, err = hardening.OpenImage(ctx, *image, o)
		if img != nil {
			defer func() {
				if err := img.Close(); err != nil {
					fmt.Fprintf(stderr, "appliance-audit: cleanup: %v\n", err)
				}
			}()
			t = img.Target
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit: %v\n", err)
		return 2
	}
	rep := p.Audit(t)
	rep.ToolVersion = daemon.Version
	if err := writeOutputs(rep, p, stdout, *jsonOut, *sarifOut, *junitOut, *htmlOut, *metricsOut); err != nil {
		fmt.Fprintf(stderr, "appliance-audit: %v\n", err)
		return 2
	}
	rep.WriteText(summary, *verbose)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "appliance-audit: interrupted")
		return 2
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

// imageOptions gathers what the operator says the image must be.
func imageOptions(manifest, rootHash, certPath string, debug bool) (hardening.ImageOptions, error) {
	o := hardening.ImageOptions{RootHash: rootHash, RootHashFrom: "--root-hash"}
	if manifest != "" {
		var err error
		if o, err = hardening.ManifestExpectations(manifest); err != nil {
			return o, err
		}
	}
	if certPath != "" {
		c, err := hardening.LoadCertificate(certPath)
		if err != nil {
			return o, err
		}
		o.Cert, o.CertFrom = c, certPath
	}
	o.Debug = debug
	return o, nil
}

func loadProfile(path string) (*hardening.Profile, error) {
	if path == "" {
		return hardening.Default()
	}
	return hardening.Load(path)
}

func writeOutputs(rep *hardening.Report, p *hardening.Profile, stdout io.Writer, jsonOut, sarifOut, junitOut, htmlOut, metricsOut string) error {
	outs := []struct {
		path  string
		write func(io.Writer) error
	}{
		{jsonOut, rep.WriteJSON},
		{sarifOut, func(w io.Writer) error { return rep.WriteSARIF(w, p) }},
		{junitOut, rep.WriteJUnit},
		{htmlOut, rep.WriteHTML},
		{metricsOut, rep.WriteMetrics},
	}
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if err := hardening.WriteReportFile(o.path, stdout, o.write); err != nil {
			return err
		}
	}
	return nil
}
