"""Record what dapr-agents wrote on the seeded local stack into tests/unit/recorded/dapr-agents-1.0.9.json.

Starts `LocalStack(apps=True)` (its agents app is stack/agents/app.py, dapr-agents in its own venv),
seeds it (the team registers itself; the runs of explorer.localstack.seed.AGENT_RUNS end completed,
failed and waiting for an approval), then saves every document of the agents app's sidecar
(`agent-registry||…`) in each store — registry, workflow entries, memory, pending approvals and the
Dapr workflow history of every run — as stored (id, partitionKey, isBinary, value, ttl when there is
one; Cosmos system fields dropped), with each run's agent, task and runtime status. Not a test: run
by hand when the pinned dapr-agents or Dapr changes:

    .venv/bin/python -m tests.unit.recorded.record_agents_state
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "dapr-agents-1.0.9.json"


def main() -> None:
    from explorer.localstack.apps import AGENTS_APP_ID, AGENTS_TEAM
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import AGENT_RUNS, seed
    from explorer.localstack.specs import container_specs

    with LocalStack(apps=True) as stack:
        summary = asyncio.run(seed(stack))
        cosmos = stack.cosmos_client()
        documents = {}
        for spec in container_specs(stack.components):
            items = cosmos.get_database_client(spec.database).get_container_client(spec.container).query_items(
                "SELECT * FROM c WHERE STARTSWITH(c.id, @p)", parameters=[{"name": "@p", "value": f"{AGENTS_APP_ID}||"}],
                enable_cross_partition_query=True)
            kept = sorted(({k: item[k] for k in ("id", "partitionKey", "isBinary", "value", "ttl") if k in item}
                           for item in items), key=lambda d: d["id"])
            if kept:
                documents[spec.store] = kept
    statuses = dict(summary.agent_runs)
    record = {
        "dapr-agents": "1.0.9", "dapr": "1.18.2", "app_id": AGENTS_APP_ID, "team": AGENTS_TEAM,
        "runs": [{"instance_id": r.instance_id, "agent": r.agent, "task": r.task, "status": statuses[r.instance_id]}
                 for r in AGENT_RUNS],
        "documents": documents,
    }
    OUTPUT.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"{OUTPUT}: {sum(len(d) for d in documents.values())} documents in {len(documents)} stores")


if __name__ == "__main__":
    main()
