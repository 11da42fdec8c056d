"""Marking keys, bulk actions and the diff view in the TUI, driven by Pilot against the real daprd and
local Cosmos server of this module's own stack: only the exact count typed writes; exactly the marked
keys are deleted, each with an audit line; a key changed through daprd after the dry run is skipped
and left as that writer left it; esc stops a run between keys; set-TTL keeps every value and its
shape; a read-only session offers no `B`; the diff view finds the key changed since an export."""

from __future__ import annotations

import asyncio
import base64
import time

import orjson
import pytest

from explorer.tui.app import ExplorerApp
from explorer.session.audit_log import AuditLog
from explorer.components.files import load_components
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from explorer.tui.screens.browser import Browser
from explorer.core.bulk import BulkAction
from explorer.tui.screens.bulk import BulkChoice, BulkRequest, BulkView
from explorer.tui.screens.diff import DiffView
from tests.support import REPO, no_traceback, run_cli

from .conftest import own_stack, stack_env
from .test_tui import browse_to as browse_store, shown, text

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # stack_env: the component files resolve COSMOS_URL etc. from the environment
    with own_stack(tmp_path_factory, "tui-bulk", seeded=False) as local, stack_env(local):
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")


async def write_keys(stack, partition: str, count: int, binary_every: int = 0) -> None:
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
        writes = []
        for i in range(count):
            meta = {"partitionKey": partition}
            if binary_every and i % binary_every == 0:
                writes.append(StateWrite(f"{partition}:{i:03}", bytes([i % 256, 0, 255]), metadata=meta))
            else:
                meta["contentType"] = "application/json"
                writes.append(StateWrite(f"{partition}:{i:03}", orjson.dumps({"n": i, "tags": [partition]}),
                                         metadata=meta))
        for start in range(0, len(writes), 100):
            await sidecar.save(AGENTS_STORE, writes[start:start + 100])


async def theirs(stack, key: str, partition: str, value: bytes) -> None:
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
        await sidecar.save(AGENTS_STORE, [StateWrite(key, value, metadata={
            "partitionKey": partition, "contentType": "application/json"})])


def docs(cosmos, partition: str) -> dict[str, dict]:
    return {d["id"]: d for d in cosmos.query_items("SELECT * FROM c", partition_key=partition)}


def doc_id(key: str) -> str:
    return f"{AGENTS_APP}||{key}"


def make_app(stack, read_only: bool = False, production: str | None = None) -> ExplorerApp:
    """`production`: on a production context of that name, opened with --allow-writes."""
    paths = [stack.resources_path]
    addresses = [s.grpc_address for s in stack.sidecars.values()]
    prepared = None
    if production:
        from explorer.session.contexts import Prepared
        from explorer.core.contexts import Context, decide_writes

        context = Context(production, "contexts.yaml", resources=(str(stack.resources_path),), production=True)
        prepared = Prepared(context, decide_writes(context, False, True), paths, addresses, None, {}, None)
    return ExplorerApp(load_components(paths), paths, addresses, read_only=read_only, prepared=prepared)


async def until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            screen = pilot.app.screen
            said = {s: text(screen, s) for s in ("#bulk-status", "#bulk-error", "#bulk-prompt")
                    if isinstance(screen, BulkView)}
            raise AssertionError(f"timed out waiting for {what} (on screen: {said or screen})")
        await pilot.pause(0.02)


async def browse_to(pilot, partition: str) -> Browser:
    """As a user would: arrow to the agents store, filter the partitions, Enter; the key table focused."""
    browser = await browse_store(pilot, AGENTS_STORE, partition)
    browser.keys.focus()
    return browser


async def bulk(pilot, action: str = "bulk-delete", ttl: str | None = None, whole_partition: bool = False) -> BulkView:
    """B, pick the action (and the TTL) and the keys, Enter: the view once its dry run is shown."""
    await pilot.press("B")
    await until(pilot, lambda: isinstance(pilot.app.screen, BulkChoice), "the bulk dialog")
    await pilot.click(f"#{action}")
    if ttl is not None:
        pilot.app.screen.query_one("#bulk-ttl").focus()
        await pilot.press(*ttl)
    if whole_partition:
        await pilot.click("#bulk-partition")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, BulkView) and pilot.app.screen.plan is not None,
                "the dry run")
    return pilot.app.screen


