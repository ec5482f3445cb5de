#!/bin/sh
# Lookups/s through an in-process 3-member fleet against one supernode's own
# directory, and the ratio (issue #6: the forwarding overhead). The three
# members share this machine's cores, so the fleet figure understates three
# real machines. Also the whole fleet's CPU per keepalive refresh and an
# owner's intake of replicated entries, the inputs of the sizing estimate in
# supernode/fleet/README.md.
#
# Usage: sh tests/bench/fleet-lookup.sh   (env: BENCHTIME=2s)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$(GOFLAGS=-mod=mod go test -run '^$' -bench 'BenchmarkLookup|BenchmarkRegister|BenchmarkReplicationReceive' \
	-benchtime "${BENCHTIME:-2s}" ./supernode/fleet/ | grep '^Benchmark')
echo "$out"
echo "$out" | awk '
	/^BenchmarkLookup\/single/           { for (i = 1; i < NF; i++) if ($(i+1) == "lookups/s") single = $i }
	/^BenchmarkLookup\/fleet3-forwarded/ { for (i = 1; i < NF; i++) if ($(i+1) == "lookups/s") fwd = $i; next }
	/^BenchmarkLookup\/fleet3/           { for (i = 1; i < NF; i++) if ($(i+1) == "lookups/s") mixed = $i }
	END {
		if (single > 0) {
			printf "fleet3 (mixed arrival) / single: %.3f\n", mixed / single
			printf "fleet3 (always forwarded) / single: %.4f\n", fwd / single
		}
	}'
