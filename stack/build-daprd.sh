#!/usr/bin/env bash
# Builds a real daprd from Dapr's Go modules (stack/daprd) into a cache outside
# the repo and prints the binary's path on stdout. A cached build is reused when
# the version and our build inputs (main.go, go.mod, go.sum, stub) are unchanged:
# the cache key is their content, never where this script is, so the copy in an
# installed package (explorer/_data/stack) finds the build a checkout made.
# Writes only into the cache; the folder it runs from may be read-only.
#
#   DAPR_EXPLORER_CACHE  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/dapr-explorer)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/daprd"
cache="${DAPR_EXPLORER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dapr-explorer}"

for file in main.go go.mod go.sum stub/components.go; do
  [[ -f "$src/$file" ]] || { echo "build-daprd: $src/$file is missing; reinstall dapr-explorer" >&2; exit 1; }
done

dapr_version="$(awk '$1=="github.com/dapr/dapr" {print $2; exit}' "$src/go.mod")"
dapr_version="${dapr_version#v}"
inputs_hash="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" "$src/stub/components.go" | sha256sum | cut -c1-12)"
out_dir="$cache/daprd/$dapr_version-$inputs_hash"
bin="$out_dir/daprd"

if [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == "$dapr_version" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "build-daprd: Go is not installed; install Go >= 1.26.5 (https://go.dev/doc/install)" >&2; exit 1; }

echo "build-daprd: building daprd $dapr_version (first run takes a few minutes; cached in $out_dir)" >&2
# shellcheck source=dapr-scratch.sh
source "$here/dapr-scratch.sh"
scratch_work daprd
cp "$src/main.go" "$src/go.mod" "$src/go.sum" "$work/"
cd "$work"
# A scratch copy of the dapr module whose cmd/daprd/components is our empty stub
# (see stub/components.go), wired in with a replace that exists only here.
scratch_dapr_module
rm -f "$work/dapr/cmd/daprd/components/"*.go
cp "$src/stub/components.go" "$work/dapr/cmd/daprd/components/components.go"
echo "replace github.com/dapr/dapr => ./dapr" >> go.mod
go build -trimpath \
  -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$dapr_version" \
  -o "$work/daprd" . >&2
mkdir -p "$out_dir"
mv "$work/daprd" "$bin.tmp"
mv "$bin.tmp" "$bin"
"$bin" --version >/dev/null
echo "$bin"
