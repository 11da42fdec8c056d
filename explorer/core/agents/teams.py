"""The registry: teams built from their `_index` and metadata documents, each agent flagged where
dapr-agents would not see it as listed. Pure: never does I/O."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from explorer.core.agents.names import INDEX_FIELD, AgentNames, _get, _text, parse_registry_key, team_partition
from explorer.core.agents.schema import Problem, Stored, Unknown, fit, parse_time, stored
from explorer.core.envelope import KeyPrefix, parse_document_id


# -- the registry: teams and agents ---------------------------------------------------------------

class Flag(enum.Enum):
    """What is wrong with an agent's place in its team, as dapr-agents would see it."""

    NO_DOCUMENT = "listed in _index, no document"
    NOT_IN_INDEX = "document not in _index"
    NO_INDEX = "team has no _index"
    DOES_NOT_FIT = "does not fit AgentMetadataSchema"
    NAME_DIFFERS = "name differs from its key"

    @property
    def why(self) -> str:
        return {
            Flag.NO_DOCUMENT: "the index lists this agent but its metadata document is gone; dapr-agents skips it "
                              "(what a deregistration that failed half-way leaves)",
            Flag.NOT_IN_INDEX: "its metadata document exists but the index does not list it, so "
                               "get_agents_metadata never returns it: orchestrators cannot see or call it",
            Flag.NO_INDEX: "the team's agents:{team}:_index document is missing: dapr-agents sees no agent of this "
                           "team",
            Flag.DOES_NOT_FIT: "the document does not fit dapr-agents 1.0.9's AgentMetadataSchema; without an "
                               "`agent` object get_agents_metadata skips it as corrupted",
            Flag.NAME_DIFFERS: "the document's `name` is not the name in its key; dapr-agents registers both from "
                               "one name, so one was edited",
        }[self]


@dataclass(frozen=True)
class Tool:
    name: str | None
    description: str | None
    args: str | None


@dataclass(frozen=True)
class Agent:
    """One agent of a team: its index entry, its metadata document, or both."""

    team: str
    name: str  # as the index lists it, else as its key says
    names: AgentNames
    listed: bool  # the team's _index lists it
    document: Stored | None
    flags: tuple[Flag, ...]
    problems: tuple[Problem, ...] = ()
    unknown: tuple[Unknown, ...] = ()

    @property
    def metadata(self) -> object:
        return self.document.value if self.document is not None else None

    def _agent(self, name: str) -> Any:
        return _get(_get(self.metadata, "agent"), name)

    @property
    def role(self) -> str | None:
        return _text(self._agent("role"))

    @property
    def goal(self) -> str | None:
        return _text(self._agent("goal"))

    @property
    def agent_type(self) -> str | None:
        return _text(self._agent("type"))

    @property
    def app_id(self) -> str | None:
        """The app-id the agent registered (`agent.appid`), else the id prefix of its document."""
        return _text(self._agent("appid")) or (self.document.app_id if self.document else None)

    @property
    def orchestrator(self) -> bool:
        return self._agent("orchestrator") is True

    @property
    def instructions(self) -> tuple[str, ...]:
        found = self._agent("instructions")
        return tuple(str(i) for i in found) if isinstance(found, list) else ()

    @property
    def llm(self) -> str | None:
        """`provider model (client)`, e.g. "dapr echo (DaprChatClient)"."""
        llm = _get(self.metadata, "llm")
        if not isinstance(llm, dict):
            return None
        words = [str(w) for w in (llm.get("provider"), llm.get("model")) if w not in (None, "", "unknown")]
        client = llm.get("client")
        resource = llm.get("resource_name")
        text = " ".join(words) or "?"
        if client:
            text += f" ({client}{', ' + str(resource) if resource else ''})"
        return text

    @property
    def tools(self) -> tuple[Tool, ...]:
        found = _get(self.metadata, "tools")
        if not isinstance(found, list):
            return ()
        return tuple(Tool(_text(_get(t, "name")), _text(_get(t, "description")), _text(_get(t, "args")))
                     for t in found)

    def store_of(self, which: str) -> str | None:
        """The Dapr state store (component name) of `which` memory: "short_term" (its workflow
        entries) or "long_term" (its conversation memory), as the agent registered it."""
        return _text(_get(_get(_get(self.metadata, "memory"), which), "resource_name"))

    @property
    def registered_at(self) -> datetime | None:
        return parse_time(_get(self.metadata, "registered_at"))

    def to_json(self) -> dict:
        return {
            "team": self.team, "name": self.name, "names": self.names.to_json(), "listed": self.listed,
            "flags": [f.name.lower() for f in self.flags], "why": [f.why for f in self.flags],
            "appId": self.app_id, "role": self.role, "goal": self.goal, "type": self.agent_type, "llm": self.llm,
            "tools": [t.name for t in self.tools], "orchestrator": self.orchestrator,
            "workflowStore": self.store_of("short_term"), "memoryStore": self.store_of("long_term"),
            "document": self.document.to_json() if self.document else None, "metadata": self.metadata,
            "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown],
        }


