"""The local stack's workflow app: order workflows on Dapr's own Python workflow SDK
(`dapr.ext.workflow`, shipped inside the `dapr` wheel), so that the workflow state in the stack's
store is what daprd's workflow engine writes, never documents we made up.

What it is for: `python -m explorer.localstack.apps.workflow_app`, started by the stack
(explorer.localstack.manager) with DAPR_GRPC_PORT naming the `order-processor` sidecar, registers
the workflows and activities below, connects its worker, prints `READY` and serves work items until
it is stopped (SIGTERM), so instances that wait for an event or a timer stay live. The seeder
(explorer.localstack.seed) schedules the instances of `SEEDED_INSTANCES` through daprd and waits
until each has reached the state named there. The names read as a story: order-1002 failed because
the card was declined, three times (see README, "find the failed one").

What it must never do: write state itself (every document is daprd's), keep running once the stack
is gone (the stack starts it with PR_SET_PDEATHSIG), or write anywhere but stdout/stderr (the stack
sends them to its log in the run folder).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import dapr.ext.workflow as wf

from explorer.localstack.apps import WORKFLOW_APP_ID

APP_ID = WORKFLOW_APP_ID

# Workflow and activity names, as they appear in the history (the functions' names).
PROCESS_ORDER = "process_order"
AWAIT_PAYMENT_APPROVAL = "await_payment_approval"
SCHEDULE_DELIVERY = "schedule_delivery"
FULFIL_ORDER = "fulfil_order"
SHIP_ORDER = "ship_order"

#: The external event order-1003 waits for (raise it to let the order finish).
PAYMENT_APPROVED = "payment-approved"
WAITING_FOR_PAYMENT = "waiting for payment approval"
WAITING_FOR_DELIVERY_SLOT = "waiting for the delivery slot"
#: How long schedule_delivery's durable timer waits: far beyond any test or demo.
DELIVERY_SLOT_WAIT = timedelta(days=1)
#: The card number the payment provider declines.
DECLINED_CARD = "4000-0000-0000-0002"
#: charge_payment's retries: three attempts a second apart, so a declined card fails the order in ~2 s.
CHARGE_RETRY = wf.RetryPolicy(first_retry_interval=timedelta(seconds=1), max_number_of_attempts=3,
                              backoff_coefficient=1.0)


class PaymentDeclined(Exception):
    """The payment provider refused the card (what order-1002's history records, three times)."""


# -- activities ------------------------------------------------------------------------------


def reserve_inventory(ctx: wf.WorkflowActivityContext, order: dict) -> dict:
    return {"orderId": order["orderId"], "reserved": [f"{line['qty']} x {line['sku']}" for line in order["lines"]]}


def charge_payment(ctx: wf.WorkflowActivityContext, order: dict) -> dict:
    if order["card"] == DECLINED_CARD:
        raise PaymentDeclined(f"card ending {order['card'][-4:]} was declined by the issuer: insufficient funds "
                              f"(order {order['orderId']}, {order['total']:.2f} EUR)")
    return {"orderId": order["orderId"], "charged": order["total"], "card": f"…{order['card'][-4:]}"}


def print_label(ctx: wf.WorkflowActivityContext, order: dict) -> dict:
    return {"orderId": order["orderId"], "carrier": "DHL", "tracking": f"JD0146{order['orderId']:06d}"}


# -- workflows -------------------------------------------------------------------------------


def process_order(ctx: wf.DaprWorkflowContext, order: dict):
    """Reserve, then charge the card (retried): completes, or fails when the card is declined."""
    reserved = yield ctx.call_activity("reserve_inventory", input=order)
    ctx.set_custom_status("inventory reserved, charging the card")
    payment = yield ctx.call_activity("charge_payment", input=order, retry_policy=CHARGE_RETRY)
    ctx.set_custom_status("paid")
    return {"orderId": order["orderId"], "reserved": reserved["reserved"], "payment": payment}


def await_payment_approval(ctx: wf.DaprWorkflowContext, order: dict):
    """Reserve, then wait for someone to raise `payment-approved`."""
    yield ctx.call_activity("reserve_inventory", input=order)
    ctx.set_custom_status(WAITING_FOR_PAYMENT)
    approval = yield ctx.wait_for_external_event(PAYMENT_APPROVED)
    ctx.set_custom_status("payment approved")
    return {"orderId": order["orderId"], "approval": approval}


def schedule_delivery(ctx: wf.DaprWorkflowContext, order: dict):
    """Wait on a durable timer for the delivery slot (a day away), then print the label."""
    ctx.set_custom_status(WAITING_FOR_DELIVERY_SLOT)
    yield ctx.create_timer(ctx.current_utc_datetime + DELIVERY_SLOT_WAIT)
    return (yield ctx.call_activity("print_label", input=order))


def fulfil_order(ctx: wf.DaprWorkflowContext, order: dict):
    """Reserve, then ship through a child workflow whose instance id is `<this id>-shipment`."""
    yield ctx.call_activity("reserve_inventory", input=order)
    ctx.set_custom_status("shipping")
    shipment = yield ctx.call_child_workflow(SHIP_ORDER, input=order, instance_id=child_instance_id(ctx.instance_id))
    ctx.set_custom_status("shipped")
    return {"orderId": order["orderId"], "shipment": shipment}


def ship_order(ctx: wf.DaprWorkflowContext, order: dict):
    """The child of fulfil_order."""
    return (yield ctx.call_activity("print_label", input=order))


def child_instance_id(parent: str) -> str:
    return f"{parent}-shipment"


WORKFLOWS = (process_order, await_payment_approval, schedule_delivery, fulfil_order, ship_order)
ACTIVITIES = (reserve_inventory, charge_payment, print_label)


# -- what the seed leaves ----------------------------------------------------------------------


@dataclass(frozen=True)
class SeededInstance:
    """One instance the seeder starts and the state it must reach (durabletask's runtime status;
    a RUNNING one also needs `custom_status`, which it sets in the same step as its wait)."""

    instance_id: str
    workflow: str
    input: dict
    state: str
    what: str
    custom_status: str | None = None
    terminate: bool = False  # reach `custom_status` running, then be terminated through the client
    children: tuple[str, ...] = field(default=())


def _order(n: int, card: str = "4242-4242-4242-4242", *lines: tuple[str, int]) -> dict:
    lines = lines or (("A-1", 2), ("B-7", 1))
    return {"orderId": n, "customer": f"c-{n % 97:02d}", "card": card,
            "lines": [{"sku": sku, "qty": qty} for sku, qty in lines], "total": round(12.5 * sum(q for _, q in lines), 2)}


SEEDED_INSTANCES = (
    SeededInstance("order-1001", PROCESS_ORDER, _order(1001), "COMPLETED",
                   "completed: inventory reserved, card charged (custom status 'paid')"),
    SeededInstance("order-1002", PROCESS_ORDER, _order(1002, DECLINED_CARD), "FAILED",
                   "failed: charge_payment raised PaymentDeclined on all 3 attempts"),
    SeededInstance("order-1003", AWAIT_PAYMENT_APPROVAL, _order(1003), "RUNNING",
                   f"running: waiting for the external event '{PAYMENT_APPROVED}'", custom_status=WAITING_FOR_PAYMENT),
    SeededInstance("order-1004", SCHEDULE_DELIVERY, _order(1004), "RUNNING",
                   "running: waiting on a durable timer a day away", custom_status=WAITING_FOR_DELIVERY_SLOT),
    SeededInstance("order-1005", FULFIL_ORDER, _order(1005, "4242-4242-4242-4242", ("C-3", 1)), "COMPLETED",
                   "completed with a child workflow, order-1005-shipment (completed too)",
                   children=(child_instance_id("order-1005"),)),
    SeededInstance("order-1006", AWAIT_PAYMENT_APPROVAL, _order(1006), "TERMINATED",
                   "terminated through the client while waiting for payment approval",
                   custom_status=WAITING_FOR_PAYMENT, terminate=True),
)
#: The output order-1006 is terminated with.
TERMINATED_OUTPUT = {"reason": "cancelled by the customer"}


# -- the app ---------------------------------------------------------------------------------------


def build_runtime() -> wf.WorkflowRuntime:
    """The runtime with every workflow and activity registered (the sidecar from DAPR_GRPC_PORT)."""
    runtime = wf.WorkflowRuntime()
    for workflow in WORKFLOWS:
        runtime.register_workflow(workflow)
    for activity in ACTIVITIES:
        runtime.register_activity(activity)
    return runtime


def main() -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime = build_runtime()
    runtime.start()  # returns once the worker's stream to daprd is ready
    print(f"READY {APP_ID}: {len(WORKFLOWS)} workflows, {len(ACTIVITIES)} activities", flush=True)
    while not stop.wait(1.0):
        pass
    closing = threading.Thread(target=runtime.shutdown, daemon=True)
    closing.start()
    closing.join(5)
    print("stopped" if not closing.is_alive() else "stopped (the worker did not shut down within 5 s)", flush=True)
    os._exit(0)  # asked to stop (by the stack, or PR_SET_PDEATHSIG when it is gone): no thread may keep us alive


if __name__ == "__main__":
    sys.exit(main())
