"""The local stack's dapr-agents app: a team of three DurableAgents (dapr-agents 1.0.9) whose
registry entries, workflow entries, memory and Dapr workflow history are what the library itself
writes through daprd, never documents we made up.

What it is for: started by the stack (explorer.localstack.manager) as `<agents venv>/bin/python
stack/agents/app.py` beside the `agent-registry` sidecar (DAPR_GRPC_PORT / DAPR_HTTP_PORT name it),
in a venv of its own (requirements.txt beside this file): dapr-agents 1.0.9 pins dapr < 1.19, which
the explorer's own venv cannot hold. It builds the team `travel-desk` — `Weather Bot`, `Trip Planner`
and `Flight Desk` — which registers each agent in the registry store as it is built, starts one
workflow worker for the three, prints `READY` and serves until SIGTERM. The seeder
(explorer.localstack.seed) then schedules runs through daprd (the workflow names come from the
registry entries) and waits until each is in its state. Meanwhile an approver in this app plays the
person who answers approval requests (`approve_short_stays`).

How the team runs offline: the model is Dapr's conversation API over components-contrib's echo
component (`agents-llm`), which answers with the text it was sent. Two things dapr-agents needs from
a model the echo cannot give, so one `after_llm_call` hook (dapr-agents' own extension point, run
inside the `call_llm` activity) gives them: on the user's turn, the tool call the request asks for
(echo's own tool calls carry the parameter names joined by commas as arguments, which are not JSON:
dapr-agents drops them as "Invalid tool_call entry"); after a tool result, a reply without tool calls
(echo repeats every tool call it was sent, so a run would call the tool again on every turn until
max_iterations). Everything else — the workflow, its activities, the entries, the memory summary
(echo's reply holds the tool result's JSON, whose `summary` dapr-agents stores) — is the library's.

What it must never do: import explorer (it runs in another venv), call AgentRunner.shutdown() or an
agent's stop() (both deregister the agent: the registry must keep the team while the stack runs),
talk to anything but its daprd, or keep running once the stack is gone (the stack starts it with
PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import threading
import uuid

import dapr.ext.workflow as wf
from dapr_agents import DurableAgent, Hooks, Mutate, Proceed, RequireApproval, tool
from dapr_agents.agents.configs import (
    AgentApprovalConfig,
    AgentExecutionConfig,
    AgentRegistryConfig,
    AgentStateConfig,
    WorkflowRetryPolicy,
)
from dapr_agents.llm import DaprChatClient
from dapr_agents.storage.daprstores import StateStoreService
from dapr_agents.workflow.runners import AgentRunner

#: The team's registry keys are agents:travel-desk:{name} and agents:travel-desk:_index
#: (explorer.localstack.apps.AGENTS_TEAM names it for the seeder).
TEAM = "travel-desk"
#: The agent registry.
REGISTRY_STORE = "statestore-agents-cosmos"
#: Workflow entries and memory: the store that is also Dapr's actor state store, so each run's Dapr
#: workflow history lies beside the agent's own record of it.
STATE_STORE = "statestore-workflows-cosmos"
#: components/agents-llm.yaml: conversation.echo.
LLM_COMPONENT = "agents-llm"
#: components/agents-pubsub.yaml: where approval requests are published.
PUBSUB = "agents-pubsub"
#: Flight Desk's model: a conversation component this sidecar does not load, so its runs fail in
#: call_llm ("failed finding conversation component flights-llm") — a misconfigured agent.
MISSING_LLM_COMPONENT = "flights-llm"
#: Bookings of up to this many nights are approved by the app; longer ones wait for a person.
PRE_APPROVED_NIGHTS = 2
#: How often the approver tries to answer one request (0.2 s apart) before it gives up.
APPROVAL_TRIES = 50
#: How long a booking waits for its approval before dapr-agents denies it.
APPROVAL_TIMEOUT_SECONDS = 24 * 3600

logger = logging.getLogger("agents-app")


@tool
def get_forecast(city: str) -> dict:
    """Tomorrow's weather forecast for a city."""
    forecasts = {"Lisbon": ("sunny", 24), "Porto": ("light rain", 17), "Madeira": ("partly cloudy", 21)}
    if city not in forecasts:
        raise LookupError(f"no weather station near {city!r}")
    sky, temperature = forecasts[city]
    return {"summary": f"{city} tomorrow: {sky}, {temperature} °C.", "city": city, "sky": sky, "temperatureC": temperature}


@tool
def book_hotel(city: str, nights: int) -> dict:
    """Book a hotel room in a city for a number of nights."""
    return {"summary": f"Booked {nights} night(s) in {city}.", "confirmation": f"HTL-{city[:3].upper()}-{nights:02d}"}


def city_asked(text: str) -> dict | None:
    found = re.search(r"\bin ([A-Z][a-z]+)", text)
    return {"city": found.group(1)} if found else None


def stay_asked(text: str) -> dict | None:
    found = re.search(r"(\d+) nights? in ([A-Z][a-z]+)", text)
    return {"city": found.group(2), "nights": int(found.group(1))} if found else None


