// Command appliance builds, boots and inspects the supernode appliance image
// without Packer, from the same HCL template `packer build` reads.
//
//	appliance build [-out DIR] [TEMPLATE]
//	appliance boot [-accel kvm|tcg|auto] [TEMPLATE|IMAGE]
//	appliance inspect IMAGE
//	appliance verify [-key PUB.asc] DIR
//	appliance keygen PREFIX
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/supernode-appliance/appliance/image/builder"
)

const defaultTemplate = "image/appliance.pkr.hcl"

const usage = `usage: appliance <command> [flags] [args]

Commands:
  build [-out DIR] [-keep-work] [TEMPLATE]
        build the image described by TEMPLATE (default ` + defaultTemplate + `);
        artifacts go to DIR (default: the template's output_dir)
  boot [-accel kvm|tcg|auto] [-mem MB] [-port N] [TEMPLATE|IMAGE]
        boot the built image under QEMU with OVMF, serial console on stdout;
        UDP port N on the host forwards to the supernode (3478)
  inspect IMAGE
        print the partitions, the UKI command line and the manifest of IMAGE
  verify [-key PUB.asc] DIR
        check a build output: SHA256SUMS.gpg against the operator's key,
        every file against SHA256SUMS, the provenance and the SBOM
  keygen [-name NAME] [-email ADDR] PREFIX
        write a new operator signing key: PREFIX.asc (signing_key) and PREFIX.pub.asc

Exit status: 0 success, 1 failure, 2 usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	log.SetOutput(io.Discard) // the SDK's BasicUi echoes every line to the log
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "build":
		err = cmdBuild(ctx, args[1:], stdout, stderr)
	case "boot":
		err = cmdBoot(ctx, args[1:], stdout, stderr)
	case "inspect":
		err = cmdInspect(args[1:], stdout)
	case "verify":
		err = cmdVerify(args[1:], stdout)
	case "keygen":
		err = cmdKeygen(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "appliance: unknown command %q; run 'appliance --help'\n", args[0])
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "appliance: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "appliance: %v\n", err)
		return 1
	}
}

type usageError struct{ error }

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("appliance "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors in one line
	// Flag errors are one line; the full usage is for --help.
	fs.Usage = func() {}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stdout, usage)
			return err
		}
		return usageError{fmt.Errorf("%v; run 'appliance --help'", err)}
	}
	if fs.NArg() > 1 {
		return usageError{fmt.Errorf("expected at most one argument, got %q", fs.Args())}
	}
	return nil
}

func cmdBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", stderr)
	out := fs.String("out", "", "output directory (overrides output_dir)")
	keep := fs.Bool("keep-work", false, "keep the work directory (debugging)")
	if err := parse(fs, args); err != nil {
		return err
	}
	tmpl := defaultTemplate
	if fs.NArg() == 1 {
		tmpl = fs.Arg(0)
	}
	b, warnings, err := builder.LoadTemplate(tmpl)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		b.Config().OutputDir = *out
	}
	b.Config().KeepWorkDir = b.Config().KeepWorkDir || *keep
	ui := newUI(stdout, stderr)
	_, err = b.Run(ctx, ui, nil)
	return err
}
