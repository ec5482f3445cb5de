package kernel

import (
	"strings"
	"testing"
)

func TestLostNamesEveryDroppedOption(t *testing.T) {
	frag := "# comment\nCONFIG_A=y\nCONFIG_B=n\nCONFIG_C=100\nCONFIG_D=y\n# CONFIG_E is not set\n"
	final := "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=200\nCONFIG_E=y\n"
	got := strings.Join(Lost(frag, final), "; ")
	want := "CONFIG_C=100 (got 200); CONFIG_D=y (got n); CONFIG_E=n (got y)"
	if got != want {
		t.Fatalf("Lost = %q, want %q", got, want)
	}
	if l := Lost(frag, "CONFIG_A=y\nCONFIG_C=100\nCONFIG_D=y\n"); len(l) != 0 {
		t.Fatalf("an absent option counts as n: %v", l)
	}
}

// The fragment is one setting per option, and it says what the issue
// promises: no modules, the bpf syscall for XDP, the verity root in the
// kernel, lockdown forced.
func TestFragment(t *testing.T) {
	seen := map[string]bool{}
	for _, line := range strings.Split(Fragment, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "CONFIG_") {
			t.Errorf("not an option line: %q", line)
		}
		if seen[k] {
			t.Errorf("%s set twice", k)
		}
		seen[k] = true
	}
	m := Parse(Fragment)
	for k, v := range map[string]string{
		"CONFIG_MODULES": "n", "CONFIG_BPF_SYSCALL": "y", "CONFIG_DM_INIT": "y", "CONFIG_DM_VERITY": "y",
		"CONFIG_EROFS_FS": "y", "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY": "y", "CONFIG_KEXEC": "n",
		"CONFIG_IO_URING": "n", "CONFIG_DEVMEM": "n",
	} {
		if m[k] != v {
			t.Errorf("%s=%q in the fragment, want %q", k, m[k], v)
		}
	}
	if len(m) < 200 {
		t.Errorf("the fragment sets only %d options", len(m))
	}
}

func TestKeyFollowsEveryInput(t *testing.T) {
	base := Inputs{Mirror: "http://a/debian"}
	keys := map[string]string{
		"default":        base.Key(),
		"source version": Inputs{SourceVersion: "6.12.118-1"}.Key(),
		"fragment":       Inputs{Fragment: Fragment + "CONFIG_E1000=y\n"}.Key(),
	}
	if (Inputs{Fragment: "# a new comment\n" + Fragment}).Key() != keys["default"] {
		t.Error("a comment changed the key: nothing built changes with it")
	}
	if (Inputs{Mirror: "http://b/debian"}).Key() != keys["default"] {
		t.Error("the mirror changed the key: the source version pins the source")
	}
	seen := map[string]string{}
	for name, k := range keys {
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s give the same key", name, other)
		}
		seen[k] = name
	}
}

func TestSeedScriptIsPinned(t *testing.T) {
	s := seedScript("ab12")
	if !strings.Contains(s, "SEED=ab12\n") || strings.Contains(s, "urandom") {
		t.Fatal(s)
	}
}
