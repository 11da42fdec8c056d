"""Bulk actions in the TUI: `B` in the browser — choose, dry run, type the count, watch, read the report.

What it is for: the screens over explorer.core.bulk (the plan, its confirmation, the report) and
the session's `run_bulk` (explorer.session.bulk: each key through the session's one write path, etag-checked, with its own
audit line). `BulkChoice` picks the action (delete, set a TTL of N seconds, remove the TTL) and the
keys (the marked ones, or every key of the partition). `BulkView` lists them in a worker (the
partition through `session.listed_keys`, with etags; the marked keys as they were listed), shows
the dry run — what would change and how many, the keys left alone with the reason — and takes the
count typed (`core.bulk.confirmed`); in a production context the app's guard then asks for the
context's name (not typed: each key's "refused" audit line, as a refused save leaves one). The run reports progress on a ProgressBar; esc cancels between keys (writes in
flight finish and are counted); the report lists what was done, skipped (changed or gone since the
dry run: never overwritten) and failed. Leaving it tells the browser to reload the partition.

What it must never do: write without the exact count typed (and, in a production context, the
context's name), write in a read-only session (the view refuses before listing; the session
refuses anyway), await I/O outside a worker, or write other than through the session's `run_bulk`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, RadioButton, RadioSet, Static

from explorer.core.bulk import BulkAction, BulkPlan, BulkReport, Listed, count_typed, make_plan
from explorer.core.display import short_etag
from explorer.core.envelope import parse_document_id
from explorer.core.expiry import MAX_TTL
from explorer.tui.context import InContext
from explorer.tui.widgets.shown import safe_text, shown_lines

MAX_SHOWN = 1000  # dry-run rows drawn; the counts cover every key
PROGRESS_EVERY = 0.1  # seconds between redraws of a running bulk action's progress
REPORT_LINES = 20  # skipped / failed keys listed by name in the report, each


@dataclass(frozen=True)
class BulkRequest:
    """What `BulkChoice` asks for: the action, its TTL (set-ttl), and whether only the marked keys."""

    action: BulkAction
    ttl_seconds: int | None
    marked_only: bool


class BulkChoice(ModalScreen[BulkRequest | None]):
    """The action and the keys; dismisses with a BulkRequest (Enter or "Dry run"), or None (esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "go", "Dry run", priority=True)]

    def __init__(self, store: str, partition: str, marked: int) -> None:
        super().__init__(classes="dialog")
        self._store, self._partition, self._marked = store, partition, marked

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(safe_text(f"Bulk action — {self._store} › {self._partition}"), classes="dialog-title")
            with RadioSet(id="bulk-action"):
                yield RadioButton("delete", value=True, id="bulk-delete")
                yield RadioButton("set a TTL (seconds, below)", id="bulk-set-ttl")
                yield RadioButton("remove the TTL (never expire)", id="bulk-remove-ttl")
            yield Input(placeholder="seconds, e.g. 3600", id="bulk-ttl", type="integer")
            with RadioSet(id="bulk-selection"):
                yield RadioButton(f"the {self._marked:,} marked key{'' if self._marked == 1 else 's'}",
                                  value=self._marked > 0, id="bulk-marked", disabled=self._marked == 0)
                yield RadioButton(safe_text(f"every key of partition {self._partition}"), value=self._marked == 0,
                                  id="bulk-partition")
            yield Static("Nothing is written yet: the dry run comes first.", classes="dialog-subtitle")
            yield Static("", id="bulk-choice-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Dry run (enter)", variant="primary", id="bulk-go")
                yield Button("Cancel (esc)", id="bulk-cancel")

    def on_mount(self) -> None:
        self.query_one("#bulk-action", RadioSet).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value:
            self.query_one("#bulk-set-ttl", RadioButton).value = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "bulk-go":
            self.action_go()
        else:
            self.action_cancel()

    def request(self) -> BulkRequest:
        """What is chosen; ValueError (its text for the user) when the TTL is not a valid one."""
        pressed = self.query_one("#bulk-action", RadioSet).pressed_button
        action = {"bulk-set-ttl": BulkAction.SET_TTL, "bulk-remove-ttl": BulkAction.REMOVE_TTL}.get(
            pressed.id if pressed else "", BulkAction.DELETE)
        ttl = None
        if action is BulkAction.SET_TTL:
            text = self.query_one("#bulk-ttl", Input).value.strip()
            if not text.isdigit() or not 0 < int(text) <= MAX_TTL:
                raise ValueError(f"a TTL is a whole number of seconds from 1 to {MAX_TTL}: type it below")
            ttl = int(text)
        selection = self.query_one("#bulk-selection", RadioSet).pressed_button
        return BulkRequest(action, ttl, selection is not None and selection.id == "bulk-marked")

    def action_go(self) -> None:
        try:
            self.dismiss(self.request())
        except ValueError as exc:
            self.query_one("#bulk-choice-error", Static).update(str(exc))

    def action_cancel(self) -> None:
        self.dismiss(None)


