package hardening

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAttestationSignsAndVerifies(t *testing.T) {
	rep, _ := sampleReport(t)
	rep.Facts = map[string]string{"roothash": strings.Repeat("ab", 32)}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	digest := strings.Repeat("0f", 32)
	st, err := NewStatement(rep, js.Bytes(), AttestOptions{ImageName: "supernode-appliance.raw", ImageSHA256: digest})
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	env, err := st.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyEnvelope(env, pub)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Predicate
	if got.Subject[0].Digest["sha256"] != digest || p.Appliance.RootHash != strings.Repeat("ab", 32) ||
		p.Policy.URI != "urn:supernode-appliance:hardening-profile:supernode-appliance:"+defaultVersion(t) {
		t.Errorf("statement %+v", got)
	}
	// The sample report has a failure: the summary says so, with no level.
	if p.VerificationResult != "FAILED" || len(p.VerifiedLevels) != 0 || len(p.Appliance.Failed) == 0 {
		t.Errorf("result %s levels %v failed %v", p.VerificationResult, p.VerifiedLevels, p.Appliance.Failed)
	}

	// Another key, a changed payload, a changed signature: all refused.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := VerifyEnvelope(env, other); err == nil {
		t.Error("verified with the wrong key")
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	forged := *env
	forged.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(`"FAILED"`), []byte(`"PASSED"`), 1))
	if _, err := VerifyEnvelope(&forged, pub); err == nil {
		t.Error("a forged result verified")
	}
	if _, err := NewStatement(rep, js.Bytes(), AttestOptions{ImageSHA256: "xyz"}); err == nil {
		t.Error("a bad digest was accepted")
	}
}

// Keys made by openssl load, and openssl verifies our DSSE signature on its
// own: the signature is plain Ed25519 over the DSSE pre-authentication
// encoding, nothing private to this code.
func TestAttestationInteropWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	keyPath, pubPath := filepath.Join(dir, "op.key"), filepath.Join(dir, "op.pub")
	run := func(args ...string) {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "ed25519", "-out", keyPath)
	run("pkey", "-in", keyPath, "-pubout", "-out", pubPath)
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := sampleReport(t)
	st, _ := NewStatement(rep, []byte("{}"), AttestOptions{ImageSHA256: strings.Repeat("00", 32)})
	env, _ := st.Sign(key)
	if _, err := VerifyEnvelope(env, pub); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	os.WriteFile(filepath.Join(dir, "pae"), pae(env.PayloadType, payload), 0o644)
	os.WriteFile(filepath.Join(dir, "sig"), sig, 0o644)
	run("pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", filepath.Join(dir, "pae"), "-sigfile", filepath.Join(dir, "sig"))
	var st2 Statement
	if err := json.Unmarshal(payload, &st2); err != nil || st2.Type != StatementType {
		t.Errorf("payload %s: %v", payload, err)
	}
	if _, err := LoadPrivateKey(pubPath); err == nil {
		t.Error("a public key loaded as a private key")
	}
}

// defaultVersion is the embedded profile's version.
func defaultVersion(t *testing.T) string {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return p.Version
}
