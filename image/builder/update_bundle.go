package builder

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/update"
)

// UpdateDir is the bundle's directory inside output_dir.
const UpdateDir = "update"

// BundleInput is what an update bundle is made from: a built raw image
// and the files beside it.
type BundleInput struct {
	Raw      string // the built raw image (its slot A and ESP are read)
	Manifest string // its manifest.json (version, root hash)
	UKI      string // the UKI file; "" reads it out of the ESP with mtools
	Extras   []string
	Key      *openpgp.Entity // signs SHA256SUMS; nil writes an unsigned bundle
}

// WriteUpdateBundle writes the update bundle of one build into out
// (replaced atomically: written beside it, then renamed): the root and
// dm-verity payloads (the whole slot A partitions, gzip, which systemd-import
// unpacks while sysupdate writes the slot), the UKI, the extras
// (manifest.json, SBOMs), SHA256SUMS and, with a key, SHA256SUMS.gpg.
// Names are update.RootName/VerityName/UKIName: the image's sysupdate.d
// transfers take the version and the partition UUIDs from them.
func WriteUpdateBundle(ctx context.Context, in BundleInput, out string) (names []string, err error) {
	b, err := os.ReadFile(in.Manifest)
	if err != nil {
		return nil, fmt.Errorf("update bundle: %w (give the build's output directory)", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || !hexHash.MatchString(m.RootHash) || m.BuilderVersion == "" {
		return nil, fmt.Errorf("update bundle: %s is not a build manifest with a root hash and a version", in.Manifest)
	}
	version := m.BuilderVersion
	if err := CheckSlotVersion(version); err != nil {
		return nil, err
	}
	dataUUID, hashUUID, _ := VerityPartUUIDs(m.RootHash)
	parts, err := disk.ReadGPTFile(in.Raw)
	if err != nil {
		return nil, fmt.Errorf("update bundle: %s: %w", in.Raw, err)
	}
	find := func(uuid, what string) (disk.Partition, error) {
		for _, p := range parts {
			if p.UUID == uuid {
				if p.Name != SlotLabel(version) {
					return p, fmt.Errorf("update bundle: the %s partition of %s is labelled %q, not %q: the image was built before the A/B layout or by another version; rebuild it", what, in.Raw, p.Name, SlotLabel(version))
				}
				return p, nil
			}
		}
		return disk.Partition{}, fmt.Errorf("update bundle: %s has no %s partition with UUID %s (from the manifest's root hash): the manifest is not this image's", in.Raw, what, uuid)
	}
	root, err := find(dataUUID, "root")
	if err != nil {
		return nil, err
	}
	verity, err := find(hashUUID, "root-verity")
	if err != nil {
		return nil, err
	}
	tmp := out + ".new"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	rootName, verityName, ukiName := update.RootName(version, dataUUID), update.VerityName(version, hashUUID), update.UKIName(version)
	if err := gzipRange(in.Raw, root.Start, root.Size, filepath.Join(tmp, rootName)); err != nil {
		return nil, err
	}
	if err := gzipRange(in.Raw, verity.Start, verity.Size, filepath.Join(tmp, verityName)); err != nil {
		return nil, err
	}
	if in.UKI != "" {
		err = copyFile(in.UKI, filepath.Join(tmp, ukiName))
	} else {
		err = ukiFromESP(ctx, in.Raw, parts, m.UKIPath, filepath.Join(tmp, ukiName))
	}
	if err != nil {
		return nil, err
	}
	names = []string{rootName, verityName, ukiName}
	for _, e := range append([]string{in.Manifest}, in.Extras...) {
		if _, err := os.Stat(e); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := copyFile(e, filepath.Join(tmp, filepath.Base(e))); err != nil {
			return nil, err
		}
		names = append(names, filepath.Base(e))
	}
	sums, err := SHA256SUMS(tmp, names)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, SumsFile), sums, 0o644); err != nil {
		return nil, err
	}
	if in.Key != nil {
		sig, err := SignDetached(in.Key, sums)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, SignatureFile), sig, 0o644); err != nil {
			return nil, err
		}
	}
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return names, nil
}

// gzipRange writes n bytes of file at off, gzip-compressed (no name, no
// time: the same input makes the same bytes).
func gzipRange(file string, off, n int64, dst string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(o, gzip.BestSpeed)
	if _, err := io.Copy(zw, io.NewSectionReader(f, off, n)); err != nil {
		o.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

// ukiFromESP copies the UKI at path on the image's ESP with mtools.
func ukiFromESP(ctx context.Context, raw string, parts []disk.Partition, path, dst string) error {
	esp, ok := disk.Find(parts, "esp")
	if !ok {
		return fmt.Errorf("update bundle: %s has no partition labelled esp", raw)
	}
	if path == "" {
		path = UKIPathOnESP()
	}
	cmd := exec.CommandContext(ctx, "mcopy", "-n", "-i", fmt.Sprintf("%s@@%d", raw, esp.Start), "::"+path, dst)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("update bundle: reading %s from the ESP with mcopy (package mtools): %v %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ArmoredPublicKey is the armored public half of key (what the image
// carries at update.OperatorKeyPath).
func ArmoredPublicKey(key *openpgp.Entity) ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := key.Serialize(w); err != nil {
		return nil, err
	}
	w.Close()
	return append(b.Bytes(), '\n'), nil
}

// operatorKey puts the public half of signing_key into the verified root
// (update.OperatorKeyPath): appliance-update accepts only bundles whose
// SHA256SUMS that key signed. Without signing_key the image has no key
// and refuses every update.
func (in *installer) operatorKey(context.Context) error {
	if in.st.Config.SigningKey == "" {
		return nil
	}
	key, err := ReadSigningKey(in.st.Config.SigningKey)
	if err != nil {
		return err
	}
	pub, err := ArmoredPublicKey(key)
	if err != nil {
		return err
	}
	dst := filepath.Join(in.st.Rootfs, update.OperatorKeyPath)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, pub, 0o644); err != nil {
		return err
	}
	in.st.Installed = append(in.st.Installed, update.OperatorKeyPath)
	return nil
}

// StepWriteUpdateBundle writes <output_dir>/update/, the update bundle of
// this build (WriteUpdateBundle), signed with signing_key when it is set.
type StepWriteUpdateBundle struct{}

func (*StepWriteUpdateBundle) Describe() string { return "write update bundle" }

func (*StepWriteUpdateBundle) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	var key *openpgp.Entity
	if st.Config.SigningKey != "" {
		k, err := ReadSigningKey(st.Config.SigningKey)
		if err != nil {
			return halt(state, err)
		}
		key = k
	}
	in := BundleInput{Raw: st.RawImage, Manifest: filepath.Join(st.Staging, ManifestFile), UKI: st.UKI, Key: key,
		Extras: []string{filepath.Join(st.Staging, SBOMFile), filepath.Join(st.Staging, CycloneDXFile)}}
	names, err := WriteUpdateBundle(ctx, in, filepath.Join(st.Staging, UpdateDir))
	if err != nil {
		return halt(state, err)
	}
	signed := "unsigned: set signing_key to sign it (appliances accept only signed bundles)"
	if key != nil {
		signed = "signed by " + Fingerprint(key)
	}
	st.say("%s/: %d files, %s", UpdateDir, len(names), signed)
	return multistep.ActionContinue
}

func (*StepWriteUpdateBundle) Cleanup(multistep.StateBag) {}
