# Sourced (never run) by build-daprd.sh and build-dapr-services.sh: the two steps both builds
# take to compile from a copy of the pinned Dapr module that they patch, without ever writing
# into Go's module cache or the folder the scripts ship in. Needs $cache set by the caller.

# scratch_work NAME: a fresh build folder $work inside the cache, removed when the script exits.
scratch_work() {
  work="$(mktemp -d "$cache/$1-build.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/$1-build.XXXXXX"; })"
  trap 'rm -rf "$work"' EXIT
}

# scratch_dapr_module: run in $work, a module with daprd's go.mod and go.sum (whose pins and replace
# directives then apply; -mod=mod lets go fill in go.sum there only): a writable copy of the pinned
# github.com/dapr/dapr at $work/dapr, for the caller to patch and then wire in with a replace.
scratch_dapr_module() {
  export GOFLAGS=-mod=mod
  go mod download github.com/dapr/dapr >&2
  cp -r "$(go list -m -f '{{.Dir}}' github.com/dapr/dapr)" "$work/dapr"
  chmod -R u+w "$work/dapr"
}
