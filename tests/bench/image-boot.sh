#!/bin/sh
# Boot benchmark under QEMU TCG + OVMF, both images booted the same way
# (UKI via systemd-boot, same QEMU flags, same kernel package):
#   appliance: QEMU start -> "supernode ready" (journal line on the serial
#              console, forwarded with systemd.journald.forward_to_console=1)
#   plain:     a minimal Debian trixie (minbase + systemd + the same cloud
#              kernel + Debian's default initramfs-tools initrd, ext4 root)
#              QEMU start -> "login:" on the serial console
#   hardened:  the kernel_flavour = "hardened" image (no initrd), when
#              HARDENED_DIR is given: QEMU start -> "supernode ready"
# Usage (repo root, root): sh tests/bench/image-boot.sh [IMAGE_DIR [HARDENED_DIR]]
# IMAGE_DIR defaults to out/ (make image). The tests leave both images under
# /var/tmp/supernode-test-image/<key>/out.
set -eu
[ "$(id -u)" = 0 ] || { echo "image-boot.sh: skipped (needs root)"; exit 0; }
for c in qemu-system-x86_64 mmdebstrap mkfs.ext4 sfdisk; do
	command -v $c >/dev/null || { echo "image-boot.sh: skipped (no $c)"; exit 0; }
done
img_dir=${1:-out}
[ -f "$img_dir/supernode-appliance.qcow2" ] || { echo "image-boot.sh: no image in $img_dir; run 'make image' first"; exit 1; }
accel=${SUPERNODE_QEMU_ACCEL:-tcg}
cache=/var/cache/supernode-appliance
tools=$(ls -d $cache/tools-*/ 2>/dev/null | head -1)
[ -n "$tools" ] || { echo "image-boot.sh: no tools tree in $cache; run 'make image' first"; exit 1; }
work=$(mktemp -d /var/tmp/boot-bench.XXXXXX)
trap 'kill $qpid 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
qpid=

# intools CMD...: run CMD in the tools tree with $work visible.
intools() {
	unshare --mount --propagation private sh -c '
		t=$1; w=$2; shift 2
		mount --rbind /proc "$t/proc"; mount --rbind /dev "$t/dev"
		mkdir -p "$t$w"; mount --bind "$w" "$t$w"
		exec chroot "$t" "$@"' sh "$tools" "$work" "$@"
}

plain=/var/tmp/plain-debian-bench.raw
if [ ! -f $plain ]; then
	mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
	unshare --mount --propagation private mmdebstrap --quiet --variant=minbase --mode=root \
		--include=systemd,systemd-sysv,udev,linux-image-cloud-amd64,initramfs-tools \
		--skip=download/empty --skip=essential/unlink \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
		--setup-hook="sync-in $cache/apt /var/cache/apt/archives/" \
		--customize-hook="sync-out /var/cache/apt/archives $cache/apt" \
		--customize-hook='echo plain > "$1/etc/hostname"' \
		trixie "$work/root" "$mirror"
	k=$(ls "$work"/root/boot/vmlinuz-* | head -1); i=$(ls "$work"/root/boot/initrd.img-* | head -1)
	intools ukify build --linux="$k" --initrd="$i" --stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub \
		--cmdline="root=PARTLABEL=root rw systemd.firstboot=off console=tty0 console=ttyS0,115200 quiet" \
		--output="$work/plain.efi" >/dev/null
	mkfs.ext4 -q -L root -d "$work/root" "$work/root.img" 1G
	esp_kb=$(( ($(stat -c %s "$work/plain.efi") / 1024 + 8192) / 1024 * 1024 ))
	intools sh -c "mkfs.fat -C $work/esp.img $esp_kb >/dev/null && mmd -i $work/esp.img ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader &&
		mcopy -i $work/esp.img /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i $work/esp.img $work/plain.efi ::/EFI/Linux/plain.efi"
	printf 'timeout 0\n' > "$work/loader.conf"; intools mcopy -i "$work/esp.img" "$work/loader.conf" ::/loader/loader.conf
	esp_s=$(( $(stat -c %s "$work/esp.img") / 512 )); root_s=$(( $(stat -c %s "$work/root.img") / 512 ))
	truncate -s $(( (2048 + esp_s + root_s + 2048) * 512 )) "$work/plain.raw"
	printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\nsize=%d, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"\n' $esp_s $root_s |
		sfdisk --quiet "$work/plain.raw"
	dd if="$work/esp.img" of="$work/plain.raw" bs=512 seek=2048 conv=notrunc,sparse status=none
	dd if="$work/root.img" of="$work/plain.raw" bs=512 seek=$((2048 + esp_s)) conv=notrunc,sparse status=none
	mv "$work/plain.raw" $plain
fi

code=/usr/share/OVMF/OVMF_CODE_4M.fd
# boot NAME IMAGE PATTERN: seconds from QEMU start to PATTERN on the console.
boot() {
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"; : > "$work/$1.log"
	qemu-system-x86_64 -machine q35 -accel $accel -cpu max -m 1024 -smp 2 -nodefaults -display none -monitor none \
		-drive if=pflash,format=raw,readonly=on,file=$code -drive if=pflash,format=raw,file="$work/vars.fd" \
		-drive file="$2",if=virtio,snapshot=on -nic user,model=virtio-net-pci -device virtio-rng-pci \
		-smbios type=11,value=io.systemd.stub.kernel-cmdline-extra=systemd.journald.forward_to_console=1 \
		-serial file:"$work/$1.log" -no-reboot & qpid=$!
	start=$(date +%s.%N); t=""
	for _ in $(seq 1 2400); do
		if grep -aq "$3" "$work/$1.log"; then t=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN{printf "%.1f", a-b}'); break; fi
		sleep 0.5
	done
	kill $qpid 2>/dev/null; wait $qpid 2>/dev/null || true; qpid=
	echo "boot $1 ($accel): ${t:-timeout} s to '$3' (load average $(cut -d' ' -f1 /proc/loadavg))"
}
boot appliance "$img_dir/supernode-appliance.qcow2" "supernode ready"
if [ -n "${2:-}" ]; then
	boot hardened "$2/supernode-appliance.qcow2" "supernode ready"
	echo "sizes: hardened qcow2 $(du -m "$2/supernode-appliance.qcow2" | cut -f1) MiB"
fi
boot plain-debian $plain "login:"
echo "sizes: appliance qcow2 $(du -m "$img_dir/supernode-appliance.qcow2" | cut -f1) MiB; plain raw allocated $(du -m $plain | cut -f1) MiB"
