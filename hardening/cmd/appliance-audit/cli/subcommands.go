package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"html":     runHTML,
	"diff":     runDiff,
	"attest":   runAttest,
	"verify":   runVerify,
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
		if err := hardening.WriteReportFile(*jsonOut, stdout, c.WriteCoverageJSON); err != nil {
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

const htmlUsage = `Usage: appliance-audit html --report REPORT.json [-o FILE]

Turns an audit's JSON report (--json, or /run/appliance-audit/report.json
on the appliance) into the same self-contained HTML page as --html: counts,
charts by severity and by reference, every control with its evidence.
Without -o the page goes to stdout.
`

func runHTML(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("html", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	report := fs.String("report", "", "")
	out := fs.String("o", "", "")
	if code, done := parseSub(fs, args, htmlUsage, stdout, stderr); done {
		return code
	}
	if *report == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "appliance-audit html: give the audit's JSON report with --report FILE (from appliance-audit --json FILE)")
		return 2
	}
	f, err := os.Open(*report)
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit html: %v\n", err)
		return 2
	}
	rep, err := hardening.ReadReport(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit html: %s: %v\n", *report, err)
		return 2
	}
	if err := writeTo(*out, stdout, rep.WriteHTML); err != nil {
		fmt.Fprintf(stderr, "appliance-audit html: %v\n", err)
		return 2
	}
	return 0
}

// writeTo writes to a file (atomically) or, without a path, to stdout.
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	return hardening.WriteReportFile(path, stdout, write)
}

const diffUsage = `Usage: appliance-audit diff [--markdown] [--json FILE] [--profile FILE] [--old-manifest FILE --new-manifest FILE] OLD NEW

OLD and NEW are both profiles (*.hcl), both audit reports (*.json, from
--json), or both images (*.raw, *.qcow2: each is audited, read-only, against
the embedded profile or --profile and against its published manifest,
--old-manifest and --new-manifest, and the results compared). Lists controls
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
	oldManifest := fs.String("old-manifest", "", "")
	newManifest := fs.String("new-manifest", "", "")
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
		if *oldManifest == "" || *newManifest == "" {
			fmt.Fprintln(stderr, "appliance-audit diff: images are audited against what their publisher said, not what they say: give --old-manifest and --new-manifest; see diff --help")
			return 2
		}
		oldOpts, err := hardening.ManifestExpectations(*oldManifest)
		if err == nil {
			var newOpts hardening.ImageOptions
			if newOpts, err = hardening.ManifestExpectations(*newManifest); err == nil {
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				d, err = hardening.DiffImages(ctx, p, oldPath, oldOpts, newPath, newOpts)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit diff: %v\n", err)
			return 2
		}
	}
	if *jsonOut != "" {
		if err := hardening.WriteReportFile(*jsonOut, stdout, d.WriteJSON); err != nil {
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

const attestUsage = `Usage:
  appliance-audit attest --report REPORT.json --key OPERATOR.key (--image PATH | --image-sha256 HEX) [--profile FILE] [-o FILE]
  appliance-audit verify --pub OPERATOR.pub [--image PATH] [--require-pass] STATEMENT.json

attest signs an audit report as an in-toto Statement v1 whose predicate is a
SLSA verification summary (v1): subject the image and its sha256, policy the
profile version (and the sha256 of the profile file: --profile, else the
embedded one), result PASSED or FAILED, the dm-verity root hash and the
report's own sha256. The envelope is DSSE, signed with an Ed25519 key in
PKCS#8 PEM (openssl genpkey -algorithm ed25519 -out operator.key;
openssl pkey -in operator.key -pubout -out operator.pub).

