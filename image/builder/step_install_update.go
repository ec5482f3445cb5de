package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// What A/B updates add to the image, kept apart from the shared lists so
// the parts stay independent:
//
//   - appliance-update (image/cmd/appliance-update): verifies a bundle
//     against the operator key (update.OperatorKeyPath, installed by
//     installer.operatorKey) and hands the verified copy to sysupdate;
//   - image/update/systemd/*.transfer -> /usr/lib/sysupdate.d: root,
//     verity and UKI transfers (sysupdate.d(5) example 1);
//   - systemd-container: /usr/lib/systemd/systemd-sysupdate and the
//     systemd-import it runs to write (and gunzip) the payloads;
//   - systemd-boot: systemd-bless-boot, which drops a new UKI's boot
//     counter once boot-complete.target (appliance-health.service, the
//     health gate) is reached; its other units are masked (UpdateMasked);
//   - appliance-update-media.service and its udev rule: a stick labelled
//     SN-UPDATE is verified and installed;
//   - image/install/systemd: appliance-install.service (install media)
//     and 61-appliance-boot-disk.rules, which /etc/fstab's mounts follow.
var (
	UpdateCommands = []string{"appliance-update"}
	UpdateUnitDirs = []string{"image/update/systemd", "image/install/systemd"}
	UpdatePackages = []string{"systemd-container", "systemd-boot"}
	// UpdateKeep: of systemd-container only systemd-sysupdate and the
	// systemd-import (and -export) it runs for regular-file sources stay.
	// The strip removes the rest (nspawn, machined, portabled, importd,
	// mountfsd, nsresourced, their units, and systemd-pull, which only
	// url-file sources need: appliance-update fetches and verifies a
	// bundle itself and hands sysupdate a local copy).
	UpdateKeep = map[string][]string{"systemd-container": {
		"usr/lib/systemd/systemd-sysupdate", "usr/lib/systemd/systemd-import",
		"usr/lib/systemd/systemd-export", "usr/lib/systemd/import-pubring.gpg",
	}}
	// UpdateStripPackages go with systemd-pull, together with every
	// package only they need (DpkgDB.Orphans: libcurl's TLS, HTTP/2, LDAP,
	// SASL, SSH, RTMP, IDN and PSL libraries, about 12 MB).
	UpdateStripPackages = []string{"libcurl4t64"}
	// systemd-boot's units the appliance does not want: a random seed
	// written to the ESP on every boot, bootctl over varlink, and
	// updating the loader from the (read-only, verified) root.
	UpdateMasked = []string{"systemd-boot-random-seed.service", "systemd-bootctl.socket", "systemd-boot-update.service"}
)

// BlessBootDropIn runs systemd-bless-boot with the ESP the loader booted
// from mounted in the unit's own namespace (the appliance mounts it
// nowhere else: systemd.gpt_auto=0).
const BlessBootDropIn = `[Service]
RuntimeDirectory=appliance-esp
RuntimeDirectoryMode=0700
Environment=SYSTEMD_ESP_PATH=/run/appliance-esp
PrivateMounts=yes
ExecStart=
ExecStart=/usr/bin/appliance-update with-esp /usr/lib/systemd/systemd-bless-boot good
`

// UKITransfer is where the UKI transfer is installed; its TriesLeft= is
// the template's boot_tries.
const UKITransfer = "/usr/lib/sysupdate.d/70-supernode-uki.transfer"

// UpdateSystemFiles are the update machinery's files that depend on the
// template: bless-boot's drop-in and the UKI transfer with boot_tries.
func UpdateSystemFiles(c *Config) map[string]string {
	files := map[string]string{
		"/usr/lib/systemd/system/systemd-bless-boot.service.d/appliance-esp.conf": BlessBootDropIn,
	}
	if b, err := os.ReadFile(filepath.Join(c.SourceDir, "image/update/systemd", filepath.Base(UKITransfer))); err == nil {
		files[UKITransfer] = strings.Replace(string(b), "\nTriesLeft=3\n", fmt.Sprintf("\nTriesLeft=%d\n", c.BootTries), 1)
	}
	return files
}

func init() {
	Commands = append(Commands, UpdateCommands...)
	UnitDirs = append(UnitDirs, UpdateUnitDirs...)
}
