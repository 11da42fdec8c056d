"""The key editor: one key's value and envelope, edited and saved through Dapr.

Shows the value pretty-printed (JSON highlighted; binary as hex and base64
with its size) and the envelope (document id, partitionKey, etag, _ts, ttl,
live countdown, isBinary). `e` edits in a text area; ctrl+s checks the JSON
(line and column of a mistake; nothing is sent), shows the diff and the TTL
choice, and saves through Dapr with the etag. A conflict shows the store's
version beside yours: reload, or overwrite on purpose — never silently.

When the key cannot be read (or a save could not be read back), the editor
shows the failure in one line instead of the key, offers `r` only when asking
again can help, and offers no edit, delete or save until a key is shown again.

A save or a delete is one worker that reads top to bottom, awaiting each dialog (`push_screen_wait`):
the confirmation, then the write guard it was handed (explorer.tui.context), which in a production context
asks for the context's name before anything is sent, then the write (and, on an etag conflict, the user's choice).

What it must never do: I/O outside a worker, a write in a read-only session or
for actor/workflow state (those open read-only with the reason), or a write
without the etag unless the user chose "overwrite" in the conflict dialog; or
let an exception out of a worker (Textual would end the app).
"""

from __future__ import annotations

import asyncio
import base64
from functools import partial
from dataclasses import replace

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from explorer.core.display import (
    InvalidEdit, age_text, edit_text_for, hex_dump, parse_base64_edit, parse_json_edit, pretty_json_bytes, size_text,
    terminal_safe_lines, timestamp_text, value_diff,
)
from explorer.core.envelope import decode_value
from explorer.core.expiry import countdown_text
from explorer.core.writes import why_not_writable
from explorer.core.opened import OpenedKey
from explorer.errors import EtagConflict as Conflict, SavedUnverified, WriteOutcomeUnknown, describe, is_retryable
from explorer.tui.context import InContext
from explorer.tui.dialogs import ConfirmDelete, ConfirmSave, CopyChoice, EtagConflict, syntax
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.shown import safe_text, shown_lines, shown_markup


