"""The workflows view, instance timelines, the actors view and the decoded partitions and keys,
driven with Textual's Pilot against the session's real stack: its workflow and actor documents were
written by daprd for real apps (`LocalStack(apps=True)`, seeded in every state: completed, failed
with its retries exhausted, waiting for an event, on a durable timer, with a child, terminated).

Each test checks what a user sees on screen, and nothing here writes: the raw document a timeline
opens is read-only, and its etag in Cosmos is the same afterwards.
"""

from __future__ import annotations

import pytest

from explorer.localstack.apps.actor_app import SEEDED_CALLS
from explorer.localstack.apps.workflow_app import (
    DECLINED_CARD,
    PAYMENT_APPROVED,
    SEEDED_INSTANCES,
    WAITING_FOR_PAYMENT,
    child_instance_id,
)
from explorer.localstack.seed import ACTORS_APP, WORKFLOW_ACTOR_TYPE, WORKFLOWS_APP, WORKFLOWS_STORE
from explorer.tui.screens.actors import Actors, KeyNode
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.screens.workflows.timeline import Timeline
from explorer.tui.screens.workflows.instances import StatusPicker, Workflows

from .conftest import container, stack_env
from .test_tui import footer, make_app, palette, shown, text, to_store, until

pytestmark = pytest.mark.integration

STATUSES = {i.instance_id: i.state for i in SEEDED_INSTANCES}
FAILED = next(i for i, status in STATUSES.items() if status == "FAILED")  # the declined card: order-1002
WITH_CHILD = "order-1005"
CHILD = child_instance_id(WITH_CHILD)
WAITING = "order-1003"  # for the external event payment-approved
ON_TIMER = "order-1004"  # on a durable timer a day away


@pytest.fixture(scope="module", autouse=True)
def env(stack):
    """The component files resolve the stack's Cosmos endpoint and key from the environment."""
    with stack_env(stack):
        yield


def partition_of(instance: str) -> str:
    return f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}||{instance}"


async def to_workflows(pilot) -> Workflows:
    await to_store(pilot, WORKFLOWS_STORE)
    await pilot.press("w")
    await until(pilot, lambda: isinstance(pilot.app.screen, Workflows) and pilot.app.screen.exhausted
                and not pilot.app.screen.reading, "every instance to be listed")
    return pilot.app.screen


async def to_timeline(pilot, instance: str) -> Timeline:
    """From the browser: w, / the instance id, enter, enter."""
    workflows = await to_workflows(pilot)
    await pilot.press("slash", *instance, "enter")
    for _ in range(len(workflows.shown)):
        if workflows.current.instance_id == instance:
            break
        await pilot.press("down")
    assert workflows.current.instance_id == instance
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, Timeline) and pilot.app.screen.ref.instance_id == instance
                and pilot.app.screen.summary is not None and pilot.app.screen.table.row_count
                and not pilot.app.screen.view.more, f"the timeline of {instance}")
    return pilot.app.screen


async def cursor_to(pilot, timeline: Timeline, index: int) -> str:
    """The cursor on row `index` (arrowing from where it is); the detail pane's text once it shows that row."""
    table = timeline.table
    table.focus()
    while table.current != index:
        await pilot.press("down" if table.current < index else "up")
    doc_id = timeline.view.meta[index].doc_id
    await until(pilot, lambda: timeline.detail_for == doc_id, "the event's detail")
    return " ".join(shown(timeline.query_one("#tl-detail-body")).split())


def screen_lines(widget) -> list[str]:
    return shown(widget).splitlines()


# -- the workflows list -------------------------------------------------------------------------