async def type_count(pilot, view: BulkView, typed: str) -> None:
    view.query_one("#bulk-count").focus()
    await pilot.press(*typed, "enter")
    await pilot.pause(0.05)


async def finish(pilot, view: BulkView) -> None:
    await until(pilot, lambda: view.report is not None, "the report")


async def test_marked_keys_wrong_count_refused_right_count_deletes_exactly_them(stack, cosmos):
    await write_keys(stack, "mark", 8)
    before = docs(cosmos, "mark")
    started = time.time()
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        browser = await browse_to(pilot, "mark")
        rows = [e.state_key.key for e in browser.keys.entries]  # in the order the table shows them
        await pilot.press("down", "space", "space", "down", "space")  # the 2nd, 3rd and 5th rows
        chosen = sorted(rows[i] for i in (1, 2, 4))
        kept = sorted(set(rows) - set(chosen))
        assert sorted(e.state_key.key for e in browser.keys.marked.values()) == chosen
        assert "3 marked" in text(browser, "#keys-title")
        assert {"Mark", "Mark all", "Bulk", "Diff"} <= {c.title for c in app.get_system_commands(app.screen)}
        assert sum(line.startswith("●") for line in shown(browser.keys).splitlines()) == 3
        view = await bulk(pilot)
        assert "would delete 3 keys in statestore-agents-cosmos" in text(view, "#bulk-status")
        assert "Type 3 to delete 3 keys" in text(view, "#bulk-prompt")
        for typed in ("2", "three", "03x"):
            await type_count(pilot, view, typed)
            assert "that is not 3: nothing was written" in text(view, "#bulk-error"), typed
            assert not view.ran
        assert docs(cosmos, "mark") == before
        await type_count(pilot, view, "3")
        await finish(pilot, view)
        assert view.report.done == 3 and not view.report.skipped and not view.report.failed
        assert "3 done, 0 skipped, 0 failed" in text(view, "#bulk-report")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Browser) and len(browser.keys.entries) == 5,
                    "the partition to reload")
        assert not browser.keys.marked and "marked" not in text(browser, "#keys-title")
    left = docs(cosmos, "mark")
    assert sorted(left) == sorted(doc_id(key) for key in kept)
    assert all(left[i] == before[i] for i in left)
    records = [r for r in AuditLog().read().records if r.doc_id.startswith(doc_id("mark:"))]
    assert sorted((r.key, r.operation, r.outcome, r.etag_before) for r in records) == sorted(
        (key, "delete", "done", before[doc_id(key)]["_etag"]) for key in chosen)
    assert all(r.time >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started - 1)) for r in records)


async def test_a_production_context_asks_for_its_name_after_the_count(stack, cosmos):
    from explorer.tui.dialogs import TypeContextName

    await write_keys(stack, "prod", 4)
    before = docs(cosmos, "prod")
    app = make_app(stack, production="prod-eu")
    async with app.run_test(size=(110, 34)) as pilot:
        await browse_to(pilot, "prod")
        await pilot.press("space", "space")
        view = await bulk(pilot)
        await type_count(pilot, view, "2")
        await until(pilot, lambda: isinstance(app.screen, TypeContextName), "the context's name to be asked")
        await pilot.press(*"prod-us", "enter", "escape")
        await until(pilot, lambda: app.screen is view, "back on the dry run")
        assert "nothing was sent to production context prod-eu" in text(view, "#bulk-error") and not view.ran
        assert docs(cosmos, "prod") == before

        def refused():  # each key the run would have deleted has its refused line, as a refused save has
            return [(r.key, r.operation, r.etag_before) for r in app.session.audit.read().records
                    if r.outcome == "refused" and r.partition_key == "prod" and r.context == "prod-eu"]
        await until(pilot, lambda: len(refused()) == 2, "the refusals' audit lines")
        assert sorted(refused()) == sorted((t.state_key.key, "delete", t.listed.etag) for t in view.plan.targets)
        await type_count(pilot, view, "2")
        await until(pilot, lambda: isinstance(app.screen, TypeContextName), "the context's name to be asked")
        await pilot.press(*"prod-eu", "enter")
        await finish(pilot, view)
        assert view.report.done == 2
    assert len(docs(cosmos, "prod")) == 2


