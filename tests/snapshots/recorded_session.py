"""A FAKE session for layout snapshots only: fixed stores, partitions and keys, no I/O.

It satisfies explorer.session.protocol.StoreSession with data shaped like the seeded
local stack (same stores, partitions and key shapes), frozen at one instant so
every etag, timestamp and countdown draws the same on every run. Its workflow
store also holds the workflow documents daprd 1.18.2 really wrote
(tests/unit/recorded/dapr-1.18.2-workflows.json), read by `FakeWorkflowReader`
— a FAKE of explorer.backends.cosmos.workflows.WorkflowReader over those documents, which
summarizes and decodes them with the reader's own functions. The documents
dapr-agents 1.0.9 really wrote (tests/unit/recorded/dapr-agents-1.0.9.json) are
read by `FakeAgentsReader` — a FAKE of explorer.backends.cosmos.agents.AgentsReader that
decodes them with explorer.core.agents — and their Dapr workflow instances are
found by the FakeWorkflowReader (not listed: the workflows snapshots keep showing
the order-processor's). It tests how each pane looks, never what the store
does: every behaviour is tested against the real daprd and Cosmos-compatible
server in tests/integration/test_tui.py, test_tui_workflows.py and
test_tui_agents.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

from explorer.components.files import load_components
from explorer.core.component_model import Component
from explorer.core.doctor import CosmosFacts, diagnose
from explorer.core.envelope import KeyKind, KeyPrefix, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.core.listing import KeyPage, KeyRow, PartitionBatch
from explorer.core.model import KeyValue, StoreLocation, value_bytes_of
from explorer.core.ru_budget import CosmosLoad
from explorer.core.opened import FoundId, OpenedKey
from explorer.errors import EtagConflict, NotFound
from explorer.dapr.sidecar import RegisteredStore, SidecarMetadata
from explorer.session.agents import complete_run, cosmos_stores
from explorer.session.stores import match_stores
from explorer.core.workflows.summary import InstanceRef
from explorer.backends.cosmos.workflows import InstancePage, TimelinePage, entry, summarize, wanted_ids

NOW = 1_795_000_000.0  # the frozen clock every snapshot reads
CAPS = ("ETAG", "TRANSACTIONAL", "TTL", "ACTOR")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(250, 256)) + b"\x00\xfe"

CONTAINERS = {
    "statestore-agents-cosmos": ("dapr-agents", "agent-registry", None, "agent-registry"),
    "statestore-cache-cosmos": ("dapr-cache", "session-cache", -1, "chat-api"),
    "statestore-workflows-cosmos": ("dapr-workflows", "workflow-state", None, "order-processor"),
}


def _doc(app: str, key: str, partition: str, value: object, n: int, ttl: int | None = None, binary: bool = False):
    doc = {"id": f"{app}||{key}", "partitionKey": partition, "isBinary": binary,
           "value": base64.b64encode(value).decode() if binary else value,
           "_etag": f"{n:08x}-5c1e-4d2a-9b7f-{n * 7919:012x}", "_ts": int(NOW) - 60 * n}
    if ttl is not None:
        doc["ttl"] = ttl
    return doc


DOCUMENTS = {
    "statestore-agents-cosmos": [
        _doc("agent-registry", f"agent:{name}", kind, {"name": name, "agentType": kind, "tools": tools,
                                                      "status": "ready", "maxTokens": 4096}, n)
        for n, (kind, name, tools) in enumerate([
            ("gpt4", "planner", ["search", "calendar"]), ("gpt4", "summarizer", []), ("gpt4", "router", ["handoff"]),
            ("claude", "researcher", ["search", "browser"]), ("claude", "reviewer", ["diff"]),
            ("custom", "ocr-worker", ["vision"]),
        ], start=1)
    ] + [_doc("agent-registry", "agent:ocr-worker:avatar", "custom", PNG, 7, binary=True)],
    "statestore-cache-cosmos": [
        _doc("chat-api", f"session:user:{1000 + i}", "user", {"sessionType": "user", "turns": i + 1}, i, ttl)
        for i, ttl in enumerate((30, 45, 120, 900, 3600, 86400 * 2))
    ],
    "statestore-workflows-cosmos": [
        _doc("order-processor", f"order:{n}", f"order-processor||order:{n}", {"orderId": n, "total": n * 1.5}, n)
        for n in range(1, 6)
    ] + [_doc("order-processor", "CartActor||cart-42||items", "order-processor||CartActor||cart-42",
              {"skus": ["A-1", "B-7"], "total": 31.5}, 9)],
}


RECORDED_AT = 1_795_950_816  # 2026-11-29 11:13:36 UTC, just after the recording ran
RECORDED_WORKFLOWS = Path(__file__).resolve().parents[1] / "unit" / "recorded" / "dapr-1.18.2-workflows.json"


def _recorded_workflow_documents() -> list[dict]:
    """daprd's own workflow documents, with frozen Cosmos system fields (the recording drops them;
    _ts is set a few seconds after the recording's run, in document order)."""
    documents = json.loads(RECORDED_WORKFLOWS.read_text())["documents"]
    return [dict(doc, _etag=f"{n:08x}-7a1f-4c3e-8d2b-{n * 104729:012x}", _ts=RECORDED_AT + n // 8)
            for n, doc in enumerate(documents, start=1)]


DOCUMENTS["statestore-workflows-cosmos"] += _recorded_workflow_documents() + [
    _doc("order-processor", "CartActor||cart-42||owner", "order-processor||CartActor||cart-42", {"userId": "u-17"}, 10),
    _doc("order-processor", "CartActor||cart-77||items", "order-processor||CartActor||cart-77",
         {"skus": [], "total": 0}, 11),
    _doc("order-processor", "InvoiceActor||inv-2026-0042||lines", "order-processor||InvoiceActor||inv-2026-0042",
         [{"sku": "A-1", "qty": 2, "price": 9.5}], 12),
]


class FakeWorkflowReader:
    """A FAKE WorkflowReader over a list of recorded documents: same answers, no queries. `unlisted`
    documents are found (find_instance, summary, timelines) but left out of the instances list."""

    PAGE = 4  # instances a page: small, so that the list reads several pages

    def __init__(self, documents: list[dict], unlisted: list[dict] = ()):
        self._listed = {d["id"] for d in documents}
        self._docs = {d["id"]: d for d in [*documents, *unlisted]}

    def _metadata(self, listed_only: bool = False) -> list[tuple[InstanceRef, dict]]:
        found = []
        for doc_id in sorted(self._listed if listed_only else self._docs):
            key = parse_document_id(doc_id, KeyPrefix.from_metadata(None))
            if key.kind is KeyKind.WORKFLOW and key.workflow_part == "metadata":
                found.append((InstanceRef(key.app_id, key.actor_id, self._docs[doc_id]["partitionKey"], key.actor_type),
                              self._docs[doc_id]))
        return found

    def _summary(self, ref: InstanceRef, item: dict):
        from explorer.core.workflows.decode import decode_workflow_part
        from explorer.core.workflows.values import WorkflowMetadata

        decoded = decode_workflow_part("metadata", base64.b64decode(item["value"]))
        metadata = decoded.value if isinstance(decoded.value, WorkflowMetadata) else None
        found = {i: self._docs[i] for i in wanted_ids(ref, metadata) if i in self._docs}
        return summarize(ref, item, found)

    async def instances_page(self, continuation=None, page_size=PAGE) -> InstancePage:
        start = int(continuation or 0)
        everything = self._metadata(listed_only=True)
        chunk = everything[start:start + self.PAGE]
        more = str(start + self.PAGE) if start + self.PAGE < len(everything) else None
        return InstancePage(tuple(self._summary(ref, item) for ref, item in chunk), more, 3.1, len(chunk))

    async def find_instance(self, instance_id, app_id=None) -> InstanceRef:
        for ref, _ in self._metadata():
            if ref.instance_id == instance_id and (app_id is None or ref.app_id == app_id):
                return ref
        raise NotFound(f"no workflow instance {instance_id!r}")

    async def summary(self, ref: InstanceRef):
        return self._summary(ref, self._docs[f"{ref.id_prefix}metadata"])

    async def timeline_page(self, ref, part="history", continuation=None, page_size=100) -> TimelinePage:
        ids = sorted(i for i in self._docs if i.startswith(f"{ref.id_prefix}{part}-"))
        start = int(continuation or 0)
        more = str(start + page_size) if start + page_size < len(ids) else None
        return TimelinePage(tuple(entry(self._docs[i]) for i in ids[start:start + page_size]), more, 2.9)

    async def tail(self, ref, history_length, count=50):
        ids = [f"{ref.id_prefix}history-{n:06d}" for n in range(max(0, history_length - count), history_length)]
        return [entry(self._docs[i]) for i in ids if i in self._docs]

    async def other_parts(self, ref):
        return [entry(self._docs[i]) for i in sorted(self._docs) if i.startswith(ref.id_prefix)
                and not i.startswith((f"{ref.id_prefix}history-", f"{ref.id_prefix}inbox-"))]

    async def labels(self, partition, doc_ids):
        from explorer.core.workflows.decode import decode_workflow_part

        return {i: decode_workflow_part(i.rsplit("||", 1)[-1], base64.b64decode(self._docs[i]["value"])).label
                for i in doc_ids if i in self._docs and self._docs[i]["isBinary"]}


RECORDED_AGENTS = Path(__file__).resolve().parents[1] / "unit" / "recorded" / "dapr-agents-1.0.9.json"


def _recorded_agent_documents() -> dict[str, list[dict]]:
    """dapr-agents' own documents by store, with frozen Cosmos system fields (as the workflow ones)."""
    stores = json.loads(RECORDED_AGENTS.read_text())["documents"]
    return {store: [dict(doc, _etag=f"{n:08x}-3b7d-4e1a-9c5f-{n * 7877:012x}", _ts=RECORDED_AT + n // 8)
                    for n, doc in enumerate(documents, start=1)]
            for store, documents in stores.items()}


AGENT_DOCUMENTS = _recorded_agent_documents()


def _agent_workflow_history(store: str) -> list[dict]:
    return [d for d in AGENT_DOCUMENTS.get(store, []) if ".workflow||" in d["id"]]


class FakeAgentsReader:
    """A FAKE AgentsReader over dapr-agents' recorded documents: decoded by explorer.core.agents as
    the real reader decodes what its queries return; no queries."""

    def __init__(self, documents: list[dict], location: StoreLocation):
        self._docs = [d for d in documents if ".workflow||" not in d["id"]]
        self.location = location

    def _registry(self) -> list[dict]:
        return [d for d in self._docs if str(d.get("partitionKey", "")).startswith("agents:")]

    async def team_names(self):
        return list(dict.fromkeys(d["partitionKey"][len("agents:"):] for d in self._registry())), 2.9

    async def team(self, name: str):
        from explorer.backends.cosmos.agents import TeamsRead
        from explorer.core.agents.teams import build_teams

        docs = [d for d in self._registry() if d["partitionKey"] == f"agents:{name}"]
        return TeamsRead(tuple(build_teams(docs, self.location.key_prefix, self.location.store)), 2.9, len(docs))

    async def find_agent(self, agent_state: str):
        from explorer.core.agents.teams import build_teams

        for team in build_teams(self._registry(), self.location.key_prefix, self.location.store):
            for agent in team.agents:
                if agent.names.state == agent_state and agent.document is not None:
                    return agent
        return None

    def _runs(self, agent_state: str | None = None) -> list[dict]:
        return sorted((d for d in self._docs if ":_workflow_" in d["id"]
                       and (agent_state is None or d["id"].split("||", 1)[-1].startswith(f"{agent_state}:_workflow_"))),
                      key=lambda d: d["id"])

    async def runs_page(self, agent_state, app_ids=(), continuation=None, page_size=25):
        from explorer.backends.cosmos.agents import RunPage
        from explorer.core.agents.runs import RunSummary, decode_run

        return RunPage(tuple(RunSummary.of(decode_run(d, self.location.key_prefix)) for d in self._runs(agent_state)),
                       None, 2.9)

    async def find_run(self, instance_id, agent=None):
        from explorer.core.agents.runs import decode_run

        for doc in self._runs():
            if doc["id"].endswith(f":_workflow_{instance_id}"):
                return decode_run(doc, self.location.key_prefix)
        raise NotFound(f"no agent run {instance_id!r}")

    async def run(self, doc_id, partition):
        from explorer.core.agents.runs import decode_run

        return decode_run(next(d for d in self._docs if d["id"] == doc_id), self.location.key_prefix)

    async def memory(self, agent_state, instance_id, app_id):
        from explorer.core.agents.runs import decode_memory

        wanted = f"{app_id}||{agent_state}:_memory_{instance_id}"
        found = [d for d in self._docs if d["id"] == wanted]
        return decode_memory(found[0], self.location.key_prefix) if found else None

    async def pending_approvals(self, names, app_id):
        from explorer.core.agents.runs import decode_pending_approvals

        found = [d for d in self._docs if names.approvals_key and d["id"] == f"{app_id}||{names.approvals_key}"]
        return decode_pending_approvals(found[0], self.location.key_prefix) if found else None


class RecordedSession:
    """Answers from DOCUMENTS; `conflict_on_save` makes the next save raise an etag conflict."""

    read_only: bool

    def __init__(self, components: list[Component], read_only: bool = False):
        self.components = components
        self.read_only = read_only
        self.sidecar_problems: list[str] = []
        self.sidecar_app_ids = ["agent-registry", "chat-api", "order-processor"]
        self.conflict_on_save = False
        self._meta = [SidecarMetadata(app, "1.18.2", (RegisteredStore(store, "state.azure.cosmosdb", "v1", CAPS),))
                      for store, (_, _, _, app) in CONTAINERS.items()]

    @classmethod
    def for_paths(cls, paths, read_only: bool = False) -> RecordedSession:
        return cls(load_components(paths), read_only)

    def stores(self):
        return match_stores(self.components, self._meta)

    def last_charge(self, store: str) -> float:
        return 2.83

    def record_refusal(self, *args, **kwargs) -> None:
        """The recorded session keeps no audit log: a refusal is recorded nowhere."""

    def cosmos_load(self, store: str) -> CosmosLoad:
        return CosmosLoad(14.15)

    async def reconnect_sidecars(self) -> None:
        return None

    def agent_stores(self) -> list[str]:
        return cosmos_stores(self)

    async def complete_run(self, store, run, registered=None):
        return await complete_run(self, store, run, registered=registered)

    def workflows(self, location: StoreLocation) -> FakeWorkflowReader:
        return FakeWorkflowReader(DOCUMENTS[location.store], _agent_workflow_history(location.store))

    def agents(self, location: StoreLocation) -> FakeAgentsReader:
        return FakeAgentsReader(AGENT_DOCUMENTS.get(location.store, []), location)

    async def findings(self, store: str):
        comp = next(c for c in self.components if c.name == store)
        _, _, ttl, _ = CONTAINERS[store]
        facts = CosmosFacts(partition_key_paths=("/partitionKey",), default_ttl=ttl, container_ttl_known=True,
                            account_consistency="Session", container_found=True)
        return diagnose(comp, facts)

    async def location(self, store: str) -> StoreLocation:
        database, container, ttl, _ = CONTAINERS[store]
        return StoreLocation(store, database, container, KeyPrefix.from_metadata(None), ttl)

    async def partitions(self, location: StoreLocation) -> AsyncIterator[PartitionBatch]:
        docs = DOCUMENTS[location.store]
        found = list(dict.fromkeys(d["partitionKey"] for d in docs))
        yield PartitionBatch(tuple(found), len(found), len(found), 2.83)

    async def stats(self, location: StoreLocation, on_progress=None) -> AsyncIterator:
        """Each partition's figures from the recorded documents, as the lister's queries would give
        them (the JSON length of each document for its size), at the frozen clock."""
        from explorer.core.stats import StatsProgress, partition_stats

        docs = DOCUMENTS[location.store]
        found = list(dict.fromkeys(d["partitionKey"] for d in docs))
        for n, pk in enumerate(found, 1):
            mine = [d for d in docs if d["partitionKey"] == pk]
            figures = {"keys": len(mine), "size": sum(len(json.dumps(d, separators=(",", ":"))) for d in mine),
                       "oldest": min(d["_ts"] for d in mine), "newest": max(d["_ts"] for d in mine)}
            if on_progress is not None:
                on_progress(StatsProgress(len(found), n, True, 2.83 + 3.0 * n))
            yield partition_stats(pk, figures, [d for d in mine if "ttl" in d], location.default_ttl, NOW, 3.0)

    async def keys_page(self, location, partition, continuation, page_size=100) -> KeyPage:
        rows = tuple(KeyRow(d["id"], d["partitionKey"], d["_etag"], d["_ts"], d.get("ttl"), d["isBinary"])
                     for d in DOCUMENTS[location.store] if d["partitionKey"] == partition)
        return KeyPage(rows, None, 2.83)

    async def find_id(self, location, text):
        return [FoundId(d["id"], d["partitionKey"]) for d in DOCUMENTS[location.store] if d["id"].endswith(text)]

    def _key(self, location, doc) -> KeyValue:
        state_key = parse_document_id(doc["id"], location.key_prefix, location.store)
        expiry = effective_expiry(doc.get("ttl"), location.default_ttl, doc["_ts"])
        return KeyValue(state_key, doc, value_bytes_of(doc), doc["_etag"], expiry)

    async def open_key(self, location, doc_id, partition) -> OpenedKey:
        doc = next(d for d in DOCUMENTS[location.store] if d["id"] == doc_id)
        key = self._key(location, doc)
        if key.state_key.read_only_reason:
            return OpenedKey(key, f"Cosmos point read ({key.state_key.read_only_reason.split(':')[0]})")
        app = key.state_key.app_id
        return OpenedKey.asking_dapr(key, app)

    async def check_through_dapr(self, location, opened) -> OpenedKey:
        return OpenedKey(opened.key, f"Dapr ({opened.dapr_app})", (), opened.dapr_app, True)

    async def save(self, location, key, value, ttl, overwrite=False) -> KeyValue:
        if self.conflict_on_save and not overwrite:
            raise EtagConflict("etag mismatch")
        return key

    async def delete(self, location, key, overwrite=False) -> None:
        return None

    async def current(self, location, key) -> KeyValue | None:
        doc = dict(key.document, value={**key.document["value"], "status": "busy"}, _etag="0000beef-theirs")
        return self._key(location, doc)

    async def close(self) -> None:
        return None
