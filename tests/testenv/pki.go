package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// PKI is a throwaway CA and one server certificate it signed, for tests
// of TLS clients and servers (the collector of log shipping, the
// management listener).
type PKI struct {
	CAPEM  []byte          // the CA certificate, PEM
	Server tls.Certificate // the server's certificate and key
	Pool   *x509.CertPool  // holds the CA
}

// NewPKI makes a CA and a server certificate for ips (IP SANs), valid for
// an hour either side of now.
func NewPKI(t *testing.T, ips ...net.IP) PKI {
	t.Helper()
	ca, caKey := NewCert(t, "test CA", nil, nil, true, nil)
	srv, srvKey := NewCert(t, "collector", ca, caKey, false, ips)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return PKI{
		CAPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		Server: tls.Certificate{Certificate: [][]byte{srv.Raw}, PrivateKey: srvKey},
		Pool:   pool,
	}
}

// NewCert makes a P-256 certificate for cn, valid for an hour either side
// of now, for server and client authentication (a CA when isCA), signed by
// parent (self-signed when parent is nil), with ips as IP SANs.
func NewCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, ips []net.IP) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}
