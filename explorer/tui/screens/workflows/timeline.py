"""An instance's timeline: every history event in order, and the selected event in full.

What it is for: "why is order 1001 stuck?" — the instance's summary (status, failure, custom
status, what its inbox still holds), its history a page at a time (time, type, name, and a short
detail: a failure's message, a timer's fire time, a child's id), and a detail pane for the event
under the cursor: input and output pretty-printed, failure details (type, message, stack trace,
inner failures), timer fire times, every field the decoder knows or does not know, and a
document that does not decode as its error beside its raw bytes. `i` shows the inbox (the events
the instance waits for), `o` its other state documents; enter on a child-workflow event opens the
child, `p` the parent; `v` opens the selected document as it is stored, read-only with its reason.

Its rows are a window of at most `WINDOW_PAGES` pages of `PAGE_SIZE` events, like the key
table's: reading a page past the window drops the oldest page's rows, and moving up near the first
row held reads the page before it again from the continuation token that starts it (the tokens of
every page seen are kept: a few bytes each), so scrolling a history of any length holds the same
rows. Home reads the first page again; End goes to the last row held and reads the next page (so
End, pressed again and again, walks to the end a page at a time: tokens only go forward). The
cursor stays on its event as rows are dropped or put back; `#` is the event's own sequence.

What it must never do: I/O outside a worker; hold more than `CACHED_PAGES` decoded pages and
`WINDOW_PAGES` pages of rows (a line of text each); drop a field or an event it cannot decode;
offer a write (workflow state is Dapr's).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from explorer.core.display import failure_line, hex_dump, moment_text, terminal_safe, terminal_safe_lines
from explorer.core.expiry import _duration as span  # the countdown's wording: 45s, 2m 13s, 1h 02m, 3d 04h
from explorer.core.workflows.values import WorkflowEvent
from explorer.errors import NotFound
from explorer.tui.failed_workers import ShowsFailedWorkers
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.screens.workflows.part_view import WINDOW_PAGES, EntryMeta, PartView
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.row_table import RowTable
from explorer.tui.widgets.shown import pretty_text, pretty_value
from explorer.tui.widgets.workflow_cells import STATUS_TONES

CACHED_PAGES = 3  # decoded pages kept for the detail pane; an older one is read again when selected
PAGE_SIZE = 100  # events a page (one query)
PARTS = {"history": "history", "inbox": "inbox (what it waits for)", "other": "other state documents"}
COLUMNS = [("#", 2, 12), ("Time (UTC)", 18, 23), ("Event", 5, 32), ("Name · detail", 14, 120)]
CHILD_CREATED = ("ChildWorkflowInstanceCreated", "SubOrchestrationInstanceCreated")


def _first_line(text: str | None, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def child_of(event) -> str | None:
    """The child instance an event created (ChildWorkflowInstanceCreated), or None."""
    kind = getattr(event, "type", "") or ""
    if (kind in CHILD_CREATED or ("Child" in kind and "Created" in kind)) and getattr(event, "instance_id", None):
        return event.instance_id
    return None


ANSWERS = ("TaskCompleted", "TaskFailed", "ChildWorkflowInstanceCompleted", "ChildWorkflowInstanceFailed",
           "SubOrchestrationInstanceCompleted", "SubOrchestrationInstanceFailed", "TimerFired")
NOT_FINISHED = ("RUNNING", "PENDING", "SUSPENDED", "STALLED")


def open_waits(events) -> list[str]:
    """What an unfinished instance still waits for, from the last events of its history (in order):
    activities scheduled and not answered, children not finished, timers not fired, external
    events not raised (a wait for an event is a timer named after it, fired only on its timeout)."""
    pending: dict[int, str] = {}  # the scheduling event's id -> what it waits for
    for event in events:
        kind = event.type
        if kind == "TaskScheduled":
            pending[event.event_id] = f"activity {event.name or '?'}"
        elif child_of(event):
            pending[event.event_id] = f"child {event.instance_id}"
        elif kind == "TimerCreated":
            if event.name:
                times_out = event.fire_at and event.fire_at.year < 9999
                until = f" (times out {moment_text(event.fire_at)})" if times_out else ""
                pending[event.event_id] = f"event {event.name}{until}"
            else:
                pending[event.event_id] = f"timer firing {moment_text(event.fire_at)}"
        elif kind in ANSWERS and event.task_id is not None:
            pending.pop(event.task_id, None)
        elif kind == "EventRaised" and event.name:
            raised = next((n for n, what in pending.items() if what.split(" (")[0] == f"event {event.name}"), None)
            if raised is not None:
                pending.pop(raised)
    return list(pending.values())


def event_tone(column: int, text: str, row: tuple[str, ...]) -> str:
    """The event's colour: failures red, completions green (a failed or terminated execution as such)."""
    if column == 2:
        status = row[3].split(":")[0].split(" ")[0] if len(row) > 3 else ""
        if "Failed" in text or text.startswith("✖") or status == "FAILED":
            return "bold red"
        if "Terminated" in text or "Suspended" in text or status in STATUS_TONES and status not in ("COMPLETED",):
            return STATUS_TONES.get(status, "magenta")
        if "Completed" in text:
            return "green"
        if "Timer" in text:
            return "cyan"
        if "Event" in text:
            return "yellow"
    if column == 3 and "✖" in text:
        return "red"
    return ""


