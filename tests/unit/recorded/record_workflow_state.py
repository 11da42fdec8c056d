"""Record real workflow state written by daprd into tests/unit/recorded/dapr-1.18.2-workflows.json.

Starts the local stack with actors (placement, scheduler, daprd as pinned in stack/daprd), runs a
few workflows on Dapr's own Python SDK so that instances end COMPLETED, FAILED, TERMINATED,
SUSPENDED and RUNNING (with an activity, a failing activity, a timer, an external event and a
child workflow among them), then saves every workflow state document daprd wrote for them (id,
partitionKey, isBinary, value; Cosmos system fields dropped). Not a test: run by hand when the
pinned Dapr changes:

    .venv/bin/python -m tests.unit.recorded.record_workflow_state
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "dapr-1.18.2-workflows.json"
INSTANCES = ("rec-completed", "rec-failed", "rec-approval", "rec-terminated", "rec-suspended", "rec-running")


def run_app() -> int:
    """The workflow app (runs in its own process: the SDK reads DAPR_GRPC_PORT when imported)."""
    import dapr.ext.workflow as wf

    runtime = wf.WorkflowRuntime()

    @runtime.activity(name="reserve_inventory")
    def reserve_inventory(ctx, order: dict) -> str:
        return f"reserved {order['qty']} x {order['sku']}"

    @runtime.activity(name="charge_card")
    def charge_card(ctx, order: dict) -> str:
        raise ValueError(f"card declined for order {order['id']}")

    @runtime.workflow(name="order_workflow")
    def order_workflow(ctx: wf.DaprWorkflowContext, order: dict):
        reserved = yield ctx.call_activity(reserve_inventory, input=order)
        ctx.set_custom_status("inventory reserved")
        return {"order": order["id"], "reserved": reserved}

    @runtime.workflow(name="payment_workflow")
    def payment_workflow(ctx: wf.DaprWorkflowContext, order: dict):
        yield ctx.call_activity(charge_card, input=order)
        return "paid"

    @runtime.workflow(name="approval_workflow")
    def approval_workflow(ctx: wf.DaprWorkflowContext, order: dict):
        ctx.set_custom_status("waiting for approval")
        yield ctx.create_timer(timedelta(seconds=1))
        approval = yield ctx.wait_for_external_event("approval", timeout=timedelta(hours=1))
        shipped = yield ctx.call_child_workflow(order_workflow, input=order, instance_id=f"{ctx.instance_id}-child")
        return {"approval": approval, "shipped": shipped}

    @runtime.workflow(name="waiting_workflow")
    def waiting_workflow(ctx: wf.DaprWorkflowContext, order: dict):
        ctx.set_custom_status("waiting for approval")
        approval = yield ctx.wait_for_external_event("approval")
        return approval

    runtime.start()
    client = wf.DaprWorkflowClient()
    try:
        order = {"id": "rec-completed", "sku": "A-1", "qty": 2}
        client.schedule_new_workflow(workflow=order_workflow, instance_id="rec-completed", input=order)
        client.schedule_new_workflow(workflow=payment_workflow, instance_id="rec-failed",
                                     input={"id": "rec-failed", "sku": "B-7", "qty": 1})
        client.schedule_new_workflow(workflow=approval_workflow, instance_id="rec-approval",
                                     input={"id": "rec-approval", "sku": "C-3", "qty": 5})
        for name in ("rec-terminated", "rec-suspended", "rec-running"):
            client.schedule_new_workflow(workflow=waiting_workflow, instance_id=name, input={"id": name})
        for name in ("rec-terminated", "rec-suspended", "rec-running"):
            client.wait_for_workflow_start(name, timeout_in_seconds=60)
        time.sleep(3)  # the approval workflow's timer fires and it waits for the event
        client.raise_workflow_event("rec-approval", "approval", data={"by": "ops", "ok": True})
        client.terminate_workflow("rec-terminated", output="cancelled by operator")
        client.pause_workflow("rec-suspended")
        states = {name: client.wait_for_workflow_completion(name, timeout_in_seconds=60)
                  for name in ("rec-completed", "rec-failed", "rec-approval", "rec-terminated")}
        time.sleep(2)
        states["rec-suspended"] = client.get_workflow_state("rec-suspended")
        states["rec-running"] = client.get_workflow_state("rec-running")
    finally:
        runtime.shutdown()
    for name, state in states.items():
        print("STATUS", name, state.runtime_status.name if state else None, flush=True)
    return 0


def record() -> int:
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import WORKFLOW_ACTOR_TYPE, WORKFLOWS_APP

    repo = HERE.parents[2]
    with LocalStack(app_ids=(WORKFLOWS_APP,), actors=True) as stack:
        sidecar = stack.sidecars[WORKFLOWS_APP]
        env = dict(os.environ, DAPR_GRPC_PORT=str(sidecar.grpc_port), DAPR_HTTP_PORT=str(sidecar.http_port))
        run = subprocess.run([sys.executable, "-m", "tests.unit.recorded.record_workflow_state", "--app"],
                             cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        print(run.stdout, run.stderr[-3000:] if run.returncode else "")
        if run.returncode:
            return run.returncode
        container = stack.cosmos_client().get_database_client("dapr-workflows").get_container_client("workflow-state")
        documents = []
        for instance in (*INSTANCES, "rec-approval-child"):
            partition = f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}||{instance}"
            items = container.query_items("SELECT * FROM c WHERE c.partitionKey = @pk",
                                          parameters=[{"name": "@pk", "value": partition}], partition_key=partition)
            documents += [{k: item[k] for k in ("id", "partitionKey", "isBinary", "value")} for item in items]
    documents.sort(key=lambda d: d["id"])
    statuses = dict(line.split()[1:3] for line in run.stdout.splitlines() if line.startswith("STATUS"))
    OUTPUT.write_text(json.dumps({"dapr": "1.18.2", "statuses": statuses, "documents": documents}, indent=1) + "\n")
    print(f"wrote {len(documents)} documents to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_app() if "--app" in sys.argv else record())