def echo_as_model(tool_name: str, arguments_from):
    """An after_llm_call hook that makes the echo model's reply what a model would answer (see the
    module docstring): on the user's turn, a call of `tool_name` with `arguments_from(user's text)`
    (when it finds any); after a tool result, echo's text without the tool calls it repeats."""

    def hook(context, message: dict):
        messages = context.payload.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") != "user":
            if message.get("tool_calls"):
                return Mutate(payload={k: v for k, v in message.items() if k != "tool_calls"})
            return Proceed()
        arguments = arguments_from(last.get("content") or "")
        if arguments is None:
            return Proceed()
        call = {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                "function": {"name": tool_name, "arguments": json.dumps(arguments)}}
        return Mutate(payload={"role": "assistant", "content": None, "tool_calls": [call]})

    return hook


def bookings_need_approval(context):
    """before_tool_call: every hotel booking waits for an approval (the approver below answers the short ones)."""
    if context.step_name.replace("_", "").lower() == "bookhotel":
        return RequireApproval(timeout_seconds=APPROVAL_TIMEOUT_SECONDS,
                               instructions=f"Approve hotel bookings; up to {PRE_APPROVED_NIGHTS} nights are pre-approved.")
    return Proceed()


def build_team(runtime: wf.WorkflowRuntime) -> list[DurableAgent]:
    """The three agents, on one workflow runtime (one worker for this app's sidecar). Building an
    agent registers it in the team registry."""
    common = dict(
        state=AgentStateConfig(store=StateStoreService(store_name=STATE_STORE)),
        registry=AgentRegistryConfig(store=StateStoreService(store_name=REGISTRY_STORE), team_name=TEAM),
        runtime=runtime,
        # A failing activity is tried twice, a second apart (the default waits 5 s, then 7.5 s).
        retry_policy=WorkflowRetryPolicy(max_attempts=2, initial_backoff_seconds=1, max_backoff_seconds=1),
    )
    weather = DurableAgent(
        name="Weather Bot", role="Weather forecaster", goal="Tell travellers what weather to expect.",
        instructions=["Use get_forecast for the city the traveller names."],
        llm=DaprChatClient(component_name=LLM_COMPONENT), tools=[get_forecast],
        hooks=Hooks(after_llm_call=[echo_as_model(get_forecast.name, city_asked)]), **common)
    planner = DurableAgent(
        name="Trip Planner", role="Travel planner", goal="Book stays for travellers.",
        instructions=["Book hotels with book_hotel.", "Every booking needs an approval."],
        llm=DaprChatClient(component_name=LLM_COMPONENT), tools=[book_hotel],
        execution=AgentExecutionConfig(max_iterations=4, approval=AgentApprovalConfig(pubsub_name=PUBSUB)),
        hooks=Hooks(before_tool_call=[bookings_need_approval],
                    after_llm_call=[echo_as_model(book_hotel.name, stay_asked)]), **common)
    flights = DurableAgent(
        name="Flight Desk", role="Flight agent", goal="Find flights for travellers.",
        llm=DaprChatClient(component_name=MISSING_LLM_COMPONENT), **common)
    return [weather, planner, flights]


def approve_short_stays(planner: DurableAgent, stop: threading.Event) -> None:
    """The person who answers approval requests, through dapr-agents' own API (what GET /hitl/approvals
    lists and its POST answers): approves bookings of up to PRE_APPROVED_NIGHTS nights, leaves longer
    ones waiting. Reads the agent's pending requests, which publish_approval_request records in this
    process (and the state store) before it publishes them on the pub/sub."""
    answered: set[str] = set()
    tries: dict[str, int] = {}
    while not stop.wait(0.2):
        for request in planner.list_pending_approvals():
            request_id = request.get("approval_request_id")
            nights = (request.get("tool_arguments") or {}).get("nights")
            if request_id in answered or not isinstance(nights, int) or nights > PRE_APPROVED_NIGHTS:
                continue
            try:
                planner.raise_approval_event(request["instance_id"], request_id, approved=True,
                                             reason=f"pre-approved: {nights} night(s)")
                answered.add(request_id)
            except Exception as exc:
                # raise_approval_event first reads the run's state, and a read while daprd saves it can
                # fail ("inbox key … missing from state store"): ask again next round, for a while.
                tries[request_id] = tries.get(request_id, 0) + 1
                if tries[request_id] < APPROVAL_TRIES:
                    logger.warning("approving %s for %s failed, trying again: %s", request_id,
                                   request.get("instance_id"), (str(exc).splitlines() or [type(exc).__name__])[0])
                else:
                    answered.add(request_id)  # given up: the seeder's deadline names the run, and this log
                    logger.exception("approving %s for %s failed %d times", request_id, request.get("instance_id"),
                                     APPROVAL_TRIES)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime = wf.WorkflowRuntime()
    team = build_team(runtime)
    for agent in team:  # every workflow and activity before the worker starts (it cannot add any later)
        agent.register(runtime)
    runner = AgentRunner(name="travel-desk")
    for agent in team:  # starts the worker with the first agent; dapr-agents logs the later starts as warnings
        runner.workflow(agent)
    approver = threading.Thread(target=approve_short_stays, args=(team[1], stop), name="approver", daemon=True)
    approver.start()
    print(f"READY {TEAM}: {', '.join(a.name for a in team)}", flush=True)
    while not stop.wait(1.0):
        pass
    closing = threading.Thread(target=runtime.shutdown, daemon=True)  # the worker only: the agents stay registered
    closing.start()
    closing.join(5)
    print("stopped" if not closing.is_alive() else "stopped (the worker did not shut down within 5 s)", flush=True)
    os._exit(0)  # no thread of the SDKs may keep us alive


if __name__ == "__main__":
    sys.exit(main())
