#!/bin/sh
# Fleet simulation (issue #6): 100, 1,000 and 10,000 supernodes with the live
# rendezvous-hashing code; key movement per join/leave against the ideal 1/N,
# load balance (max/mean replicas per member, measured on a sample and
# extrapolated to 100M peers), lookup hops. About 10 s on 2 cores.
#
# Usage: sh tests/bench/fleet-sim.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
FLEET_SIM=full GOFLAGS=-mod=mod go test -count=1 -run '^TestSimulation$' -v ./supernode/fleet/ |
	sed -n 's/^ *sim_test.go:[0-9]*: //p'
