"""The stack's apps under outages: placement and the scheduler stopped and restarted on their old
ports (`LocalStack.restart_placement` / `restart_scheduler`), with the real workflow and actor apps
running (`LocalStack(apps=True)`, not seeded: the tests start what they need). A workflow waiting
for an event still takes it and completes once the scheduler is back (raised while it was down: the
raise waits); an actor answers again once placement is back. What the seeded instances look like is
tests/integration/test_seeded_workflows.py's."""

from __future__ import annotations

import http.client
import logging
import threading
import time

import orjson
import pytest
from dapr.ext.workflow import DaprWorkflowClient
from dapr.ext.workflow.logger import LoggerOptions

from explorer.localstack.apps.workflow_app import AWAIT_PAYMENT_APPROVAL, PAYMENT_APPROVED, WAITING_FOR_PAYMENT
from explorer.localstack.seed import ACTORS_APP, WORKFLOWS_APP

from .conftest import own_stack
from .test_stack_runtime import connected, metadata

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "outage-apps-stack", seeded=False, app_ids=(WORKFLOWS_APP,), apps=True) as local:
        yield local


def client(stack) -> DaprWorkflowClient:
    return DaprWorkflowClient(host="127.0.0.1", port=str(stack.sidecars[WORKFLOWS_APP].grpc_port),
                              logger_options=LoggerOptions(log_handler=logging.NullHandler()))


def wait_for(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = probe()
        except Exception:  # noqa: BLE001 - a read while daprd reconnects or saves: ask again
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def actor_call(stack, actor_id: str, body: dict, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", stack.sidecars[ACTORS_APP].http_port, timeout=timeout)
    try:
        conn.request("POST", f"/v1.0/actors/CartActor/{actor_id}/method/SetOwner", body=orjson.dumps(body),
                     headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_waiting_workflow_raised_while_the_scheduler_is_down_completes_once_it_is_restarted(stack):
    workflows = client(stack)
    order = {"orderId": 2001, "customer": "c-01", "card": "4242-4242-4242-4242", "lines": [{"sku": "A-1", "qty": 1}],
             "total": 12.5}
    workflows.schedule_new_workflow(AWAIT_PAYMENT_APPROVAL, input=order, instance_id="order-2001")
    wait_for(lambda: workflows.get_workflow_state("order-2001").serialized_custom_status == WAITING_FOR_PAYMENT, 30,
             "order-2001 to wait for payment approval")
    old_port = stack.scheduler.port

    stack.stop_scheduler()
    raised: list[float] = []
    started = time.monotonic()
    raising = threading.Thread(target=lambda: (client(stack).raise_workflow_event(
        "order-2001", PAYMENT_APPROVED, data={"approvedBy": "ops"}), raised.append(time.monotonic() - started)),
        daemon=True)
    raising.start()
    raising.join(3)
    assert raised == [], "daprd does not take the event while the scheduler is down"
    assert workflows.get_workflow_state("order-2001").runtime_status.name == "RUNNING"

    service = stack.restart_scheduler()
    assert service.port == old_port and service.process.alive()
    state = wait_for(lambda: (s := workflows.get_workflow_state("order-2001")).runtime_status.name == "COMPLETED" and s,
                     60, "order-2001 to complete after the restart")
    raising.join(30)
    assert raised, "the raise returned once the scheduler was back"
    assert orjson.loads(state.serialized_output) == {"orderId": 2001, "approval": {"approvedBy": "ops"}}
    for app_id in stack.sidecars:
        assert connected(metadata(stack.sidecars[app_id].http_port), stack.scheduler.address), app_id
    workflows.close()


def test_an_actor_answers_again_once_placement_is_restarted(stack):
    assert actor_call(stack, "cart-outage", {"userId": "u-1"})[0] == 200
    old_port = stack.placement.port
    stack.stop_placement()
    with pytest.raises(TimeoutError):  # daprd holds actor calls while it has no placement
        actor_call(stack, "cart-outage", {"userId": "u-2"}, timeout=2)
    service = stack.restart_placement()
    assert service.port == old_port
    status = wait_for(lambda: actor_call(stack, "cart-outage", {"userId": "u-3"}, timeout=5)[0] == 200, 30,
                      "an actor call to succeed after the restart")
    assert status
    assert (metadata(stack.sidecars[ACTORS_APP].http_port)["actorRuntime"]["placement"]) == "placement: connected"