def row_of(entry) -> tuple[tuple[str, ...], str | None]:
    """(the row's cells, the instance it links to) for one TimelineEntry."""
    part = entry.part
    number = str(part.sequence) if part.sequence is not None else part.part
    event = part.value
    if part.error is not None:
        return (number, "—", "✖ does not decode", _first_line(part.error)), None
    if not isinstance(event, WorkflowEvent):
        return (number, when_ts(entry.ts), part.part, _first_line(_label(part).removeprefix(part.key).strip(" ·"))), None
    try:
        summary = event.summary
    except Exception:  # noqa: BLE001 - the type and the fields below still say what it is
        summary = event.type
    detail = summary[len(event.type):].strip() if summary.startswith(event.type) else summary
    link = child_of(event)
    if link:
        detail += " (enter opens it)"
    elif event.parent_instance_id:
        link = event.parent_instance_id
        detail += f" · child of {link} (enter opens it)"
    if event.failure is not None and event.failure.message and event.failure.message not in detail:
        detail += f" · ✖ {_first_line(event.failure.message)}"
    if event.unknown:
        detail += f" · {len(event.unknown)} unknown field{'s' if len(event.unknown) > 1 else ''}"
    return (number, moment_text(event.timestamp, date=False, millis=True), event.type, detail.strip(" ·")), link


def when_ts(ts: int) -> str:
    """A document's _ts (seconds), as the time column shows times."""
    return moment_text(datetime.fromtimestamp(ts, timezone.utc) if ts else None, date=False)


def _label(part) -> str:
    try:
        return part.label
    except Exception as exc:  # noqa: BLE001 - a label is a nicety; the part is still shown
        return f"{part.part} ({type(exc).__name__})"


def failure_lines(failure) -> list[RenderableType]:
    """A failure and every failure inside it: type and message, non-retriable, stack trace as written."""
    lines: list[RenderableType] = []
    depth = 0
    while failure is not None:
        prefix = "caused by " if depth else "✖ "
        lines.append(Text.assemble((f"{prefix}{terminal_safe(failure.error_type or '')}", "bold red"), ": ",
                                   terminal_safe_lines(failure.message or "")))
        if failure.non_retriable:
            lines.append(Text("  non-retriable: no retry policy runs it again", style="red"))
        if failure.stack_trace:
            lines.append(Text(terminal_safe_lines(failure.stack_trace.rstrip("\n")), style="dim", overflow="fold"))
        failure, depth = failure.inner, depth + 1
    return lines


