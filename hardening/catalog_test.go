package hardening

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// The embedded catalogs load, and agree with the embedded profile: every id
// a control cites is in a catalog and credits that control, every control a
// catalog item names exists, every item has a status.
func TestCatalogMatchesProfile(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Check(p) {
		t.Error(err)
	}
	for _, key := range []string{"cis", "kspp", "stig", "systemd-analyze"} {
		if c.Reference(key) == nil {
			t.Errorf("no %s catalog", key)
		}
	}
	// Titles are ours: none is the benchmark's "Ensure ..." sentence.
	// Every CIS item has a server level, and sections 1-7 are all there.
	sections := map[string]bool{}
	for _, it := range c.Reference("cis").Items {
		if strings.HasPrefix(strings.ToLower(it.Title), "ensure") {
			t.Errorf("%s: title %q reads like the benchmark's text; write a short title of our own", it.Pos, it.Title)
		}
		if it.Level != 1 && it.Level != 2 {
			t.Errorf("%s: CIS %s has no level (1 or 2)", it.Pos, it.ID)
		}
		sections[strings.SplitN(it.ID, ".", 2)[0]] = true
	}
	for _, s := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if !sections[s] {
			t.Errorf("no CIS item in section %s", s)
		}
	}
	// Sizes of the whole references, so a truncated file is noticed.
	for key, min := range map[string]int{"cis": 310, "kspp": 360, "systemd-analyze": 81} {
		if n := len(c.Reference(key).Items); n < min {
			t.Errorf("%s catalog has %d items, want at least %d", key, n, min)
		}
	}
}

// KSPP sysctl and command line items marked implemented are really set by
// one of their controls: the control's settings carry the option name.
func TestCatalogKSPPSettingsAreInTheControls(t *testing.T) {
	p, _ := Default()
	c, _ := DefaultCatalog()
	for _, it := range c.Reference("kspp").Items {
		typ, name, _ := strings.Cut(it.ID, " ")
		if it.Status != Implemented || (typ != "sysctl" && typ != "cmdline") {
			continue
		}
		found := false
		for _, id := range it.By {
			if v, ok := p.Control(id).Settings[name]; ok {
				found = true
				if !satisfies(name, v, it.Want) {
					t.Errorf("%s: %s wants %q, but %s sets %q", it.Pos, it.ID, it.Want, id, v)
				}
			}
		}
		if !found && name != "kernel.modules_disabled" { // set by a unit (modules-lock), checked live by modules-disabled-live
			t.Errorf("%s: %s is implemented by %v, but none of them sets %s", it.Pos, it.ID, it.By, name)
		}
	}
}

// satisfies reads kernel-hardening-checker's wanted-value forms.
func satisfies(name, v, want string) bool {
	switch {
	case want == "is present":
		return true
	case want == "is not off":
		return v != "off"
	case strings.HasPrefix(want, "*") && strings.HasSuffix(want, "*"):
		return strings.Contains(v, strings.Trim(want, "*"))
	case want == "1" && v == "on": // boolean kernel parameters take on/1 alike
		return true
	case want == "MAX" && name == "vm.mmap_rnd_bits": // x86-64: CONFIG_ARCH_MMAP_RND_BITS_MAX is 32
		return v == "32"
	}
	return v == want
}

func TestCatalogKSPPItemID(t *testing.T) {
	for in, want := range map[string]string{
		"sysctl kernel.kptr_restrict=2":                           "sysctl kernel.kptr_restrict",
		"kconfig CONFIG_BPF_SYSCALL is not set":                   "kconfig CONFIG_BPF_SYSCALL",
		"cmdline slab_nomerge":                                    "cmdline slab_nomerge",
		"cmdline lockdown=confidentiality (integrity at minimum)": "cmdline lockdown",
		"sysctl kernel.unprivileged_userns_clone=0 (Debian)":      "sysctl kernel.unprivileged_userns_clone",
	} {
		if got := KSPPItemID(in); got != want {
			t.Errorf("KSPPItemID(%q) = %q, want %q", in, got, want)
		}
	}
}

const testProfile = `version = "1.0.0"
name = "t"
control "sysctl-aslr" {
  title = "ASLR"
  rationale = "r"
  severity = "low"
  references {
    cis = ["1.5.1", "%s"]
  }
  apply = "sysctl"
  check = "sysctl"
  settings = { "kernel.randomize_va_space" = "2" }
}
`

