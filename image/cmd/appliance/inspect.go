package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
)

func cmdInspect(args []string, stdout io.Writer) error {
	fs := newFlags("inspect", os.Stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("inspect needs the path of a raw image")}
	}
	img := fs.Arg(0)
	parts, err := disk.ReadGPTFile(img)
	if err != nil {
		return fmt.Errorf("%s: %w", img, err)
	}
	fmt.Fprintf(stdout, "%s\n", img)
	for _, p := range parts {
		fmt.Fprintf(stdout, "  %d %-36s %-36s %-36s start %9d size %9d\n", p.Number, p.Name, p.Type, p.UUID, p.Start, p.Size)
	}
	if esp, ok := disk.Find(parts, "esp"); ok {
		ukis, err := disk.ESPUKIs(img, esp)
		if err != nil {
			fmt.Fprintf(stdout, "UKI: %v\n", err)
		}
		for _, uki := range ukis {
			if cmdline, err := ukiCmdline(img, esp, uki); err == nil {
				fmt.Fprintf(stdout, "UKI %s command line:\n  %s\n", uki, cmdline)
			} else {
				fmt.Fprintf(stdout, "UKI: %v\n", err)
			}
		}
	}
	m := filepath.Join(filepath.Dir(img), "manifest.json")
	if b, err := os.ReadFile(m); err == nil {
		var man builder.Manifest
		if json.Unmarshal(b, &man) == nil {
			fmt.Fprintf(stdout, "manifest %s: root hash %s, kernel %s, %d packages, hardening profile %s, builder %s\n",
				m, man.RootHash, man.KernelVersion, len(man.Packages), man.HardeningProfileVersion, man.BuilderVersion)
		}
	}
	return nil
}

// ukiCmdline reads the UKI out of the ESP with mtools (mtype) and returns
// its .cmdline section.
func ukiCmdline(img string, esp disk.Partition, uki string) (string, error) {
	tmp, err := os.CreateTemp("", "uki-*.efi")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	cmd := exec.Command("mtype", "-i", fmt.Sprintf("%s@@%d", img, esp.Start), "::"+uki)
	cmd.Stdout = tmp
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("reading %s from the ESP with mtype (package mtools): %v %s", uki, err, stderr.String())
	}
	return disk.UKISection(tmp, ".cmdline")
}
