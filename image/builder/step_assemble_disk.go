package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/image/confpart"
)

// Partition type GUIDs from the Discoverable Partitions Specification
// (uapi-group.org/specifications/specs/discoverable_partitions_specification).
const (
	TypeESP            = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	TypeRootX86_64     = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	TypeRootVerityX864 = "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5"
)

const mib = 1 << 20

// Partition is one entry of the disk layout.
type Partition struct {
	Name, Type, UUID string
	Start, Size      int64 // bytes, MiB-aligned
	Source           string
	ReadOnly         bool
}

// Layout places the ESP, root and root-verity partitions MiB-aligned after
// the 1 MiB GPT area and leaves room free for /var (made on first boot by
// systemd-repart) plus the backup GPT. It returns the disk size.
func Layout(parts []Partition, freeSpace int64) ([]Partition, int64) {
	off := int64(mib)
	out := make([]Partition, len(parts))
	for i, p := range parts {
		p.Start = off
		p.Size = (p.Size + mib - 1) &^ (mib - 1)
		off += p.Size
		out[i] = p
	}
	return out, off + freeSpace + mib
}

// SfdiskScript is the sfdisk input that writes the GPT for parts.
func SfdiskScript(diskUUID string, parts []Partition) string {
	var b strings.Builder
	fmt.Fprintf(&b, "label: gpt\nlabel-id: %s\nunit: sectors\nsector-size: 512\nfirst-lba: 2048\n", strings.ToUpper(diskUUID))
	for _, p := range parts {
		fmt.Fprintf(&b, "start=%d, size=%d, type=%s, uuid=%s, name=%q", p.Start/512, p.Size/512, p.Type, strings.ToUpper(p.UUID), p.Name)
		if p.ReadOnly {
			// GPT attribute bit 60: read-only, per the DPS for verity roots.
			b.WriteString(", attrs=\"GUID:60\"")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// StepAssembleDisk writes the GPT raw disk: esp, root and root-verity of
// slot A (this version, labelled supernode_<version>), appliance-config,
// root and root-verity of slot B (empty, labelled _empty), with slot A's
// partition UUIDs derived from the root hash and free space for /var.
type StepAssembleDisk struct{}

func (*StepAssembleDisk) Describe() string { return "assemble GPT disk" }

func (*StepAssembleDisk) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	c := st.Config
	dataUUID, hashUUID, err := VerityPartUUIDs(st.RootHash)
	if err != nil {
		return halt(state, err)
	}
	free := int64(0)
	if !c.Stateless {
		free, _ = ParseSize(c.VarSize)
	}
	if n := fileSize(st.RootImage); n > RootSlotSize {
		return halt(state, fmt.Errorf("the erofs root is %s, more than the %s root slot every installed appliance has; make the root smaller (strip, module_allowlist) or raise RootSlotSize for a new installation line", humanSize(n), humanSize(RootSlotSize)))
	}
	if n := fileSize(st.VerityImage); n > VeritySlotSize {
		return halt(state, fmt.Errorf("the dm-verity hash tree is %s, more than the %s hash slot", humanSize(n), humanSize(VeritySlotSize)))
	}
	label := SlotLabel(Version)
	parts, size := Layout([]Partition{
		{Name: "esp", Type: TypeESP, UUID: DerivedUUID("esp-part", st.RootHash), Size: fileSize(st.ESPImage), Source: st.ESPImage},
		// Slot A: this version.
		{Name: label, Type: TypeRootX86_64, UUID: dataUUID, Size: RootSlotSize, Source: st.RootImage, ReadOnly: true},
		{Name: label, Type: TypeRootVerityX864, UUID: hashUUID, Size: VeritySlotSize, Source: st.VerityImage, ReadOnly: true},
		// Partition 4, where it was before the A/B layout, so no number moved.
		{Name: confpart.PartLabel, Type: confpart.TypeBasicData, UUID: DerivedUUID("config-part", st.RootHash), Size: fileSize(st.ConfigImage), Source: st.ConfigImage},
		// Slot B: empty until the first update writes it (sysupdate picks
		// partitions labelled _empty of the right type).
		{Name: EmptyLabel, Type: TypeRootX86_64, UUID: DerivedUUID("root-b-part", st.RootHash), Size: RootSlotSize},
		{Name: EmptyLabel, Type: TypeRootVerityX864, UUID: DerivedUUID("root-verity-b-part", st.RootHash), Size: VeritySlotSize},
	}, free)
	st.RawImage = filepath.Join(st.Staging, c.ImageName+".raw")
	f, err := os.Create(st.RawImage)
	if err != nil {
		return halt(state, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return halt(state, err)
	}
	script := filepath.Join(st.Work, "disk.sfdisk")
	if err := os.WriteFile(script, []byte(SfdiskScript(DerivedUUID("disk", st.RootHash), parts)), 0o644); err != nil {
		return halt(state, err)
	}
	if _, err := st.inTools(ctx, "sh", "-c", `exec sfdisk --quiet --no-reread --no-tell-kernel "$1" < "$2"`, "sh", st.RawImage, script); err != nil {
		return halt(state, err)
	}
	for _, p := range parts {
		if p.Source == "" {
			continue // an empty slot: zeros (sparse in the raw file)
		}
		if err := writeAt(f, p.Start, p.Source); err != nil {
			return halt(state, fmt.Errorf("writing partition %s: %w", p.Name, err))
		}
	}
	if err := f.Sync(); err != nil {
		return halt(state, err)
	}
	st.say("%s %s (esp %s, 2 root slots of %s (root %s), 2 verity slots of %s (tree %s), config %s, free %s)", filepath.Base(st.RawImage), humanSize(size),
		humanSize(parts[0].Size), humanSize(RootSlotSize), humanSize(fileSize(st.RootImage)), humanSize(VeritySlotSize),
		humanSize(fileSize(st.VerityImage)), humanSize(parts[3].Size), humanSize(free))
	return multistep.ActionContinue
}

func writeAt(f *os.File, off int64, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(io.NewOffsetWriter(f, off), in)
	return err
}

func (*StepAssembleDisk) Cleanup(multistep.StateBag) {}
