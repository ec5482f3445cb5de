// Package cli is command appliance-update, made a package so that
// appliance-multicall links it too. The command's documentation is on
// package main, one directory up.
package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/image/install"
	"github.com/supernode-appliance/appliance/image/update"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

// errNothingToDo: the bundle holds the running version.
var errNothingToDo = errors.New("nothing to do")

func Main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "health":
			os.Exit(health(os.Args[2:]))
		case "with-esp":
			os.Exit(withESP(os.Args[2:]))
		case "on-boot-disk":
			os.Exit(onBootDisk(os.Args[2:]))
		case "install":
			os.Exit(installCmd(os.Args[2:]))
		}
	}
	fs := flag.NewFlagSet("appliance-update", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and exit")
	keyPath := fs.String("key", update.OperatorKeyPath, "the operator's public key (in the verified root)")
	minVersion := fs.String("min-version", "", "refuse bundles older than this (default: the running IMAGE_VERSION)")
	osRelease := fs.String("os-release", "/usr/lib/os-release", "os-release naming the running version")
	work := fs.String("work", "/var/lib/appliance-update", "where the private staging copy is made")
	esp := fs.String("esp", "auto", `the mounted EFI system partition (the UKI goes to its /EFI/Linux); "auto" mounts the one the loader booted from (needs a private mount namespace: PrivateMounts=yes)`)
	sysupdate := fs.String("sysupdate", update.Sysupdate, "systemd-sysupdate")
	definitions := fs.String("definitions", "", "sysupdate.d directory (default: sysupdate's own search path)")
	check := fs.Bool("check", false, "verify and stage only, install nothing")
	media := fs.Bool("media", false, "SOURCE is a block device (a USB stick) with the bundle in its root: mounted read-only, privately")
	reboot := fs.Bool("reboot", false, "reboot into the new version once it is installed")
	fromCreds := fs.Bool("from-credentials", false, "SOURCE is the appliance-update.url credential, the server's CA the appliance-update.ca credential (appliance-update-url.service)")
	// The appliance's command-line contract (internal/daemon.ParseFlags),
	// plus the one SOURCE argument: --help on stdout with exit 0, a bad
	// flag or a missing or extra argument one line on stderr with exit 2.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Println("usage: appliance-update [flags] SOURCE\n       appliance-update health\n       appliance-update with-esp COMMAND [ARG...]\n\nVerify the update bundle at SOURCE (a directory, an https:// URL, or with\n-media a block device) and install it into the inactive slot with\nsystemd-sysupdate. health is the boot health gate; with-esp runs COMMAND\nwith the ESP the loader booted from mounted on $SYSTEMD_ESP_PATH.")
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
	var client *http.Client
	if *fromCreds {
		src, c, err := credentialSource(os.Getenv("CREDENTIALS_DIRECTORY"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "appliance-update:", err)
			os.Exit(2)
		}
		if fs.NArg() != 0 {
			fmt.Fprintln(os.Stderr, "appliance-update: -from-credentials takes no SOURCE; see appliance-update --help")
			os.Exit(2)
		}
		fs.Parse(append(os.Args[1:], src))
		client = c
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "appliance-update: give one SOURCE, the bundle's directory, an https:// URL or (with -media) a device; see appliance-update --help")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := options{src: fs.Arg(0), keyPath: *keyPath, minVersion: *minVersion, osRelease: *osRelease, work: *work,
		esp: *esp, sysupdate: *sysupdate, definitions: *definitions, check: *check, media: *media, client: client}
	err = run(ctx, o)
	switch {
	case errors.Is(err, errNothingToDo):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "appliance-update:", err)
		os.Exit(1)
	}
	if *reboot && !*check {
		fmt.Println("appliance-update: rebooting into the new version")
		if out, err := exec.Command("systemctl", "--no-block", "reboot").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "appliance-update: installed, but the reboot failed (%v: %s); it runs after the next reboot\n", err, out)
			os.Exit(1)
		}
	}
}

type options struct {
	src, keyPath, minVersion, osRelease, work, esp, sysupdate, definitions string
	check, media                                                           bool
	client                                                                 *http.Client
}

