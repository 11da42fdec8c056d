"""The import view: an export file written back into the store through Dapr, in the TUI.

What it is for: `I` in the browser. A dialog takes the export file (`dapr-explorer export` output),
the TTL choice (recorded: what was left at export; restart: the whole ttl) and whether keys changed
since the export may be written over; the view then makes the CLI's own dry run (the session's `import_dry_run`:
the file read and every line checked against `set`'s rules — a bad line is one line in the view —,
then create, unchanged, skip, overwrite against what the store holds now), asks for the count of
keys to write, runs the writes (the session's `run_import`, through the session's one write path)
with a progress bar and esc as a clean cancel between keys, and shows the report — the flow of the
bulk view (explorer.tui.screens.bulk), whose screen it extends.

What it must never do: write before the count is typed (and, in a production context, the
context's name), overwrite a key changed since the export unless asked, or do I/O outside a worker.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, RadioButton, RadioSet, Static

from explorer.core.bulk import BulkAction, BulkReport
from explorer.core.display import short_etag
from explorer.core.import_plan import ImportPlan, ImportStep
from explorer.tui.screens.bulk import MAX_SHOWN, BulkRequest, BulkView
from explorer.tui.widgets.shown import safe_text


class ImportChoice(ModalScreen[tuple[str, str, bool] | None]):
    """Which file, which TTL, whether to write over changed keys; dismisses with them or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: str) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(safe_text(f"Import an export file into {self.store}"), classes="dialog-title")
            yield Input(placeholder="path of a `dapr-explorer export` file (JSON lines)", id="import-path")
            with RadioSet(id="import-ttl"):
                yield RadioButton("TTL as recorded (what was left at export)", value=True, id="ttl-recorded")
                yield RadioButton("TTL restarted (the whole ttl again)", id="ttl-restart")
            yield Checkbox("also write over keys changed since the export (etag-checked)", id="import-overwrite")
            yield Static("", id="import-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Dry run", variant="primary", id="import-go")
                yield Button("Cancel", id="import-cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-go":
            self.action_go()
        else:
            self.action_cancel()

    def action_go(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        if not path:
            self.query_one("#import-error", Static).update("give the path of an export file")
            return
        mode = "restart" if self.query_one("#ttl-restart", RadioButton).value else "recorded"
        self.dismiss((path, mode, self.query_one("#import-overwrite", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportView(BulkView):
    """The import's dry run, the count typed, the run and its report. Dismisses with whether
    anything was sent."""

    def __init__(self, session, location, path: str, ttl_mode: str, overwrite: bool) -> None:
        super().__init__(session, location, "", BulkRequest(BulkAction.DELETE, None, False))
        self.path, self.ttl_mode, self.overwrite = path, ttl_mode, overwrite
        self.import_plan: ImportPlan | None = None  # once the dry run is done (tests read it)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if getattr(widget, "id", None) == "bulk-title":
                how = f"TTL {self.ttl_mode}" + (", over changed keys" if self.overwrite else "")
                widget = Static(safe_text(f"Import {self.path} into {self.location.store} ({how})", "bold"),
                                id="bulk-title")
            yield widget

    @work(exclusive=True, group="bulk-list")
    async def dry_run(self) -> None:
        from explorer.errors import UsageError, describe

        location = self.location
        if self.path == "-":  # stdin is the terminal the TUI draws on
            self._status("✖ give the path of an export file (- reads stdin, which is this terminal). Nothing was "
                         "written.", "bold red")
            return
        try:
            exported = self.session.read_export(self.path)  # every line checked as `set` checks what it writes
        except UsageError as exc:  # the file, the line, what is wrong; nothing was written
            self._status(f"✖ {exc}", "bold red")
            return

        def progress(number: int) -> None:
            if number % 200 == 0:
                self._status(f"comparing with the store… {number:,}/{len(exported):,}")

        try:
            plan = await self.session.import_dry_run(location, exported, self.ttl_mode, self.overwrite, progress)
        except UsageError as exc:  # a line `set` would refuse in this store
            self._status(f"✖ {self.path}: {exc}", "bold red")
            return
        except Exception as exc:  # noqa: BLE001 - one line; nothing was written
            self._status(f"✖ reading {location.store} failed: {describe(exc)}. Nothing was written.", "bold red")
            return
        self.import_plan = plan
        table = self.query_one("#bulk-keys", DataTable)
        for decision in plan.decisions[:MAX_SHOWN]:
            style = {ImportStep.SKIP: "yellow", ImportStep.UNCHANGED: "dim"}.get(decision.step, "")
            step = decision.step.value + (f": {decision.reason}" if decision.reason else "")
            table.add_row(safe_text(decision.state_key.key), safe_text(decision.exported.partition),
                          safe_text(short_etag(decision.current_etag or decision.exported.etag or "")), safe_text(step, style))
        self._status(f"Dry run: {plan.summary()} — from {len(exported):,} records", "bold")
        count = len(plan.writes)
        if count == 0:
            self.query_one("#bulk-prompt", Static).update(Text("Nothing to write. esc goes back.", style="yellow"))
            return
        self.query_one("#bulk-prompt", Static).update(Text(
            f"Type {count} to write {count:,} keys into {location.store}, then Enter (esc goes back and nothing is "
            "written)"))
        box = self.query_one("#bulk-count", Input)
        box.display = True
        box.focus()

    def _planned(self) -> bool:
        return self.import_plan is not None

    def _count(self) -> int:
        return len(self.import_plan.writes) if self.import_plan is not None else 0

    def _what(self) -> str:
        return f"import {self._count():,} keys from {self.path} into {self.location.store}"

    def _record_refused(self, why: str) -> None:
        self.session.record_import_refusals(self.location, self.import_plan.writes, why)

    async def _run(self, progress, cancel) -> BulkReport:
        return await self.session.run_import(self.location, self.import_plan, progress, cancel)
