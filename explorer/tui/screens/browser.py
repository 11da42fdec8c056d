"""The main screen: store list on top, the selected store's partitions and keys below.

Panes 1 and 2 of the explorer, and the way to the store's workflows (`w`),
actors (`a`) and dapr-agents teams (`t`). Runs every read in a worker
(partition scan, key pages, doctor checks, and the labels of a workflow
partition's keys, read from their values for that partition only), each
group cancelled when the selection moves on;
one 1-second timer drives the TTL countdown of every visible row. A pane
whose source fails says so plainly in one line (any exception, not only ours);
the others keep working. `r` is offered only when asking again can help, and
while the keys pane shows an error nothing offers to edit or delete.

What it must never do: await I/O in a handler, write (writes happen only in
the key editor and the bulk view, through the session), or hold a whole
partition: the key table keeps a `KeyWindow` of pages. `B` (bulk: the marked
keys or the whole partition) and `D` (diff against another store or an export
file) open screens of their own (explorer.tui.screens.bulk, explorer.tui.screens.diff).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from explorer.core.display import CountSummary, failure_line
from explorer.core.envelope import KeyKind, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.core.key_window import KeyWindow, PageRequest
from explorer.core.ru_budget import load_text, throttled_text
from explorer.errors import describe
from explorer.tui.context import InContext
from explorer.tui.dialogs import CopyChoice, DoctorFindings, GoTo
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.key_table import KeyEntry, KeyTable
from explorer.tui.widgets.partition_list import PartitionList
from explorer.tui.widgets.store_list import Badge, StoreList
from explorer.tui.widgets.shown import safe_text, shown_lines, shown_markup

KEY_PAGE = 100
WINDOW_PAGES = 10  # the key table holds at most this many pages of rows
LOAD_INTERVAL = 0.25  # seconds between looks at the account's load (a 429 wait is often shorter than 1 s)


class Browser(InContext, Screen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter partitions as you type"),
        Binding("g", "goto", "Go to", tooltip="Go to a partition key or a document id / Dapr key"),
        Binding("w", "workflows", "Workflows", tooltip="The store's workflow instances: status, history, failures"),
        Binding("a", "actors", "Actors", tooltip="The store's actor state, by actor type and id"),
        Binding("t", "agents", "Agents", tooltip="The store's dapr-agents teams: agents, their runs and memory"),
        Binding("r", "refresh", "Refresh", tooltip="Ask the sidecars and Cosmos again"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected key"),
        Binding("d", "delete", "Delete", tooltip="Delete the selected key (asks first)"),
        Binding("y", "copy", "Copy", tooltip="Copy the key, etag or id (OSC 52)"),
        Binding("f", "findings", "Doctor", tooltip="The doctor's findings for the selected store"),
        Binding("k", "raw_keys", "Raw keys", tooltip="Show partitions and keys as stored, or decoded (toggle)"),
        Binding("s", "search", "Search", tooltip="Find keys by value: Dapr's query language or Cosmos SQL, directly or through Dapr"),
        Binding("i", "insight", "Insight", tooltip="Partition insight: keys, size, age and expiries per partition; the largest as bars"),
        Binding("B", "bulk", "Bulk", tooltip="Delete, set or remove the TTL of the marked keys or the whole partition: "
                "a dry run, the count typed, then each key with its etag"),
        Binding("D", "diff", "Diff", tooltip="Compare this store with another store or an export file"),
        Binding("I", "import_file", "Import", tooltip="Write an export file back through Dapr: a dry run against the "
                "store now, the count typed, then each key etag-checked"),
        Binding("L", "audit", "Audit log", tooltip="Every write made from this user's explorer: what, where, who, outcome"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.store: str | None = None
        self.location = None
        self.partition: str | None = None
        self.window: KeyWindow[KeyEntry] = KeyWindow(max_pages=WINDOW_PAGES)
        self.badges: dict[str, Badge] = {}
        self.findings: dict[str, list] = {}
        self._highlight_timer = None
        self._pending_partition: str | None = None  # open once the store's location is known
        self.keys_failed: str | None = None  # what the keys pane's error is about: "partitions", "keys"
        self._keys_span = ""  # the key pane title's tail: which keys are held
        self._load = ""  # the status line's words for the account's load (RU spent, budget, a 429 wait)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.context.bar is not None:
            yield self.context.bar.widget()
        if self.context.read_only:
            yield ReadOnlyBanner(self.context.read_only_reason)
        yield StoreList(id="stores")
        with Horizontal(id="browser"):
            yield PartitionList(id="partitions")
            with Vertical(id="keys-pane"):
                yield Static("select a store, then a partition", id="keys-title")
                yield KeyTable(id="keys")
                yield Static("", id="keys-message")
        yield Static("connecting…", id="status")
        if self.context.read_only:
            reason = self.context.read_only_reason or "started with --read-only"
            yield Static(f"read-only: {reason}, so edit and delete are not available"
                         if reason == "started with --read-only" else f"no edit or delete: {reason}", id="why")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#keys-message").display = False
        self.keys.markable = not self.context.read_only
        self.query_one(StoreList).show(self.app.initial_stores(), {})
        self.query_one(StoreList).focus()
        self._ticker = self.set_interval(1.0, self.tick)
        self._load_ticker = self.set_interval(LOAD_INTERVAL, self.tick_load)

    def on_screen_suspend(self) -> None:
        self._ticker.pause()
        self._load_ticker.pause()

    def on_screen_resume(self) -> None:
        self._ticker.resume()
        self._load_ticker.resume()
        self.tick()

    @property
    def session(self):
        return self.app.session

    @property
    def keys(self) -> KeyTable:
        return self.query_one(KeyTable)

    @property
    def partitions(self) -> PartitionList:
        return self.query_one(PartitionList)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"edit", "delete"}:
            if self.context.read_only or self.keys_failed:
                return False  # not offered at all: no bindings, nothing in the palette
            return True if self.keys.current is not None else None
        if action == "copy":
            return True if self.keys.current is not None else None
        if action == "bulk":
            if self.context.read_only:
                return False  # not offered at all, as edit and delete
            return True if self.partition is not None and self.location is not None else None
        if action == "import_file":
            if self.context.read_only:
                return False  # not offered at all, as edit and delete
            return True if self.location is not None else None
        if action == "diff":
            return True if self.location is not None else None
        return True

    # -- status -------------------------------------------------------------------------

    def set_status(self) -> None:
        """Alarms first, so a narrow terminal never cuts them off: a 429 wait under way, then sidecars
        that do not answer; then the account's load and the counts."""
        if self.session is None:
            return
        stores = self.session.stores()
        sidecars = len(self.session.sidecar_app_ids)
        parts = [f"{len(stores)} stores", f"{sidecars} sidecar{'' if sidecars == 1 else 's'}"]
        alarms = [(f"sidecar not reachable: {problem}", "yellow") for problem in self.session.sidecar_problems]
        self._load = ""
        if self.store and self.location is not None:
            try:
                load = self.session.cosmos_load(self.store)
                self._load = load_text(*load)
                parts[:0] = [f"last call {self.session.last_charge(self.store):,.2f} RU",
                             load_text(load.spent, load.ru_per_second)]
                if load.waiting > 0:
                    alarms.insert(0, (throttled_text(load.waiting), "bold yellow"))
            except Exception:  # noqa: BLE001 - the charge is a nicety; the status line still shows
                pass
        status = Text()
        for alarm, style in alarms:
            status.append(alarm, style=style)
            status.append(" · ")
        status.append(" · ".join(parts))
        self.query_one("#status", Static).update(status)

    # -- session ready, stores and the doctor ----------------------------------------------

    def session_ready(self) -> None:
        """Called by the app once the session is open (also after a reconnect)."""
        self.query_one(StoreList).show(self.session.stores(), self.badges)
        self.set_status()
        self.check_stores()
        store = self.query_one(StoreList).current_store
        if store and store != self.store:
            self.open_store(store)

    def session_failed(self, exc: BaseException) -> None:
        self.query_one("#status", Static).update(Text(f"✖ {failure_line(exc)}", style="bold red"))

    @work(exclusive=True, group="doctor")
    async def check_stores(self) -> None:
        table = self.query_one(StoreList)
        for store in self.session.stores():
            if not store.declared_in:
                continue
            self.badges[store.name] = Badge(checking=True)
            table.set_badge(store.name, self.badges.get(store.name))
            try:
                findings = await self.session.findings(store.name)
            except Exception as exc:  # noqa: BLE001 - an exception in a worker would end the app
                self.badges.pop(store.name, None)
                table.set_badge(store.name, self.badges.get(store.name))
                self.notify(f"the doctor could not check {store.name}: {describe(exc)}", severity="error")
                continue
            self.findings[store.name] = findings
            self.badges[store.name] = Badge.of(findings)
            table.set_badge(store.name, self.badges.get(store.name))

    def on_store_list_store_highlighted(self, message: StoreList.StoreHighlighted) -> None:
        if message.store != self.store and self.session is not None:
            self.open_store(message.store)

    def on_store_list_store_chosen(self, message: StoreList.StoreChosen) -> None:
        if message.store != self.store and self.session is not None:
            self.open_store(message.store)
        self.partitions.options.focus()

    def on_store_list_findings_requested(self, message: StoreList.FindingsRequested) -> None:
        self.action_findings()

    # -- partitions -----------------------------------------------------------------------

    def open_store(self, store: str) -> None:
        self.store, self.location, self.partition = store, None, None
        self.workers.cancel_group(self, "keys")
        self.keys.reset()
        self.query_one("#keys-title", Static).update(Text(f"{store}: select a partition"))
        self._keys_message("")
        self.scan_partitions(store)

    @work(exclusive=True, group="partitions")
    async def scan_partitions(self, store: str) -> None:
        plist = self.partitions
        plist.begin(store)
        try:
            self.location = await self.session.location(store)
            if self._pending_partition is not None:
                pending, self._pending_partition = self._pending_partition, None
                plist.select(pending)
                self.open_partition(pending)
            charge, count = 0.0, 0
            async for batch in self.session.partitions(self.location):
                charge += batch.request_charge
                count = batch.total_partitions
                plist.add(batch.partitions, str(CountSummary(count, "partition", charge=charge)))
                self.set_status()
        except Exception as exc:  # noqa: BLE001 - shown in the pane; the rest keeps working
            plist.set_progress("✖ failed — see →")  # 18 columns: the reason goes where it fits
            self._keys_message(f"✖ partitions of {store}: {failure_line(exc)}", failed="partitions")
            return
        plist.finish(str(CountSummary(count, "partition", charge=charge)))
        if self.partition is None and plist.shown:
            plist.options.highlighted = 0

    def on_partition_list_partition_highlighted(self, message: PartitionList.PartitionHighlighted) -> None:
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        # A short pause, so arrowing through partitions does not start a query per keypress.
        self._highlight_timer = self.set_timer(0.15, lambda: self.open_partition(message.partition))

    def on_partition_list_partition_chosen(self, message: PartitionList.PartitionChosen) -> None:
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        self.open_partition(message.partition)
        self.keys.focus()

    # -- keys -------------------------------------------------------------------------------

    def open_partition(self, partition: str) -> None:
        if partition == self.partition or self.location is None:
            return
        self.workers.cancel_group(self, "labels")
        self.partition = partition
        self.window = KeyWindow(max_pages=WINDOW_PAGES)
        self.keys.reset()
        self._keys_span = ""
        self.query_one("#keys-title", Static).update(safe_text(f"{self.store} › {self.partitions.title(partition)}"))
        self._keys_message("")
        request = self.window.next_request()
        if request is not None:
            self.load_page(partition, request)

    def _entry(self, row) -> KeyEntry:
        location = self.location
        return KeyEntry(row.id, row.partition_key, row.etag, row.ts,
                        parse_document_id(row.id, location.key_prefix, location.store),
                        effective_expiry(row.ttl, location.default_ttl, row.ts), row.ttl)

    @work(exclusive=True, group="keys")
    async def load_page(self, partition: str, request: PageRequest, cursor_doc: str | None = None) -> None:
        try:
            page = await self.session.keys_page(self.location, partition, request.token, KEY_PAGE)
            entries = [self._entry(row) for row in page.rows]
        except Exception as exc:  # noqa: BLE001 - shown in the pane; an exception in a worker would end the app
            self.window.cancel()
            if partition == self.partition:
                self._keys_message(f"✖ {failure_line(exc)}", failed="keys")
            return
        finally:
            self.set_status()
        if partition != self.partition:
            return
        if self.keys_failed == "keys":  # this page came: the one that failed before is no news
            self._keys_message("")
        change = self.window.add_page(request, entries, page.continuation)
        table, now = self.keys, self.app.now()
        if change.appended:
            table.append(change.appended, now)
            table.drop_front(change.dropped_front)
        elif change.prepended:
            table.replace(self.window.rows, now, cursor=len(change.prepended))
        if entries and entries[0].state_key.kind is KeyKind.WORKFLOW:
            self.load_labels(partition, [entry.doc_id for entry in entries])
        table.more = not self.window.at_end
        table.more_before = not self.window.at_start
        held = len(self.window.rows)
        start = self.window.first_page * KEY_PAGE
        span = f"keys {start + 1:,}–{start + held:,}" if start else f"{held:,} keys"
        more = " · more ↓" if table.more else ""
        self._keys_title(f" · {span}{more}")
        if not held:
            self._keys_message("no keys in this partition")
        if cursor_doc is not None:
            self._cursor_to(cursor_doc)

    def _keys_title(self, span: str) -> None:
        """The key pane's title: the open partition (decoded unless raw keys are shown) and the keys held."""
        self._keys_span = span
        marked = len(self.keys.marked)
        marks = f" · {marked:,} marked (B: bulk)" if marked else ""
        self.query_one("#keys-title", Static).update(safe_text(f"{self.partitions.title(self.partition or '')}{span}{marks}"))

    def on_key_table_marks_changed(self, message: KeyTable.MarksChanged) -> None:
        if self.partition is not None:
            self._keys_title(self._keys_span)

    @work(group="labels")
    async def load_labels(self, partition: str, doc_ids: list[str]) -> None:
        """What the workflow documents of a page say (their values decoded), into the key column.
        Only for workflow partitions: a plain partition's page never reads a value."""
        try:
            labels = await self.session.workflows(self.location).labels(partition, doc_ids)
        except Exception as exc:  # noqa: BLE001 - the rows keep the labels of their ids
            self.notify(f"workflow labels not read: {describe(exc)}", severity="warning", timeout=5)
            return
        if partition == self.partition:
            self.keys.set_labels(labels)

    def _cursor_to(self, doc_id: str) -> None:
        for index, entry in enumerate(self.keys.entries):
            if entry.doc_id == doc_id:
                self.keys.move_cursor(row=index)
                return

    def on_key_table_need_next_page(self, message: KeyTable.NeedNextPage) -> None:
        request = self.window.next_request()
        if request is not None and self.partition is not None:
            self.load_page(self.partition, request)

    def on_key_table_need_previous_page(self, message: KeyTable.NeedPreviousPage) -> None:
        request = self.window.previous_request()
        if request is not None and self.partition is not None:
            self.load_page(self.partition, request)

    def _keys_message(self, text: str, failed: str | None = None) -> None:
        """`text` under the key table; `failed` ("partitions", "keys") when it is an error, which
        takes edit and delete away until the pane shows something else."""
        box = self.query_one("#keys-message", Static)
        box.update(shown_lines(text))
        box.display = bool(text)
        if failed != self.keys_failed:
            self.keys_failed = failed
            self.refresh_bindings()

    def tick(self) -> None:
        self.keys.tick(self.app.now())

    def tick_load(self) -> None:
        """Keep the status line's load current between pages: a 429 wait shows, counts down, and ends."""
        if self.session is None or not self.store or self.location is None:
            return
        try:
            load = load_text(*self.session.cosmos_load(self.store))
        except Exception:  # noqa: BLE001 - as in set_status
            return
        if load != self._load:
            self.set_status()

    # -- opening keys -----------------------------------------------------------------------

    def on_key_table_key_chosen(self, message: KeyTable.KeyChosen) -> None:
        self.open_editor(message.entry.doc_id, message.entry.partition)

    def open_editor(self, doc_id: str, partition: str, then: str | None = None) -> None:
        from explorer.tui.screens.key_editor import KeyEditor

        editor = KeyEditor(self.session, self.location, doc_id, partition, then)
        self.app.push_screen(editor, lambda result: self._editor_closed(doc_id, partition))

    def _editor_closed(self, doc_id: str | None, partition: str, keep_marks: bool = True) -> None:
        """Show what the editor (or a bulk action) changed: reload the partition's first page, cursor
        back on the key; the marks stay unless a bulk action used them."""
        if self.location is None or partition != self.partition:
            return
        self.window = KeyWindow(max_pages=WINDOW_PAGES)
        self.keys.reset(keep_marks=keep_marks)
        request = self.window.next_request()
        if request is not None:
            self.load_page(partition, request, cursor_doc=doc_id)

    # -- actions ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.partitions.action_filter()

    def _store_open(self) -> bool:
        if self.location is None:
            self.notify("select a store first (its container is still being found)" if self.store else
                        "select a store first", severity="warning")
            return False
        return True

    def action_workflows(self) -> None:
        if self._store_open():
            from explorer.tui.screens.workflows.instances import Workflows

            self.app.push_screen(Workflows(self.session, self.location))

    def action_search(self) -> None:
        if self._store_open():
            from explorer.tui.screens.search import SearchView

            self.app.push_screen(SearchView(self.session, self.location, self.partition))

    def action_insight(self) -> None:
        if self._store_open():
            from explorer.tui.screens.stats import StatsView

            self.app.push_screen(StatsView(self.session, self.location),
                                 lambda partition: self._goto(("partition", partition)) if partition is not None else None)
    def action_bulk(self) -> None:
        if self.context.read_only or not self._store_open() or self.partition is None:
            return
        from explorer.tui.screens.bulk import BulkChoice, BulkView

        partition, marked = self.partition, list(self.keys.marked.values())

        def chosen(choice) -> None:
            if choice is not None:
                view = BulkView(self.session, self.location, partition, choice, marked)
                self.app.push_screen(view, lambda ran: self._editor_closed(None, partition, keep_marks=not ran))

        self.app.push_screen(BulkChoice(self.location.store, partition, len(marked)), chosen)

    def action_import_file(self) -> None:
        if self.context.read_only or not self._store_open():
            return
        from explorer.tui.screens.import_view import ImportChoice, ImportView

        location, partition = self.location, self.partition

        def chosen(choice) -> None:
            if choice is not None:
                view = ImportView(self.session, location, *choice)
                self.app.push_screen(view, lambda ran: self._editor_closed(None, partition, keep_marks=not ran)
                                     if partition is not None else None)  # the partition shown may have changed

        self.app.push_screen(ImportChoice(location.store), chosen)

    def action_diff(self) -> None:
        if self._store_open():
            from explorer.tui.screens.diff import DiffView

            others = [store.name for store in self.session.stores() if store.name != self.location.store]
            self.app.push_screen(DiffView(self.session, self.location, others, self.partition))

    def action_audit(self) -> None:
        from explorer.tui.screens.audit import AuditView

        self.app.push_screen(AuditView(self.app.audit_log))

    def action_actors(self) -> None:
        if self._store_open():
            from explorer.tui.screens.actors import Actors

            self.app.push_screen(Actors(self.session, self.location))

    def action_agents(self) -> None:
        if self._store_open():
            from explorer.tui.screens.agents.teams import Teams

            self.app.push_screen(Teams(self.session, self.location))

    def action_raw_keys(self) -> None:
        self.partitions.toggle_raw()
        self.keys.toggle_raw()
        if self.partition is not None:
            self._keys_title(self._keys_span)
        self.notify("raw partition keys and Dapr keys" if self.keys.raw else
                    "decoded actor and workflow partitions and keys", timeout=2)

    def action_edit(self) -> None:
        entry = self.keys.current
        if entry is not None:
            self.open_editor(entry.doc_id, entry.partition, then="edit")

    def action_delete(self) -> None:
        entry = self.keys.current
        if entry is not None:
            self.open_editor(entry.doc_id, entry.partition, then="delete")

    def action_copy(self) -> None:
        entry = self.keys.current
        if entry is None:
            return

        def copy(what: str | None) -> None:
            if what:
                text = {"key": entry.state_key.key, "etag": entry.etag, "id": entry.doc_id}[what]
                self.app.copy_to_clipboard(text)
                self.notify(f"copied the {what}")

        self.app.push_screen(CopyChoice(has_value=False), copy)

    def action_findings(self) -> None:
        store = self.query_one(StoreList).current_store
        if store is None:
            return
        if store not in self.findings:
            self.notify("the doctor is still checking this store", severity="warning")
            return
        self.app.push_screen(DoctorFindings(store, self.findings[store]))

    def action_goto(self) -> None:
        if self.location is None:
            self.notify("select a store first", severity="warning")
            return
        self.app.push_screen(GoTo(self.location.store), self._goto)

    def _goto(self, target: tuple[str, str] | None) -> None:
        if target is None:
            return
        what, text = target
        if what == "partition":
            self.partitions.select(text)
            self.open_partition(text)
            self.keys.focus()
        else:
            self.find_and_open(text)

    @work(exclusive=True, group="goto")
    async def find_and_open(self, text: str) -> None:
        try:
            found = await self.session.find_id(self.location, text)
        except Exception as exc:  # noqa: BLE001
            self.notify(shown_markup(describe(exc)), severity="error")
            return
        if not found:
            self.notify(shown_markup(f"no item with id or key {text!r} in {self.location.store}"), severity="error")
            return
        if len({f.partition for f in found}) > 1:
            where = ", ".join(sorted({f.partition for f in found}))
            self.notify(shown_markup(f"{text!r} is in {len(found)} partitions ({where}); opening the first"), severity="warning")
        first = found[0]
        self.partitions.select(first.partition)
        self.open_partition(first.partition)
        self.open_editor(first.doc_id, first.partition)

    def action_refresh(self) -> None:
        self.app.reconnect()

    def refresh_panes(self) -> None:
        """After a reconnect: rescan the store's partitions and reload the partition's keys."""
        self._pending_partition = self.partition
        self.store = None  # so session_ready opens the selected store again: one scan
        self.session_ready()

    def action_help(self) -> None:
        self.app.action_help_for(self)

    async def action_quit(self) -> None:
        await self.app.action_quit()