// The two failures the issue names: a control citing an id the catalog
// lacks, and a catalog item without a status. Plus the drift cases.
func TestCatalogFailures(t *testing.T) {
	cat := func(items string) fstest.MapFS {
		return fstest.MapFS{"c/cis.hcl": {Data: []byte("reference \"cis\" {\n title = \"CIS\"\n scope = \"complete\"\n}\nreason \"no-x\" {\n text = \"no x\"\n}\n" + items)}}
	}
	okItems := "item \"1.5.1\" {\n title = \"aslr\"\n status = \"implemented\"\n by = [\"sysctl-aslr\"]\n}\nitem \"1.5.2\" {\n title = \"t\"\n status = \"not-applicable\"\n reason = \"no-x\"\n}\n"
	cases := []struct {
		name, cited, items, want string
		loadErr                  bool
	}{
		{"ok", "1.5", okItems, "", false},
		{"cited id missing", "9.9.9", okItems, `cites cis "9.9.9", which is not in c/cis.hcl`, false},
		{"no status", "1.5.1", okItems + "item \"1.6\" {\n title = \"t\"\n}\n", `c/cis.hcl:18: item "1.6": no status`, true},
		{"bad status", "1.5.1", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"done\"\n}\n", `status "done" is not`, true},
		{"implemented without control", "1.5.1", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"implemented\"\n}\n", "implemented by which control", true},
		{"unknown reason", "1.5.1", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"not-applicable\"\n reason = \"nope\"\n}\n", "reason block", true},
		{"exception without note", "1.5.1", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"exception\"\n by = [\"sysctl-aslr\"]\n}\n", "justification", true},
		{"duplicate", "1.5.1", okItems + "item \"1.5.1\" {\n title = \"t\"\n status = \"open\"\n}\n", "duplicate id", true},
		{"cited but open", "1.6", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"open\"\n}\n", `"1.6" is open, but control "sysctl-aslr" cites it`, false},
		{"cited, other control", "1.6", okItems + "item \"1.6\" {\n title = \"t\"\n status = \"implemented\"\n by = [\"sysctl-aslr\", \"nope\"]\n}\n", `names control "nope"`, false},
	}
	for _, tc := range cases {
		p, err := Parse("p.hcl", []byte(strings.Replace(testProfile, "%s", tc.cited, 1)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := LoadCatalog(cat(tc.items), "c")
		if tc.loadErr {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: load error %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		errs := c.Check(p)
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		got := strings.Join(msgs, "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: errors %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCoverageNumbers(t *testing.T) {
	c, _ := DefaultCatalog()
	var buf bytes.Buffer
	if err := c.WriteCoverageText(&buf, true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"CIS Debian Linux 12 Benchmark v1.1.0", "  Level 1", "  kconfig", "Open in KSPP", "cross-references only"} {
		if !strings.Contains(out, want) {
			t.Errorf("coverage output lacks %q", want)
		}
	}
	for _, cv := range c.Coverage() {
		sum := 0
		for _, n := range cv.Counts {
			sum += n
		}
		if sum != cv.Items {
			t.Errorf("%s %s: counts %v do not add up to %d", cv.Reference, cv.Group, cv.Counts, cv.Items)
		}
		if cv.Implemented > cv.Addressed || cv.Addressed > 100 {
			t.Errorf("%s %s: implemented %.1f > addressed %.1f", cv.Reference, cv.Group, cv.Implemented, cv.Addressed)
		}
	}
	// The README table is what the command prints.
	var md bytes.Buffer
	c.WriteCoverageMarkdown(&md)
	readme, err := readmeText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readme, md.String()) {
		t.Errorf("hardening/README.md does not contain the current coverage table; paste `appliance-audit coverage --markdown`:\n%s", md.String())
	}
}

func readmeText() (string, error) {
	b, err := os.ReadFile("README.md")
	return string(b), err
}

// The systemd-analyze catalog is what systemd-analyze says about the unit
// today: implemented items score 0, open and n/a items do not. A unit
// change that gains or loses a setting fails here until the catalog says so.
func TestCatalogSystemdAnalyzeMatchesUnit(t *testing.T) {
	testenv.RequireCommands(t, "systemd-analyze")
	out, err := exec.Command("systemd-analyze", "security", "--no-pager", "--offline=yes", "--json=short",
		"../supernode/systemd/supernode.service").Output()
	if err != nil {
		t.Skipf("systemd-analyze security --offline (systemd >= 252) not usable here: %v", err)
	}
	var checks []struct {
		Name     string  `json:"name"`
		Exposure *string `json:"exposure"`
	}
	if err := json.Unmarshal(out, &checks); err != nil {
		t.Fatal(err)
	}
	c, _ := DefaultCatalog()
	ref := c.Reference("systemd-analyze")
	if len(checks) != len(ref.Items) {
		t.Errorf("systemd-analyze has %d checks, the catalog %d", len(checks), len(ref.Items))
	}
	for _, ch := range checks {
		it := ref.Item(ch.Name)
		if it == nil {
			t.Errorf("check %q is not in %s", ch.Name, ref.File)
			continue
		}
		zero := ch.Exposure == nil || *ch.Exposure == "0.0"
		if zero != (it.Status == Implemented) {
			exp := "0"
			if ch.Exposure != nil {
				exp = *ch.Exposure
			}
			t.Errorf("%s: %s is %s in the catalog but scores %s on supernode.service", it.Pos, ch.Name, it.Status, exp)
		}
	}
}
