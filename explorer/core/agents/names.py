"""One agent's three spellings (`AgentNames`) and the keys dapr-agents builds from them: the registry's
`agents:{team}:…`, a run's `{agent}:_workflow_{instance}` and `…:_memory_…`. Pure: never does I/O."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from explorer.core.envelope import KeyPrefix, document_id

REGISTRY_PREFIX = "agents:"  # DaprInfra._registry_prefix
INDEX_NAME = "_index"  # agents:{team}:_index
INDEX_FIELD = "agents"  # _REGISTRY_AGENTS_KEY: {"agents": [names]}
WORKFLOW_MARK = ":_workflow_"  # {agent-name}:_workflow_{instance}
MEMORY_MARK = ":_memory_"  # {agent-name}:_memory_{instance}
APPROVALS_MARK = ":pending_approvals"  # {agent name, lower case}:pending_approvals
WORKFLOW_NAMESPACE = "dapr.agents"  # DAPR_AGENTS_NAMESPACE
_NOT_TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")  # sanitize_openai_tool_name strips these


# -- a field of what the library wrote (None when it is not there or not of the kind) ----------------

def _get(value: object, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- names ----------------------------------------------------------------------------------------

def state_name(name: str) -> str:
    """The agent's name in its state keys: `Weather Bot` → `weather-bot` (spaces to dashes, lower
    case), as DaprInfra and ConversationDaprStateMemory build `{name}:_workflow_…`/`_memory_…`."""
    return name.replace(" ", "-").lower()


def workflow_short_name(name: str) -> str:
    """The agent's name in its workflow's name: `Weather Bot` → `WeatherBot` (every character
    outside `[a-zA-Z0-9_-]` removed; "unnamed_tool" when nothing is left), as
    `sanitize_openai_tool_name` makes it. (The library refuses names over 64 characters.)"""
    return _NOT_TOOL_NAME.sub("", name) or "unnamed_tool"


def _is_dapr_agents(framework: str) -> bool:
    return re.sub(r"[\s\-_.]", "", framework).lower() == "dapragents"


def workflow_name(name: str, framework: str | None = None) -> str:
    """`dapr.agents.{short name}.workflow` — or `dapr.{framework}.{short name}.workflow` for an
    agent registered by another framework (`agent_workflow_id`'s rules)."""
    if name.startswith("dapr.") and name.endswith(".workflow"):
        return name
    short = workflow_short_name(name)
    if framework and not _is_dapr_agents(framework):
        return f"dapr.{framework.replace(' ', '-').replace('_', '-').lower()}.{short}.workflow"
    return f"{WORKFLOW_NAMESPACE}.{short}.workflow"


@dataclass(frozen=True)
class AgentNames:
    """One agent's three spellings. `registry` is None when only a state key is known (the
    key's lower-cased form cannot be turned back into the name); `workflow` then too, unless a
    workflow instance or the registry said it."""

    registry: str | None
    state: str
    workflow: str | None

    @classmethod
    def of(cls, name: str, metadata: object = None) -> AgentNames:
        """From the registry name, and the metadata document when there is one: the workflow name
        the agent published (`agent.metadata.workflow_name`) wins over the derived one."""
        agent = _get(metadata, "agent")
        published = _get(_get(agent, "metadata"), "workflow_name")
        framework = _get(agent, "framework")
        if isinstance(published, str) and published:
            workflow = published
        else:
            workflow = workflow_name(name, framework if isinstance(framework, str) else None)
        return cls(name, state_name(name), workflow)

    @property
    def short(self) -> str | None:
        """The name inside the workflow name (`WeatherBot`)."""
        if self.workflow is None:
            return None
        parts = self.workflow.split(".")
        return ".".join(parts[2:-1]) if len(parts) >= 4 and parts[-1] == "workflow" else self.workflow

    def run_key(self, instance_id: str) -> str:
        return f"{self.state}{WORKFLOW_MARK}{instance_id}".lower()

    def memory_key(self, instance_id: str) -> str:
        return f"{self.state}{MEMORY_MARK}{instance_id}".lower()

    @property
    def approvals_key(self) -> str | None:
        """The key of the agent's pending approvals (`trip planner:pending_approvals`: the registry
        name lower-cased, spaces kept — `DurableAgent._pending_approvals_key`); None without it."""
        return f"{self.registry}{APPROVALS_MARK}".lower() if self.registry is not None else None

    def to_json(self) -> dict:
        return {"registry": self.registry, "state": self.state, "workflow": self.workflow}


# -- keys -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegistryKey:
    """`agents:{team}:{agent}` (agent set) or `agents:{team}:_index` (index true)."""

    team: str
    agent: str | None
    index: bool

    @property
    def partition(self) -> str:
        return team_partition(self.team)


def team_partition(team: str) -> str:
    """The partitionKey of every registry document of a team."""
    return f"{REGISTRY_PREFIX}{team}"


def registry_key(team: str, agent: str | None = None) -> str:
    return f"{REGISTRY_PREFIX}{team}:{agent if agent is not None else INDEX_NAME}"


def parse_registry_key(key: str, partition: str | None = None) -> RegistryKey | None:
    """A registry key, or None. The team is what the partition says when it is given (a team name
    may hold ':'), else the text up to the next ':'."""
    if not key.startswith(REGISTRY_PREFIX):
        return None
    if partition and partition.startswith(REGISTRY_PREFIX) and key.startswith(partition + ":"):
        team, rest = partition[len(REGISTRY_PREFIX):], key[len(partition) + 1:]
    else:
        team, sep, rest = key[len(REGISTRY_PREFIX):].partition(":")
        if not sep:
            return None
    if not team or not rest:
        return None
    return RegistryKey(team, None, True) if rest == INDEX_NAME else RegistryKey(team, rest, False)


class RunPart(enum.Enum):
    WORKFLOW = "workflow"  # the workflow entry: the run's conversation
    MEMORY = "memory"  # the memory array


@dataclass(frozen=True)
class RunKey:
    """`{agent}:_workflow_{instance}` or `{agent}:_memory_{instance}` (both lower case as written)."""

    agent: str  # the state spelling: weather-bot
    part: RunPart
    instance_id: str


def parse_run_key(key: str) -> RunKey | None:
    for part, mark in ((RunPart.WORKFLOW, WORKFLOW_MARK), (RunPart.MEMORY, MEMORY_MARK)):
        agent, sep, instance = key.partition(mark)
        if sep and agent and instance:
            return RunKey(agent, part, instance)
    return None


def run_id_prefix(agent_state: str, prefix: KeyPrefix, app_id: str | None, store: str = "") -> str:
    """The document id every workflow entry of an agent starts with (`<app>||weather-bot:_workflow_`)."""
    return document_id(f"{agent_state}{WORKFLOW_MARK}", prefix, app_id or "", store)
