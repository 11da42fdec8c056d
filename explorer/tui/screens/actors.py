"""The actors view: a store's actor state grouped by actor type and actor id, with keys and values.

What it is for: seeing which actors of which types hold state, and what each holds. The store's
partitions stream in (the same scan the browser runs); those of actor state (`app||type||id`,
the type not Dapr's own `dapr.internal.…`) become a tree of types and ids. Expanding an actor
reads its keys a page at a time (`session.keys_page`), and the key under the cursor is read
(`session.open_key`) into the value pane. Enter or `v` opens the key in the key editor, which
shows it read-only with the reason.

What it must never do: I/O outside a worker, hold values other than the one shown, or offer a
write: actor state is written by Dapr's actor runtime (the state API refuses its keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import TreeNode

from explorer.core.display import (CountSummary, failure_line, hex_dump, pretty_json_bytes, terminal_safe,
                                   terminal_safe_lines)
from explorer.core.envelope import KeyKind, decode_partition, parse_document_id
from explorer.tui.failed_workers import ShowsFailedWorkers
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.shown import syntax

KEYS_PAGE = 100


@dataclass
class ActorNode:
    """An actor id's node: its partition, and the token of its next page of keys."""

    partition: str
    app_id: str
    next_token: str | None = None
    loaded: bool = False
    loading: bool = False


@dataclass(frozen=True)
class KeyNode:
    doc_id: str
    partition: str


@dataclass(frozen=True)
class MoreNode:
    actor: ActorNode


