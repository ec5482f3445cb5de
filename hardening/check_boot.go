package hardening

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func checkUKI(c *Control, t *Target) (bool, []Evidence, error) {
	if t.Live {
		// systemd-stub publishes StubInfo when it booted the kernel.
		p := filepath.Join(t.Sys, "firmware/efi/efivars/StubInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f")
		_, err := os.Stat(p)
		hash := cmdlineValues(t.Cmdline)["roothash"]
		ev := []Evidence{
			{Where: p, Found: map[bool]string{true: "present (booted through systemd-stub)", false: "absent"}[err == nil], Expected: "present", OK: err == nil},
			{Where: t.CmdlineWhere, Found: "roothash=" + hash, Expected: "roothash=<hex>", OK: hash != ""},
		}
		return allOK(ev), ev, nil
	}
	if t.Image == nil {
		return false, nil, errAt(t.Name, "a root directory, not a built image", "a built image (--image) or the running system", errors.New("not an image: the UKI can only be checked on a built image (--image) or live"))
	}
	have := map[string]bool{}
	for _, s := range t.Image.UKISections {
		have[s] = true
	}
	var ev []Evidence
	for _, s := range []string{".linux", ".initrd", ".cmdline"} {
		e := Evidence{Where: t.Image.UKI, Found: "section " + s + map[bool]string{true: " present", false: " missing"}[have[s]], Expected: "present", OK: have[s]}
		if s == ".initrd" && !have[s] {
			// No initrd (the hardened kernel): the kernel itself maps the
			// root, from the signed command line.
			e.Expected = "present, or no initrd and the kernel mapping the verity root (dm-mod.create=)"
			e.OK = KernelMapsRoot(t.Cmdline, t.Image.RootHash)
		}
		ev = append(ev, e)
	}
	exp := t.Image.Expected
	ev = append(ev, Evidence{Where: t.Image.UKI + " .cmdline",
		Found:    fmt.Sprintf("roothash=%s (%d roothash= token(s))", t.Image.RootHash, t.Image.RootHashTokens),
		Expected: "exactly one roothash=" + exp.RootHash + " (" + exp.RootHashFrom + ")",
		OK:       t.Image.RootHash != "" && t.Image.RootHash == exp.RootHash && t.Image.RootHashTokens == 1})
	if exp.Cmdline != "" {
		ev = append(ev, Evidence{Where: t.Image.UKI + " .cmdline", Found: quoteCmdline(t.Cmdline),
			Expected: "the published command line " + quoteCmdline(exp.Cmdline) + " (" + exp.RootHashFrom + ")", OK: t.Cmdline == exp.Cmdline})
	}
	return allOK(ev), ev, nil
}

func quoteCmdline(s string) string { return strconv.Quote(s) }

func checkSecureBoot(c *Control, t *Target) (bool, []Evidence, error) {
	if t.Live {
		p := filepath.Join(t.Sys, "firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c")
		b, err := os.ReadFile(p)
		on := err == nil && len(b) == 5 && b[4] == 1 // 4 attribute bytes, then the value
		found := "disabled"
		if err != nil {
			found = "no EFI variable (not booted with UEFI?)"
		} else if on {
			found = "enabled"
		}
		return on, []Evidence{{Where: p, Found: found, Expected: "enabled", OK: on}}, nil
	}
	if t.Image == nil {
		return false, nil, errAt(t.Name, "a root directory, not a built image", "a built image (--image) or the running system", errors.New("not an image: the UKI signature can only be checked on a built image (--image) or live"))
	}
	// A certificate table proves nothing by being there: anyone can append
	// bytes. Only a signature verified with the operator's certificate
	// passes; without --cert the control fails (and an unsigned image's
	// documented exception applies).
	exp := t.Image.Expected
	switch {
	case t.Image.SignatureSize == 0:
		return false, []Evidence{{Where: t.Image.UKI, Found: "unsigned (no Authenticode certificate table)", Expected: "signed", OK: false}}, nil
	case exp.Cert == nil:
		return false, []Evidence{{Where: t.Image.UKI, Found: "a certificate table, not verified (no certificate given: --cert FILE)", Expected: "signature verified with the operator's certificate", OK: false}}, nil
	}
	return t.Image.SignatureVerified, []Evidence{{Where: t.Image.UKI, Found: t.Image.SignatureOutput,
		Expected: "Authenticode signature verified with " + exp.Cert.Subject.String() + " (" + exp.CertFrom + ")", OK: t.Image.SignatureVerified}}, nil
}

// checkStamp compares the image's stamp with the auditing profile.
func checkStamp(c *Control, t *Target) (bool, []Evidence, error) {
	s, err := ReadStamp(t.Root)
	if err != nil {
		return false, []Evidence{{Where: stampFile, Found: "missing", Expected: "profile stamp"}}, nil
	}
	want := t.profileVersion
	// Offline, debug comes from the operator (--debug), not the stamp: an
	// image that calls itself a debug image to excuse its shell fails here.
	ok := s.Version != "" && (want == "" || s.Version == want) && (t.Image == nil || s.Debug == t.Debug)
	found := "profile " + s.Version
	if s.Debug {
		found += ", debug image"
	}
	if s.Stateless {
		found += ", stateless"
	}
	expected := "profile " + want
	if t.Image != nil {
		expected += map[bool]string{true: ", debug image (--debug)", false: ", not a debug image (no --debug)"}[t.Debug]
	}
	return ok, []Evidence{{Where: stampFile, Found: strings.TrimSpace(found), Expected: expected, OK: ok}}, nil
}