async def test_the_list_shows_every_instance_with_its_status_and_filters_by_name_and_status(stack):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        workflows = await to_workflows(pilot)
        rows = {row.instance_id: row for row in workflows.loaded}
        assert {i: rows[i].status for i in STATUSES} == STATUSES
        assert rows[CHILD].status == "COMPLETED" and rows[WAITING].custom_status == WAITING_FOR_PAYMENT
        failed_line = next(line for line in screen_lines(workflows.table) if FAILED in line)
        assert "FAILED" in failed_line and "process_order" in failed_line, failed_line
        assert "RU" in text(workflows, "#status") and f"{len(rows)} instances loaded" in text(workflows, "#status")

        await pilot.press("slash", *FAILED[-4:], "enter")  # "1002": by instance id
        assert [row.instance_id for row in workflows.shown] == [FAILED]
        await pilot.press("slash", *["backspace"] * 4, *"fulfil", "enter")  # by workflow name
        assert {row.instance_id for row in workflows.shown} == {WITH_CHILD}
        await pilot.press("slash", *["backspace"] * 6, "enter")

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker), "the status picker")
        options = app.screen.query_one("#status-options")
        while options.get_option_at_index(options.highlighted).id != "status:TERMINATED":
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is workflows, "back to the list")
        assert [row.instance_id for row in workflows.shown] == [i for i, s in STATUSES.items() if s == "TERMINATED"]
        assert "status: TERMINATED" in text(workflows, "#wf-status-filter")


# -- a timeline -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("instance", "says"), [
    (WAITING, f"waiting for event {PAYMENT_APPROVED}"),
    (ON_TIMER, "waiting for timer firing "),
])
async def test_a_running_instance_says_what_it_waits_for(stack, instance, says):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline = await to_timeline(pilot, instance)
        await until(pilot, lambda: timeline.waits, "what it waits for")
        assert "RUNNING" in text(timeline, "#tl-title")
        assert says in text(timeline, "#tl-summary"), text(timeline, "#tl-summary")


async def test_the_failed_instance_shows_the_activitys_error_and_stack_trace(stack):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline = await to_timeline(pilot, FAILED)
        assert "FAILED" in text(timeline, "#tl-title")
        assert "✖" in text(timeline, "#tl-summary") and "declined" in text(timeline, "#tl-summary")
        failed = [n for n, row in enumerate(timeline.view.rows) if row[2] == "TaskFailed"]
        assert len(failed) == 3, timeline.view.rows  # three attempts (the retry policy's), all declined
        detail = await cursor_to(pilot, timeline, failed[-1])
        assert "PaymentDeclined" in detail
        assert f"card ending {DECLINED_CARD[-4:]} was declined by the issuer" in detail
        assert "charge_payment" in detail and "raise PaymentDeclined" in detail  # the stack trace
        rows = [line for line in screen_lines(timeline.table) if "TaskFailed" in line]
        assert rows and all("PaymentDeclined" in line for line in rows), rows  # the rows say why too


async def test_enter_on_the_child_event_opens_the_child_and_p_its_parent(stack):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        parent = await to_timeline(pilot, WITH_CHILD)
        created = next(n for n, row in enumerate(parent.view.rows) if row[2] == "ChildWorkflowInstanceCreated")
        detail = await cursor_to(pilot, parent, created)
        assert CHILD in detail and "enter opens it" in detail
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Timeline) and app.screen is not parent
                    and app.screen.summary is not None, "the child's timeline")
        child = app.screen
        assert child.ref.instance_id == CHILD and CHILD in text(child, "#tl-title")
        assert f"child of {WITH_CHILD}" in text(child, "#tl-summary")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, Timeline) and app.screen not in (parent, child)
                    and app.screen.summary is not None, "the parent's timeline, again")
        assert app.screen.ref.instance_id == WITH_CHILD
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is parent, "back where it started")