func run(ctx context.Context, o options) error {
	key, err := update.ReadKey(o.keyPath)
	if err != nil {
		return fmt.Errorf("%v; this image accepts no updates (build it with signing_key)", err)
	}
	running, _ := update.RunningVersion(o.osRelease)
	if o.minVersion == "" {
		o.minVersion = running
	}
	if o.media {
		dir, unmount, err := mountTemp("appliance-update-media-", func(dir string) error { return update.MountMedia(o.src, dir) })
		if err != nil {
			return err
		}
		defer unmount()
		o.src = dir
	}
	var ukis []update.UKI
	if o.esp == "auto" && !o.check {
		dir, unmount, err := mountTemp("appliance-update-esp-", func(dir string) error { return update.MountESP(update.EFIVars, dir) })
		if err != nil {
			return err
		}
		defer unmount()
		o.esp = dir
	}
	if !o.check {
		// Never replace the only proven version while the running one is
		// still on trial: if both failed, nothing good would be left.
		trial, file, err := update.OnTrial(update.EFIVars, o.esp)
		if err != nil {
			return err
		}
		if trial {
			return fmt.Errorf("the running version %s is still on trial (%s carries its boot counter); install after its boot passed the health gate (boot-complete.target)", running, file)
		}
		if ukis, err = update.UKIs(o.esp); err != nil {
			return fmt.Errorf("the ESP at %s: %v", o.esp, err)
		}
	}
	accept := func(v string) error {
		if v == running && !o.check {
			fmt.Printf("appliance-update: the bundle holds %s, the running version; nothing to do\n", v)
			return errNothingToDo
		}
		for _, u := range ukis {
			if u.Version == v && u.Bad() {
				return fmt.Errorf("version %s already failed its boot health gate on this appliance (%s on the ESP has no tries left) and the appliance went back to %s; refused, build a fixed version", v, u.Name, running)
			}
		}
		return nil
	}
	st, err := update.Stage(ctx, o.src, update.Options{Key: key, MinVersion: o.minVersion, WorkDir: o.work, Accept: accept, Client: o.client})
	if err != nil {
		return err
	}
	defer st.Remove()
	fmt.Printf("appliance-update: bundle %s verified: version %s (running %s), signed by %s\n", o.src, st.Payloads.Version, running, st.Signer)
	if o.check {
		return nil
	}
	out, err := update.Apply(ctx, st, o.sysupdate, o.definitions, o.esp)
	os.Stdout.Write(out)
	if err != nil {
		return err
	}
	fmt.Printf("appliance-update: version %s installed into the inactive slot; it runs after the next reboot\n", st.Payloads.Version)
	return nil
}

// mountTemp mounts something (the stick, the ESP) on a new temporary
// directory; the returned func unmounts it and removes the directory.
func mountTemp(prefix string, mount func(dir string) error) (string, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if err := mount(dir); err != nil {
		os.Remove(dir)
		return "", nil, err
	}
	return dir, func() {
		unix.Unmount(dir, unix.MNT_DETACH)
		os.Remove(dir)
	}, nil
}

// credentialSource reads the update URL (appliance-update.url, https://
// only) and the CA that signs its server's certificate (appliance-update.ca,
// PEM; the appliance carries no CA bundle) from the credentials directory.
func credentialSource(dir string) (string, *http.Client, error) {
	if dir == "" {
		return "", nil, errors.New("-from-credentials: no $CREDENTIALS_DIRECTORY (run it from appliance-update-url.service, which imports appliance-update.*)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "appliance-update.url"))
	if err != nil {
		return "", nil, errors.New("appliance-update.url is not set; give the https:// URL of the bundle's directory")
	}
	raw := strings.TrimSpace(string(b))
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, " \t\n") {
		return "", nil, fmt.Errorf("appliance-update.url=%q: give an https:// URL of the bundle's directory, without credentials, query or fragment", raw)
	}
	pem, err := os.ReadFile(filepath.Join(dir, "appliance-update.ca"))
	if err != nil {
		return "", nil, errors.New("appliance-update.ca is not set; give the PEM certificate of the CA that signed the update server's certificate (the appliance carries no CA bundle)")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return "", nil, errors.New("appliance-update.ca holds no PEM certificate; give the CA certificate of the update server")
	}
	client := &http.Client{
		Timeout:   30 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: nil},
	}
	return raw, client, nil
}

