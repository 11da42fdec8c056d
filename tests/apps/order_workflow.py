"""A small real Dapr workflow app (Dapr's own Python workflow SDK, `dapr.ext.workflow`, shipped in
`dapr` 1.19): one workflow with an activity and a custom status, run to completion against the
sidecar named by DAPR_GRPC_PORT. Prints `STATUS <runtime status> <output>` and exits 0 when done.

Used by tests/integration/test_workflow_runtime.py so that the workflow state the explorer reads is
written by daprd itself, never by our seeder. Usage: python -m tests.apps.order_workflow INSTANCE_ID
"""

from __future__ import annotations

import sys

import dapr.ext.workflow as wf


def main(instance_id: str) -> int:
    runtime = wf.WorkflowRuntime()

    @runtime.activity(name="reserve_inventory")
    def reserve_inventory(ctx, order: dict) -> str:
        return f"reserved {order['qty']} x {order['sku']}"

    @runtime.workflow(name="order_workflow")
    def order_workflow(ctx: wf.DaprWorkflowContext, order: dict):
        reserved = yield ctx.call_activity(reserve_inventory, input=order)
        ctx.set_custom_status("inventory reserved")
        return {"order": order["id"], "reserved": reserved}

    runtime.start()
    try:
        client = wf.DaprWorkflowClient()
        client.schedule_new_workflow(workflow=order_workflow, instance_id=instance_id,
                                     input={"id": instance_id, "sku": "A-1", "qty": 2})
        state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
    finally:
        runtime.shutdown()
    print("STATUS", state.runtime_status.name if state else None, state.serialized_output if state else None,
          flush=True)
    return 0 if state is not None and state.runtime_status.name == "COMPLETED" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
