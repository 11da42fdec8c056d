"""The agents reader's pure parts (explorer.backends.cosmos.agents): what a run put together says it waits for,
and in which order stores are asked — over dapr-agents' recorded documents; no Cosmos here (the
queries run against the real stack in tests/integration/test_cli_agents.py)."""

from __future__ import annotations

import json
from pathlib import Path

from explorer.backends.cosmos.agents import RunView
from explorer.session.agents import cosmos_stores
from explorer.core.agents.names import AgentNames
from explorer.core.agents.runs import decode_pending_approvals, decode_run
from explorer.core.envelope import KeyPrefix
from explorer.core.listing import Store

RECORDED = json.loads((Path(__file__).parent / "recorded" / "dapr-agents-1.0.9.json").read_text())
STATE = {d["id"]: d for d in RECORDED["documents"]["statestore-workflows-cosmos"]}
APP = RECORDED["app_id"]
PREFIX = KeyPrefix.from_metadata(None)


def test_a_run_held_back_by_an_approval_waits_for_the_approval_not_for_its_tool():
    run = decode_run(STATE[f"{APP}||trip-planner:_workflow_trip-0002"], PREFIX)
    assert run.waiting == ("tool book_hotel",)  # what the entry alone says
    document, approvals, _ = decode_pending_approvals(STATE[f"{APP}||trip planner:pending_approvals"], PREFIX)
    mine = tuple(a for a in approvals if a.instance_id == run.instance_id)
    view = RunView("statestore-workflows-cosmos", run, AgentNames.of("Trip Planner"), None, None, None, "", None, "",
                   mine, document)
    (waiting,) = view.waiting
    assert waiting.startswith('approval of book_hotel {"city": "Madeira", "nights": 5} asked ')
    assert view.to_json()["pending_approvals"][0]["step"] == "book_hotel"


class FakeSession:
    """A FAKE session: only the store rows `cosmos_stores` reads."""

    def __init__(self, stores: list[Store]):
        self._stores = stores

    def stores(self) -> list[Store]:
        return self._stores


def test_stores_are_asked_actor_state_stores_first_and_only_cosmos_ones_with_a_component():
    def store(name, capabilities=(), kind="state.azure.cosmosdb", declared="components/x.yaml"):
        return Store(name, kind, "db", "c", capabilities, (), declared)

    session = FakeSession([store("b-cache"), store("a-registry"), store("z-workflows", ("ETAG", "ACTOR")),
                           store("redis", kind="state.redis"), store("sidecar-only", declared=None)])
    assert cosmos_stores(session) == ["z-workflows", "a-registry", "b-cache"]
