package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/confpart"
	"github.com/supernode-appliance/appliance/image/credstore"
)

// cmdConfigure edits appliance.conf on the configuration partition of a
// raw image file or a block device (image/confpart): every name is checked
// against the credential allowlist first, the whole result as the
// appliance will check it at boot, then it is written so that an
// interruption leaves the old or the new configuration, never neither.
// Flags may come before or after the IMAGE|DEVICE argument.
func cmdConfigure(args []string, stdout io.Writer) error {
	fs := newFlags("configure", os.Stderr)
	var sets [][2]string
	var unsets []string
	fs.Func("set", "NAME=VALUE: set a credential (repeatable)", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("want NAME=VALUE, got %q", s)
		}
		sets = append(sets, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
		return nil
	})
	fs.Func("unset", "NAME: remove a credential (repeatable)", func(s string) error {
		unsets = append(unsets, s)
		return nil
	})
	from := fs.String("config", "", "start from this appliance.conf instead of the one on the image")
	signKey := fs.String("sign-key", "", "armored OpenPGP private key that signs the configuration (appliance keygen)")
	show := fs.Bool("show", false, "print the configuration on the image (after the changes, if any)")
	var target string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return err
			}
			return usageError{fmt.Errorf("%v; run 'appliance --help'", err)}
		}
		if fs.NArg() == 0 {
			break
		}
		if target != "" {
			return usageError{fmt.Errorf("expected one IMAGE or DEVICE, got %q and %q", target, fs.Arg(0))}
		}
		target, args = fs.Arg(0), fs.Args()[1:]
	}
	if target == "" {
		return usageError{errors.New("configure needs the raw image or block device: appliance configure IMAGE|DEVICE --set NAME=VALUE")}
	}
	if len(sets) == 0 && len(unsets) == 0 && *from == "" && *signKey == "" && !*show {
		return usageError{errors.New("nothing to do: give --set NAME=VALUE, --unset NAME, --config FILE, --sign-key KEY or --show")}
	}
	allow, err := credstore.Allowlist()
	if err != nil {
		return err
	}
	// Operator input first, before the image is touched.
	for _, s := range sets {
		if err := confpart.CheckName(s[0], allow); err != nil {
			return fmt.Errorf("--set %s: %v; only these names reach the appliance", s[0], err)
		}
	}
	if err := confpart.RequireMtools(); err != nil {
		return err
	}
	area, err := confpart.Locate(target)
	if err != nil {
		return err
	}
	if err := confpart.CheckNotMounted(target); err != nil {
		return err
	}
	cur, err := confpart.Pick(area, confpart.DefaultMaxFile)
	if err != nil {
		return fmt.Errorf("cannot read the configuration on %s: %v", target, err)
	}
	old := confpart.Split(cur.Conf)
	doc := old
	doc.Lines = append([]confpart.Line(nil), old.Lines...)
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			return fmt.Errorf("--config: %v", err)
		}
		doc = confpart.Split(b)
	}
	for _, s := range sets {
		doc.Set(s[0], s[1])
	}
	for _, n := range unsets {
		if !doc.Unset(n) {
			fmt.Fprintf(stdout, "%s: not set, nothing to remove\n", n)
		}
	}
	conf := doc.Bytes()
	if _, err := confpart.Parse(conf, confpart.Policy{Allow: allow}); err != nil {
		return fmt.Errorf("the new configuration would be refused at boot: %v; fix it with --set, --unset or --config FILE", err)
	}
	changes := diff(old, doc)
	var sig []byte
	if *signKey != "" {
		key, err := builder.ReadSigningKey(*signKey)
		if err != nil {
			return fmt.Errorf("--sign-key: %v", err)
		}
		if sig, err = confpart.Sign(key, conf); err != nil {
			return err
		}
	}
	where := fmt.Sprintf("%s partition %d (%s)", target, area.Number, confpart.PartLabel)
	if len(changes) == 0 && sig == nil && string(conf) == string(cur.Conf) {
		if *show {
			printShow(stdout, where, cur)
			return nil
		}
		fmt.Fprintf(stdout, "%s: no change\n", where)
		return nil
	}
	if err := area.Write(conf, sig); err != nil {
		return fmt.Errorf("writing %s: %v", where, err)
	}
	for _, c := range changes {
		fmt.Fprintln(stdout, c)
	}
	signed := "unsigned"
	if sig != nil {
		signed = "signed (" + confpart.SigFile + ")"
	}
	fmt.Fprintf(stdout, "wrote %s to %s, %s\n", confpart.ConfFile, where, signed)
	if *show {
		printShow(stdout, where, confpart.Files{Name: confpart.ConfFile, Conf: conf, Sig: sig})
	}
	return nil
}

func printShow(w io.Writer, where string, f confpart.Files) {
	if f.Conf == nil {
		fmt.Fprintf(w, "%s: no %s (the built-in configuration serves)\n", where, confpart.ConfFile)
		return
	}
	state := "unsigned"
	if f.Sig != nil {
		state = "with a signature"
	}
	fmt.Fprintf(w, "# %s on %s, %s\n%s", f.Name, where, state, f.Conf)
}

// diff lists what changed, one line per credential; values of names that
// look secret are not printed.
func diff(old, cur confpart.Document) []string {
	var out []string
	seen := map[string]bool{}
	show := func(name, v string) string {
		for _, s := range []string{"key", "secret", "password", "token"} {
			if strings.Contains(strings.ToLower(name), s) {
				return fmt.Sprintf("(%d bytes, not shown)", len(v))
			}
		}
		return fmt.Sprintf("%q", v)
	}
	for _, l := range cur.Lines {
		if !l.Setting || seen[l.Name] {
			continue
		}
		seen[l.Name] = true
		was, ok := old.Get(l.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("set     %s = %s", l.Name, show(l.Name, l.Value)))
		case was != l.Value:
			out = append(out, fmt.Sprintf("changed %s = %s (was %s)", l.Name, show(l.Name, l.Value), show(l.Name, was)))
		}
	}
	for _, l := range old.Lines {
		if l.Setting && !seen[l.Name] {
			seen[l.Name] = true
			out = append(out, fmt.Sprintf("removed %s", l.Name))
		}
	}
	return out
}
