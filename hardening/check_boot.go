package hardening

import (
	"errors"
	"os"
	"path/filepath"
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
		return false, nil, errors.New("not an image: the UKI can only be checked on a built image (--image) or live")
	}
	have := map[string]bool{}
	for _, s := range t.Image.UKISections {
		have[s] = true
	}
	var ev []Evidence
	for _, s := range []string{".linux", ".initrd", ".cmdline"} {
		ev = append(ev, Evidence{Where: t.Image.UKI, Found: "section " + s + map[bool]string{true: " present", false: " missing"}[have[s]], Expected: "present", OK: have[s]})
	}
	ev = append(ev, Evidence{Where: t.Image.UKI + " .cmdline", Found: "roothash=" + t.Image.RootHash, Expected: "roothash=<hex>", OK: t.Image.RootHash != ""})
	return allOK(ev), ev, nil
}

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
		return false, nil, errors.New("not an image: the UKI signature can only be checked on a built image (--image) or live")
	}
	signed := t.Image.SignatureSize > 0
	found := "unsigned (no Authenticode certificate table)"
	if signed {
		found = "Authenticode signature present"
	}
	return signed, []Evidence{{Where: t.Image.UKI, Found: found, Expected: "signed", OK: signed}}, nil
}

// checkStamp compares the image's stamp with the auditing profile.
func checkStamp(c *Control, t *Target) (bool, []Evidence, error) {
	s, err := ReadStamp(t.Root)
	if err != nil {
		return false, []Evidence{{Where: stampFile, Found: "missing", Expected: "profile stamp"}}, nil
	}
	want := t.profileVersion
	ok := s.Version != "" && (want == "" || s.Version == want)
	found := "profile " + s.Version
	if s.Debug {
		found += ", debug image"
	}
	if s.Stateless {
		found += ", stateless"
	}
	return ok, []Evidence{{Where: stampFile, Found: strings.TrimSpace(found), Expected: "profile " + want, OK: ok}}, nil
}
