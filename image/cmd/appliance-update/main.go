// Command appliance-update installs an update bundle into the inactive
// A/B slot, after checking it (image/update): SHA256SUMS.gpg against the
// operator key in the verified root, every payload's sha256, the names,
// and the version against the running one (no downgrades). Only the
// verified private copy is handed to systemd-sysupdate
// (--transfer-source=DIR); the next boot runs the new version.
//
//	appliance-update [flags] SOURCE       install (or -check) a bundle
//	appliance-update health               the boot health gate
//	appliance-update with-esp CMD [ARG]   run CMD with the boot ESP mounted
//	appliance-update install [-force] [auto|DISK]  copy this appliance to a disk
//	appliance-update on-boot-disk PART    exit 0 if PART is on the boot disk (udev)
//
// SOURCE is the bundle's directory, an https:// URL of one, or with
// -media a block device (a USB stick) holding it in its root. Exit status:
// 0 installed, verified (-check) or nothing to do (the running version);
// 1 refused or failed (one sentence on stderr, nothing installed, the
// staging copy removed); 2 usage error; health: 1 unhealthy on a boot
// under trial (the unit's FailureAction reboots into the previous
// version), 3 unhealthy with nothing to fall back to.
package main

import "github.com/supernode-appliance/appliance/image/cmd/appliance-update/cli"

func main() { cli.Main() }
