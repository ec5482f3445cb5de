package hardening

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// Authenticode (Microsoft, "Windows Authenticode Portable Executable
// Signature Format") as sbsign writes it for UEFI Secure Boot: the PE's
// certificate table holds one WIN_CERTIFICATE of type PKCS_SIGNED_DATA, a
// PKCS #7 SignedData (RFC 2315) whose content is an SpcIndirectDataContent
// carrying the SHA-256 digest of the image. VerifyAuthenticode checks the
// chain image -> digest -> signed attributes -> signature against the
// operator's certificate, the way the firmware checks it against db.

var (
	oidSignedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSHA256         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidMessageDigest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidContentType    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidSpcIndirectDat = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidRSAEncryption  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

type p7ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type p7SignedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      p7ContentInfo
	Certificates     asn1.RawValue  `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue  `asn1:"optional,tag:1"`
	SignerInfos      []p7SignerInfo `asn1:"set"`
}

type p7IssuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type p7AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type p7SignerInfo struct {
	Version                   int
	IssuerAndSerial           p7IssuerAndSerial
	DigestAlgorithm           p7AlgorithmIdentifier
	AuthenticatedAttributes   asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncryptionAlgorithm p7AlgorithmIdentifier
	EncryptedDigest           []byte
}

type p7Attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// spcIndirectDataContent: SEQUENCE { data SpcAttributeTypeAndOptionalValue,
// messageDigest DigestInfo }.
type spcIndirectDataContent struct {
	Data          asn1.RawValue
	MessageDigest struct {
		Algorithm p7AlgorithmIdentifier
		Digest    []byte
	}
}

// LoadCertificate reads one PEM (or DER) X.509 certificate.
func LoadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: not an X.509 certificate (PEM or DER): %w", path, err)
	}
	return c, nil
}

// peLayout finds the fields Authenticode leaves out of the image digest.
type peLayout struct {
	checksum  int // offset of OptionalHeader.CheckSum
	secDir    int // offset of the IMAGE_DIRECTORY_ENTRY_SECURITY entry
	certOff   int // certificate table (file offset) and size
	certSize  int
	sizeOfHdr int
}

func readPELayout(b []byte) (peLayout, error) {
	var l peLayout
	if len(b) < 0x40 || b[0] != 'M' || b[1] != 'Z' {
		return l, errors.New("not a PE file (no MZ header)")
	}
	peOff := int(binary.LittleEndian.Uint32(b[0x3c:]))
	if peOff+24 > len(b) || string(b[peOff:peOff+4]) != "PE\x00\x00" {
		return l, errors.New("not a PE file (no PE signature)")
	}
	opt := peOff + 24
	if opt+2 > len(b) {
		return l, errors.New("truncated PE optional header")
	}
	var dirs int
	switch binary.LittleEndian.Uint16(b[opt:]) {
	case 0x20b: // PE32+
		dirs = opt + 112
	case 0x10b: // PE32
		dirs = opt + 96
	default:
		return l, errors.New("unknown PE optional header magic")
	}
	l.checksum = opt + 64
	l.sizeOfHdr = int(binary.LittleEndian.Uint32(b[opt+60:]))
	l.secDir = dirs + 4*8
	if l.secDir+8 > len(b) {
		return l, errors.New("truncated PE data directories")
	}
	l.certOff = int(binary.LittleEndian.Uint32(b[l.secDir:]))
	l.certSize = int(binary.LittleEndian.Uint32(b[l.secDir+4:]))
	if l.certSize == 0 {
		return l, errors.New("unsigned: the PE has no certificate table")
	}
	if l.certOff < l.sizeOfHdr || l.certOff+l.certSize > len(b) {
		return l, fmt.Errorf("certificate table [%d, +%d) lies outside the file", l.certOff, l.certSize)
	}
	return l, nil
}

// AuthenticodeDigest is the SHA-256 image digest of a PE: the whole file
// except the checksum, the security directory entry and the certificate
// table (the layout sbsign and ukify produce: the table at the end, after
// every section).
func AuthenticodeDigest(b []byte) ([]byte, error) {
	l, err := readPELayout(b)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(b[:l.checksum])
	h.Write(b[l.checksum+4 : l.secDir])
	h.Write(b[l.secDir+8 : l.certOff])
	h.Write(b[l.certOff+l.certSize:])
	return h.Sum(nil), nil
}

// VerifyAuthenticode checks that the PE file at path carries an
// Authenticode signature by the key of cert over its current contents.
// It returns a one-line description of what was verified.
func VerifyAuthenticode(path string, cert *x509.Certificate) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	l, err := readPELayout(b)
	if err != nil {
		return "", err
	}
	digest, err := AuthenticodeDigest(b)
	if err != nil {
		return "", err
	}
	// WIN_CERTIFICATE: dwLength, wRevision, wCertificateType, bCertificate.
	tbl := b[l.certOff : l.certOff+l.certSize]
	if len(tbl) < 8 {
		return "", errors.New("certificate table too short")
	}
	wlen := int(binary.LittleEndian.Uint32(tbl))
	if typ := binary.LittleEndian.Uint16(tbl[6:]); typ != 2 {
		return "", fmt.Errorf("certificate table entry of type %d, want 2 (PKCS_SIGNED_DATA)", typ)
	}
	if wlen < 8 || wlen > len(tbl) {
		return "", errors.New("certificate table entry length out of range")
	}
	var ci p7ContentInfo
	if _, err := asn1.Unmarshal(tbl[8:wlen], &ci); err != nil {
		return "", errors.New("the certificate table holds no PKCS #7 signature (junk)")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return "", errors.New("certificate table is not PKCS #7 SignedData")
	}
	var sd p7SignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return "", errors.New("the certificate table holds no PKCS #7 SignedData (junk)")
	}
	if !sd.ContentInfo.ContentType.Equal(oidSpcIndirectDat) {
		return "", errors.New("signed content is not an Authenticode SpcIndirectDataContent")
	}
	var spc spcIndirectDataContent
	if _, err := asn1.Unmarshal(sd.ContentInfo.Content.Bytes, &spc); err != nil {
		return "", fmt.Errorf("SpcIndirectDataContent: %w", err)
	}
	if !spc.MessageDigest.Algorithm.Algorithm.Equal(oidSHA256) {
		return "", fmt.Errorf("image digest algorithm %v, want SHA-256", spc.MessageDigest.Algorithm.Algorithm)
	}
	if !bytes.Equal(spc.MessageDigest.Digest, digest) {
		return "", fmt.Errorf("the signed image digest %x does not match the image (%x): the UKI was changed after signing", spc.MessageDigest.Digest, digest)
	}
	if len(sd.SignerInfos) != 1 {
		return "", fmt.Errorf("%d signers, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if !si.DigestAlgorithm.Algorithm.Equal(oidSHA256) {
		return "", errors.New("signer digest algorithm is not SHA-256")
	}
	// RFC 2315 9.3: the content digest covers the contents octets of the
	// SpcIndirectDataContent (no tag, no length).
	var inner asn1.RawValue
	if _, err := asn1.Unmarshal(sd.ContentInfo.Content.Bytes, &inner); err != nil {
		return "", err
	}
	contentDigest := sha256.Sum256(inner.Bytes)
	if len(si.AuthenticatedAttributes.Bytes) == 0 {
		return "", errors.New("signer has no authenticated attributes")
	}
	var attrs []p7Attribute
	if _, err := asn1.UnmarshalWithParams(si.AuthenticatedAttributes.FullBytes, &attrs, "set,tag:0"); err != nil {
		return "", fmt.Errorf("authenticated attributes: %w", err)
	}
	var md []byte
	for _, a := range attrs {
		if a.Type.Equal(oidMessageDigest) {
			var v []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err != nil {
				return "", fmt.Errorf("messageDigest attribute: %w", err)
			}
			md = v
		}
	}
	if !bytes.Equal(md, contentDigest[:]) {
		return "", errors.New("the signer's messageDigest does not match the signed content")
	}
	// The signature covers the DER of the attributes as a SET OF (RFC 2315 9.3).
	signed := append([]byte(nil), si.AuthenticatedAttributes.FullBytes...)
	signed[0] = 0x31
	var algo x509.SignatureAlgorithm
	switch {
	case si.DigestEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption), si.DigestEncryptionAlgorithm.Algorithm.Equal(oidSHA256WithRSA):
		algo = x509.SHA256WithRSA
	default:
		return "", fmt.Errorf("signature algorithm %v is not RSA", si.DigestEncryptionAlgorithm.Algorithm)
	}
	if err := cert.CheckSignature(algo, signed, si.EncryptedDigest); err != nil {
		return "", fmt.Errorf("the signature does not verify with the given certificate (%s): %w", cert.Subject, err)
	}
	return fmt.Sprintf("Authenticode SHA-256 signature verified with %s (image digest %x)", cert.Subject, digest), nil
}
