"""The local stack: a real daprd and a real Cosmos-compatible server on loopback.

Used by `dapr-explorer stack` and `demo` (explorer.cli.commands.stack, the only module outside this
package that may import it) and by the integration tests. It borrows the daprd launcher and the child
processes from explorer.dapr; nothing else in the product imports it or knows whether it talks to
this stack or to Azure.
"""
