package builder

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// TestConvertFormats converts a small raw disk into every extra format with
// the real qemu-img and checks what qemu-img says each file is, and the OVA's
// layout (OVF first, then the disk, then a manifest whose sums are right).
func TestConvertFormats(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed (package qemu-utils)")
	}
	work := t.TempDir()
	st := &State{Config: &Config{ImageName: "img", Formats: []string{"raw", "qcow2", "vmdk", "vhdx", "vhd", "ova"}},
		Work: work, Staging: filepath.Join(work, "out"), Epoch: 1700000000, UI: &packersdk.BasicUi{Writer: io.Discard, ErrorWriter: io.Discard}}
	os.Mkdir(st.Staging, 0o755)
	st.RawImage = filepath.Join(st.Staging, "img.raw")
	raw := make([]byte, 4<<20)
	copy(raw[1<<20:], "supernode")
	os.WriteFile(st.RawImage, raw, 0o644)
	state := new(multistep.BasicStateBag)
	state.Put(stateKey, st)
	state.Put("ui", st.UI)
	if a := (&StepConvertFormats{}).Run(context.Background(), state); a != multistep.ActionContinue {
		t.Fatalf("convert: %v", state.Get("error"))
	}
	// A fixed VHD is the raw disk plus a 512-byte "conectix" footer (what
	// Azure requires); qemu-img probes it as raw, so check the footer.
	vhd, _ := os.ReadFile(filepath.Join(st.Staging, "img.vhd"))
	if len(vhd) != 4<<20+512 || string(vhd[len(vhd)-512:len(vhd)-504]) != "conectix" {
		t.Errorf("vhd: %d bytes, footer %q", len(vhd), vhd[len(vhd)-512:len(vhd)-504])
	}
	for f, want := range map[string]string{"qcow2": "qcow2", "vmdk": "vmdk", "vhdx": "vhdx"} {
		out, err := exec.Command("qemu-img", "info", "--output=json", filepath.Join(st.Staging, "img."+f)).Output()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var info struct {
			Format  string `json:"format"`
			Virtual int64  `json:"virtual-size"`
		}
		json.Unmarshal(out, &info)
		if info.Format != want || info.Virtual != 4<<20 {
			t.Errorf("%s: qemu-img sees %+v", f, info)
		}
	}
	f, err := os.Open(filepath.Join(st.Staging, "img.ova"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	sums := map[string]string{}
	var mf string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		b, _ := io.ReadAll(tr)
		sums[h.Name] = fmt.Sprintf("%x", sha256.Sum256(b))
		if strings.HasSuffix(h.Name, ".mf") {
			mf = string(b)
		}
	}
	if strings.Join(names, ",") != "img.ovf,img.vmdk,img.mf" {
		t.Fatalf("OVA members %v", names)
	}
	for _, n := range []string{"img.ovf", "img.vmdk"} {
		if !strings.Contains(mf, fmt.Sprintf("SHA256(%s)= %s", n, sums[n])) {
			t.Errorf("manifest lacks the right sum of %s:\n%s", n, mf)
		}
	}
}