class Actors(ShowsFailedWorkers, Screen):
    """The actor state of one store; esc goes back to the browser."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("v", "raw", "Raw", tooltip="Open the selected key in the key editor (read-only)"),
        Binding("r", "rescan", "Rescan", tooltip="Scan the store's partitions again"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.types: dict[tuple[str, str], TreeNode] = {}  # (app, type) -> its node
        self.actors: dict[str, TreeNode] = {}  # partition -> the actor's node
        self.apps: set[str] = set()
        self.shown_key: str | None = None  # the document the value pane shows (tests read it)
        self._highlight_timer = None

    def compose(self) -> ComposeResult:
        if self.session.read_only:
            yield ReadOnlyBanner()
        yield Static(Text(f"Actors — {self.location.store}"), id="actors-title")
        with Horizontal(id="actors-body"):
            tree: Tree = Tree("actors", id="actor-tree")
            tree.show_root = False
            yield tree
            with VerticalScroll(id="actor-value"):
                yield Static(Text("select a key", style="dim"), id="actor-value-body")
        yield Static("", id="actors-progress")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.actor_tree.focus()
        self.scan()

    @property
    def actor_tree(self) -> Tree:
        return self.query_one("#actor-tree", Tree)

    # -- the scan -----------------------------------------------------------------------

    @work(exclusive=True, group="scan", exit_on_error=False)
    async def scan(self) -> None:
        progress = self.query_one("#actors-progress", Static)
        progress.update("scanning partitions for actor state…")
        charge, count = 0.0, 0
        async for batch in self.session.partitions(self.location):
            charge += batch.request_charge
            count = batch.total_partitions
            self._add(batch.partitions)
            progress.update(self._progress(f"scanning · {CountSummary(count, 'partition', charge=charge)}"))
        if not self.actors:
            progress.update(Text(f"no actor state in {self.location.store}: no partition is an actor's "
                                 "(`<app>||<actor type>||<actor id>`, the type not dapr.internal.…) · "
                                 f"{CountSummary(count, 'partition', charge=charge)}", style="yellow"))
        else:
            progress.update(self._progress(str(CountSummary(count, "partition", charge=charge))))
        self._status()

    def scan_failed(self, error: BaseException) -> None:
        """Shown; the tree keeps what it found."""
        self.query_one("#actors-progress", Static).update(Text(f"✖ {failure_line(error)}", style="red"))

    def _progress(self, tail: str) -> str:
        types = len(self.types)
        return f"{len(self.actors):,} actor{'' if len(self.actors) == 1 else 's'} of {types} type{'' if types == 1 else 's'} · {tail}"

    def _add(self, partitions) -> None:
        tree = self.actor_tree
        for partition in partitions:
            key = decode_partition(partition)
            if key is None or key.kind is not KeyKind.ACTOR or partition in self.actors \
                    or (key.actor_type or "").startswith("dapr.internal."):  # Dapr's own (activities, …)
                continue
            app, actor_type = key.app_id or "", key.actor_type or ""
            if app not in self.apps:
                self.apps.add(app)
                if len(self.apps) > 1:
                    for (type_app, name), node in self.types.items():
                        node.set_label(self._type_label(type_app, name, node))
            type_node = self.types.get((app, actor_type))
            if type_node is None:
                type_node = tree.root.add("", expand=True, data=("type", app, actor_type))
                self.types[app, actor_type] = type_node
            node = type_node.add(Text(terminal_safe(key.actor_id or "")), data=ActorNode(partition, app), allow_expand=True)
            self.actors[partition] = node
            type_node.set_label(self._type_label(app, actor_type, type_node))
        if tree.cursor_node is None and tree.root.children:
            tree.move_cursor(tree.root.children[0])

    def _type_label(self, app: str, actor_type: str, node: TreeNode) -> Text:
        label = Text.assemble((actor_type, "bold"), (f"  {len(node.children):,}", "dim"))
        if len(self.apps) > 1:
            label.append(f" · {app}", style="dim")
        return label

    # -- keys of one actor --------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        data = event.node.data
        if isinstance(data, ActorNode) and not data.loaded and not data.loading:
            data.loading = True
            self.load_keys(event.node, None)

    @work(group="keys")
    async def load_keys(self, node: TreeNode, token: str | None) -> None:
        actor: ActorNode = node.data
        try:
            page = await self.session.keys_page(self.location, actor.partition, token, KEYS_PAGE)
        except Exception as exc:  # noqa: BLE001
            actor.loading = False
            node.add_leaf(Text(f"✖ {failure_line(exc)}", style="red"))
            return
        actor.loading, actor.loaded, actor.next_token = False, True, page.continuation
        for child in list(node.children):
            if isinstance(child.data, MoreNode):
                child.remove()
        for row in page.rows:
            state_key = parse_document_id(row.id, self.location.key_prefix, self.location.store)
            node.add_leaf(Text(terminal_safe(state_key.actor_key or row.id)), data=KeyNode(row.id, row.partition_key))
        if page.continuation:
            node.add_leaf(Text("… more keys (enter)", style="dim"), data=MoreNode(actor))
        elif not page.rows and token is None:
            node.add_leaf(Text("(no keys)", style="dim"))
        self._status()

    # -- the value pane -----------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        data = event.node.data
        if isinstance(data, KeyNode):
            self._highlight_timer = self.set_timer(0.12, lambda: self.show_value(data))

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        data = event.node.data
        if isinstance(data, MoreNode) and event.node.parent is not None and not data.actor.loading:
            data.actor.loading = True
            self.load_keys(event.node.parent, data.actor.next_token)
        elif isinstance(data, KeyNode):
            self._open_editor(data)

    @work(exclusive=True, group="value", exit_on_error=False)
    async def show_value(self, key: KeyNode) -> None:
        body = self.query_one("#actor-value-body", Static)
        body.update(Text("reading…", style="dim"))
        opened = await self.session.open_key(self.location, key.doc_id, key.partition)
        value = opened.key
        head = Text.assemble((value.state_key.actor_key or value.state_key.key, "bold"),
                             (f" · etag {value.etag}", "dim"))
        reason = value.state_key.read_only_reason
        lines = [head]
        if reason:
            lines.append(Text(f"read-only: {reason}", style="yellow"))
        data = value.value_bytes
        pretty = None if value.is_binary else pretty_json_bytes(data)
        if pretty is not None:
            lines.append(syntax(pretty, "json"))
        elif value.is_binary:
            lines.append(Text(f"binary · {len(data):,} bytes", style="bold"))
            lines.append(Text(hex_dump(data)))
        else:
            lines.append(Text(terminal_safe_lines(data.decode("utf-8", "replace"))))
        self.shown_key = key.doc_id
        body.update(Group(*lines))
        self._status()

    def show_value_failed(self, error: BaseException) -> None:
        self.query_one("#actor-value-body", Static).update(Text(f"✖ {failure_line(error)}", style="red"))

    def _status(self) -> None:
        try:
            charge = f"last call {self.session.last_charge(self.location.store):,.2f} RU"
        except Exception:  # noqa: BLE001
            charge = ""
        self.query_one("#status", Static).update(charge)

    # -- actions ------------------------------------------------------------------------

    def _open_editor(self, key: KeyNode) -> None:
        self.app.push_screen(KeyEditor(self.session, self.location, key.doc_id, key.partition))

    def action_raw(self) -> None:
        node = self.actor_tree.cursor_node
        if node is not None and isinstance(node.data, KeyNode):
            self._open_editor(node.data)

    def action_rescan(self) -> None:
        self.actor_tree.clear()
        self.types.clear()
        self.actors.clear()
        self.apps.clear()
        self.scan()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.action_help_for(self)