class KeyEditor(InContext, Screen):
    """Pane 3. Opened on a key of the partition browser; esc goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("d", "delete", "Delete"),
        Binding("r", "reload", "Reload"),
        Binding("y", "copy", "Copy"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location, doc_id: str, partition: str, then: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.doc_id = doc_id
        self.partition = partition
        self.opened = None  # OpenedKey, once read (None again while a failure is shown instead)
        self.failed = False  # a failure is shown instead of the key: nothing offers to write
        self.editing = False
        self.saved_etags: list[str] = []  # etags this editor wrote, newest last (tests read them)
        self.then = then  # "edit" or "delete": run once the key is read

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.context.bar is not None:
            yield self.context.bar.widget()
        if self.session.read_only:
            yield ReadOnlyBanner(self._why_read_only,
                                 "READ-ONLY SESSION — nothing can be edited or deleted (--read-only)")
        yield Static(safe_text(f"{self.location.store} › {self.partition} › {self.doc_id}"), id="editor-title")
        yield Static("reading…", id="envelope")
        yield Static("", id="editor-message")
        with VerticalScroll(id="value-view"):
            yield Static("", id="value")
        yield TextArea("", id="value-edit", show_line_numbers=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#value-edit", TextArea).display = False
        self.set_interval(1.0, self._tick)
        self.load()

    @property
    def _why_read_only(self) -> str:
        return self.context.read_only_reason or "started with --read-only"

    @property
    def reason_read_only(self) -> str | None:
        if self.session.read_only:
            return f"read-only session ({self._why_read_only}): there is no way to write"
        if self.opened is not None:
            return why_not_writable(self.opened.key)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.editing and action in {"edit", "delete", "reload", "copy", "help"}:
            return False  # while the text area has the keys, letters are text
        if action in {"edit", "delete", "save"}:
            if self.session.read_only or self.failed:
                return False  # not offered at all: no bindings, nothing in the palette
            if action == "save":
                return True if self.editing else None
            return None if self.opened is None or self.reason_read_only else True
        return True

    # -- reading ------------------------------------------------------------------------

    @work(exclusive=True, group="key")
    async def load(self) -> None:
        """The key from Cosmos, shown at once; Dapr's read of it follows (`check_through_dapr`)."""
        try:
            self.opened = await self.session.open_key(self.location, self.doc_id, self.partition)
            self._show()
        except Exception as exc:  # noqa: BLE001 - Cosmos/network failures are shown, never crash the app
            retry = " (r to retry)" if is_retryable(exc) else ""  # else the error's own words say what to do
            self._no_key(f"could not read the key: {describe(exc)}{retry}", "error", f"could not read the key{retry}")
            return
        self.failed = False
        self.refresh_bindings()
        self.check_through_dapr(self.opened)
        then, self.then = self.then, None
        if then == "edit":
            self.action_edit()
        elif then == "delete":
            self.action_delete()

    @work(exclusive=True, group="dapr-check")
    async def check_through_dapr(self, opened) -> None:
        """Fill in "read via" and any mismatch once the owning sidecar has read the key shown."""
        if opened.dapr_app is None or opened.dapr_checked:
            return
        try:
            checked = await self.session.check_through_dapr(self.location, opened)
        except Exception as exc:  # noqa: BLE001 - the key stays shown; what went wrong is its warning
            checked = replace(opened, read_through="Cosmos point read", dapr_checked=True,
                              warnings=(f"Dapr's read could not be checked: {describe(exc)}",))
        if self.opened is not opened:  # reloaded or saved meanwhile; that version has its own check
            return
        self.opened = checked
        self.query_one("#envelope", Static).update(self._envelope())
        if checked.warnings:  # news: Dapr sees something else, or could not read it
            self._message(*self._notes(decode_value(checked.key.document).warnings))

    def _show(self) -> None:
        opened = self.opened
        key = opened.key
        self.query_one("#envelope", Static).update(self._envelope())
        decoded = decode_value(key.document)
        data = key.value_bytes
        if key.is_binary or decoded.data is not None:
            body = Group(
                Text(f"binary · {size_text(len(data))} · isBinary true", style="bold"),
                Text("hex", style="dim"), Text(hex_dump(data)),
                Text("base64", style="dim"), Text(base64.b64encode(data).decode("ascii")),
            )
        else:
            pretty = pretty_json_bytes(data)
            body = syntax(pretty, "json") if pretty is not None else Text(terminal_safe_lines(data.decode("utf-8", "replace")))
        self.query_one("#value", Static).update(body)
        self._message(*self._notes(decoded.warnings))

    def _notes(self, value_warnings) -> tuple[str, str]:
        """The message line for the key shown: its value's decoding warnings, Dapr's verdict, why read-only."""
        notes = list(value_warnings) + list(self.opened.warnings)
        reason = self.reason_read_only
        if reason and not self.session.read_only:
            notes.insert(0, f"read-only: {reason}")
        return " · ".join(notes), "warning" if notes else ""

    def _envelope(self) -> Group:
        key = self.opened.key
        doc = key.document
        now = self.app.now()
        ttl = doc.get("ttl")
        ts = int(doc.get("_ts", 0) or 0)
        whole = Table.grid(padding=(0, 2))
        whole.add_column(style="bold", no_wrap=True)
        whole.add_column()
        whole.add_row("key", safe_text(key.state_key.key))
        whole.add_row("etag", safe_text(key.etag))
        whole.add_row("_ts", f"{ts} · {timestamp_text(ts)} · {age_text(ts, now)}")
        whole.add_row("expires", Text.assemble((countdown_text(key.expiry, now), "bold"), (f"  ({key.expiry.reason})", "dim")))
        pairs = Table.grid(padding=(0, 2))
        for style in ("bold", None, "bold", None):
            pairs.add_column(style=style, no_wrap=True)
        pairs.add_row("partitionKey", safe_text(key.partition_key), "app-id", safe_text(key.state_key.app_id or "—"))
        pairs.add_row("ttl", "—" if ttl is None else str(ttl), "isBinary", str(key.is_binary).lower())
        whole.add_row("read via", self.opened.read_through)
        return Group(whole, pairs)

    def _tick(self) -> None:
        if self.opened is not None:
            self.query_one("#envelope", Static).update(self._envelope())

    def countdown(self) -> str | None:
        """The countdown as drawn now (tests read it)."""
        return countdown_text(self.opened.key.expiry, self.app.now()) if self.opened else None

    def _no_key(self, message: str, level: str, envelope: str) -> None:
        """Show a failure instead of the key: no value, no envelope, nothing that offers to write."""
        self.opened = None
        self.failed = True
        self.query_one("#value", Static).update("")
        self.query_one("#envelope", Static).update(Text(envelope, style="red"))
        self._message(message, level)
        self.refresh_bindings()

    def _message(self, text: str, level: str) -> None:
        box = self.query_one("#editor-message", Static)
        box.update(shown_lines(text))
        box.set_classes(level)
        box.display = bool(text)

    # -- editing ------------------------------------------------------------------------

    def action_edit(self) -> None:
        if self.reason_read_only or self.opened is None or self.failed:
            self.notify(self.reason_read_only or "still reading the key", severity="warning")
            return
        key = self.opened.key
        area = self.query_one("#value-edit", TextArea)
        area.text = edit_text_for(key.value_bytes, key.is_binary)
        self.editing = True
        self.query_one("#value-view").display = False
        area.display = True
        area.focus()
        hint = "editing base64 bytes (stays isBinary)" if key.is_binary else "editing JSON"
        self._message(f"{hint} · ctrl+s save · esc cancel", "")
        self.refresh_bindings()

    def _stop_editing(self) -> None:
        self.editing = False
        self.query_one("#value-edit", TextArea).display = False
        self.query_one("#value-view").display = True
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.editing:
            self._stop_editing()
            self._message("edit cancelled; nothing was sent", "")
            return
        self.dismiss(self.opened.key.etag if self.opened else None)

    def _typed_value(self) -> tuple[bytes, str]:
        """(bytes to send, the text shown in diffs) or InvalidEdit."""
        text = self.query_one("#value-edit", TextArea).text
        if self.opened.key.is_binary:
            return parse_base64_edit(text), text
        data = parse_json_edit(text)
        return data, pretty_json_bytes(data) or text

    def action_save(self) -> None:
        if not self.editing or self.opened is None or self.reason_read_only:
            return
        try:
            value, shown = self._typed_value()
        except InvalidEdit as exc:
            self._message(str(exc), "error")
            if exc.line is not None:
                self.query_one("#value-edit", TextArea).cursor_location = (exc.line - 1, max(0, exc.column - 1))
            return
        self.save(value, shown)

    @work(exclusive=True, group="write")
    async def save(self, value: bytes, shown: str) -> None:
        """The save, top to bottom: the diff and TTL confirmed, a production context's name typed (when
        the app asks for it), the write sent; on an etag conflict the user's choice — reload, overwrite
        without the etag check (the name asked again), or keep editing."""
        key = self.opened.key
        before = edit_text_for(key.value_bytes, key.is_binary)
        ttl = key.document.get("ttl")
        choice = await self.app.push_screen_wait(ConfirmSave(
            key.state_key.key, value_diff(before, shown), countdown_text(key.expiry, self.app.now()),
            ttl if isinstance(ttl, int) else None))
        if choice is None:
            self._message("save cancelled; nothing was sent", "")
            return
        verb, overwrite = "save", False
        while True:
            if not await self._allowed(verb):
                return
            try:
                after = await self.session.save(self.location, key, value, choice, overwrite=overwrite)
                break
            except Conflict:
                answer = await self._conflict_answer(shown)
            except SavedUnverified as exc:  # written; the version shown is not the store's any more
                self._stop_editing()
                self._no_key(str(exc), "warning", "saved; the new version is not read yet (r reloads)")
                return
            except WriteOutcomeUnknown as exc:  # it may have landed: say so, never "nothing was saved"
                self._message(describe(exc), "error")
                return
            except Exception as exc:  # noqa: BLE001 - shown in the editor; the app keeps running
                self._message(f"{describe(exc)} — nothing was saved", "error")
                return
            if answer == "overwrite":
                self._message("overwriting without the etag check, as you chose…", "warning")
                verb, overwrite = "overwrite", True
                continue
            if answer == "reload":
                self._stop_editing()
                self._message("reloaded the store's version; your edit was discarded", "")
                self.load()
            elif answer is not None:
                self._message("conflict: nothing was saved; still editing (ctrl+s tries again with the old etag)",
                              "warning")
            return
        self.saved_etags.append(after.etag)
        app = self.opened.dapr_app
        self.opened = OpenedKey.asking_dapr(after, app) if app else OpenedKey(after, self.opened.read_through)
        self._stop_editing()
        self._show()
        self._message(f"saved · new etag {after.etag} · {countdown_text(after.expiry, self.app.now())}", "success")
        self.notify(f"saved {shown_markup(key.state_key.key)}")
        self.check_through_dapr(self.opened)  # does Dapr read back what was saved?

    async def _allowed(self, verb: str) -> bool:
        """Whether the write may be sent: at once, or once a production context's name is typed (the app
        asks); refused, the editor says why and the audit log records the refusal (nothing was sent)."""
        key = self.opened.key
        what = f"{verb} {key.state_key.key} in {self.location.store} (partition {key.partition_key})"
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.context.guard.guard_write(what, lambda: answer.set_result(None), answer.set_result)
        why = await answer
        if why is None:
            self._message("saving through Dapr…" if verb != "delete" else "deleting through Dapr…", "")
            return True
        self._message(why, "warning")
        # the audit log says a write was refused (nothing was sent); a file: a worker
        operation = "delete" if verb == "delete" else "save"
        self.run_worker(partial(self._record_refusal, self.session.record_refusal, key, operation, why),
                        thread=True, group="audit")
        return False

    def _record_refusal(self, record, key, operation: str, why: str) -> None:
        try:
            record(self.location, key.state_key, key.partition_key, operation, why, before=key)
        except Exception as exc:  # noqa: BLE001 - the refusal stands; say the log could not take it
            self.app.call_from_thread(self.notify, f"the audit log could not record the refusal: {exc}",
                                      severity="warning")

    async def _conflict_answer(self, shown: str) -> str | None:
        """The user's answer to an etag conflict, beside the store's current version (None: that
        version could not be read, and the editor says so)."""
        key = self.opened.key
        try:
            current = await self.session.current(self.location, key)
        except Exception as exc:  # noqa: BLE001
            self._message(f"etag conflict, and the current version could not be read: {describe(exc)}", "error")
            return None
        theirs = None if current is None else edit_text_for(current.value_bytes, current.is_binary)
        return await self.app.push_screen_wait(
            EtagConflict(key.state_key.key, shown, theirs, current.etag if current else None, key.etag))

    # -- delete, reload, copy, help -----------------------------------------------------

    def action_delete(self) -> None:
        if self.reason_read_only or self.opened is None or self.failed:
            self.notify(self.reason_read_only or "still reading the key", severity="warning")
            return
        self.delete()

    @work(exclusive=True, group="write")
    async def delete(self) -> None:
        """The delete, top to bottom: confirmed, a production context's name typed (when asked), sent."""
        key = self.opened.key
        if not await self.app.push_screen_wait(ConfirmDelete(key.state_key.key, key.partition_key, key.etag)):
            self._message("delete cancelled", "")
            return
        if not await self._allowed("delete"):
            return
        try:
            await self.session.delete(self.location, key)
        except Conflict:
            self._message("etag conflict: the key changed since you opened it; nothing was deleted (r reloads)", "error")
            return
        except Exception as exc:  # noqa: BLE001
            self._message(f"{describe(exc)} — nothing was deleted", "error")
            return
        self.notify(f"deleted {shown_markup(key.state_key.key)}")
        self.dismiss("deleted")

    def action_reload(self) -> None:
        if self.editing:
            self.notify("finish or cancel the edit (esc) first", severity="warning")
            return
        self._message("reading…", "")
        self.load()

    def action_copy(self) -> None:
        if self.opened is None:
            return
        key = self.opened.key

        def copy(what: str | None) -> None:
            if not what:
                return
            text = {"key": key.state_key.key, "etag": key.etag, "id": key.state_key.doc_id,
                    "value": edit_text_for(key.value_bytes, key.is_binary)}[what]
            self.app.copy_to_clipboard(text)
            self.notify(f"copied the {what}")

        self.app.push_screen(CopyChoice(has_value=True), copy)

    def action_help(self) -> None:
        self.app.action_help_for(self)
