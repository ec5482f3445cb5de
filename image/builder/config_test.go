package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.pkr.hcl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultTemplateDecodes(t *testing.T) {
	b, _, err := LoadTemplate("../appliance.pkr.hcl")
	if err != nil {
		t.Fatal(err)
	}
	c := b.Config()
	if c.OutputDir != "out" || c.ImageName != "supernode-appliance" || c.Suite != "trixie" || c.KernelFlavour != "hardened" {
		t.Fatalf("unexpected config %+v", c)
	}
	if strings.Join(c.Formats, ",") != "raw,qcow2" || c.Stateless || c.Debug {
		t.Fatalf("formats/stateless/debug: %v %v %v", c.Formats, c.Stateless, c.Debug)
	}
	if c.PackerBuildName != "appliance" {
		t.Fatalf("build name %q", c.PackerBuildName)
	}
}

func TestTemplateDefaultsWhenEmpty(t *testing.T) {
	b, _, err := LoadTemplate(writeTemplate(t, `source "supernode" "x" {}`))
	if err != nil {
		t.Fatal(err)
	}
	c := b.Config()
	if c.CacheDir != DefaultCacheDir || c.VarSize != DefaultVarSize || c.Compression != "lzma" || c.Hostname != "supernode" || len(c.InitrdDrivers) == 0 {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"unknown key":      {`source "supernode" "x" { colour = "red" }`, `colour`},
		"wrong type":       {`source "supernode" "x" { debug = "maybe" }`, `debug`},
		"no source":        {`build {}`, `no source "supernode" block`},
		"unknown block":    {`variable "x" {}`, `variable`},
		"syntax":           {`source "supernode" "x" {`, `t.pkr.hcl`},
		"kernel flavour":   {`source "supernode" "x" { kernel_flavour = "rt" }`, `kernel_flavour "rt"`},
		"formats w/o raw":  {`source "supernode" "x" { formats = ["qcow2"] }`, `must include "raw"`},
		"unknown format":   {`source "supernode" "x" { formats = ["raw", "iso"] }`, `"iso"`},
		"bad address":      {`source "supernode" "x" { static_addresses = ["10.0.0.1"] }`, `prefix length`},
		"gateway alone":    {`source "supernode" "x" { gateway = "10.0.0.1" }`, `static_addresses is empty`},
		"bad hostname":     {`source "supernode" "x" { hostname = "Bad_Name" }`, `RFC 1123`},
		"relative cache":   {`source "supernode" "x" { cache_dir = "cache" }`, `absolute`},
		"bad size":         {`source "supernode" "x" { var_size = "lots" }`, `var_size`},
		"half secure boot": {`source "supernode" "x" { secure_boot_key = "k.pem" }`, `together`},
		"roothash token":   {`source "supernode" "x" { kernel_cmdline = ["roothash=00"] }`, `roothash`},
		"second dm table":  {`source "supernode" "x" { kernel_cmdline = ["dm-mod.create=x"] }`, `dm-mod.*`},
		"root elsewhere":   {`source "supernode" "x" { kernel_cmdline = ["root=/dev/sda2"] }`, `root=`},
		"quoted token":     {`source "supernode" "x" { kernel_cmdline = ["a=\"b"] }`, `one token`},
		"source w/o build": {`source "supernode" "x" {
  kernel_flavour = "cloud"
  kernel_source_version = "6.12.118-1"
}`, `only with kernel_flavour = "hardened"`},
		"bad source ver": {"source \"supernode\" \"x\" {\nkernel_flavour = \"hardened\"\nkernel_source_version = \"1; rm -rf /\"\n}", `kernel_source_version`},
		"bad mirror":     {`source "supernode" "x" { mirror = "ftp.example" }`, `mirror`},
		"no previous":    {`source "supernode" "x" { previous_profile = "/nonexistent/old.hcl" }`, `previous_profile: previous profile /nonexistent/old.hcl: no such file or directory; give a profile file or the output directory of a previous build`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := LoadTemplate(writeTemplate(t, c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// Packer JSON templates arrive as maps, not cty values.
func TestPrepareFromJSONMap(t *testing.T) {
	var b Builder
	_, _, err := b.Prepare(map[string]interface{}{"image_name": "edge", "stateless": true, "formats": []string{"raw", "vhd", "ova"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Config().ImageName != "edge" || !b.Config().Stateless || len(b.Config().extraFormats()) != 2 {
		t.Fatalf("%+v", b.Config())
	}
	_, _, err = b.Prepare(map[string]interface{}{"nope": 1})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown JSON key not reported: %v", err)
	}
}

func TestDebugWarns(t *testing.T) {
	_, warnings, err := LoadTemplate(writeTemplate(t, `source "supernode" "x" { debug = true }`))
	if err != nil || len(warnings) == 0 {
		t.Fatalf("warnings %v err %v", warnings, err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512M": 512 << 20, "2G": 2 << 30, "64k": 64 << 10, "1048576": 1 << 20, "1GiB": 1 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1M", "1.5G", "ten"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