def listed_of(entry) -> Listed:
    """A marked row of the key table (explorer.tui.widgets.key_table.KeyEntry) as the plan takes it."""
    return Listed(entry.doc_id, entry.partition, entry.etag, entry.ttl)


def report_lines(report: BulkReport) -> list[tuple[str, str]]:
    """The report as (line, style): the summary, then skipped and failed keys with their reasons."""
    style = "bold red" if report.failed or report.stopped else "yellow" if report.skipped or report.cancelled \
        else "bold green"
    lines = [(report.summary(), style)]
    for label, items in (("skipped", report.skipped), ("failed", report.failed)):
        for passed in items[:REPORT_LINES]:
            lines.append((f"{label}: {passed.doc_id} [{passed.partition}]: {passed.reason}",
                          "red" if label == "failed" else "yellow"))
        if len(items) > REPORT_LINES:
            lines.append((f"{label}: … and {len(items) - REPORT_LINES:,} more", "dim"))
    return lines


class BulkView(InContext, Screen[bool]):
    """The dry run, the count typed, the run with its progress, the report. Dismisses with whether
    anything was sent (the browser reloads the partition either way, and forgets the marks if so)."""

    BINDINGS = [Binding("escape", "back", "Back / cancel", tooltip="While running: stop between keys")]

    def __init__(self, session, location, partition: str, request: BulkRequest, marked=()) -> None:
        super().__init__()
        self.session, self.location, self.partition = session, location, partition
        self.request = request
        self.marked = [listed_of(entry) for entry in marked]
        self.plan: BulkPlan | None = None  # once listed (tests read it)
        self.report: BulkReport | None = None  # once run
        self.running = False
        self.ran = False
        self.cancel = asyncio.Event()
        self._drawn = 0.0  # when the progress was last redrawn (time.monotonic)

    def compose(self) -> ComposeResult:
        which = f"the {len(self.marked):,} marked keys" if self.request.marked_only else "every key"
        verb = self.request.action.verb(self.request.ttl_seconds)
        yield Static(safe_text(f"Bulk — {verb} {which} of {self.location.store} › {self.partition}", "bold"),
                     id="bulk-title")
        yield Static("listing the keys…", id="bulk-status")
        table = DataTable(id="bulk-keys", cursor_type="row", zebra_stripes=True)
        table.add_columns("Key", "Partition", "Etag", "Dry run")
        yield table
        yield Static("", id="bulk-prompt")
        yield Input(placeholder="type the count to go ahead; esc goes back", id="bulk-count")
        yield Static("", id="bulk-error", classes="dialog-error")
        yield ProgressBar(id="bulk-progress", show_eta=False)
        yield Static("", id="bulk-report")
        yield Footer()

    def on_mount(self) -> None:
        for selector in ("#bulk-count", "#bulk-progress", "#bulk-report"):
            self.query_one(selector).display = False
        if self.context.read_only or self.session.read_only:
            self._status("read-only session: nothing can be written. Nothing was listed or sent.", "bold red")
            return
        self.dry_run()

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#bulk-status", Static).update(shown_lines(text, style))

    # -- the dry run --------------------------------------------------------------------------

    @work(exclusive=True, group="bulk-list")
    async def dry_run(self) -> None:
        from explorer.core.model import NO_PARTITION_KEY, MissingPartitionKey
        from explorer.errors import describe

        location = self.location
        if self.request.marked_only:
            listed = list(self.marked)
        else:
            partition = MissingPartitionKey() if self.partition == NO_PARTITION_KEY else self.partition
            listed = []
            try:
                async for row in self.session.listed_keys(location, partition):
                    listed.append(Listed(row.id, row.partition_key, row.etag, row.ttl))
                    if len(listed) % 500 == 0:
                        self._status(f"listing the keys… {len(listed):,}")
            except Exception as exc:  # noqa: BLE001 - one line; nothing was written
                self._status(f"✖ listing {self.partition} failed: {describe(exc)}. Nothing was written.", "bold red")
                return
        plan = make_plan(location.store, location.key_prefix, self.request.action, listed, self.request.ttl_seconds)
        self.plan = plan
        table = self.query_one("#bulk-keys", DataTable)
        what = {BulkAction.DELETE: "delete", BulkAction.SET_TTL: f"ttl {plan.ttl_seconds:,}s" if plan.ttl_seconds
                else "", BulkAction.REMOVE_TTL: "ttl -1"}[plan.action]
        for target in plan.targets[:MAX_SHOWN]:
            table.add_row(safe_text(target.state_key.key), safe_text(target.listed.partition), safe_text(short_etag(target.listed.etag)),
                          what)
        for passed in plan.passed[:max(0, MAX_SHOWN - plan.count)]:
            key = parse_document_id(passed.doc_id, location.key_prefix, location.store).key
            table.add_row(safe_text(key, "dim"), safe_text(passed.partition), "", safe_text(f"left alone: {passed.reason}", "yellow"))
        shown = min(MAX_SHOWN, plan.count + len(plan.passed))
        more = f" · the first {shown:,} of {plan.count + len(plan.passed):,} keys are listed" if shown < \
            plan.count + len(plan.passed) else ""
        self._status(f"Dry run: would {plan.summary()}{more}", "bold")
        if plan.count == 0:
            self.query_one("#bulk-prompt", Static).update(Text("Nothing to do: no key can take this action. "
                                                               "esc goes back.", style="yellow"))
            return
        self.query_one("#bulk-prompt", Static).update(Text(plan.confirmation_prompt() + ", then Enter "
                                                           "(esc goes back and nothing is written)"))
        count = self.query_one("#bulk-count", Input)
        count.display = True
        count.focus()

    # -- the count typed, then the run ----------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self._planned() or self.running or self.ran:
            return
        if not count_typed(self._count(), event.value):
            self.query_one("#bulk-error", Static).update(
                f"that is not {self._count()}: nothing was written. Type {self._count()}, or esc to go back.")
            event.input.value = ""
            return
        self.query_one("#bulk-error", Static).update("")
        what = self._what()
        self.context.guard.guard_write(what, self.start, self._refused)

    def _planned(self) -> bool:
        """Whether the dry run is done, so a count can be taken."""
        return self.plan is not None

    def _count(self) -> int:
        """How many keys the run writes: the count to be typed."""
        return self.plan.count

    def _what(self) -> str:
        """The run in words, for a production context's typed-name dialog."""
        plan = self.plan
        return f"{plan.action.verb(plan.ttl_seconds)} {plan.count:,} keys in {plan.store} (partition {self.partition})"

    async def _run(self, progress, cancel) -> BulkReport:
        return await self.session.run_bulk(self.location, self.plan, progress, cancel)

    def _record_refused(self, why: str) -> None:
        """The "refused" audit lines of the writes the run would send (in a worker thread: a file)."""
        self.session.record_bulk_refusals(self.location, self.plan, why)

    def _refused(self, why: str) -> None:
        """The context's name was not typed: nothing sent, each write's "refused" audit line (a file:
        in a worker thread) as `set` leaves it; the count is typed again to retry."""
        self.run_worker(partial(self._record_refusals, why), thread=True, group="audit")
        self.query_one("#bulk-error", Static).update(why)
        count = self.query_one("#bulk-count", Input)
        count.value = ""
        count.focus()

    def _record_refusals(self, why: str) -> None:
        try:
            self._record_refused(why)
        except Exception as exc:  # noqa: BLE001 - the refusal stands; say the log could not take it
            self.app.call_from_thread(self.notify, f"the audit log could not record the refusal: {exc}",
                                      severity="warning")

    def start(self) -> None:
        """Hide the count, show the progress bar, and run the plan in a worker."""
        count = self.query_one("#bulk-count", Input)
        count.display = False
        self.query_one("#bulk-prompt", Static).update("esc stops between keys: the writes in flight finish")
        bar = self.query_one("#bulk-progress", ProgressBar)
        bar.update(total=self._count(), progress=0)
        bar.display = True
        self.running = True
        self.run_plan()

    def _progress(self, report: BulkReport) -> None:
        """Called after every key; redrawn at most every PROGRESS_EVERY seconds (a redraw costs more
        than a key's write), and always for the last key."""
        now = time.monotonic()
        if now - self._drawn < PROGRESS_EVERY and report.tried < report.plan_count:
            return
        self._drawn = now
        self.query_one("#bulk-progress", ProgressBar).update(progress=report.tried)
        self._status(f"{report.tried:,}/{report.plan_count:,} · {report.summary()}")

    @work(exclusive=True, group="bulk-run")
    async def run_plan(self) -> None:
        from explorer.errors import describe

        try:
            report = await self._run(self._progress, self.cancel)
        except Exception as exc:  # noqa: BLE001 - nothing was written (run_plan raises only then): one line
            self.ran = True
            self.running = False
            self._status(f"✖ {describe(exc)} Nothing was written.", "bold red")
            self.query_one("#bulk-prompt", Static).update("esc goes back")
            return
        self._drawn = 0.0
        self._progress(report)  # where it stopped (cancelled or stopped early: the last keys were not drawn)
        self.report, self.ran, self.running = report, True, False
        self._status(f"Done: {report.summary()}", report_lines(report)[0][1])
        out = Text()
        for line, style in report_lines(report):
            out.append(line + "\n", style=style)
        box = self.query_one("#bulk-report", Static)
        box.update(out)
        box.display = True
        self.query_one("#bulk-prompt", Static).update("esc goes back to the partition (it reloads)")

    def action_back(self) -> None:
        if self.running:
            self.cancel.set()
            self._status("stopping: the writes in flight finish, none is started after…", "yellow")
            return
        self.dismiss(self.ran)
