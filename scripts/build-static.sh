#!/usr/bin/env bash
# Builds the static l2tpsecd binaries exactly as the Dockerfile does, so a
# test (and anyone without a Docker engine) can prove what the image holds.
#   scripts/build-static.sh OUTDIR [VERSION]
set -euo pipefail
out=${1:?usage: build-static.sh OUTDIR [VERSION]}
version=${2:-$(git -C "$(dirname "$0")/.." describe --always --dirty 2>/dev/null || echo devel)}
cd "$(dirname "$0")/.."
mkdir -p "$out"
for cmd in cmd/*/; do
	name=$(basename "$cmd")
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/$name" "./$cmd"
done
