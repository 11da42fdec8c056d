"""dapr-explorer: look inside Dapr state stores that live in Azure Cosmos DB.

One thing happens at import, before any module of ours can load gRPC: gRPC's fork support is
turned off (GRPC_ENABLE_FORK_SUPPORT=false, which gRPC reads once, when it loads). The explorer
starts daprd (its own, the local stack's) with fork+exec while gRPC channels are open; with fork
support on, gRPC's fork handlers print "Other threads are currently calling into gRPC, skipping
fork() handlers" on the user's terminal, and its poller can abort the child before it reaches
exec (a daprd that "exited during start-up (code -6)"). The explorer never uses gRPC in a forked
child, so it needs none of that support: it is off even when the environment says otherwise.
"""

import os as _os

_os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "false"

