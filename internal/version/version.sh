#!/bin/sh
# Prints the appliance version for `make` (VERSION=... overrides it there).
#   HEAD tagged vX.Y.Z, clean     -> X.Y.Z
#   N commits after vX.Y.Z        -> X.Y.(Z+1)-dev+N.gHASH[.dirty]
#   no tag yet                    -> 0.1.0-dev+gHASH[.dirty]  (the first release is v0.1.0)
#   not a git checkout            -> 0.1.0-dev
# Packer accepts only "dev" as a plugin pre-release, and orders X.Y.(Z+1)-dev
# after X.Y.Z, so a development build never looks older than its release.
set -eu
cd "$(dirname "$0")/../.."
if ! desc=$(git describe --tags --match 'v[0-9]*.[0-9]*.[0-9]*' --long --dirty 2>/dev/null); then
	if hash=$(git rev-parse --short HEAD 2>/dev/null); then
		dirty=$(git diff --quiet HEAD 2>/dev/null || echo .dirty)
		echo "0.1.0-dev+g$hash$dirty"
	else
		echo "0.1.0-dev"
	fi
	exit 0
fi
# vX.Y.Z-N-gHASH[-dirty]
dirty=
case $desc in *-dirty) dirty=.dirty; desc=${desc%-dirty} ;; esac
hash=${desc##*-}
rest=${desc%-*}
n=${rest##*-}
tag=${rest%-*}
core=${tag#v}
if [ "$n" = 0 ] && [ -z "$dirty" ]; then
	echo "$core"
	exit 0
fi
major=${core%%.*}
minor=${core#*.}; minor=${minor%%.*}
patch=${core##*.}
echo "$major.$minor.$((patch + 1))-dev+$n.$hash$dirty"