async def test_a_history_longer_than_the_window_scrolls_to_its_end_and_back_holding_a_window(stack):
    """order-1002's 21 events, read 5 a page with a window of 2 pages: the rows held never exceed
    10, the cursor walks every event in order down and back up (earlier pages read again from their
    tokens), the detail pane follows it, and Home and End reach both ends."""
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        whole = await to_timeline(pilot, FAILED)  # one page of 100: the whole history, as a user sees it
        numbers = [row[0] for row in whole.view.rows]
        kinds = dict((row[0], row[2]) for row in whole.view.rows)
        assert len(numbers) > 10 and numbers == sorted(numbers, key=int)
        app.push_screen(Timeline(whole.session, whole.location, whole.ref, page_size=5, window_pages=2))
        await until(pilot, lambda: app.screen is not whole and isinstance(app.screen, Timeline)
                    and app.screen.view.rows, "the windowed timeline")
        timeline, table = app.screen, app.screen.table
        assert timeline.view.more and "more ↓" in text(timeline, "#status")

        def under_cursor() -> str:
            return table.rows[table.current][0]

        async def walk(key: str, done) -> list[str]:
            """Press `key` until `done()`; the events the cursor was on, each once, in order, each
            one's detail shown before the next key."""
            passed = [under_cursor()]
            for _ in range(4 * len(numbers)):
                if done():
                    return passed
                await pilot.press(key)
                await until(pilot, lambda: not timeline.view.loading, "the page")
                assert table.row_count <= 10 and len(timeline.view.rows) <= 10, table.row_count
                doc_id = timeline.view.meta[table.current].doc_id
                await until(pilot, lambda: timeline.detail_for == doc_id, f"the detail of {under_cursor()}")
                assert kinds[under_cursor()] in text(timeline, "#tl-detail-body")
                if under_cursor() != passed[-1]:
                    passed.append(under_cursor())
            raise AssertionError(f"{key} did not get there: {passed}")

        down = await walk("down", lambda: not timeline.view.more and table.current == table.row_count - 1)
        assert down == numbers
        assert timeline.view.before and "held (earlier ↑)" in text(timeline, "#status")
        up = await walk("up", lambda: not timeline.view.before and table.current == 0)
        assert up == numbers[::-1]  # the first pages read again, in order, from their tokens
        declined = [n for n in numbers if kinds[n] == "TaskFailed"][-1]
        to_failure = await walk("down", lambda: under_cursor() == declined)
        assert to_failure == numbers[:numbers.index(declined) + 1]
        detail = text(timeline, "#tl-detail-body")
        assert "PaymentDeclined" in detail and f"card ending {DECLINED_CARD[-4:]}" in detail, detail

        for _ in range(len(numbers)):  # End: the last row held, and the next page read, until the last
            if not timeline.view.more:
                break
            await pilot.press("end")
            await until(pilot, lambda: not timeline.view.loading, "the page")
            assert table.row_count <= 10
        await pilot.press("end")
        assert under_cursor() == numbers[-1] and "all loaded" in text(timeline, "#status")
        await pilot.press("home")
        await until(pilot, lambda: not timeline.view.loading and under_cursor() == numbers[0], "the first event")
        assert [row[0] for row in table.rows] == numbers[:5] and timeline.view.more
        await until(pilot, lambda: timeline.detail_for == timeline.view.meta[0].doc_id, "the first event's detail")
        assert kinds[numbers[0]] in text(timeline, "#tl-detail-body")


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
async def test_v_opens_an_events_raw_document_read_only_and_nothing_is_written(stack, cosmos, read_only):
    app = make_app(stack, read_only=read_only)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline = await to_timeline(pilot, FAILED)
        assert ("READ-ONLY SESSION" in text(timeline, ".banner")) if read_only else not timeline.query(".banner")
        failed = next(n for n, row in enumerate(timeline.view.rows) if row[2] == "TaskFailed")
        await cursor_to(pilot, timeline, failed)
        doc_id = timeline.view.meta[failed].doc_id
        before = container(cosmos, "dapr-workflows", "workflow-state").read_item(doc_id, partition_key=partition_of(FAILED))
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, "the raw document")
        editor = app.screen
        assert editor.opened.key.state_key.doc_id == doc_id
        if not read_only:  # (a read-only session's banner says why for every key)
            assert "read-only: workflow state" in text(editor, "#editor-message")
        value = shown(editor.query_one("#value"))
        assert "isBinary true" in value and "base64" in value  # the protobuf bytes as daprd stored them
        await pilot.press("e", "d")
        await pilot.pause(0.2)
        assert app.screen is editor and not editor.editing
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is timeline, "back to the timeline")
    after = container(cosmos, "dapr-workflows", "workflow-state").read_item(doc_id, partition_key=partition_of(FAILED))
    assert after["_etag"] == before["_etag"]


# -- the browser at 80 columns: decoded partitions, labelled keys ---------------------------------


