package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/supernode-appliance/appliance/image/builder"
)

// cmdVerify checks a build output directory: SHA256SUMS against the files,
// SHA256SUMS.gpg against the operator's key, the provenance's subjects and
// the SBOM (builder.VerifyOutput). Flags may come before or after DIR.
func cmdVerify(args []string, stdout io.Writer) error {
	fs := newFlags("verify", os.Stderr)
	key := fs.String("key", "", "the operator's armored OpenPGP public key")
	if len(args) > 1 && !strings.HasPrefix(args[0], "-") {
		// "verify DIR -key PUB.asc": flags after DIR, as the README writes it.
		args = append(args[1:], args[0])
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) != 1 {
		return usageError{errors.New("verify needs the build output directory: appliance verify [-key PUB.asc] DIR")}
	}
	dir := rest[0]
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; give the build's output directory (default out/)", dir)
	}
	var pub []byte
	if *key != "" {
		b, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("cannot read the public key: %v", err)
		}
		pub = b
	}
	r := builder.VerifyOutput(dir, pub)
	for _, p := range r.Passed {
		fmt.Fprintf(stdout, "ok    %s\n", p)
	}
	if r.Unchecked != "" {
		fmt.Fprintf(stdout, "note  %s\n", r.Unchecked)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "FAIL  %s\n", p)
	}
	if !r.OK() {
		return fmt.Errorf("%s failed verification: %d FAIL lines above", filepath.Clean(dir), len(r.Problems))
	}
	return nil
}

// cmdKeygen writes a new operator signing key pair: NAME.asc (private, for
// the template's signing_key) and NAME.pub.asc (for verify -key and for
// systemd-sysupdate's keyring).
func cmdKeygen(args []string, stdout io.Writer) error {
	fs := newFlags("keygen", os.Stderr)
	name := fs.String("name", "supernode appliance operator", "the key's user name")
	email := fs.String("email", "", "the key's e-mail address")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("keygen needs an output path prefix: appliance keygen [-name N] [-email E] keys/operator")}
	}
	priv, pub, err := builder.GenerateSigningKey(*name, *email)
	if err != nil {
		return err
	}
	base := fs.Arg(0)
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return err
	}
	// O_EXCL: never overwrite a key that may have signed images already.
	f, err := os.OpenFile(base+".asc", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%v; choose another name, an existing key is never overwritten", err)
	}
	defer f.Close()
	if _, err := f.Write(priv); err != nil {
		return err
	}
	if err := os.WriteFile(base+".pub.asc", pub, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.asc (private: signing_key = %q)\n%s.pub.asc (public: appliance verify -key)\n", base, base+".asc", base)
	return nil
}
