package hardening

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Signed audit results: an in-toto Statement (v1) whose predicate is a SLSA
// Verification Summary Attestation (v1), wrapped in a DSSE envelope signed
// with the operator's Ed25519 key. The subject is the image (its sha256) and
// the predicate says which profile version it was verified against and
// whether it passed, so a fleet can prove each image it runs was audited.

// In-toto and DSSE identifiers (in-toto Attestation Framework v1, DSSE v1,
// SLSA VSA v1).
const (
	StatementType    = "https://in-toto.io/Statement/v1"
	VSAPredicateType = "https://slsa.dev/verification_summary/v1"
	DSSEPayloadType  = "application/vnd.in-toto+json"
	verifierID       = "urn:supernode-appliance:appliance-audit"
)

// Statement is an in-toto v1 statement carrying a verification summary.
type Statement struct {
	Type          string       `json:"_type"`
	Subject       []Subject    `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     VSAPredicate `json:"predicate"`
}

// Subject is one attested artifact and its digests.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// VSAPredicate is the SLSA verification summary, plus the appliance's own
// fields under "appliance" (consumers that only know VSA ignore them).
type VSAPredicate struct {
	Verifier struct {
		ID      string            `json:"id"`
		Version map[string]string `json:"version,omitempty"`
	} `json:"verifier"`
	TimeVerified       string   `json:"timeVerified"`
	ResourceURI        string   `json:"resourceUri"`
	Policy             Policy   `json:"policy"`
	VerificationResult string   `json:"verificationResult"` // PASSED or FAILED
	VerifiedLevels     []string `json:"verifiedLevels"`
	SLSAVersion        string   `json:"slsaVersion,omitempty"`
	Appliance          struct {
		RootHash       string         `json:"rootHash,omitempty"` // dm-verity root hash on the UKI command line
		Mode           string         `json:"mode"`
		Profile        string         `json:"profile"`
		ProfileVersion string         `json:"profileVersion"`
		Counts         map[Status]int `json:"counts"`
		ReportSHA256   string         `json:"reportSha256"` // of the JSON report as written by --json
		Failed         []string       `json:"failed,omitempty"`
	} `json:"appliance"`
}

// Policy names the profile the image was verified against.
type Policy struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest,omitempty"`
}

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"` // base64
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"` // base64
}

// AttestOptions are the facts an attestation binds that the report alone
// does not carry.
type AttestOptions struct {
	ImageName     string // subject name, e.g. supernode-appliance.raw
	ImageSHA256   string // hex; required
	ProfileSHA256 string // hex sha256 of the profile file the audit used; optional
	ToolVersion   string
}

// NewStatement builds the statement for one audit report. reportJSON is the
// report exactly as written, so its digest can be checked against the file.
func NewStatement(r *Report, reportJSON []byte, o AttestOptions) (*Statement, error) {
	if _, err := hex.DecodeString(o.ImageSHA256); err != nil || len(o.ImageSHA256) != 64 {
		return nil, fmt.Errorf("image digest %q is not a hex sha256", o.ImageSHA256)
	}
	name := o.ImageName
	if name == "" {
		name = r.Target
	}
	s := &Statement{Type: StatementType, PredicateType: VSAPredicateType,
		Subject: []Subject{{Name: name, Digest: map[string]string{"sha256": o.ImageSHA256}}}}
	p := &s.Predicate
	p.Verifier.ID = verifierID
	if v := nonEmpty(o.ToolVersion, r.ToolVersion); v != "" {
		p.Verifier.Version = map[string]string{"appliance-audit": v}
	}
	p.TimeVerified = r.Started.UTC().Format(time.RFC3339)
	p.ResourceURI = "urn:supernode-appliance:image:sha256:" + o.ImageSHA256
	p.Policy.URI = "urn:supernode-appliance:hardening-profile:" + r.Profile + ":" + r.ProfileVersion
	if o.ProfileSHA256 != "" {
		p.Policy.Digest = map[string]string{"sha256": o.ProfileSHA256}
	}
	p.VerificationResult = "PASSED"
	if r.Failed() {
		p.VerificationResult = "FAILED"
	}
	// VSA levels are SLSA track levels or custom ones (not prefixed SLSA_):
	// ours says which profile version the image meets, and only when it does.
	p.VerifiedLevels = []string{}
	if !r.Failed() {
		p.VerifiedLevels = []string{"SUPERNODE_HARDENING_PROFILE_" + r.ProfileVersion}
	}
	p.SLSAVersion = "1.0"
	a := &p.Appliance
	a.RootHash = r.Facts["roothash"]
	a.Mode, a.Profile, a.ProfileVersion, a.Counts = r.Mode, r.Profile, r.ProfileVersion, r.Counts
	sum := sha256.Sum256(reportJSON)
	a.ReportSHA256 = hex.EncodeToString(sum[:])
	for _, res := range r.Results {
		if res.Status == Fail || res.Status == Error {
			a.Failed = append(a.Failed, res.Control)
		}
	}
	return s, nil
}

// pae is DSSE's pre-authentication encoding: what is actually signed.
func pae(payloadType string, payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload))
}

// KeyID is the hex sha256 of the public key's PKIX DER encoding.
func KeyID(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Sign wraps the statement in a DSSE envelope signed with key.
func (s *Statement) Sign(key ed25519.PrivateKey) (*Envelope, error) {
	payload, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(nil, pae(DSSEPayloadType, payload), crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Envelope{PayloadType: DSSEPayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []Signature{{KeyID: KeyID(pub), Sig: base64.StdEncoding.EncodeToString(sig)}}}, nil
}

// VerifyEnvelope checks the envelope's signature with pub and returns the
// statement it carries. It does not judge the result: the caller decides
// whether a FAILED verification summary is acceptable.
func VerifyEnvelope(env *Envelope, pub ed25519.PublicKey) (*Statement, error) {
	if env.PayloadType != DSSEPayloadType {
		return nil, fmt.Errorf("payload type %q is not %s", env.PayloadType, DSSEPayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload is not base64: %w", err)
	}
	id := KeyID(pub)
	ok := false
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			continue
		}
		if (s.KeyID == "" || s.KeyID == id) && ed25519.Verify(pub, pae(env.PayloadType, payload), sig) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, errors.New("no valid signature by this public key")
	}
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("signed payload is not a statement: %w", err)
	}
	if st.Type != StatementType || st.PredicateType != VSAPredicateType {
		return nil, fmt.Errorf("signed payload is a %q / %q, not an in-toto verification summary", st.Type, st.PredicateType)
	}
	return &st, nil
}

// ImageDigest returns the hex sha256 of a file.
func ImageDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// LoadPrivateKey reads an Ed25519 private key in PKCS#8 PEM, as written by
// `openssl genpkey -algorithm ed25519`.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := pemBlock(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key; make one with openssl genpkey -algorithm ed25519", path, k)
	}
	return ek, nil
}

// LoadPublicKey reads an Ed25519 public key in PKIX PEM, as written by
// `openssl pkey -pubout`.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := pemBlock(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 public key", path, k)
	}
	return ek, nil
}

func pemBlock(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no %q PEM block", path, typ)
		}
		if blk.Type == typ {
			return blk.Bytes, nil
		}
	}
}
