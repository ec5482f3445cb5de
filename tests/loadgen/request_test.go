package loadgen

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// RFC 5769 §2.2 (IPv4) and §2.3 (IPv6) sample responses: the RFC's own
// bytes, so the decoder is checked against a source nobody here wrote.
// FINGERPRINT and MESSAGE-INTEGRITY are present and must be skipped over.
const (
	rfc5769v4 = `
0101 003c 2112 a442 b7e7 a701 bc34 d686 fa87 dfae
8022 000b 7465 7374 2076 6563 746f 7220
0020 0008 0001 a147 e112 a643
0008 0014 2b91 f599 fd9e 90c3 8c74 89f9 2af9 ba53 f06b e7d7
8028 0004 c07d 4c96`
	rfc5769v6 = `
0101 0048 2112 a442 b7e7 a701 bc34 d686 fa87 dfae
8022 000b 7465 7374 2076 6563 746f 7220
0020 0014 0002 a147 0113 a9fa a5d3 f179 bc25 f4b5 bed2 b9d9
0008 0014 a382 954e 4be6 7bf1 1784 c97c 8292 c275 bfe3 ed41
8028 0004 c8fb 0b4c`
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseResponseRFC5769(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      string
	}{
		{"ipv4", rfc5769v4, "192.0.2.1:32853"},
		{"ipv6", rfc5769v6, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := parseResponse(unhex(t, tc.msg))
			if !ok {
				t.Fatal("valid RFC 5769 response rejected")
			}
			if want := netip.MustParseAddrPort(tc.want); r.mapped != want {
				t.Fatalf("mapped %s, want %s", r.mapped, want)
			}
			if got := hex.EncodeToString(r.tid[:]); got != "b7e7a701bc34d686fa87dfae" {
				t.Fatalf("transaction id %s", got)
			}
		})
	}
}

func TestParseResponseRejects(t *testing.T) {
	good := unhex(t, rfc5769v4)
	for _, tc := range []struct {
		name string
		mod  func([]byte) []byte
	}{
		{"request class", func(b []byte) []byte { b[1] = 0x01; b[0] = 0; return b }},
		{"error class", func(b []byte) []byte { b[0], b[1] = 0x01, 0x11; return b }},
		{"bad cookie", func(b []byte) []byte { b[4] = 0; return b }},
		{"length past end", func(b []byte) []byte { return b[:len(b)-4] }},
		{"unaligned length", func(b []byte) []byte { b[3] = 0x3d; return append(b, 0) }},
		{"short header", func(b []byte) []byte { return b[:19] }},
		{"truncated attribute", func(b []byte) []byte { b[22], b[23] = 0x00, 0xff; return b }},
		{"bad family", func(b []byte) []byte { b[41] = 0x07; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mod(append([]byte(nil), good...))
			if _, ok := parseResponse(b); ok {
				t.Fatal("accepted")
			}
		})
	}
}

func TestPutRequest(t *testing.T) {
	b := make([]byte, headerLen)
	putRequest(b, [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	if got, want := hex.EncodeToString(b), "000100002112a442"+"0102030405060708090a0b0c"; got != want {
		t.Fatalf("request %s, want %s", got, want)
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(unhexF(rfc5769v4))
	f.Add(unhexF(rfc5769v6))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseResponse(b) // must not panic on any datagram
	})
}

func unhexF(s string) []byte {
	b, _ := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	return b
}
