#!/bin/sh
# Lookups through a 3-member fleet against a single supernode (issue #6: the
# forwarding overhead as a ratio), twice:
#  - over the wire: the real server and client on loopback, targets attached
#    to one member, requesters at another (tests/fleet BenchmarkWireLookup);
#  - at the directory: fleet.Directory against directory.Table.
# Also the whole fleet's CPU per keepalive refresh and an owner's intake of
# replicated entries, the inputs of the sizing estimate in
# supernode/fleet/README.md. Everything shares this machine's cores: compare
# the rows and the CPU per operation, not absolute rates.
#
# The wire benchmark also reports the data channel's messages per datagram
# (lookups, answers and introductions batched on each member's lane) and
# datagrams per lookup. FLEET_BENCH_PARALLELISM sets the requesters per core
# (8: 16 lookups in flight on this 2-core machine).
#
# Usage: sh tests/bench/fleet-lookup.sh   (env: BENCHTIME=2s, FLEET_BENCH_PARALLELISM=8)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bt=${BENCHTIME:-2s}
# ratio A B LABEL [UNIT]: B's UNIT (lookups/s unless given) over A's.
ratio() {
	awk -v a="$1" -v b="$2" -v label="$3" -v unit="${4:-lookups/s}" '
		$1 ~ "^" a "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) x = $i }
		$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) y = $i }
		END { if (x > 0 && y > 0) printf "%s (%s): %.3f\n", label, unit, y / x }'
}
wire=$(GOFLAGS=-mod=mod go test -run '^$' -bench 'BenchmarkWire' -benchtime "$bt" ./tests/fleet/ | grep '^Benchmark')
echo "$wire"
echo "$wire" | ratio BenchmarkWireLookup/single BenchmarkWireLookup/fleet3 "over the wire, fleet3 / single"
echo "$wire" | ratio BenchmarkWireLookup/single BenchmarkWireLookup/fleet3-forwarded "over the wire, fleet3-forwarded / single"
echo "$wire" | ratio BenchmarkWireLookup/single BenchmarkWireLookup/fleet3 "over the wire, fleet3 / single" cpu-us/lookup
echo "$wire" | ratio BenchmarkWireLookup/single BenchmarkWireLookup/fleet3-forwarded "over the wire, fleet3-forwarded / single" cpu-us/lookup
dir=$(GOFLAGS=-mod=mod go test -run '^$' -bench 'BenchmarkLookup|BenchmarkRegister|BenchmarkReplicationReceive' \
	-benchtime "$bt" ./supernode/fleet/ | grep '^Benchmark')
echo "$dir"
echo "$dir" | ratio BenchmarkLookup/single BenchmarkLookup/fleet3 "directory, fleet3 / single"
echo "$dir" | ratio BenchmarkLookup/single BenchmarkLookup/fleet3-forwarded "directory, fleet3-forwarded / single"
