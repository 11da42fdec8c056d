// Package components replaces dapr's cmd/daprd/components in our build.
//
// Upstream's package registers every component behind the build tags
// allcomponents/stablecomponents and panics at init without them. Our main
// registers the four components the local stack needs itself, so this package
// is deliberately empty. stack/build-daprd.sh puts it in place of upstream's
// in a scratch copy of the dapr module (never committed, never in the repo).
package components
