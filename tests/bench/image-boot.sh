#!/bin/sh
# Boot benchmark: time from QEMU start to the supernode's READY line
# ("supernode ready" in the journal, forwarded to the serial console) under
# TCG with OVMF, and the guest's own kernel timestamp of that line.
# Uses the default image (tests/testenv builds it once if missing).
# Usage: sh tests/bench/image-boot.sh   (from the repo root, as root)
set -eu
[ "$(id -u)" = 0 ] || { echo "image-boot.sh: skipped (needs root)"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "image-boot.sh: skipped (no qemu-system-x86_64)"; exit 0; }
SUPERNODE_QEMU_ACCEL=${SUPERNODE_QEMU_ACCEL:-tcg} GOFLAGS=-mod=mod \
	go test -count=1 -timeout 30m -v -run '^TestApplianceBootsServesSTUNAndPowersOff$' ./tests/image/ 2>&1 |
	grep -E 'READY|guest clock|^(ok|FAIL|---)' || true
