"""One instance as a list of instances shows it: its runtime status derived from its history the way
durabletask does, its summary, and the filter a list applies. Pure: never does I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from explorer.core.workflows.schema import RuntimeStatus
from explorer.core.workflows.values import Failure, WorkflowEvent, WorkflowMetadata, iso_z



# -- runtime status ---------------------------------------------------------------------------

def runtime_status(history: Iterable[WorkflowEvent]) -> RuntimeStatus:
    """The status durabletask derives from a whole history (PENDING when no ExecutionStarted).

    Follows durabletask-go's runtimestate (NewWorkflowRuntimeState + RuntimeStatus): the first
    ExecutionStarted and the first ExecutionCompleted count (later ones are duplicates it rejects);
    ExecutionSuspended/Resumed toggle suspension; ExecutionStalled stalls and any later accepted event
    clears it. Completed wins over stalled, stalled over suspended.
    """
    return _derive(history, assume_started=False)


def _derive(history: Iterable[WorkflowEvent], assume_started: bool) -> RuntimeStatus:
    started = assume_started
    completed: RuntimeStatus | None = None
    suspended = stalled = False
    resolved: set[tuple[str, int | None]] = set()
    for event in history:
        kind = event.type
        if kind == "ExecutionStarted":
            if started and not assume_started:
                continue  # duplicate: rejected, changes nothing
            started = True
            assume_started = False
        elif kind == "ExecutionCompleted":
            if completed is not None:
                continue
            completed = event.status or RuntimeStatus.UNKNOWN
        elif kind == "ExecutionSuspended":
            suspended = True
        elif kind == "ExecutionResumed":
            suspended = False
        elif kind == "ExecutionStalled":
            stalled = True
            continue
        elif kind in _RESOLUTIONS:
            key = (_RESOLUTIONS[kind], event.task_id)
            if key in resolved:
                continue
            resolved.add(key)
        stalled = False
    if not started:
        return RuntimeStatus.STALLED if stalled else RuntimeStatus.PENDING
    if completed is not None:
        return completed
    if stalled:
        return RuntimeStatus.STALLED
    return RuntimeStatus.SUSPENDED if suspended else RuntimeStatus.RUNNING


_RESOLUTIONS = {
    "TaskCompleted": "task", "TaskFailed": "task", "TimerFired": "timer",
    "ChildWorkflowInstanceCompleted": "child", "ChildWorkflowInstanceFailed": "child",
}


# -- one instance -----------------------------------------------------------------------------

#: How many last history entries summarize_instance needs to get the status right for real runs.
#: Dapr ends a completed run with ExecutionCompleted (terminate: ExecutionTerminated, then
#: ExecutionCompleted TERMINATED) and a suspension with [WorkflowStarted, ExecutionSuspended]; every
#: event that arrives while suspended adds a [WorkflowStarted, event] pair after it. 16 entries keep
#: the suspension in view through seven such arrivals; past that, a suspended instance reads RUNNING.
TAIL_LENGTH = 16


@dataclass(frozen=True)
class InstanceSummary:
    """One workflow instance, as a list of instances shows it."""

    app_id: str
    instance_id: str
    partition: str
    name: str | None
    status: RuntimeStatus
    created: datetime | None
    last_updated: datetime | None
    history_length: int
    inbox_length: int
    custom_status: str | None
    failure: Failure | None
    parent_instance_id: str | None

    def to_json(self) -> dict:
        return {
            "app_id": self.app_id, "instance_id": self.instance_id, "partition": self.partition, "name": self.name,
            "status": self.status.value, "created": iso_z(self.created), "last_updated": iso_z(self.last_updated),
            "history_length": self.history_length, "inbox_length": self.inbox_length,
            "custom_status": self.custom_status, "failure": self.failure.to_json() if self.failure else None,
            "parent_instance_id": self.parent_instance_id,
        }


def summarize_instance(
    app_id: str,
    instance_id: str,
    partition: str,
    metadata: WorkflowMetadata | None,
    first: WorkflowEvent | None,
    tail: Sequence[WorkflowEvent],
    custom_status: str | None,
    last_updated: datetime | None,
) -> InstanceSummary:
    """An instance's summary from its metadata, an early history event and the last events.

    `first`: the instance's ExecutionStarted — in Dapr's histories history-000001, since every turn
    (the first too) opens with a WorkflowStarted; history-000000 is accepted and then gives the
    creation time but no name (unless the tail reaches back to history-000001). While the history
    is empty (metadata says 0), the ExecutionStarted waiting in inbox-000000 may be given: the
    instance is then PENDING with that event's name. `tail`: the last TAIL_LENGTH history entries in order (the whole
    history when shorter; it may repeat `first`). `last_updated`: the caller's (e.g. the metadata
    document's write time); when None, the last event's timestamp, as Dapr reports it.

    Status is runtime_status over what is seen. When part of the history is not seen (metadata says
    it is longer), the instance counts as started even if its ExecutionStarted is not among the
    events given, and a suspension older than the tail is missed (see TAIL_LENGTH).
    """
    events: list[WorkflowEvent] = [first] if first is not None else []
    events += [event for event in tail if event is not first]
    history_length = metadata.history_length if metadata else len(events)
    unseen = history_length > len(events)
    if metadata is not None and metadata.history_length == 0:
        status = RuntimeStatus.PENDING  # `first` can only be from the inbox: nothing has run yet
    elif not events:
        status = RuntimeStatus.UNKNOWN if history_length else RuntimeStatus.PENDING
    else:
        status = _derive(events, assume_started=unseen)
    start = next((event for event in events if event.type == "ExecutionStarted"), None)
    completion = next((event for event in events if event.type == "ExecutionCompleted"), None)
    created = start.timestamp if start else (first.timestamp if first is not None else None)
    if last_updated is None and events:
        last_updated = events[-1].timestamp
    return InstanceSummary(
        app_id=app_id, instance_id=instance_id, partition=partition, name=start.name if start else None,
        status=status, created=created, last_updated=last_updated, history_length=history_length,
        inbox_length=metadata.inbox_length if metadata else 0, custom_status=custom_status,
        failure=completion.failure if completion else None,
        parent_instance_id=start.parent_instance_id if start else None,
    )


@dataclass(frozen=True)
class InstanceRef:
    """Where an instance's documents are: its app, id, partition and id prefix (`…||<instance>||`)."""

    app_id: str
    instance_id: str
    partition: str
    actor_type: str

    @property
    def id_prefix(self) -> str:
        return f"{self.partition}||"


def filter_instances(instances: Iterable[InstanceSummary], statuses: Sequence[str] = (),
                     name: str | None = None, app_id: str | None = None) -> list[InstanceSummary]:
    """The instances whose status is one of `statuses` (case-insensitive names, e.g. "failed"),
    whose workflow name contains `name` (case-insensitive) and that belong to `app_id`."""
    wanted = {s.strip().upper().replace("-", "_") for s in statuses if s.strip()}
    needle = (name or "").casefold()
    return [i for i in instances
            if (not wanted or i.status.name in wanted)
            and (not needle or needle in (i.name or "").casefold())
            and (app_id is None or i.app_id == app_id)]