async def test_a_key_changed_after_the_dry_run_is_skipped_and_left_as_the_other_writer_left_it(stack, cosmos):
    await write_keys(stack, "race", 12)
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        browser = await browse_to(pilot, "race")
        await pilot.press("ctrl+a")
        assert len(browser.keys.marked) == 12
        view = await bulk(pilot, whole_partition=True)
        assert view.plan.count == 12
        await theirs(stack, "race:007", "race", b'{"theirs": true}')  # while the user reads the dry run
        await type_count(pilot, view, "12")
        await finish(pilot, view)
        assert view.report.done == 11
        assert [(p.doc_id, p.reason.split(" (")[0]) for p in view.report.skipped] == [
            (doc_id("race:007"), "changed by someone else since the dry run")]
        assert "skipped: agent-registry||race:007 [race]" in text(view, "#bulk-report")
    left = docs(cosmos, "race")
    assert list(left) == [doc_id("race:007")] and left[doc_id("race:007")]["value"] == {"theirs": True}


async def test_esc_cancels_between_keys_and_cosmos_holds_exactly_the_keys_not_tried(stack, cosmos):
    total = 400
    await write_keys(stack, "many", total)
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await browse_to(pilot, "many")
        view = await bulk(pilot, whole_partition=True)
        assert view.plan.count == total
        count = view.query_one("#bulk-count")
        count.focus()
        await pilot.press(*str(total))
        # Pilot's Enter (and pause) wait for the screen to be idle, which it is not until the last key is
        # written: Enter is the Input's own submit, then plain sleeps until the run is under way.
        await count.action_submit()
        deadline = time.monotonic() + 30
        while not (view.running and view.query_one("#bulk-progress").progress >= 10):
            assert time.monotonic() < deadline and view.report is None, text(view, "#bulk-status")
            await asyncio.sleep(0.005)
        await pilot.press("escape")
        await finish(pilot, view)
        report = view.report
        assert report.cancelled and 0 < report.done < total, report.summary()
        assert not report.skipped and not report.failed
        assert report.done + report.remaining == total
        assert f"cancelled with {report.remaining:,} not tried" in text(view, "#bulk-report")
    assert len(docs(cosmos, "many")) == report.remaining


async def test_set_ttl_on_a_partition_keeps_every_value_and_its_shape(stack, cosmos):
    await write_keys(stack, "ttl", 9, binary_every=3)
    before = docs(cosmos, "ttl")
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await browse_to(pilot, "ttl")
        view = await bulk(pilot, action="bulk-set-ttl", ttl="3600", whole_partition=True)
        assert "would set a TTL of 3,600 s on 9 keys" in text(view, "#bulk-status")
        await type_count(pilot, view, "9")
        await finish(pilot, view)
        assert view.report.done == 9
    after = docs(cosmos, "ttl")
    assert sorted(after) == sorted(before)
    for key, doc in after.items():
        assert doc["ttl"] == 3600 and doc["_etag"] != before[key]["_etag"]
        assert (doc["value"], doc["isBinary"]) == (before[key]["value"], before[key]["isBinary"])
    assert base64.b64decode(after[doc_id("ttl:003")]["value"]) == bytes([3, 0, 255])


async def test_remove_ttl_leaves_a_key_without_one_alone_and_says_why(stack, cosmos):
    await write_keys(stack, "nottl", 4, binary_every=2)
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
        await sidecar.save(AGENTS_STORE, [StateWrite(f"nottl:{i:03}", orjson.dumps({"n": i}), metadata={
            "partitionKey": "nottl", "contentType": "application/json", "ttlInSeconds": "600"}) for i in (1, 2)])
    before = docs(cosmos, "nottl")
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await browse_to(pilot, "nottl")
        view = await bulk(pilot, action="bulk-remove-ttl", whole_partition=True)
        assert "would remove the TTL of 2 keys in statestore-agents-cosmos; 2 left alone (2 no TTL to remove)" in \
            text(view, "#bulk-status")
        rows = shown(view.query_one("#bulk-keys"))
        assert sum("left alone: no TTL to remove" in line for line in rows.splitlines()) == 2
        assert "nottl:000" in rows and "agent-registry||" not in rows  # keys, not document ids
        await type_count(pilot, view, "2")
        await finish(pilot, view)
        assert view.report.done == 2
    after = docs(cosmos, "nottl")
    assert {i: d.get("ttl") for i, d in after.items()} == {doc_id("nottl:000"): None, doc_id("nottl:001"): -1,
                                                          doc_id("nottl:002"): -1, doc_id("nottl:003"): None}
    assert all((after[i]["value"], after[i]["isBinary"]) == (before[i]["value"], before[i]["isBinary"]) for i in after)


