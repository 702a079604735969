#!/usr/bin/env bash
# The whole test suite: what the README's quick start runs and what CI runs
# (.ci/run calls exactly this).
#
# As root it first installs the Debian packages the privileged and lab tests
# need (user-mode Linux, mmdebstrap, SoftEther, nftables, ...) and makes the
# lab tests mandatory (L2TPSECD_LAB=require: a missing prerequisite fails
# instead of skipping). As a normal user it runs what can run without root;
# the rest skips and says why.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
	want=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' test/lab/host-packages.txt scripts/host-packages.txt 2>/dev/null | sort -u)
	missing=()
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing Debian packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# policy-rc.d keeps package scripts from starting daemons (SoftEther,
		# FreeRADIUS): the tests start their own instances.
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
	export L2TPSECD_LAB="${L2TPSECD_LAB:-require}"
fi

log "go $(go env GOVERSION): downloading modules"
go mod download

log "go vet"
go vet ./...

log "go test"
go test -count=1 -timeout 80m ./...