async def test_partitions_read_decoded_at_80_columns_and_keys_say_what_their_values_are(stack):
    cart = next(c for c in SEEDED_CALLS if c.actor_type == "CartActor")
    app = make_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await to_store(pilot, WORKFLOWS_STORE)
        assert {"Workflows", "Actors", "Raw keys"} <= footer(browser) & palette(app)
        plist = browser.partitions
        order = partition_of("order-1001")
        actor = f"{ACTORS_APP}||{cart.actor_type}||{cart.actor_id}"
        await until(pilot, lambda: order in plist.partitions and actor in plist.partitions, "the partitions")
        # the store holds the agents app's workflow instances too: a workflow partition names its app
        assert plist.label(order) == f"workflow order-1001 · {WORKFLOWS_APP}"
        assert plist.label(actor) == f"actor {cart.actor_type} {cart.actor_id}"
        await pilot.press("slash", *cart.actor_id)
        assert f"actor {cart.actor_type} {cart.actor_id}" in screen_lines(plist.options)[0]  # one line, not wrapped
        await pilot.press(*["backspace"] * len(cart.actor_id), *"order-1001")
        assert "workflow order-1001" in screen_lines(plist.options)[0]

        await pilot.press("enter")
        keys = browser.keys
        await until(pilot, lambda: browser.partition == order and keys.entries, "the instance's keys")
        labels = lambda: {e.state_key.actor_key: keys.label(e) for e in keys.entries}  # noqa: E731
        await until(pilot, lambda: labels().get("history-000001", "").startswith("history-000001 · "), "the labels")
        assert labels()["history-000001"] == "history-000001 · ExecutionStarted process_order"
        assert labels()["metadata"].startswith("metadata · history ") and " · inbox 0 · generation " in labels()["metadata"]
        assert any(label.startswith("history-000002 · TaskScheduled reserve_inventory") for label in labels().values())
        table_text = shown(keys)
        assert "history-000001 · ExecutionStarted" in table_text and WORKFLOW_ACTOR_TYPE not in table_text
        assert "workflow order-1001" in text(browser, "#keys-title")

        await pilot.press("k")  # raw: the partition keys and Dapr keys as stored
        assert plist.label(order) == order
        assert keys.label(keys.entries[0]) == keys.entries[0].state_key.key
        await pilot.press("k")
        assert plist.label(order) == f"workflow order-1001 · {WORKFLOWS_APP}"

        browser.partitions.select(actor)
        browser.open_partition(actor)
        await until(pilot, lambda: browser.partition == actor and keys.entries, "the actor's keys")
        assert {keys.label(e) for e in keys.entries} >= {f"{cart.actor_type} {cart.actor_id} · owner",
                                                          f"{cart.actor_type} {cart.actor_id} · items"}


# -- the actors view ------------------------------------------------------------------------------


async def test_the_actors_view_groups_actor_state_by_type_and_id_and_shows_values(stack):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_store(pilot, WORKFLOWS_STORE)
        await pilot.press("a")
        expected = {(c.actor_type, c.actor_id) for c in SEEDED_CALLS}
        await until(pilot, lambda: isinstance(app.screen, Actors) and len(app.screen.actors) >= len(expected)
                    and "scanning" not in text(app.screen, "#actors-progress"), "the actors")
        actors = app.screen
        assert {t for _, t in actors.types} == {t for t, _ in expected}
        assert not any(t.startswith("dapr.internal.") for _, t in actors.types)  # Dapr's own are not actors here
        tree = actors.actor_tree
        cart = actors.actors[f"{ACTORS_APP}||CartActor||cart-42"]
        tree.move_cursor(cart)
        await pilot.press("space")
        await until(pilot, lambda: any(isinstance(n.data, KeyNode) for n in cart.children), "cart-42's keys")
        assert {str(n.label) for n in cart.children} == {"owner", "items"}
        owner = next(n for n in cart.children if str(n.label) == "owner")
        tree.move_cursor(owner)
        await until(pilot, lambda: actors.shown_key == owner.data.doc_id, "the owner's value")
        value = text(actors, "#actor-value-body")
        assert "Ada Lovelace" in value and "read-only: actor state" in value
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, "the editor")
        assert "read-only: actor state" in text(app.screen, "#editor-message")
