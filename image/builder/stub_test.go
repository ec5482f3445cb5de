package builder

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realStub finds the unsigned sd-stub of a cached tools tree.
func realStub(t *testing.T) []byte {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("/var/cache/supernode-appliance", "tools-*", StubPath))
	if len(m) == 0 {
		t.Skip("no cached tools tree with systemd-boot-efi (build an image once)")
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPatchStubSMBIOSOnRealStub(t *testing.T) {
	stub := realStub(t)
	out, p, err := PatchStubSMBIOS(stub)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(stub) {
		t.Fatalf("size changed: %d -> %d", len(stub), len(out))
	}
	diff := 0
	for i := range stub {
		if stub[i] != out[i] {
			diff++
			if i < p.Offset || i >= p.Offset+6 {
				t.Errorf("byte %#x changed outside the patch at %#x", i, p.Offset)
			}
		}
	}
	if diff == 0 || diff > 6 {
		t.Errorf("%d bytes changed, want 1..6", diff)
	}
	if !strings.HasPrefix(p.Before, "0f 85") || !strings.HasPrefix(p.After, "e9") {
		t.Errorf("patch %+v is not jne -> jmp", p)
	}
	t.Logf("%s at %#x: %s -> %s", p.What, p.Offset, p.Before, p.After)
	// Patching the patched stub must fail: the jump is gone.
	if _, _, err := PatchStubSMBIOS(out); err == nil {
		t.Error("a patched stub was patched again")
	}
}

func TestPatchStubSMBIOSRefusesUnknownCode(t *testing.T) {
	stub := realStub(t)
	name := []byte(SMBIOSCmdlineName + "\x00")
	// The name twice: which one is read is unknown, so the build stops.
	twice := append(append([]byte(nil), stub...), name...)
	if _, _, err := PatchStubSMBIOS(twice); err == nil || !strings.Contains(err.Error(), "occurs 2 times") {
		t.Errorf("name twice: %v", err)
	}
	// The name gone (a renamed lookup): nothing to patch, the build stops.
	gone := bytes.Replace(stub, name, []byte(strings.Repeat("x", len(name)-1)+"\x00"), 1)
	if _, _, err := PatchStubSMBIOS(gone); err == nil || !strings.Contains(err.Error(), "occurs 0 times") {
		t.Errorf("name gone: %v", err)
	}
	if _, _, err := PatchStubSMBIOS([]byte("MZ not a PE")); err == nil {
		t.Error("garbage accepted")
	}
}