@dataclass(frozen=True)
class Team:
    """A team as one app's dapr-agents sees it: its `_index` and the agent documents beside it
    under the same id prefix. `others` names the other prefixes (apps) keeping a team of the same
    name in the same partition: with keyPrefix appid every app keeps an index of its own."""

    name: str
    app_id: str | None  # the id prefix's app (None: the store's keys carry none)
    prefix: str | None
    index: Stored | None
    agents: tuple[Agent, ...]
    problems: tuple[Problem, ...] = ()  # the index document's
    unknown: tuple[Unknown, ...] = ()
    others: tuple[str, ...] = ()

    @property
    def partition(self) -> str:
        return team_partition(self.name)

    @property
    def flagged(self) -> int:
        return sum(1 for a in self.agents if a.flags)

    def to_json(self) -> dict:
        return {"team": self.name, "appId": self.app_id, "partitionKey": self.partition,
                "index": self.index.to_json() if self.index else None,
                "listed": list(index_names(self.index.value)) if self.index else None,
                "agents": len(self.agents), "flagged": self.flagged, "otherApps": list(self.others),
                "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown]}


def index_names(value: object) -> tuple[str, ...]:
    """The names an `_index` value lists (strings only; anything else is a problem `fit` reports)."""
    names = _get(value, INDEX_FIELD)
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()


def _agent_of(team: str, name: str, listed: bool, document: Stored | None, has_index: bool) -> Agent:
    flags: list[Flag] = []
    problems: list[Problem] = []
    unknown: list[Unknown] = []
    metadata: object = None
    if document is None:
        flags.append(Flag.NO_DOCUMENT)
    else:
        problems.extend(document.problems)
        metadata = document.value
        found, extra = fit(metadata, "AgentMetadataSchema")
        problems.extend(found)
        unknown.extend(extra)
        if found or not isinstance(_get(metadata, "agent"), dict):
            flags.append(Flag.DOES_NOT_FIT)
        if not listed:
            flags.append(Flag.NOT_IN_INDEX if has_index else Flag.NO_INDEX)
        own = _get(metadata, "name")
        if isinstance(own, str) and own != name:
            flags.append(Flag.NAME_DIFFERS)
    return Agent(team, name, AgentNames.of(name, metadata), listed, document, tuple(flags), tuple(problems),
                 tuple(unknown))


def build_teams(items: Iterable[Mapping[str, Any]], prefix: KeyPrefix, store: str = "") -> list[Team]:
    """The teams in a set of registry documents (one partition's, or several): one Team per team
    name and id prefix, its agents in index order then the documents the index does not list
    (by name). Items that are not registry documents are left out."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in items:
        doc = stored(item, prefix, store)
        key = parse_registry_key(doc.key, doc.partition)
        if key is None:
            continue
        state_key = parse_document_id(doc.doc_id, prefix, store)
        group = groups.setdefault((key.team, state_key.prefix), {"index": None, "agents": {}, "app": state_key.app_id})
        if key.index:
            group["index"] = doc
        else:
            group["agents"][key.agent] = doc
    teams: list[Team] = []
    for (name, pfx), group in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        index: Stored | None = group["index"]
        documents: dict[str, Stored] = group["agents"]
        listed = index_names(index.value) if index else ()
        agents = [_agent_of(name, n, True, documents.get(n), True) for n in dict.fromkeys(listed)]
        agents += [_agent_of(name, n, False, documents[n], index is not None) for n in sorted(documents)
                   if n not in listed]
        problems: list[Problem] = []
        unknown: list[Unknown] = []
        if index is not None:
            problems.extend(index.problems)
            found, extra = fit(index.value, "RegistryIndex")
            problems.extend(found)
            unknown.extend(extra)
            if len(set(listed)) != len(listed):
                problems.append(Problem(INDEX_FIELD, "lists a name more than once"))
        others = tuple(sorted(p or "(no prefix)" for (n, p) in groups if n == name and p != pfx))
        teams.append(Team(name, group["app"], pfx, index, tuple(agents), tuple(problems), tuple(unknown), others))
    return teams
