#!/bin/sh
# xdp-flood.sh: legitimate STUN requests/s the supernode serves during a
# spoofed random-source reflection flood, with (a) no filter, (b) nftables in
# the netdev ingress hook, (c) the XDP filter. Two network namespaces on a
# veth pair; the real supernode and supernode-xdp; stun-loadgen as the
# legitimate client. About 2.5 minutes (3 rounds x 3 set-ups x 3 x 4 s).
#
#   sh tests/bench/xdp-flood.sh            (root; from any directory)
#   SUPERNODE_XDP_FLOOD_ROUNDS=5 SUPERNODE_XDP_FLOOD_DURATION=10s SUPERNODE_XDP_FLOOD_RATE=250000 sh tests/bench/xdp-flood.sh
#
# The test behind it is tests/xdp TestFloodBenchmark.
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "xdp-flood: skipped: needs root (network namespaces, XDP, nftables)"
	exit 0
fi
for tool in ip nft; do
	command -v $tool >/dev/null 2>&1 || { echo "xdp-flood: $tool is missing; install iproute2 and nftables (.ci/install-deps)"; exit 1; }
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
SUPERNODE_XDP_FLOOD=1 GOFLAGS=${GOFLAGS:--mod=mod} go test -count=1 -timeout 6m -run '^TestFloodBenchmark$' -v ./tests/xdp >"$log" 2>&1
rc=$?
grep -E 'medians|\| |^RESULT' "$log" | sed 's/^ *flood_test.go:[0-9]*: //'
if [ $rc -ne 0 ]; then
	cat "$log"
	exit $rc
fi