def event_detail(entry, now: float | None = None) -> RenderableType:
    """Everything one history/inbox/state document says, for the detail pane: what it is and when,
    its failure first (with stack trace), then its named fields, input and output, warnings and
    unknown fields, and last every field as decoded (nothing it holds is left out)."""
    part = entry.part
    key = entry.doc_id.rsplit("||", 1)[-1]
    if part.error is not None:
        return Group(
            Text.assemble((key, "bold"), " · ", ("does not decode", "bold red")),
            Text(part.error, style="red"),
            Text(f"raw value: {len(part.raw):,} bytes", style="bold"),
            Text(hex_dump(part.raw)),
            Text("base64", style="bold"),
            Text(base64.b64encode(part.raw).decode("ascii")),
        )
    event = part.value
    if not isinstance(event, WorkflowEvent):
        try:
            decoded = pretty_value(part.to_json()["value"])
        except Exception:  # noqa: BLE001 - the label already says what it is
            decoded = pretty_value(event)
        return Group(Text(_label(part), style="bold"), decoded)
    head = Text.assemble((event.type, "bold"), (f"  {key} · event id {event.event_id}", "dim"))
    if event.task_id is not None:
        head.append(f" · task {event.task_id}", style="dim")
    head.append(f" · {event.timestamp.isoformat() if event.timestamp else 'no time'}", style="dim")
    body: list[RenderableType] = [head, *failure_lines(event.failure)]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if event.name:
        grid.add_row("name", Text(event.name))
    link = child_of(event)
    if link:
        grid.add_row("child", Text.assemble((link, "bold"), ("  (enter opens it)", "dim")))
    elif event.instance_id:
        grid.add_row("instance", Text(event.instance_id))
    if event.parent_instance_id:
        grid.add_row("parent", Text.assemble((event.parent_instance_id, "bold"), ("  (enter opens it)", "dim")))
    if event.status is not None:
        grid.add_row("status", Text(event.status.name, style=STATUS_TONES.get(event.status.name, "")))
    if event.fire_at is not None:
        fires = event.fire_at.isoformat()
        if now is not None:
            delta = event.fire_at.timestamp() - now
            fires += f"  ({'in ' if delta >= 0 else ''}{span(int(abs(delta)))}{'' if delta >= 0 else ' ago'})"
        grid.add_row("fires at", Text(fires, style="cyan"))
    if event.input is not None:
        grid.add_row("input", pretty_text(event.input))
    if event.output is not None:
        grid.add_row("output", pretty_text(event.output))
    for warning in part.warnings:
        grid.add_row(Text("warning", style="yellow"), Text(warning, style="yellow"))
    for unknown in event.unknown:
        grid.add_row(Text(f"unknown {unknown.path}", style="yellow"),
                     Text(f"field {unknown.number}, wire type {unknown.wire_type}: {unknown.raw.hex()}"))
    if event.fields:  # every field as decoded, those named above too: nothing the event holds is left out
        grid.add_row(Text("all fields", style="dim"), pretty_value(event.fields))
    body.append(grid)
    return Group(*body)


