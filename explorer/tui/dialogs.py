"""Modal dialogs: confirm a save (diff + TTL choice), an etag conflict, delete, a production context's
name typed before a write, go to, doctor, copy, help.

Each dialog only shows what it is given and dismisses with the user's choice;
none of them does I/O. Escape always cancels and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from explorer.core.display import terminal_safe
from explorer.core.doctor import Finding
from explorer.core.model import TtlChoice, TtlMode
from explorer.tui.widgets.shown import syntax

SEVERITY_STYLE = {"ERROR": "bold red", "WARNING": "bold yellow", "INFO": "cyan"}


class ConfirmSave(ModalScreen["TtlChoice | None"]):
    """The diff old → new and the TTL choice; dismisses with the choice, or None (cancel)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Save", priority=True),
    ]

    def __init__(self, key: str, diff: str, ttl_now: str, original_ttl: int | None, overwrite: bool = False) -> None:
        super().__init__(classes="dialog")
        self._key, self._diff, self._ttl_now, self._original = key, diff, ttl_now, original_ttl
        self._overwrite = overwrite

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            verb = "Overwrite" if self._overwrite else "Save"
            yield Label(Text(f"{verb} {terminal_safe(self._key)} through Dapr?"), classes="dialog-title")
            if self._overwrite:
                yield Static("Without the etag check: the version in the store now is replaced by yours.",
                             classes="dialog-warning")
            with VerticalScroll(classes="dialog-diff"):
                yield Static(syntax(self._diff or "(no change to the value)", "diff"))
            yield Label(f"Time to live — now: {self._ttl_now}", classes="dialog-subtitle")
            with RadioSet(id="ttl-choice"):
                yield RadioButton("keep the current expiry instant", value=True, id="ttl-keep")
                restart = f"restart the original ttl ({self._original}s) from now" if self._original and self._original > 0 \
                    else "restart the original ttl (the item has none: no ttl is sent)"
                yield RadioButton(restart, id="ttl-restart")
                yield RadioButton("never expire (ttl -1)", id="ttl-none")
                yield RadioButton("a new ttl in seconds:", id="ttl-set")
            yield Input(placeholder="seconds, e.g. 3600", id="ttl-seconds", type="integer")
            yield Static("", id="ttl-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{verb} (ctrl+s)", variant="error" if self._overwrite else "primary", id="confirm")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_cancel()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value:
            self.query_one("#ttl-set", RadioButton).value = True

    def choice(self) -> TtlChoice:
        pressed = self.query_one("#ttl-choice", RadioSet).pressed_button
        mode = {"ttl-restart": TtlMode.RESTART, "ttl-none": TtlMode.NONE, "ttl-set": TtlMode.SET}.get(
            pressed.id if pressed else "", TtlMode.KEEP)
        if mode is TtlMode.SET:
            return TtlChoice.parse(self.query_one("#ttl-seconds", Input).value or "0")
        return TtlChoice(mode)

    def action_confirm(self) -> None:
        from explorer.errors import ExplorerError

        try:
            choice = self.choice()
        except ExplorerError:
            self.query_one("#ttl-error", Static).update("a new ttl must be a whole number of seconds > 0")
            return
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EtagConflict(ModalScreen[str]):
    """Yours beside the store's current version; dismisses with "reload", "overwrite" or "edit"."""

    BINDINGS = [
        Binding("r", "choose('reload')", "Reload theirs"),
        Binding("o", "choose('overwrite')", "Overwrite with yours"),
        Binding("escape", "choose('edit')", "Keep editing"),
    ]

    def __init__(self, key: str, yours: str, theirs: str | None, their_etag: str | None, your_etag: str) -> None:
        super().__init__(classes="dialog")
        self._key, self._yours, self._theirs = key, yours, theirs
        self._their_etag, self._your_etag = their_etag, your_etag

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body wide"):
            yield Label(Text(f"Etag conflict: {terminal_safe(self._key)} changed since you opened it"), classes="dialog-title")
            what = "It was deleted meanwhile." if self._theirs is None else \
                f"Your edit was made on etag {self._your_etag}; the store now has {self._their_etag}."
            yield Static(Text(f"Nothing was written. {terminal_safe(what)}"), classes="dialog-warning")
            with Horizontal(classes="conflict-panes"):
                with VerticalScroll(classes="conflict-pane"):
                    yield Label("Yours (not saved)", classes="dialog-subtitle")
                    yield Static(syntax(self._yours, "json"), id="conflict-yours")
                with VerticalScroll(classes="conflict-pane"):
                    yield Label(Text(f"In the store now ({terminal_safe(self._their_etag or 'deleted')})"), classes="dialog-subtitle")
                    yield Static(syntax(self._theirs, "json") if self._theirs
                                 is not None else Text("(deleted)", style="dim"), id="conflict-theirs")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reload theirs (r)", id="reload")
                yield Button("Overwrite with yours (o)", variant="error", id="overwrite")
                yield Button("Keep editing (esc)", id="edit")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "edit")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class ConfirmDelete(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Delete"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, key: str, partition: str, etag: str) -> None:
        super().__init__(classes="dialog")
        self._key, self._partition, self._etag = key, partition, etag

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(Text(f"Delete {terminal_safe(self._key)}?"), classes="dialog-title")
            yield Static(Text(f"Partition {terminal_safe(str(self._partition))} · etag {terminal_safe(str(self._etag))}\n"
                         "Deleted through Dapr with the etag check: if it changed since you opened it, "
                         "nothing is deleted."))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class TypeContextName(ModalScreen[bool]):
    """Before a write in a production context: type the context's name. Dismisses with True only when
    the name typed is exactly the context's; a wrong name is said and the dialog stays; Escape: False."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, context: str, what: str) -> None:
        super().__init__(classes="dialog")
        self._name, self._what = context, what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body production"):
            yield Label(f"Production context {self._name}", classes="dialog-title")
            yield Static(Text(f"About to {terminal_safe(self._what)}.\nType the context's name to send it; esc cancels and "
                              "nothing is sent."))
            yield Input(placeholder="the context's name", id="context-name")
            yield Static("", id="context-name-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#context-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from explorer.core.contexts import typed_name_matches

        if typed_name_matches(self._name, event.value):
            self.dismiss(True)
            return
        self.query_one("#context-name-error", Static).update(
            f"that is not {self._name}: nothing was sent. Type it exactly, or esc to cancel.")
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)


class GoTo(ModalScreen[tuple[str, str] | None]):
    """Go to a partition or an id/key; dismisses with ("partition" | "id", text) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: str, what: str = "partition") -> None:
        super().__init__(classes="dialog")
        self._store, self._what = store, what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(Text(f"Go to — {self._store}"), classes="dialog-title")
            with RadioSet(id="goto-what"):
                yield RadioButton("partition key", value=self._what == "partition", id="goto-partition")
                yield RadioButton("document id or Dapr key", value=self._what == "id", id="goto-id")
            yield Input(placeholder="type it and press enter", id="goto-text")
            yield Static("", id="goto-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#goto-text", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#goto-error", Static).update("type a partition key or an id")
            return
        pressed = self.query_one("#goto-what", RadioSet).pressed_button
        self.dismiss(("id" if pressed is not None and pressed.id == "goto-id" else "partition", text))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DoctorFindings(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f", "close", "Close")]

    def __init__(self, store: str, findings: Sequence[Finding]) -> None:
        super().__init__(classes="dialog")
        self._store, self._findings = store, list(findings)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body wide"):
            yield Label(f"Doctor — {self._store}: declared versus effective", classes="dialog-title")
            table = Table(expand=True, show_lines=True)
            table.add_column("Severity", no_wrap=True)
            table.add_column("Field")
            table.add_column("Finding", ratio=3)
            table.add_column("Fix", ratio=3)
            for f in sorted(self._findings, key=lambda f: f.severity.rank):
                table.add_row(Text(f.severity.name.lower(), style=SEVERITY_STYLE.get(f.severity.name, "")),
                              f.field or "", f.message, f.fix)
            with VerticalScroll():
                yield Static(table if self._findings else Text("No findings: the file matches what Dapr and Cosmos do."))
            yield Button("Close (esc)", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class CopyChoice(ModalScreen[str | None]):
    """Copy what? k key · v value · e etag · i id; dismisses with the choice."""

    BINDINGS = [
        Binding("k", "pick('key')", "Key"),
        Binding("v", "pick('value')", "Value"),
        Binding("e", "pick('etag')", "Etag"),
        Binding("i", "pick('id')", "Document id"),
        Binding("escape", "pick('')", "Cancel"),
    ]

    def __init__(self, has_value: bool) -> None:
        super().__init__(classes="dialog")
        self._has_value = has_value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body narrow"):
            yield Label("Copy to the clipboard (OSC 52)", classes="dialog-title")
            value = "  v  value\n" if self._has_value else ""
            yield Static(f"  k  Dapr key\n{value}  e  etag\n  i  document id\n  esc  cancel")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick" and parameters == ("value",) and not self._has_value:
            return False  # the key list holds no values: 'v' is not offered, so it cannot pick one
        return True

    def action_pick(self, what: str) -> None:
        self.dismiss(what or None)


class Help(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, bindings: Sequence[tuple[str, str]], read_only_reason: str | None) -> None:
        super().__init__(classes="dialog")
        self._title, self._key_rows, self._reason = title, list(bindings), read_only_reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(f"Keys — {self._title}", classes="dialog-title")
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold")
            table.add_column()
            for key, text in self._key_rows:
                table.add_row(key, text)
            table.add_row("ctrl+p", "command palette: every action by name")
            with VerticalScroll():
                yield Static(table)
            if self._reason:
                yield Static(self._reason, classes="dialog-warning")

    def action_close(self) -> None:
        self.dismiss(None)
