"""Dapr itself: the sidecar client (gRPC and the metadata API), the explorer's own daprd (with the one
daprd launcher and the child processes it runs as, which the local dev stack borrows), and the store
list matched from component files and sidecars. What it must never do: import the local dev stack."""
