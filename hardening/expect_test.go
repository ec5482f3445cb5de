package hardening

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// junkSignature appends a certificate table of junk (a well-formed
// WIN_CERTIFICATE header, garbage PKCS #7) and points the security
// directory at it: the shape of a signature, no signature.
func junkSignature(pe []byte) []byte {
	const secDir = 0x40 + 4 + 20 + 112 + 4*8 // buildPE: PE32+ at 0x40
	out := append([]byte(nil), pe...)
	tbl := make([]byte, 256)
	binary.LittleEndian.PutUint32(tbl, uint32(len(tbl)))
	binary.LittleEndian.PutUint16(tbl[4:], 0x0200)
	binary.LittleEndian.PutUint16(tbl[6:], 2)
	for i := 8; i < len(tbl); i++ {
		tbl[i] = 0x30
	}
	binary.LittleEndian.PutUint32(out[secDir:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[secDir+4:], uint32(len(tbl)))
	return append(out, tbl...)
}

func results(rep *Report) map[string]Result {
	m := map[string]Result{}
	for _, r := range rep.Results {
		m[r.Control] = r
	}
	return m
}

// TestAuditTrustsOperatorNotImage is issue #11 item 4: an attacker
// rebuilds the root with a shell, stamps it "debug" (so the shell control
// would be excused), puts the new root's own verity hash into the UKI and
// gives the UKI a junk certificate table. Audited against what the
// publisher said (root hash, command line), with the operator's
// certificate and without --debug, it must fail, each time with a
// sentence saying why. (Before: the audit took the root hash from the
// image's UKI, debug from its stamp and "signed" from the table's size,
// and this image passed.)
func TestAuditTrustsOperatorNotImage(t *testing.T) {
	testenv.RequireRoot(t)
	root, p := appliedRoot(t)
	_, published := buildTestImage(t, root, p)

	// The attacker's root: the same plus a shell, stamped as a debug image.
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/sh"), []byte("\x7fELF shell"), 0o755)
	stamp := filepath.Join(root, stampFile)
	b, _ := os.ReadFile(stamp)
	os.WriteFile(stamp, []byte(strings.Replace(string(b), "debug=false", "debug=true", 1)), 0o644)
	evil, own := buildTestImageUKI(t, root, p, junkSignature)
	if own.RootHash == published.RootHash {
		t.Fatal("the attacker's root has the published root hash")
	}
	dir := t.TempDir()
	_, _, cert := testCert(t, dir, "operator-db")

	t.Run("published root hash", func(t *testing.T) {
		o := published
		o.Cert, o.CertFrom = cert, "operator-db.pem"
		img, err := OpenImage(context.Background(), evil, o)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if img.Target.Root != "" {
			t.Fatal("the root of an image that is not the published one was mounted")
		}
		rep := p.Audit(img.Target)
		res := results(rep)
		if !rep.Failed() {
			t.Fatal("the rebuilt image passed the audit")
		}
		for _, id := range []string{"fs-root-verity", "boot-uki", "boot-secure-boot"} {
			if res[id].Status != Fail {
				t.Errorf("%s: %s %s", id, res[id].Status, res[id].Message)
			}
		}
		if m := res["fs-root-verity"].Message; !strings.Contains(m, "not the image that was published") {
			t.Errorf("verity message: %s", m)
		}
		t.Logf("fs-root-verity: %s", res["fs-root-verity"].Message)
		t.Logf("boot-uki: %s", res["boot-uki"].Message)
		t.Logf("boot-secure-boot: %s", res["boot-secure-boot"].Message)
	})

	// Even an operator who takes the image's own root hash (no manifest)
	// does not let the image excuse itself: no --debug, so the shell
	// fails and the debug stamp fails; the junk table is no signature.
	t.Run("image's own root hash, no --debug", func(t *testing.T) {
		o := ImageOptions{RootHash: own.RootHash, Cert: cert, CertFrom: "operator-db.pem"}
		img, err := OpenImage(context.Background(), evil, o)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		res := results(p.Audit(img.Target))
		for _, id := range []string{"sw-no-shells", "profile-stamp", "boot-secure-boot"} {
			if res[id].Status != Fail {
				t.Errorf("%s: %s %s", id, res[id].Status, res[id].Message)
			}
			t.Logf("%s: %s", id, res[id].Message)
		}
		// Without a certificate the junk table is not taken for a
		// signature either: the control fails and only the documented
		// unsigned-image exception can excuse it.
		img.Close()
		o.Cert = nil
		img2, err := OpenImage(context.Background(), evil, o)
		if err != nil {
			t.Fatal(err)
		}
		defer img2.Close()
		r := results(p.Audit(img2.Target))["boot-secure-boot"]
		if r.Status == Pass || !strings.Contains(r.Message, "not verified") {
			t.Errorf("junk table without --cert: %s %s", r.Status, r.Message)
		}
	})

	// The operator who says --debug gets the debug verdicts.
	t.Run("--debug", func(t *testing.T) {
		img, err := OpenImage(context.Background(), evil, ImageOptions{RootHash: own.RootHash, Debug: true})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		res := results(p.Audit(img.Target))
		if res["sw-no-shells"].Status != Exception || res["profile-stamp"].Status != Pass {
			t.Errorf("debug: sw-no-shells %s, profile-stamp %s %s", res["sw-no-shells"].Status, res["profile-stamp"].Status, res["profile-stamp"].Message)
		}
	})
}

func TestManifestExpectations(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "manifest.json")
	h := strings.Repeat("0f", 32)
	os.WriteFile(p, []byte(`{"root_hash":"`+h+`","kernel_cmdline":"roothash=`+h+` ro"}`), 0o644)
	o, err := ManifestExpectations(p)
	if err != nil || o.RootHash != h || o.Cmdline != "roothash="+h+" ro" || !strings.Contains(o.RootHashFrom, p) {
		t.Fatalf("%+v %v", o, err)
	}
	os.WriteFile(p, []byte(`{"root_hash":"nothex"}`), 0o644)
	if _, err := ManifestExpectations(p); err == nil || !strings.Contains(err.Error(), "root_hash") {
		t.Errorf("bad hash: %v", err)
	}
	os.WriteFile(p, []byte(`not json`), 0o644)
	if _, err := ManifestExpectations(p); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("junk: %v", err)
	}
}
