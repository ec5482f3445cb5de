package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/supernode-appliance/appliance/image/confpart"
)

// ConfigPartitionSize is the size of the appliance-config partition: FAT12
// with room for appliance.conf (64 KiB at most), its signature and the
// copies `appliance configure` writes before it swaps them in.
const ConfigPartitionSize = 4 << 20

// BootDiskLinks is where 61-appliance-boot-disk.rules links the boot
// disk's var and appliance-config partitions (and no other disk's: with
// the install stick still in, a label names two partitions).
const BootDiskLinks = "/dev/disk/by-boot-disk/"

// ConfigFstab mounts the configuration partition for appliance-config.service:
// read-only, nosuid, nodev, noexec, root's files only; nofail so a disk
// without it (or a broken one) still boots on the built-in configuration.
// The device timeout is /var's: under emulation on a loaded host udev's
// coldplug finished 100 s after the switch to the root, and a 30 s
// timeout failed the mount of a partition that was there.
const ConfigFstab = BootDiskLinks + confpart.PartLabel + " " + confpart.DefaultMountDir +
	" vfat ro,nosuid,nodev,noexec,nofail,uid=0,gid=0,umask=0077,x-systemd.device-timeout=5min 0 0\n"

// configReadme is README.txt on the configuration partition, for whoever
// opens the stick.
const configReadme = `Supernode appliance: per-instance configuration
================================================

appliance.conf holds one setting per line, name=value, each a systemd
credential the appliance reads at boot (lines starting with # are notes):

    supernode.software=edge-1
    supernode-xdp.allow_bogons=10.0.0.0/8

Only names on the appliance's credential allowlist are accepted
(supernode.*, supernode-xdp.*). A file with one bad line is refused as a
whole: the last good configuration (or the built-in one) keeps serving and
the console says why.

Edit it with any text editor, or from Linux/macOS with
    appliance configure /dev/sdX --set supernode.software=edge-1
which checks every name first and writes safely.
`

// configTemplate is the appliance.conf an unsigned image starts with.
const configTemplate = `# Per-instance settings: name=value, one per line (see README.txt).
# supernode.software=edge-1
`

// makeConfigImage makes the appliance-config partition's FAT file system:
// README.txt, and a commented appliance.conf unless the image requires
// signed configuration (an unsigned template would be refused at boot).
func makeConfigImage(ctx context.Context, st *State) error {
	st.ConfigImage = filepath.Join(st.Work, "config.img")
	files := map[string]string{"README.txt": configReadme}
	if st.Config.ConfigSigningKey == "" {
		files[confpart.ConfFile] = configTemplate
	}
	cmds := [][]string{{"mkfs.fat", "--invariant", "-i", derivedHex(8, "config", st.RootHash), "-n", "APPLIANCE", "-C", st.ConfigImage, fmt.Sprint(ConfigPartitionSize / 1024)}}
	for _, name := range sortedKeys(files) {
		src := filepath.Join(st.Work, "config-"+name)
		if err := os.WriteFile(src, []byte(files[name]), 0o644); err != nil {
			return err
		}
		cmds = append(cmds, []string{"mcopy", "-i", st.ConfigImage, src, "::/" + name})
	}
	for _, argv := range cmds {
		if _, err := st.inTools(ctx, argv...); err != nil {
			return err
		}
	}
	st.say("config.img %s (%s)", humanSize(ConfigPartitionSize), confpart.PartLabel)
	return nil
}

// configSigningKey installs config_signing_key into the verified root,
// where appliance-config finds it (confpart.KeyPath).
func (in *installer) configSigningKey(context.Context) error {
	if in.st.Config.ConfigSigningKey == "" {
		return nil
	}
	return in.install(in.st.Config.ConfigSigningKey, confpart.KeyPath, 0o644)
}
