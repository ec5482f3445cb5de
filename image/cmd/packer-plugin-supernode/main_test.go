package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/packer-plugin-sdk/plugin"
	"github.com/hashicorp/packer-plugin-sdk/rpc"
	"github.com/zclconf/go-cty/cty"

	"github.com/supernode-appliance/appliance/internal/version"
)

// buildPlugin compiles this main package the way a user installs it.
func buildPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "packer-plugin-supernode")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestDescribe(t *testing.T) {
	out, err := exec.Command(buildPlugin(t), "describe").Output()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Version    string   `json:"version"`
		SDKVersion string   `json:"sdk_version"`
		APIVersion string   `json:"api_version"`
		Builders   []string `json:"builders"`
		Protocol   string   `json:"protocol_version"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d.SDKVersion != "0.6.4" || d.APIVersion != "x5.0" || len(d.Builders) != 1 || d.Builders[0] != plugin.DEFAULT_NAME || d.Version != version.Unstamped {
		t.Fatalf("describe: %s", out)
	}
}

// TestPrepareOverRPC starts the plugin as Packer does (magic cookie, port
// range, `start builder <name>`), connects to the address it prints, and
// drives the builder over the SDK's RPC: ConfigSpec, then Prepare with the
// default template's source block decoded against that spec.
func TestPrepareOverRPC(t *testing.T) {
	cmd := exec.Command(buildPlugin(t), "start", "builder", plugin.DEFAULT_NAME)
	cmd.Env = append(os.Environ(),
		plugin.MagicCookieKey+"="+plugin.MagicCookieValue,
		"PACKER_PLUGIN_MIN_PORT=10000", "PACKER_PLUGIN_MAX_PORT=25000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lineCh := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lineCh <- strings.TrimSpace(line)
	}()
	var line string
	select {
	case line = <-lineCh:
	case <-time.After(30 * time.Second):
		t.Fatal("plugin printed no address")
	}
	// "<core api major>|<minor>|<network>|<address>"
	f := strings.Split(line, "|")
	if len(f) != 4 || f[0] != "5" {
		t.Fatalf("handshake line %q", line)
	}
	conn, err := net.Dial(f[2], f[3])
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	b := client.Builder()
	spec := b.ConfigSpec()
	for _, key := range []string{"output_dir", "image_name", "kernel_flavour", "formats", "stateless"} {
		if _, ok := spec[key]; !ok {
			t.Fatalf("spec over RPC lacks %q", key)
		}
	}

	decode := func(src string) (interface{}, error) {
		file, diags := hclparse.NewParser().ParseHCL([]byte(src), "t.pkr.hcl")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		content, _, _ := file.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "source", LabelNames: []string{"type", "name"}}}})
		// The default template anchors bin_dir and source_dir with
		// path.root, which Packer provides.
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
			"path": cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal("../.."), "cwd": cty.StringVal(".")}),
		}}
		val, diags := hcldec.Decode(content.Blocks[0].Body, spec, ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		return val, nil
	}
	tmpl, err := os.ReadFile("../../appliance.pkr.hcl")
	if err != nil {
		t.Fatal(err)
	}
	val, err := decode(string(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Prepare(val); err != nil {
		t.Fatalf("Prepare(default template) over RPC: %v", err)
	}
	bad, err := decode(`source "supernode" "x" { kernel_flavour = "rt" }`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Prepare(bad); err == nil || !strings.Contains(err.Error(), "kernel_flavour") {
		t.Fatalf("Prepare(bad) over RPC: %v", err)
	}
}

// TestPluginCheck runs packer-sdc plugin-check on the binary, as the
// Packer plugin release tooling does.
func TestPluginCheck(t *testing.T) {
	bin := buildPlugin(t)
	sdc := filepath.Join(t.TempDir(), "packer-sdc")
	if out, err := exec.Command("go", "build", "-o", sdc, "github.com/hashicorp/packer-plugin-sdk/cmd/packer-sdc").CombinedOutput(); err != nil {
		t.Fatalf("building packer-sdc: %v\n%s", err, out)
	}
	cmd := exec.Command(sdc, "plugin-check", filepath.Base(bin))
	cmd.Dir = filepath.Dir(bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plugin-check: %v\n%s", err, out)
	}
	// And it must fail for a binary that is not a plugin (the check can fail).
	os.WriteFile(filepath.Join(filepath.Dir(bin), "packer-plugin-fake"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	cmd = exec.Command(sdc, "plugin-check", "packer-plugin-fake")
	cmd.Dir = filepath.Dir(bin)
	if err := cmd.Run(); err == nil {
		t.Fatal("plugin-check passed a fake plugin")
	}
}
