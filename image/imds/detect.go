package imds

import (
	"os"
	"path/filepath"
	"strings"
)

// Platform is a cloud whose metadata service we know how to ask.
type Platform int

const (
	None Platform = iota // bare metal, an on-premises hypervisor, anything else
	AWS
	GCP
	Azure
)

func (p Platform) String() string {
	switch p {
	case AWS:
		return "AWS"
	case GCP:
		return "GCP"
	case Azure:
		return "Azure"
	}
	return "none"
}

// DMIDir is where the kernel exports the SMBIOS system and chassis strings
// (drivers/firmware/dmi-id.c). Detection reads only these files: it makes no
// network probe, so on bare metal nothing leaves the machine.
const DMIDir = "/sys/class/dmi/id"

// dmiMatch is one platform's SMBIOS signature: the field in DMIDir and the
// exact value the cloud puts there. The unit's ConditionFirmware= lines are
// the same table (TestUnitConditionsMatchDetection), so systemd does not
// even start the one-shot where Detect would return None.
type dmiMatch struct {
	Platform Platform
	Field    string
	Value    string
}

// Signatures, in the order they are tried.
//   - AWS: Nitro instances (every current type, metal included) report
//     sys_vendor "Amazon EC2". Old Xen-based types do not and are not
//     supported.
//   - GCP: product_name "Google Compute Engine" (sys_vendor is "Google").
//   - Azure: sys_vendor "Microsoft Corporation" is every Hyper-V guest,
//     on-premises ones too; only Azure sets this chassis asset tag.
var signatures = []dmiMatch{
	{AWS, "sys_vendor", "Amazon EC2"},
	{GCP, "product_name", "Google Compute Engine"},
	{Azure, "chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77"},
}

// Detect returns the cloud this machine runs on, from the DMI strings under
// sysRoot (normally "/", a directory tree in tests). Unreadable or missing
// files mean None.
func Detect(sysRoot string) Platform {
	for _, s := range signatures {
		b, err := os.ReadFile(filepath.Join(sysRoot, DMIDir, s.Field))
		if err == nil && strings.TrimSpace(string(b)) == s.Value {
			return s.Platform
		}
	}
	return None
}

// DMIVendor returns sys_vendor under sysRoot, for the "nothing to do" line.
func DMIVendor(sysRoot string) string {
	b, err := os.ReadFile(filepath.Join(sysRoot, DMIDir, "sys_vendor"))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