// health is the boot health gate (appliance-health.service, required by
// boot-complete.target): systemd-bless-boot marks the booted version good
// only after it passed.
func health(args []string) int {
	fs := flag.NewFlagSet("appliance-update health", flag.ContinueOnError)
	deadline := fs.Duration("deadline", update.DefaultHealth.Deadline, "how long to wait for the services")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o := update.DefaultHealth
	o.Deadline = *deadline
	err := update.Health(context.Background(), o)
	if err == nil {
		fmt.Println("appliance-update: health gate passed: supernode READY, XDP attached, live audit green")
		return 0
	}
	trial, file, _ := update.OnTrial(update.EFIVars, "")
	if trial {
		fmt.Fprintf(os.Stderr, "appliance-update: health gate failed: %v; this version is on trial (%s): rebooting, the loader falls back to the previous version once its tries are used\n", err, file)
		return 1
	}
	fmt.Fprintf(os.Stderr, "appliance-update: health gate failed: %v; this boot is not on trial, so there is nothing to fall back to: not rebooting\n", err)
	return 3
}

// withESP mounts the ESP the loader booted from on $SYSTEMD_ESP_PATH and
// runs the command there (systemd-bless-boot's drop-in): the unit's
// PrivateMounts=yes keeps the mount out of everyone else's sight.
func withESP(args []string) int {
	dir := os.Getenv("SYSTEMD_ESP_PATH")
	if len(args) == 0 || dir == "" || !filepath.IsAbs(dir) {
		fmt.Fprintln(os.Stderr, "appliance-update: with-esp needs SYSTEMD_ESP_PATH (an absolute directory) and a command; see appliance-update --help")
		return 2
	}
	if err := update.MountESP(update.EFIVars, dir); err != nil {
		fmt.Fprintln(os.Stderr, "appliance-update:", err)
		return 1
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "appliance-update:", err)
		return 1
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintln(os.Stderr, "appliance-update: exec", path+":", err)
	return 1
}

// onBootDisk is the udev helper of 61-appliance-boot-disk.rules: exit 0
// when the partition (kernel name) is on the disk the loader booted from.
func onBootDisk(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "appliance-update: on-boot-disk takes one kernel device name (vda7)")
		return 2
	}
	ok, err := update.OnBootDisk(update.EFIVars, "/sys/class/block", "/dev", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "appliance-update:", err)
		return 2
	}
	if !ok {
		return 1
	}
	return 0
}

// installCmd copies the appliance from the disk it booted from (the
// install stick) to an empty disk (appliance-install.service). The target
// and force come from the arguments or the appliance-install.target and
// appliance-install.force credentials.
func installCmd(args []string) int {
	fs := flag.NewFlagSet("appliance-update install", flag.ContinueOnError)
	force := fs.Bool("force", false, "overwrite a disk that is not empty")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	target := fs.Arg(0)
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		if target == "" {
			b, _ := os.ReadFile(filepath.Join(dir, "appliance-install.target"))
			target = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(filepath.Join(dir, "appliance-install.force")); err == nil {
			switch v := strings.TrimSpace(string(b)); v {
			case "1", "yes", "true":
				*force = true
			case "0", "no", "false", "":
			default:
				fmt.Fprintf(os.Stderr, "appliance-install: appliance-install.force=%q: give 1 or 0\n", v)
				return 2
			}
		}
	}
	if target == "" {
		fmt.Fprintln(os.Stderr, "appliance-install: no target: set appliance-install.target to a disk (/dev/nvme0n1) or auto (the one empty disk)")
		return 2
	}
	if target != "auto" && (!filepath.IsAbs(target) || !strings.HasPrefix(filepath.Clean(target), "/dev/")) {
		fmt.Fprintf(os.Stderr, "appliance-install: appliance-install.target=%q: give a disk under /dev or auto\n", target)
		return 2
	}
	esp, err := update.LoaderESP(update.EFIVars)
	if err == nil {
		esp, err = filepath.EvalSymlinks(esp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "appliance-install: cannot tell which disk this appliance booted from:", err)
		return 1
	}
	src, err := install.DiskOf("/sys/class/block", esp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "appliance-install:", err)
		return 1
	}
	o := install.Options{Source: src, Target: target, Force: *force, Progress: os.Stdout, SysBlock: "/sys/class/block"}
	if o.Target, err = install.PickTarget(o); err != nil {
		fmt.Fprintln(os.Stderr, "appliance-install:", err)
		return 1
	}
	fmt.Printf("appliance-install: installing from %s to %s\n", o.Source, o.Target)
	if err := install.Install(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "appliance-install:", err)
		return 1
	}
	fmt.Printf("appliance-install: done; powering off: remove the install medium and boot from %s\n", o.Target)
	return 0
}