async def test_a_read_only_session_offers_no_bulk_and_no_marks(stack, cosmos):
    await write_keys(stack, "readonly", 3)
    before = docs(cosmos, "readonly")
    app = make_app(stack, read_only=True)
    async with app.run_test(size=(110, 34)) as pilot:
        browser = await browse_to(pilot, "readonly")
        active = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "bulk" not in active and "toggle_mark" not in active and "diff" in active
        assert "import_file" not in active
        assert not {"Bulk", "Import"} & {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("space", "ctrl+a", "B", "I")
        await pilot.pause(0.1)
        assert isinstance(app.screen, Browser) and not browser.keys.marked
        view = BulkView(app.session, browser.location, "readonly", BulkRequest(BulkAction.DELETE, None, False))
        await app.push_screen(view)  # were it reached some other way, the screen refuses too
        await pilot.pause(0.2)
        assert view.plan is None and "read-only session: nothing can be written" in text(view, "#bulk-status")
        assert not view.query_one("#bulk-count").display
    assert docs(cosmos, "readonly") == before


async def test_the_diff_view_shows_the_key_changed_since_an_export(stack, cosmos, tmp_path):
    await write_keys(stack, "diff", 5)
    export = tmp_path / "diff.jsonl"
    result = run_cli(["export", AGENTS_STORE, "--partition", "diff", "--resources-path", str(REPO / "components")],
                     stack.client_env())
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    export.write_text(result.stdout)
    await theirs(stack, "diff:002", "diff", b'{"n": 2, "tags": ["changed"]}')
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await browse_to(pilot, "diff")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, DiffView), "the diff view")
        view = app.screen
        await pilot.press("ctrl+o")  # only the browser's partition
        view.query_one("#diff-path").focus()
        await pilot.press(*str(export), "enter")
        await until(pilot, lambda: view.report is not None, "the comparison")
        report = view.report
        assert [d.doc_id for d in report.different] == [doc_id("diff:002")] and report.same == 4
        assert not report.only_left and not report.only_right
        assert "0 only in statestore-agents-cosmos" in text(view, "#diff-status")
        assert "1 different, 4 the same" in text(view, "#diff-status")
        results = shown(view.query_one("#diff-results"))
        assert "different (1)" in results and "agent-registry||diff:002" in results and "value" in results
        await pilot.press("down")
        await until(pilot, lambda: "changed" in text(view, "#diff-value"), "the value diff")
        value = text(view, "#diff-value")
        assert '- "changed"' in value and '+ "diff"' in value


async def start_import(pilot, partition: str, export, shown, what: str) -> None:
    """As a user would: the partition in the browser, I, the file's path typed, Enter; until the
    import view `shown` what is waited for."""
    from explorer.tui.screens.import_view import ImportChoice, ImportView

    app = pilot.app
    await browse_to(pilot, partition)
    await pilot.press("I")
    await until(pilot, lambda: isinstance(app.screen, ImportChoice), "the import dialog")
    app.screen.query_one("#import-path").focus()
    await pilot.press(*str(export), "enter")
    await until(pilot, lambda: isinstance(app.screen, ImportView) and shown(app.screen), what)


