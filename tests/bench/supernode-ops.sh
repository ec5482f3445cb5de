#!/bin/sh
# register, keepalive and lookup operations/s with p50/p99 latency, over the
# wire against the real daemon on loopback (the supernode package's Go
# benchmarks measure the same operations in-process, without the kernel).
#
# The daemon is pinned to SERVER_CPU (default 0) and the generator
# (tests/loadgen/cmd/supernode-ops, 64 clients with one request in flight
# each) to GEN_CPU (default 1), both at NICE (-10 as root). Besides ops/s it
# prints the server's CPU use and ops per server CPU-second, which other load
# on a shared machine disturbs far less.
#
# Usage: sh tests/bench/supernode-ops.sh   (env: DURATION=3s CLIENTS=64
#        SERVER_CPU=0 GEN_CPU=1 NICE=-10 SUPERNODE_BIN=bin/supernode)
set -eu

DURATION=${DURATION:-3s}
CLIENTS=${CLIENTS:-64}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
NICE=${NICE:--10}
[ "$(id -u)" = 0 ] || NICE=0

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$root/supernode/cmd/supernode" ]; then
	echo "supernode-ops: skipped: supernode/cmd/supernode does not exist yet" >&2
	exit 0
fi
SUPERNODE_BIN=${SUPERNODE_BIN:-$root/bin/supernode}
if [ ! -x "$SUPERNODE_BIN" ]; then
	echo "supernode-ops: $SUPERNODE_BIN missing; run 'make build' first (or set SUPERNODE_BIN)" >&2
	exit 1
fi
for tool in taskset go ss; do
	command -v $tool >/dev/null 2>&1 || {
		echo "supernode-ops: needs '$tool'; install it (iproute2 for ss, util-linux for taskset)" >&2
		exit 1
	}
done

tmp=$(mktemp -d /tmp/supernode-ops.XXXXXX)
spid=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$root/tests/bench/lib/ports.sh"

(cd "$root" && GOFLAGS=-mod=mod go build -o "$tmp/supernode-ops" ./tests/loadgen/cmd/supernode-ops)
pick_port sport
pick_port mport
cat >"$tmp/supernode.conf" <<CONF
listen = 127.0.0.1:$sport
metrics_listen = 127.0.0.1:$mport
# Every client of the benchmark has the same source address.
rate_limit = 0
CONF
nice -n "$NICE" taskset -c "$SERVER_CPU" "$SUPERNODE_BIN" -config "$tmp/supernode.conf" >"$tmp/supernode.log" 2>&1 &
spid=$!

echo "supernode ops over loopback: server on CPU $SERVER_CPU, $CLIENTS clients on CPU $GEN_CPU, $DURATION per operation"
i=0
until nice -n "$NICE" taskset -c "$GEN_CPU" "$tmp/supernode-ops" -clients "$CLIENTS" -duration "$DURATION" -pid "$spid" "127.0.0.1:$sport" 2>"$tmp/err"; do
	i=$((i + 1))
	# The first attempt may race the daemon's start: retry briefly.
	if [ $i -ge 5 ] || ! kill -0 "$spid" 2>/dev/null; then
		cat "$tmp/err" "$tmp/supernode.log" >&2
		exit 1
	fi
	sleep 0.5
done
