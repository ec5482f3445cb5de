#!/bin/sh
# xdp-binding.sh: STUN Binding answers per second on a veth pair, side by
# side in one run: coturn (`turnserver --stun-only`), the userspace
# supernode behind the XDP filter, and the filter's Binding fast path
# (answered in the driver with XDP_TX); then the same two under the spoofed
# flood of xdp-flood.sh (legitimate answers kept), with the legitimate load
# as fast as the generator goes and paced to 100,000/s; each cell also
# gets the filter's own time (BPF run-time statistics). XDP on both ends,
# one load generator (tests/loadgen). About 2.5 minutes (3 rounds). ns per
# answer in the driver: `go test -run '^$' -bench BindingFastPath ./ebpf/filter`.
#
#   sh tests/bench/xdp-binding.sh       (root; from any directory)
#   SUPERNODE_XDP_BINDING_ROUNDS=5 SUPERNODE_XDP_BINDING_DURATION=5s SUPERNODE_XDP_FLOOD_RATE=250000 SUPERNODE_XDP_BINDING_PACED=100000 sh tests/bench/xdp-binding.sh
#
# The test behind it is tests/xdp TestBindingBenchmark.
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "xdp-binding: skipped: needs root (network namespaces, XDP)"
	exit 0
fi
for tool in ip turnserver; do
	command -v $tool >/dev/null 2>&1 || { echo "xdp-binding: $tool is missing; install iproute2 and coturn (.ci/install-deps)"; exit 1; }
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
SUPERNODE_XDP_BINDING_BENCH=1 GOFLAGS=${GOFLAGS:--mod=mod} go test -count=1 -timeout 20m -run '^TestBindingBenchmark$' -v ./tests/xdp >"$log" 2>&1
rc=$?
grep -E 'medians|\| |^RESULT' "$log" | sed 's/^ *bindingbench_test.go:[0-9]*: //'
if [ $rc -ne 0 ]; then
	cat "$log"
	exit $rc
fi
