#!/usr/bin/env bash
# Builds Dapr's placement and scheduler services (what actors and workflows need
# beside daprd) from the SAME pinned Dapr modules as daprd: stack/daprd's go.mod
# and go.sum. Prints the two binaries' paths on stdout, placement first, one a
# line. A cached build is reused when go.mod and go.sum are unchanged: the cache
# key is the Dapr version and their content (never where this script is), so the
# copy in an installed package (explorer/_data/stack) finds the build a checkout
# made, and a cached build needs no Go. Each service is built only if missing.
# No stub is needed: unlike daprd, neither registers components. One patch is:
# in Dapr 1.18.2 both accept --healthz-listen-address but never use it, and their
# healthz server listens on every interface (pkg/healthz/server: ":<port>"); the
# scratch copy built here listens on 127.0.0.1 only, like everything of the stack.
# Writes only into the cache; the folder it runs from may be read-only.
#
#   DAPR_EXPLORER_CACHE  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/dapr-explorer)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/daprd"
cache="${DAPR_EXPLORER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dapr-explorer}"

for file in go.mod go.sum; do
  [[ -f "$src/$file" ]] || { echo "build-dapr-services: $src/$file is missing; reinstall dapr-explorer" >&2; exit 1; }
done

dapr_version="$(awk '$1=="github.com/dapr/dapr" {print $2; exit}' "$src/go.mod")"
dapr_version="${dapr_version#v}"
healthz_listen='net.Listen("tcp", fmt.Sprintf(":%d", s.port))'
healthz_loopback='net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))'
# The key changes with the pinned modules and with the patch.
inputs_hash="$({ cat "$src/go.mod" "$src/go.sum"; echo "$healthz_loopback"; } | sha256sum | cut -c1-12)"
out_dir="$cache/dapr-services/$dapr_version-$inputs_hash"

# Neither service has --version (daprd does); the version is in the cache key, and a
# binary is moved into place only once built, so "there, and it runs" is the check.
built() { [[ -x "$out_dir/$1" ]] && [[ "$("$out_dir/$1" --help 2>&1)" == "Usage of $1"* ]]; }

missing=()
for service in placement scheduler; do
  built "$service" || missing+=("$service")
done

if (( ${#missing[@]} )); then
  command -v go >/dev/null || { echo "build-dapr-services: Go is not installed; install Go >= 1.26.5 (https://go.dev/doc/install)" >&2; exit 1; }
  # shellcheck source=dapr-scratch.sh
  source "$here/dapr-scratch.sh"
  scratch_work dapr-services
  cp "$src/go.mod" "$src/go.sum" "$work/"
  cd "$work"
  # A scratch copy of the dapr module with the healthz patch, wired in with a replace
  # that exists only here (as build-daprd.sh does for daprd's components).
  scratch_dapr_module
  healthz_go="$work/dapr/pkg/healthz/server/server.go"
  grep -qF "$healthz_listen" "$healthz_go" \
    || { echo "build-dapr-services: $healthz_go no longer has the line to patch ($healthz_listen); update this script" >&2; exit 1; }
  text="$(<"$healthz_go")"
  printf '%s\n' "${text//"$healthz_listen"/"$healthz_loopback"}" > "$healthz_go"
  echo "replace github.com/dapr/dapr => ./dapr" >> go.mod
  mkdir -p "$out_dir"
  for service in "${missing[@]}"; do
    echo "build-dapr-services: building $service $dapr_version (first run takes a minute or two; cached in $out_dir)" >&2
    go build -trimpath \
      -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$dapr_version" \
      -o "$work/$service" "github.com/dapr/dapr/cmd/$service" >&2
    mv "$work/$service" "$out_dir/$service.tmp"
    mv "$out_dir/$service.tmp" "$out_dir/$service"
    built "$service" || { echo "build-dapr-services: the $service just built does not start ($out_dir/$service --help)" >&2; exit 1; }
  done
fi

echo "$out_dir/placement"
echo "$out_dir/scheduler"
