package hardening

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/tools"
)

// testCert makes an RSA key and a self-signed certificate, as PEM files.
func testCert(t *testing.T, dir, name string) (keyPath, certPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	keyPath, certPath = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pem")
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return keyPath, certPath, cert
}

// sbsigned signs the sd-stub of a cached tools tree with sbsign (the
// builder's own signing tool) and returns the signed PE.
func sbsigned(t *testing.T, dir, key, cert string) string {
	t.Helper()
	trees, _ := filepath.Glob("/var/cache/supernode-appliance/tools-*")
	if len(trees) == 0 || os.Geteuid() != 0 {
		t.Skip("needs root and a cached tools tree with sbsign (build an image once)")
	}
	stub, err := os.ReadFile(filepath.Join(trees[0], "usr/lib/systemd/boot/efi/linuxx64.efi.stub"))
	if err != nil {
		t.Skip(err)
	}
	in, out := filepath.Join(dir, "stub.efi"), filepath.Join(dir, "stub.signed.efi")
	os.WriteFile(in, stub, 0o644)
	if b, err := tools.Run(context.Background(), trees[0], []string{dir}, "sbsign", "--key", key, "--cert", cert, "--output", out, in); err != nil {
		t.Skipf("sbsign: %v %s", err, b)
	}
	return out
}

func TestVerifyAuthenticode(t *testing.T) {
	dir := t.TempDir()
	key, certPath, cert := testCert(t, dir, "db")
	_, _, other := testCert(t, dir, "other")
	signed := sbsigned(t, dir, key, certPath)

	if _, err := LoadCertificate(certPath); err != nil {
		t.Fatal(err)
	}
	what, err := VerifyAuthenticode(signed, cert)
	if err != nil {
		t.Fatalf("sbsign's signature: %v", err)
	}
	t.Log(what)

	// Another key's certificate: refused.
	if _, err := VerifyAuthenticode(signed, other); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("wrong certificate: %v", err)
	}
	b, _ := os.ReadFile(signed)
	l, _ := readPELayout(b)
	// One byte of the image changed after signing: the digest differs.
	changed := append([]byte(nil), b...)
	changed[l.sizeOfHdr+100] ^= 1
	p := filepath.Join(dir, "changed.efi")
	os.WriteFile(p, changed, 0o644)
	if _, err := VerifyAuthenticode(p, cert); err == nil || !strings.Contains(err.Error(), "changed after signing") {
		t.Errorf("changed image: %v", err)
	}
	// A junk certificate table (the "signed" flag alone): refused.
	junk := append([]byte(nil), b...)
	for i := l.certOff + 8; i < l.certOff+l.certSize; i++ {
		junk[i] = 0x5a
	}
	os.WriteFile(p, junk, 0o644)
	if _, err := VerifyAuthenticode(p, cert); err == nil {
		t.Error("junk certificate table accepted")
	}
	// The unsigned stub: refused with a clear word.
	stub, _ := os.ReadFile(filepath.Join(dir, "stub.efi"))
	os.WriteFile(p, stub, 0o644)
	if _, err := VerifyAuthenticode(p, cert); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("unsigned: %v", err)
	}
}
