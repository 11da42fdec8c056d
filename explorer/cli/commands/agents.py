"""`dapr-explorer agents` and `agent-run`: the dapr-agents teams of a registry store, and one run's
conversation, memory and workflow instance.

What it is for: reading what dapr-agents keeps in state stores. What it must never do: write.
"""

from __future__ import annotations

import argparse
import sys

from explorer.cli.output import dumps, emit_json, plural, pretty, print, table
from explorer.core.display import moment_text
from explorer.session.explorer_session import ExplorerSession


async def cmd_agents(session: ExplorerSession, args: argparse.Namespace) -> int:
    """The dapr-agents teams of a registry store: per team its `_index`, then each agent with its
    metadata and what is wrong with its place in the team; --json: a line {"team": …} per team, then
    a line {"agent": …} per agent."""
    location = await session.location(args.store)
    read = await session.agents(location).teams(args.team)
    if not read.teams:
        print(f"no agent teams in {args.store}: no agents:<team>:_index document and no document in an "
              "'agents:' partition (dapr-agents registers agents when they are built, in the store its "
              "agent-registry component names)", file=sys.stderr)
    for team in read.teams:
        if args.json:
            emit_json({"team": team.to_json()})
            for agent in team.agents:
                emit_json({"agent": {**agent.to_json(), "teamAppId": team.app_id}})
        else:
            _print_team(team)
    agents = sum(len(t.agents) for t in read.teams)
    flagged = sum(t.flagged for t in read.teams)
    print(f"{plural(len(read.teams), 'team')} · {plural(agents, 'agent')} · {flagged} flagged · "
          f"{read.documents} registry documents read · {read.request_charge:g} RU", file=sys.stderr)
    return 0


def _print_team(team) -> None:
    index = (f"_index lists {len(team.index.value.get('agents', []) if isinstance(team.index.value, dict) else [])}"
             f" · etag {team.index.etag}") if team.index else "NO _index document"
    print(f"team {team.name} · app {team.app_id or '(none)'} · {index} · {len(team.agents)} agents"
          + (f" · {team.flagged} flagged" if team.flagged else ""))
    for problem in team.problems:
        print(f"  ✖ _index: {problem}")
    for unknown in team.unknown:
        print(f"  _index field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")
    if team.others:
        print(f"  the partition also holds this team for other id prefixes ({', '.join(team.others)}): with keyPrefix "
              "appid every app keeps its own index and sees only its own agents")
    rows = []
    for agent in team.agents:
        names = agent.names
        rows.append([agent.name, ", ".join(f.value for f in agent.flags) or "ok", agent.role or "",
                     agent.llm or "", ", ".join(t.name or "?" for t in agent.tools),
                     f"{names.state} · {names.short or '?'}"])
    if rows:
        table(f"team {team.name}", ["Agent", "Flags", "Role", "LLM", "Tools", "Keys · workflow"],
              rows)
    for agent in team.agents:
        for flag in agent.flags:
            print(f"  {agent.name}: {flag.value}: {flag.why}")
        for problem in agent.problems:
            print(f"  {agent.name}: ✖ {problem}")
        for unknown in agent.unknown:
            print(f"  {agent.name}: field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")


async def cmd_agent_run(session: ExplorerSession, args: argparse.Namespace) -> int:
    """One run of a dapr-agents agent: the run (agent and its names, the Dapr workflow instance and
    its status, memory), its conversation, then its memory; --json: a line {"run": …}, a line
    {"message": …} per message (system prompt first), a line {"memory": …} per memory message."""
    location = await session.location(args.store)
    for store in [*args.memory_store, *args.workflow_store]:
        await session.location(store)  # an unknown store is an error, not a silent miss
    view = await session.open_run(location, args.run, args.agent, args.memory_store, args.workflow_store)
    run = view.run
    memory = view.memory.messages if view.memory is not None else ()
    if args.json:
        emit_json({"run": view.to_json()})
        for message in run.timeline:
            emit_json({"message": message.to_json()})
        for message in memory:
            emit_json({"memory": message.to_json()})
        return 0
    names = view.names
    print(f"run {run.instance_id} · agent {names.registry or names.state} (keys {names.state} · workflow "
          f"{names.workflow or '?'}) · {view.store} · {run.document.doc_id}")
    if view.workflow is not None:
        summary = view.workflow.summary
        status = summary.status.name if summary is not None else "?"
        print(f"workflow instance {status} in {view.workflow.store} "
              f"(dapr-explorer workflow {view.workflow.store} {view.workflow.ref.instance_id})")
        failure = summary.failure if summary is not None else None
        if failure is not None:  # whole: the line that says why is rarely the first
            print(f"  ✖ {failure.error_type}: " + (failure.message or "").rstrip().replace("\n", "\n    "))
    else:
        print(f"workflow instance: {view.workflow_note}")
    facts = [f"started {moment_text(run.started, missing='?')}", plural(len(run.messages), "message"),
             plural(len(run.tool_history), "tool run")]
    if run.usage_text:
        facts.append(f"usage {run.usage_text}")
    if run.source:
        facts.append(f"source {run.source}")
    if run.triggered_by:
        facts.append(f"triggered by {run.triggered_by}")
    print(" · ".join(facts))
    if view.waiting:
        print("waiting for " + ", ".join(view.waiting))
    for problem in run.problems:
        print(f"✖ {problem}")
    for unknown in run.unknown:
        print(f"field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")
    print("conversation:" if run.timeline else "conversation: no messages")
    for message in run.timeline:
        _print_message(message)
    for record in run.unanswered_tools:
        print(f"  tool run no message asks for: {record.summary}")
    if view.memory is not None:
        print(f"memory ({view.memory_store} · {view.memory.document.doc_id} · {plural(len(memory), 'message')}):")
        for problem in view.memory.problems:
            print(f"  ✖ {problem}")
        for message in memory:
            _print_message(message)
    else:
        print(f"memory: {view.memory_note}")
    return 0


def _print_message(message) -> None:
    """One message in words: label, role, name and time, then its content, tool calls and tool runs."""
    head = [message.label, message.role or "?"]
    if message.name:
        head.append(message.name)
    if message.at is not None:
        head.append(moment_text(message.at))
    print("  " + " · ".join(head))
    for problem in message.problems:
        print(f"    ✖ {problem}")
    if not isinstance(message.raw, dict):
        print(f"    raw: {dumps(message.raw)}")
        return
    if message.content:
        print("    " + message.content.rstrip().replace("\n", "\n    "))
    for call in message.tool_calls:
        print(f"    → tool call {call.name or '?'} ({call.id or 'no id'}): {pretty(call.arguments or '')}")
    for record in message.runs:
        print(f"    tool run: {record.summary}")
        if record.result is not None and message.role != "tool":
            print(f"      result: {pretty(record.result)}")
    for unknown in message.unknown:
        print(f"    field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")
