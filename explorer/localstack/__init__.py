"""The local stack: a real daprd and a real Cosmos-compatible server on loopback.

Used by `dapr-explorer demo` and by the integration tests. Nothing in the
product (explorer.* outside this package) imports it or knows whether it talks
to this stack or to Azure.
"""
