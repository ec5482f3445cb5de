package hardening

import (
	"strings"
	"testing"
)

func TestKernelMapsRoot(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 3) + strings.Repeat("fedcba9876543210", 1)
	line := strings.Join(KernelVerityRoot(hash, strings.Repeat("00", 32), 100), " ") + " quiet"
	if !KernelMapsRoot(line, hash) {
		t.Fatalf("a correct table refused: %s", line)
	}
	other := strings.Repeat("1", 64)
	d, h, _ := VerityPartUUIDs(hash)
	for name, bad := range map[string]string{
		"another root hash":   strings.Replace(line, "sha256 "+hash, "sha256 "+other, 1),
		"another data device": strings.Replace(line, "PARTUUID="+d+" PARTUUID", "PARTUUID=00000000-0000-0000-0000-000000000000 PARTUUID", 1),
		"another hash device": strings.Replace(line, "PARTUUID="+h+" 4096", "PARTUUID="+d+" 4096", 1),
		"root elsewhere":      strings.Replace(line, "root=/dev/dm-0", "root=/dev/vda2", 1),
		"a second table":      line + ` dm-mod.create="x,,,rw,0 8 linear /dev/vda 0"`,
		"writable":            strings.Replace(line, ",,ro,0", ",,rw,0", 1),
		"no table":            "roothash=" + hash + " root=/dev/dm-0",
	} {
		if KernelMapsRoot(bad, hash) {
			t.Errorf("%s accepted: %s", name, bad)
		}
	}
	if KernelMapsRoot(line, "") {
		t.Error("no expected hash accepted")
	}
}