verify checks the signature with the operator's public key, and with
--image that the statement is about that image; --require-pass also fails
a statement whose result is FAILED. Exit status: 0 verified, 1 not
verified, 2 usage or setup error.
`

func runAttest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("attest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	report := fs.String("report", "", "")
	keyPath := fs.String("key", "", "")
	image := fs.String("image", "", "")
	imageSHA := fs.String("image-sha256", "", "")
	profile := fs.String("profile", "", "")
	out := fs.String("o", "", "")
	if code, done := parseSub(fs, args, attestUsage, stdout, stderr); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "appliance-audit attest: "+format+"\n", a...)
		return 2
	}
	if *report == "" || *keyPath == "" || (*image == "") == (*imageSHA == "") {
		return fail("give --report, --key and one of --image or --image-sha256; see attest --help")
	}
	raw, err := os.ReadFile(*report)
	if err != nil {
		return fail("%v", err)
	}
	rep, err := hardening.ReadReport(bytesReader(raw))
	if err != nil {
		return fail("%s: %v", *report, err)
	}
	key, err := hardening.LoadPrivateKey(*keyPath)
	if err != nil {
		return fail("%v", err)
	}
	o := hardening.AttestOptions{ImageSHA256: *imageSHA, ImageName: rep.Target}
	if *image != "" {
		if o.ImageSHA256, err = hardening.ImageDigest(*image); err != nil {
			return fail("%v", err)
		}
		o.ImageName = filepath.Base(*image)
	}
	src := hardening.DefaultSource()
	if *profile != "" {
		if src, err = os.ReadFile(*profile); err != nil {
			return fail("%v", err)
		}
	}
	sum := sha256.Sum256(src)
	o.ProfileSHA256 = hex.EncodeToString(sum[:])
	st, err := hardening.NewStatement(rep, raw, o)
	if err != nil {
		return fail("%v", err)
	}
	env, err := st.Sign(key)
	if err != nil {
		return fail("%v", err)
	}
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(env)
	}
	if err := writeTo(*out, stdout, write); err != nil {
		return fail("%v", err)
	}
	return 0
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pubPath := fs.String("pub", "", "")
	image := fs.String("image", "", "")
	requirePass := fs.Bool("require-pass", false, "")
	if code, done := parseSub(fs, args, attestUsage, stdout, stderr); done {
		return code
	}
	if *pubPath == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "appliance-audit verify: give --pub OPERATOR.pub and one statement file; see verify --help")
		return 2
	}
	pub, err := hardening.LoadPublicKey(*pubPath)
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit verify: %v\n", err)
		return 2
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit verify: %v\n", err)
		return 2
	}
	var env hardening.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		fmt.Fprintf(stderr, "appliance-audit verify: %s is not a DSSE envelope: %v\n", fs.Arg(0), err)
		return 1
	}
	st, err := hardening.VerifyEnvelope(&env, pub)
	if err != nil {
		fmt.Fprintf(stderr, "appliance-audit verify: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	subj := st.Subject[0]
	if *image != "" {
		d, err := hardening.ImageDigest(*image)
		if err != nil {
			fmt.Fprintf(stderr, "appliance-audit verify: %v\n", err)
			return 2
		}
		if d != subj.Digest["sha256"] {
			fmt.Fprintf(stderr, "appliance-audit verify: the statement is about sha256 %s, but %s is %s\n", subj.Digest["sha256"], *image, d)
			return 1
		}
	}
	p := st.Predicate
	fmt.Fprintf(stdout, "verified: %s sha256:%s %s against %s (%s), %d pass, %d fail, %d exception, %d error, root hash %s, at %s\n",
		subj.Name, subj.Digest["sha256"], p.VerificationResult, p.Policy.URI, p.Appliance.Mode,
		p.Appliance.Counts[hardening.Pass], p.Appliance.Counts[hardening.Fail], p.Appliance.Counts[hardening.Exception], p.Appliance.Counts[hardening.Error],
		nonEmptyStr(p.Appliance.RootHash, "-"), p.TimeVerified)
	if *requirePass && p.VerificationResult != "PASSED" {
		fmt.Fprintf(stderr, "appliance-audit verify: the audit result is %s (failed: %v)\n", p.VerificationResult, p.Appliance.Failed)
		return 1
	}
	return 0
}

func nonEmptyStr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
