// Command appliance builds, boots and inspects the supernode appliance image
// without Packer, from the same HCL template `packer build` reads.
//
//	appliance build [-out DIR] [-keep-work] [-var NAME=VALUE] [-var-file FILE] [TEMPLATE]
//	appliance boot [-accel kvm|tcg|auto] [-secure-boot [-vars FILE]] [-config FILE] [-credential NAME=VALUE] [-credential-via fw_cfg|smbios] [TEMPLATE|IMAGE]
//	appliance inspect IMAGE
//	appliance verify [-key PUB.asc] DIR
//	appliance keygen PREFIX
//	appliance update-bundle [-key KEY.asc] [-out DIR] [-image RAW] BUILD_DIR
//	appliance configure IMAGE|DEVICE [--set NAME=VALUE]... [--sign-key KEY.asc] [--show]
//	appliance --version
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
	"strings"
	"syscall"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/internal/version"
)

const defaultTemplate = "image/appliance.pkr.hcl"

const usage = `usage: appliance <command> [flags] [args]

Commands:
  build [-out DIR] [-keep-work] [-var NAME=VALUE]... [-var-file FILE]... [TEMPLATE]
        build the image described by TEMPLATE (default ` + defaultTemplate + `);
        artifacts go to DIR (default: the template's output_dir); -var,
        -var-file and PKR_VAR_<name> set the template's variables as in Packer
  boot [-accel kvm|tcg|auto] [-mem MB] [-port N] [-secure-boot [-vars FILE]]
       [-config FILE]... [-credential NAME=VALUE]... [-credential-via fw_cfg|smbios] [TEMPLATE|IMAGE]
        boot the built image under QEMU with OVMF, serial console on stdout;
        UDP port N on the host forwards to the supernode (3478); -secure-boot
        enforces Secure Boot (Microsoft's keys unless -vars names a variable
        store, e.g. OVMF_VARS_4M.snakeoil.fd for Debian's test key);
        -config (lines NAME=VALUE, '#' comments, \n \t \\ escapes in values)
        and -credential pass systemd credentials (supernode.*, supernode-xdp.*,
        network.network.*, ...) by fw_cfg (default) or SMBIOS type 11
  inspect IMAGE
        print the partitions, the UKI command line and the manifest of IMAGE
  verify [-key PUB.asc] DIR
        check a build output: SHA256SUMS.gpg against the operator's key,
        every file against SHA256SUMS, the provenance and the SBOM
  keygen [-name NAME] [-email ADDR] PREFIX
        write a new operator signing key: PREFIX.asc (signing_key) and PREFIX.pub.asc
  update-bundle [-key KEY.asc] [-out DIR] [-image RAW] BUILD_DIR
        write the signed update bundle of a build (default BUILD_DIR/update/):
        root and verity payloads, the UKI, manifest, SBOMs, SHA256SUMS and
        SHA256SUMS.gpg by KEY (the build's signing_key); builds write one too
  configure IMAGE|DEVICE [--set NAME=VALUE]... [--unset NAME]... [--config FILE] [--sign-key KEY.asc] [--show]
        edit appliance.conf on the image's configuration partition (a raw
        image file or the disk it was written to; needs mtools): every
        NAME must be on the credential allowlist; --sign-key signs it for
        images built with config_signing_key; --show prints it
  --version
        print the version

Exit status: 0 success, 1 failure, 2 usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	log.SetOutput(io.Discard) // the SDK's BasicUi echoes every line to the log
	// The tools the build runs must not inherit our descriptors (see
	// builder.CloseInheritedFDs); a CI runner may hand us some.
	builder.CloseInheritedFDs()
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
	case "configure":
		err = cmdConfigure(args[1:], stdout)
	case "update-bundle":
		err = cmdUpdateBundle(ctx, args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "appliance", version.Version)
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
	opts := builder.TemplateOptions{Vars: map[string]string{}}
	fs.Func("var", "set a template variable: NAME=VALUE (repeatable)", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return fmt.Errorf("want NAME=VALUE, got %q", s)
		}
		opts.Vars[name] = value
		return nil
	})
	fs.Func("var-file", "read template variables from an HCL file (repeatable)", func(s string) error {
		opts.VarFiles = append(opts.VarFiles, s)
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	tmpl := defaultTemplate
	if fs.NArg() == 1 {
		tmpl = fs.Arg(0)
	}
	b, warnings, err := builder.LoadTemplateWith(tmpl, opts)
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
