package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/supernode-appliance/appliance/image/builder"
)

// cmdUpdateBundle writes the update bundle of an existing build output
// (every build also writes one into <output_dir>/update/).
func cmdUpdateBundle(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("update-bundle", os.Stderr)
	keyPath := fs.String("key", "", "operator signing key (the build's signing_key, from 'appliance keygen'); without it the bundle is unsigned and no appliance accepts it")
	out := fs.String("out", "", "bundle directory (default DIR/update)")
	image := fs.String("image", "", "raw image (default DIR/supernode-appliance.raw)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("update-bundle needs the build's output directory: appliance update-bundle [-key KEY.asc] [-out DIR] out")}
	}
	dir := fs.Arg(0)
	if *image == "" {
		*image = filepath.Join(dir, builder.DefaultImageName+".raw")
	}
	if *out == "" {
		*out = filepath.Join(dir, builder.UpdateDir)
	}
	var key *openpgp.Entity
	if *keyPath != "" {
		k, err := builder.ReadSigningKey(*keyPath)
		if err != nil {
			return err
		}
		key = k
	}
	in := builder.BundleInput{Raw: *image, Manifest: filepath.Join(dir, builder.ManifestFile), Key: key,
		Extras: []string{filepath.Join(dir, builder.SBOMFile), filepath.Join(dir, builder.CycloneDXFile)}}
	names, err := builder.WriteUpdateBundle(ctx, in, *out)
	if err != nil {
		return err
	}
	for _, n := range append(names, builder.SumsFile) {
		fi, _ := os.Stat(filepath.Join(*out, n))
		fmt.Fprintf(stdout, "  %s/%s %d bytes\n", *out, n, fi.Size())
	}
	if key == nil {
		fmt.Fprintf(stdout, "%s is NOT signed (no -key): appliances refuse it; sign with -key KEY.asc\n", builder.SumsFile)
	} else {
		fmt.Fprintf(stdout, "  %s/%s signed by %s\n", *out, builder.SignatureFile, builder.Fingerprint(key))
	}
	return nil
}