class Timeline(ShowsFailedWorkers, Screen):
    """One instance; esc goes back (to the instances, or to the parent's timeline)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("h", "part('history')", "History", tooltip="The instance's history events, in order"),
        Binding("i", "part('inbox')", "Inbox", tooltip="The events the instance has received and not yet run"),
        Binding("o", "part('other')", "Other", tooltip="The instance's other documents: metadata, custom status, …"),
        Binding("v", "raw", "Raw", tooltip="Open the selected event's document as stored (read-only)"),
        Binding("p", "parent", "Parent", tooltip="Open the parent instance's timeline"),
        Binding("r", "reload", "Reload"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location, ref, page_size: int = PAGE_SIZE, window_pages: int = WINDOW_PAGES) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.ref = ref
        self.page_size = page_size
        self.window_pages = window_pages
        self.summary = None  # InstanceSummary, once read
        self.inbox_note = ""
        self.waits: list[str] = []  # what the instance still waits for (an unfinished one)
        self.part = "history"
        self.views: dict[str, PartView] = self._new_views()
        self._pages: OrderedDict[tuple[str, int], dict[str, object]] = OrderedDict()  # decoded, newest last
        self._detail_timer = None
        self.detail_for: str | None = None  # the document the detail pane shows (tests read it)

    def _new_views(self) -> dict[str, PartView]:
        return {name: PartView(self.window_pages) for name in PARTS}

    @property
    def gone(self) -> bool:
        """Esc (or the app's exit) has begun taking the screen down while a read was out: its
        widgets are being removed before its workers are cancelled, so an answer arriving now
        draws nothing (`display` is False from the start of the removal)."""
        return not self.display

    @property
    def reader(self):
        return self.session.workflows(self.location)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.session.read_only:
            yield ReadOnlyBanner()
        yield Static(Text(f"{self.ref.instance_id} · reading…"), id="tl-title")
        yield Static("", id="tl-summary")
        table = RowTable(COLUMNS, tone=event_tone, id="tl-events")
        table.near = max(1, min(table.near, self.page_size // 2))  # near an end: within half a page
        yield table
        with VerticalScroll(id="tl-detail"):
            yield Static("", id="tl-detail-body")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table.focus()
        self.load_summary()
        self.load_inbox_note()
        self._load_next()

    @property
    def table(self) -> RowTable:
        return self.query_one("#tl-events", RowTable)

    @property
    def view(self) -> PartView:
        return self.views[self.part]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "parent":  # only for a child instance: nothing to offer otherwise
            return self.summary is not None and bool(self.summary.parent_instance_id)
        return True

    # -- the summary --------------------------------------------------------------------

    @work(group="summary", exit_on_error=False)
    async def load_summary(self) -> None:
        self.summary = summary = await self.reader.summary(self.ref)
        title = Text.assemble((summary.instance_id, "bold"), " · ", summary.name or "?", " · ",
                              (summary.status.name, STATUS_TONES.get(summary.status.name, "")),
                              f" · app {summary.app_id}")
        if self.gone:
            return
        self.query_one("#tl-title", Static).update(title)
        self._show_summary()
        self.refresh_bindings()
        if summary.status.name in NOT_FINISHED and summary.history_length:
            self.load_waits(summary.history_length)

    def load_summary_failed(self, error: BaseException) -> None:
        """Shown; the history may still read."""
        if not self.gone:
            self.query_one("#tl-summary", Static).update(Text(f"✖ summary: {failure_line(error)}", style="red"))

    @work(group="summary", exit_on_error=False)
    async def load_waits(self, history_length: int) -> None:
        """What it waits for, from the end of its history (read apart from the pages: it may be long)."""
        tail = await self.reader.tail(self.ref, history_length)
        self.waits = open_waits([e.part.value for e in tail if isinstance(e.part.value, WorkflowEvent)])
        if not self.gone:
            self._show_summary()

    def load_waits_failed(self, error: BaseException) -> None:
        """The summary still shows the rest."""
        self.waits = [f"? ({failure_line(error)})"]
        if not self.gone:
            self._show_summary()

    @work(group="inbox-note", exit_on_error=False)
    async def load_inbox_note(self) -> None:
        """What the inbox holds (the first page's events), for the summary."""
        page = await self.reader.timeline_page(self.ref, "inbox", None, 20)
        names = []
        for entry in page.entries:
            cells, _ = row_of(entry)
            names.append(" ".join(c for c in (cells[2], cells[3]) if c))
        more = " …" if page.continuation else ""
        self.inbox_note = ("inbox: " + "; ".join(names) + more + " (i)") if names else "inbox empty"
        if not self.gone:
            self._show_summary()

    def load_inbox_note_failed(self, error: BaseException) -> None:
        self.inbox_note = f"inbox not read: {failure_line(error)}"
        if not self.gone:
            self._show_summary()

    def _show_summary(self) -> None:
        """At most three lines, each cut at the screen's edge: when, failure, custom status and inbox."""
        lines = []
        summary = self.summary
        if summary is not None:
            lines.append(Text(f"updated {moment_text(summary.last_updated)} · "
                              f"created {moment_text(summary.created)} · "
                              f"{summary.history_length:,} events · inbox {summary.inbox_length:,}"))
            if summary.failure is not None:
                lines.append(Text(f"✖ {summary.failure.error_type}: {_first_line(summary.failure.message, 300)}",
                                  style="bold red"))
            last = Text()
            if self.waits:
                last.append("waiting for " + ", ".join(self.waits) + " · ", style="bold yellow")
            if summary.parent_instance_id:
                last.append(f"child of {summary.parent_instance_id} (p) · ")
            if summary.custom_status:
                last.append("custom status ", style="bold")
                last.append(_first_line(summary.custom_status, 200) + " · ")
            lines.append(last)
        else:
            lines.append(Text(""))
        if self.inbox_note:
            lines[-1].append(self.inbox_note, style="dim" if self.inbox_note.startswith("inbox empty") else "yellow")
        for line in lines:
            line.no_wrap, line.overflow = True, "ellipsis"
        self.query_one("#tl-summary", Static).update(Group(*[line for line in lines if line.plain]))

    # -- pages --------------------------------------------------------------------------

    def _load_next(self, how: str = "next") -> None:
        """Read the page after the window ("next"), the one before it ("earlier") or the first."""
        page_number = self.view.request(how)
        if page_number is None:
            return
        self._status()
        self._read_page(self.part, page_number)

    async def _entries(self, part: str, page_number: int):
        """One page's entries and the token of the page after it, and its charge."""
        if part == "other":
            return tuple(await self.reader.other_parts(self.ref)), None, None
        page = await self.reader.timeline_page(self.ref, part, self.views[part].tokens[page_number], self.page_size)
        return page.entries, page.continuation, page.request_charge

    @work(group="pages")
    async def _read_page(self, part: str, page_number: int) -> None:
        view = self.views[part]
        try:
            entries, token, charge = await self._entries(part, page_number)
        except Exception as exc:  # noqa: BLE001 - shown on screen; the app keeps running
            view.read_failed(failure_line(exc))
            if not self.gone:
                self._status()
            return
        self._remember(part, page_number, entries)
        rows, meta = [], []
        for entry in entries:
            cells, link = row_of(entry)
            rows.append(cells)
            meta.append(EntryMeta(entry.doc_id, page_number, link))
        first = not view.rows
        how, dropped = view.arrived(page_number, rows, meta, token)
        if how == "stale" or part != self.part or self.gone:
            return
        table = self.table
        table.more, table.more_before = view.more, view.before
        if how == "next":
            table.append(rows)
            table.drop_front(dropped)
        elif how == "earlier":
            table.prepend(rows)
            table.drop_back(dropped)
        else:
            table.set_rows(view.rows, 0)
        self._status(charge)
        if not view.rows:
            self.query_one("#tl-detail-body", Static).update(Text(self._empty_text(part), style="dim"))
        elif first:  # the first rows: show the cursor's event at once
            self._show_detail()

    def _empty_text(self, part: str) -> str:
        if part == "inbox":
            return "the inbox is empty: no event is waiting to be run"
        if part == "history":
            return "no history documents: the instance has not started (its first events are in the inbox: i)"
        return "no other documents"

    def _remember(self, part: str, page_number: int, entries) -> None:
        self._pages[part, page_number] = {entry.doc_id: entry for entry in entries}
        self._pages.move_to_end((part, page_number))
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)

    def _status(self, charge: float | None = None) -> None:
        view = self.view
        held = f"{view.start + 1:,}–{view.end:,} held (earlier ↑)" if view.before else f"{view.end:,} loaded"
        parts = [f"{PARTS[self.part]}: {held}"]
        if view.failed:
            parts.append(f"✖ {view.failed}")
        else:
            parts.append("reading…" if view.loading else "more ↓" if view.more else "all loaded")
        if charge is not None:
            parts.append(f"last page {charge:,.2f} RU")
        try:
            parts.append(f"last call {self.session.last_charge(self.location.store):,.2f} RU")
        except Exception:  # noqa: BLE001
            pass
        self.query_one("#status", Static).update(Text(" · ".join(parts), style="red" if view.failed else ""))
        self.table.border_title = PARTS[self.part]
        self.table.border_subtitle = "h history · i inbox · o other"

    # -- the detail pane ------------------------------------------------------------------

    def on_row_table_highlighted(self, message: RowTable.Highlighted) -> None:
        index = self.table.current  # not the message's: rows may have been dropped or put back since
        if index is None:
            return
        self.view.cursor = index
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if self._cached(index) is not None:
            self._show_detail()
        else:  # a pause, so arrowing through evicted rows does not read a page per keypress
            self._detail_timer = self.set_timer(0.12, self._show_detail)

    def on_row_table_need_more(self, message: RowTable.NeedMore) -> None:
        self._load_next()

    def on_row_table_need_earlier(self, message: RowTable.NeedEarlier) -> None:
        self._load_next("first" if message.first else "earlier")

    def _cached(self, index: int):
        view = self.view
        if not 0 <= index < len(view.meta):
            return None
        meta = view.meta[index]
        page = self._pages.get((self.part, meta.page))
        return page.get(meta.doc_id) if page is not None else None

    def _show_detail(self) -> None:
        index = self.table.current
        if index is None or index >= len(self.view.meta):
            return
        entry = self._cached(index)
        if entry is None:
            self.query_one("#tl-detail-body", Static).update(Text("reading…", style="dim"))
            self._read_again(self.part, self.view.meta[index].page)
            return
        self._pages.move_to_end((self.part, self.view.meta[index].page))
        self.detail_for = entry.doc_id
        try:
            body = event_detail(entry, self.app.now())
        except Exception as exc:  # noqa: BLE001 - a part the pane cannot draw is still named
            body = Text(f"{entry.doc_id}: cannot show it ({type(exc).__name__}: {exc}); v opens it raw", style="red")
        self.query_one("#tl-detail-body", Static).update(body)
        self.query_one("#tl-detail", VerticalScroll).scroll_home(animate=False)

    @work(exclusive=True, group="detail")
    async def _read_again(self, part: str, page_number: int) -> None:
        """A page the detail pane no longer holds, read again from the token that starts it."""
        try:
            entries = (await self._entries(part, page_number))[0]
        except Exception as exc:  # noqa: BLE001
            if self.gone:
                return
            self.query_one("#tl-detail-body", Static).update(Text(f"✖ {failure_line(exc)}", style="red"))
            return
        self._remember(part, page_number, entries)
        if part == self.part and not self.gone:
            self._show_detail()

    # -- following links ------------------------------------------------------------------

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        index = self.table.current
        meta = self.view.meta[index] if index is not None and index < len(self.view.meta) else None
        if meta is None or not meta.link:
            self.notify("no instance to open from this event (v opens its document)", timeout=3)
            return
        self.open_instance(meta.link)

    def action_parent(self) -> None:
        if self.summary is not None and self.summary.parent_instance_id:
            self.open_instance(self.summary.parent_instance_id)

    @work(exclusive=True, group="open-instance", exit_on_error=False)  # failed: a notification
    async def open_instance(self, instance_id: str) -> None:
        reader = self.reader
        try:
            ref = await reader.find_instance(instance_id, self.ref.app_id)
        except NotFound:  # a child may run in another app
            ref = await reader.find_instance(instance_id)
        if self.gone:
            return
        self.app.push_screen(Timeline(self.session, self.location, ref, self.page_size, self.window_pages))

    # -- actions --------------------------------------------------------------------------

    def action_part(self, part: str) -> None:
        if part == self.part:
            return
        self.view.cursor = self.table.current or 0
        self.part = part
        view = self.view
        self.table.more, self.table.more_before = view.more, view.before
        self.table.set_rows(view.rows, view.cursor)
        self.query_one("#tl-detail-body", Static).update("")
        self._status()
        if not view.rows and view.more:
            self._load_next()
        elif not view.rows:
            self.query_one("#tl-detail-body", Static).update(Text(self._empty_text(part), style="dim"))

    def action_raw(self) -> None:
        index = self.table.current
        if index is None or index >= len(self.view.meta):
            return
        self.app.push_screen(KeyEditor(self.session, self.location, self.view.meta[index].doc_id, self.ref.partition))

    def action_reload(self) -> None:
        self.workers.cancel_group(self, "pages")
        self.workers.cancel_group(self, "detail")
        self.views = self._new_views()
        self._pages.clear()
        self.table.more = self.table.more_before = False
        self.table.set_rows([])
        self.load_summary()
        self.load_inbox_note()
        self._load_next()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.action_help_for(self)
