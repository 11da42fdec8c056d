"""Real Dapr apps the local stack runs beside their sidecars so that the workflow and actor state in
its stores is written by daprd itself: `workflow_app` (Dapr's workflow SDK) and `actor_app` (Dapr's
actor SDK). Each is started as `python -m explorer.localstack.apps.<name>` by
explorer.localstack.manager and driven by explorer.localstack.seed. The third, the dapr-agents app,
lives outside this package (stack/agents/app.py): it runs in a venv of its own and never imports ours.

This package only names the apps; it must never import Dapr's SDKs (the stack's manager imports it
whether or not it runs the apps).
"""

#: The workflow app's id: its sidecar is the stack's `order-processor`, whose store
#: statestore-workflows-cosmos is the actor state store.
WORKFLOW_APP_ID = "order-processor"
#: The actor app's id: a sidecar of its own, started with --app-port once the app listens.
ACTOR_APP_ID = "cart-service"
#: The dapr-agents app's id (stack/agents/app.py): the stack's agent-registry sidecar, whose store
#: statestore-agents-cosmos holds the team's registry.
AGENTS_APP_ID = "agent-registry"
#: The team the agents app registers (its registry keys are agents:{team}:{name} and
#: agents:{team}:_index); stack/agents/app.py's TEAM.
AGENTS_TEAM = "travel-desk"
