"""Dapr itself: the sidecar client (gRPC and the metadata API), the explorer's own daprd, and the store
list matched from component files and sidecars. What it must never do: import the local dev stack."""
