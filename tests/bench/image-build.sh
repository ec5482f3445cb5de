#!/bin/sh
# Image build benchmark: cold build (empty apt cache and tools tree), then a
# warm build (both cached), image sizes. Root only; needs mmdebstrap and
# qemu-img. Usage: sh tests/bench/image-build.sh   (from the repo root)
set -eu
[ "$(id -u)" = 0 ] || { echo "image-build.sh: skipped (needs root)"; exit 0; }
command -v mmdebstrap >/dev/null || { echo "image-build.sh: skipped (no mmdebstrap)"; exit 0; }
[ -x bin/appliance ] || make build >/dev/null
work=$(mktemp -d /var/tmp/image-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
# Same template, private cache: the first build is cold, the second warm.
sed "s|cache_dir *= *\"[^\"]*\"|cache_dir = \"$work/cache\"|" image/appliance.pkr.hcl > "$work/bench.pkr.hcl"
for run in cold warm; do
	start=$(date +%s)
	bin/appliance build -out "$work/$run" "$work/bench.pkr.hcl" > "$work/$run.log" 2>&1 || { cat "$work/$run.log"; exit 1; }
	end=$(date +%s)
	echo "image build $run: $((end - start)) s"
done
grep -h "done in" "$work/warm.log" | sed 's/^/  warm step /'
for f in "$work"/warm/supernode-appliance.raw "$work"/warm/supernode-appliance.qcow2; do
	alloc=$(du -k "$f" | cut -f1)
	echo "$(basename "$f"): $(stat -c %s "$f") bytes apparent, $((alloc / 1024)) MiB allocated"
done
python3 - "$work/warm/manifest.json" <<'PY' 2>/dev/null || true
import json, sys
m = json.load(open(sys.argv[1]))
print("packages:", len(m["packages"]), " root hash:", m["root_hash"])
PY