async def test_import_in_the_tui_puts_back_what_was_deleted_and_leaves_a_changed_key(stack, cosmos, tmp_path):
    """I in the browser: an export file, the dry run against the store now (2 deleted since: create; 1
    changed: skipped; 3 unchanged), a wrong count refused, the right one writes the 2 back exactly as
    exported; the changed key keeps the other writer's value; each write has its audit line."""
    await write_keys(stack, "imp", 6, binary_every=3)
    export = tmp_path / "imp.jsonl"
    result = run_cli(["export", AGENTS_STORE, "--partition", "imp", "--resources-path", str(REPO / "components")],
                     stack.client_env())
    assert result.returncode == 0, result.stderr
    export.write_text(result.stdout)
    exported = {i: {k: v for k, v in d.items() if not k.startswith("_")} for i, d in docs(cosmos, "imp").items()}
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
        for key in ("imp:000", "imp:001"):
            await sidecar.delete(AGENTS_STORE, key, metadata={"partitionKey": "imp"})
    await theirs(stack, "imp:002", "imp", b'{"theirs": true}')
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await start_import(pilot, "imp", export, lambda screen: screen.import_plan is not None, "the import's dry run")
        view = app.screen
        steps = sorted(d.step.value for d in view.import_plan.decisions)
        assert steps == ["create", "create", "skip", "unchanged", "unchanged", "unchanged"]
        assert "2 to write (2 to create, 0 to overwrite), 3 unchanged, 1 skipped" in text(view, "#bulk-status")
        await type_count(pilot, view, "3")
        assert "that is not 2: nothing was written" in text(view, "#bulk-error")
        assert len(docs(cosmos, "imp")) == 4
        await type_count(pilot, view, "2")
        await finish(pilot, view)
        assert view.report.done == 2 and not view.report.failed
        # the key changed since the export is reported skipped (it was "2 done, 0 skipped")
        assert [p.doc_id for p in view.report.skipped] == [doc_id("imp:002")]
    now = {i: {k: v for k, v in d.items() if not k.startswith("_")} for i, d in docs(cosmos, "imp").items()}
    assert now[doc_id("imp:000")] == exported[doc_id("imp:000")] and now[doc_id("imp:001")] == exported[doc_id("imp:001")]
    assert now[doc_id("imp:002")]["value"] == {"theirs": True}
    lines = [r for r in AuditLog().read().records if r.key in ("imp:000", "imp:001")]
    assert sorted((r.key, r.operation, r.outcome) for r in lines)[-2:] == [("imp:000", "create", "done"),
                                                                         ("imp:001", "create", "done")]


async def test_an_import_file_with_half_a_surrogate_pair_is_one_line_in_the_view_and_nothing_is_written(
        stack, cosmos, tmp_path):
    """Before: the import view's dry run raised UnicodeEncodeError and the TUI ended with a traceback
    (exit 1). Now the view names the file, the line and column, and set's own words; nothing is read or
    written, and the app goes on."""
    export = tmp_path / "surrogate.jsonl"
    export.write_text('{"id": "%s", "partitionKey": "surr", "isBinary": false, "value": {"fine": 1}}\n'
                      '{"id": "%s", "partitionKey": "surr", "isBinary": false, "value": {"name": "\\ud800"}}\n'
                      % (doc_id("surr:a"), doc_id("surr:b")))
    await write_keys(stack, "surr", 1)
    app = make_app(stack)
    async with app.run_test(size=(110, 34)) as pilot:
        await start_import(pilot, "surr", export, lambda screen: "✖" in text(screen, "#bulk-status"),
                           "the import's refusal")
        said = text(app.screen, "#bulk-status")
        assert f"{export}: line 2, column" in said and "\\ud800 is half of a surrogate pair" in said, said
        assert "nothing was written" in said and app.screen.import_plan is None
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.is_running
    assert list(docs(cosmos, "surr")) == [doc_id("surr:000")]


async def test_an_import_refused_at_a_production_contexts_name_leaves_a_refused_line_for_each_key(stack, cosmos,
                                                                                                 tmp_path):
    from explorer.tui.dialogs import TypeContextName

    await write_keys(stack, "impprod", 3)
    result = run_cli(["export", AGENTS_STORE, "--partition", "impprod", "--resources-path", str(REPO / "components")],
                     stack.client_env())
    assert result.returncode == 0, result.stderr
    export = tmp_path / "impprod.jsonl"
    export.write_text(result.stdout)
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
        for key in ("impprod:000", "impprod:001"):
            await sidecar.delete(AGENTS_STORE, key, metadata={"partitionKey": "impprod"})
    app = make_app(stack, production="prod-eu")
    async with app.run_test(size=(110, 34)) as pilot:
        await start_import(pilot, "impprod", export, lambda screen: screen.import_plan is not None,
                           "the import's dry run")
        view = app.screen
        await type_count(pilot, view, "2")
        await until(pilot, lambda: isinstance(app.screen, TypeContextName), "the context's name to be asked")
        await pilot.press(*"prod-us", "enter", "escape")
        await until(pilot, lambda: app.screen is view, "back on the dry run")

        def refused():
            return sorted((r.key, r.operation) for r in AuditLog().read().records
                          if r.outcome == "refused" and r.partition_key == "impprod" and r.context == "prod-eu")
        await until(pilot, lambda: len(refused()) == 2, "the refusals' audit lines")
        assert refused() == [("impprod:000", "create"), ("impprod:001", "create")] and not view.ran
    assert len(docs(cosmos, "impprod")) == 1
