"""Bulk actions: the dry run, its typed confirmation and the report (explorer.core.bulk; pure), and
the runner's order, cancel and skip rules (explorer.session.bulk) over a FAKE session that records calls —
no Cosmos, no Dapr. The same runs against the real daprd and server are in
tests/integration/test_bulk.py."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.session.audit_log import AuditUnavailable
from explorer.session.bulk import run_plan
from explorer.core.bulk import BulkAction, Listed, confirmed, make_plan
from explorer.core.envelope import KeyPrefix
from explorer.errors import EtagConflict, KeyGone, ReadOnlyRefusal, SidecarError, describe

PREFIX = KeyPrefix.from_metadata(None)
WORKFLOW_ID = "app||dapr.internal.default.app.workflow||order-1||metadata"


def listed(n: int, ttl: int | None = None) -> list[Listed]:
    return [Listed(f"app||k{i}", "p", f'"e{i}"', ttl) for i in range(n)]


def test_the_dry_run_leaves_actor_and_workflow_state_alone_and_says_why():
    keys = [*listed(3), Listed(WORKFLOW_ID, "app||dapr.internal.default.app.workflow||order-1", '"w"'),
            Listed("app||CartActor||c1||items", "app||CartActor||c1", '"a"'), listed(1)[0]]
    plan = make_plan("s", PREFIX, BulkAction.DELETE, keys)
    assert [t.listed.doc_id for t in plan.targets] == ["app||k0", "app||k1", "app||k2"]  # k0 listed twice: once
    assert plan.count == 3 and len(plan.passed) == 2
    assert plan.summary() == "delete 3 keys in s; 2 left alone (1 workflow state, 1 actor state)"


def test_removing_a_ttl_leaves_keys_without_one_alone_and_setting_one_checks_the_seconds():
    plan = make_plan("s", PREFIX, BulkAction.REMOVE_TTL, [*listed(2, ttl=60), *listed(1, ttl=None)[0:0],
                                                         Listed("app||x", "p", '"x"', None), Listed("app||y", "p", '"y"', -1)])
    assert plan.count == 2 and plan.summary() == "remove the TTL of 2 keys in s; 2 left alone (2 no TTL to remove)"
    assert make_plan("s", PREFIX, BulkAction.SET_TTL, listed(1), ttl_seconds=3600).summary() == \
        "set a TTL of 3,600 s on 1 key in s"
    for bad in (None, 0, -5, 2**31):
        with pytest.raises(ValueError, match="from 1 to 2147483647"):
            make_plan("s", PREFIX, BulkAction.SET_TTL, listed(1), ttl_seconds=bad)


@pytest.mark.parametrize(("typed", "ok"), [("1234", True), (" 1,234\n", True), ("1234.0", False), ("123", False),
                                           ("12,34", False), ("", False), ("yes", False), ("01234", True)])
def test_only_the_exact_count_confirms(typed, ok):
    plan = make_plan("s", PREFIX, BulkAction.DELETE, listed(1234))
    assert confirmed(plan, typed) is ok


def test_an_empty_plan_is_never_confirmed():
    assert not confirmed(make_plan("s", PREFIX, BulkAction.DELETE, []), "0")


class FakeSession:
    """FAKE (unit test of the runner's own logic): records writes; raises what `fail` maps a key to."""

    def __init__(self, fail=None, on_write=None):
        self.writes: list[str] = []
        self.fail = fail or {}
        self.on_write = on_write
        self.planned: list[bool] = []

    async def write(self, location, change, before=None, ttl_choice=None, on_logged=None, planned=False):
        await asyncio.sleep(0)
        self.planned.append(planned)
        if self.on_write:
            self.on_write(change)
        error = self.fail.get(change.state_key.doc_id)
        if error is not None:
            raise error
        self.writes.append(change.state_key.doc_id)


async def test_every_key_is_written_once_with_the_etag_the_dry_run_listed():
    plan = make_plan("s", PREFIX, BulkAction.DELETE, listed(50))
    seen = []
    session = FakeSession(on_write=lambda change: seen.append((change.state_key.doc_id, change.etag)))
    report = await run_plan(session, None, plan)
    assert sorted(seen) == sorted((f"app||k{i}", f'"e{i}"') for i in range(50))
    assert report.summary() == "50 done, 0 skipped, 0 failed"


async def test_a_changed_key_is_skipped_a_failure_is_reported_and_the_rest_go_on():
    fail = {"app||k3": EtagConflict("etag mismatch"), "app||k7": SidecarError("sidecar said no")}
    report = await run_plan(FakeSession(fail), None, make_plan("s", PREFIX, BulkAction.DELETE, listed(10)),
                            concurrency=1)
    assert report.done == 8 and [p.doc_id for p in report.skipped] == ["app||k3"]
    assert report.skipped[0].reason == 'changed by someone else since the dry run (etag "e3" no longer matches)'
    assert [(p.doc_id, p.reason) for p in report.failed] == [("app||k7", describe(fail["app||k7"]))]


async def test_a_key_deleted_by_someone_else_since_the_dry_run_is_skipped_never_done():
    """The store's answer to an etag-checked delete of a key that is gone (KeyGone, see
    explorer.dapr.sidecar.SidecarClient.delete) is a skip, and each write is marked as a planned one, so
    the session audits a refusal by its etag as `skipped` (FAKE session)."""
    session = FakeSession({"app||k1": KeyGone("s/k1 no longer exists: deleted by someone else …")})
    report = await run_plan(session, None, make_plan("s", PREFIX, BulkAction.DELETE, listed(3)))
    assert report.done == 2 and [(p.doc_id, p.reason) for p in report.skipped] == [
        ("app||k1", "deleted by someone else since the dry run")]
    assert session.planned == [True, True, True]


@given(stop_after=st.integers(min_value=0, max_value=20), concurrency=st.integers(min_value=1, max_value=8))
def test_cancel_stops_between_keys_and_counts_the_rest_as_not_tried(stop_after, concurrency):
    cancel = asyncio.Event()
    plan = make_plan("s", PREFIX, BulkAction.DELETE, listed(20))

    def progress(report):
        if report.tried >= stop_after:
            cancel.set()

    if stop_after == 0:
        cancel.set()
    session = FakeSession()
    report = asyncio.run(run_plan(session, None, plan, progress, cancel, concurrency))
    assert report.done == len(session.writes) and report.tried + report.remaining == 20
    assert report.tried <= stop_after + concurrency - 1 if stop_after else report.tried == 0
    assert report.cancelled == (report.remaining > 0)


async def test_what_stops_every_write_alike_raises_if_nothing_was_written_and_stops_the_run_if_some_was():
    with pytest.raises(ReadOnlyRefusal):
        await run_plan(FakeSession({f"app||k{i}": ReadOnlyRefusal("read-only") for i in range(5)}), None,
                       make_plan("s", PREFIX, BulkAction.DELETE, listed(5)))
    full = AuditUnavailable("the audit log could not be written (disk full)")
    report = await run_plan(FakeSession({"app||k2": full}), None, make_plan("s", PREFIX, BulkAction.DELETE, listed(6)),
                            concurrency=1)
    assert report.done == 2 and report.stopped == describe(full) and report.remaining == 3
    assert report.summary() == f"2 done, 0 skipped, 1 failed; stopped with 3 not tried: {describe(full)}"


async def test_no_more_writes_at_daprd_than_the_concurrency_and_a_key_is_reported_once_its_line_is_on_disk():
    """FAKE session: a write 'at daprd' for 1 ms, then its audit line 'reaches the disk' 3 ms later
    (a future handed to on_logged, as ExplorerSession.write does). At most `concurrency` writes are
    ever at daprd; later keys are sent while earlier lines are still on their way; no key is
    reported before its line is on disk; every key is reported."""
    at_daprd, most, sent_while_syncing = [0], [0], [0]
    lines: dict[str, asyncio.Future] = {}

    class Syncing(FakeSession):
        async def write(self, location, change, before=None, ttl_choice=None, on_logged=None, planned=False):
            at_daprd[0] += 1
            most[0] = max(most[0], at_daprd[0])
            await asyncio.sleep(0.001)
            at_daprd[0] -= 1
            sent_while_syncing[0] = max(sent_while_syncing[0], sum(not f.done() for f in lines.values()))
            line = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_later(0.003, line.set_result, None)
            lines[change.state_key.doc_id] = line
            on_logged(line)
            self.writes.append(change.state_key.doc_id)

    def on_progress(report) -> None:
        for passed in report.skipped + report.failed:
            assert lines[passed.doc_id].done()
        assert report.done <= sum(f.done() for f in lines.values())

    session = Syncing()
    report = await run_plan(session, None, make_plan("s", PREFIX, BulkAction.DELETE, listed(60)), on_progress,
                            concurrency=4)
    assert report.done == 60 and most[0] == 4
    assert sent_while_syncing[0] > 0  # keys went to daprd while earlier lines were still syncing
    assert all(f.done() for f in lines.values())


async def test_an_audit_line_that_cannot_be_written_fails_its_key_and_stops_the_run():
    """FAKE session: the 3rd key's audit line fails (the log became unwritable after daprd answered)
    and, as ExplorerSession.write does once a line failed, the next write is refused before anything
    is sent. That key is reported failed (written, its line lost, and why), nothing is written after
    it, the run says it stopped, and the keys logged before it count as done."""
    failure = AuditUnavailable("the audit log /x/audit.jsonl could not be written (No space left on device)")

    class Full(FakeSession):
        broken = False

        async def write(self, location, change, before=None, ttl_choice=None, on_logged=None, planned=False):
            if self.broken:
                raise failure  # the session's audit.ready() before sending
            await asyncio.sleep(0)
            line = asyncio.get_running_loop().create_future()
            if len(self.writes) == 2:
                line.set_exception(failure)
                self.broken = True
            else:
                line.set_result(None)
            self.writes.append(change.state_key.doc_id)
            on_logged(line)

    session = Full()
    report = await run_plan(session, None, make_plan("s", PREFIX, BulkAction.DELETE, listed(10)), concurrency=1)
    assert session.writes == ["app||k0", "app||k1", "app||k2"] and report.done == 2
    assert {p.doc_id: p.reason for p in report.failed}["app||k2"] == f"written, but its audit line was lost: {describe(failure)}"
    assert report.stopped == describe(failure) and report.done + len(report.failed) + report.remaining == 10


async def test_a_run_whose_first_line_is_lost_reports_the_written_key_instead_of_saying_nothing_was_written():
    """FAKE session: the very first key is deleted at daprd but its audit line fails, and the next write
    is refused before sending. The run must not raise (a raise reads "nothing was written"): its
    report says the key was written and its line lost, and that the run stopped."""
    failure = AuditUnavailable("the audit log /x/audit.jsonl could not be written (No space left on device)")

    class FullAtOnce(FakeSession):
        async def write(self, location, change, before=None, ttl_choice=None, on_logged=None, planned=False):
            if self.writes:
                raise failure  # the session's audit.ready() before sending
            await asyncio.sleep(0)
            line = asyncio.get_running_loop().create_future()
            line.set_exception(failure)
            self.writes.append(change.state_key.doc_id)
            on_logged(line)

    report = await run_plan(FullAtOnce(), None, make_plan("s", PREFIX, BulkAction.DELETE, listed(5)), concurrency=1)
    assert report.done == 0 and report.stopped == describe(failure)
    assert {p.doc_id: p.reason for p in report.failed}["app||k0"].startswith("written, but its audit line was lost")


def test_a_delete_leaves_alone_ids_dapr_cannot_delete_on_cosmos_and_plans_the_others():
    """'\\', CR, LF, TAB: refused in a URL by Cosmos DB and unsendable in daprd's batch; '/ ? # "', a
    trailing blank: deletable (in a batch, or by DeleteState for '"')."""
    from explorer.core.writes import fits_a_batch

    ids = ["app||a/b", "app||q?x", "app||h#t", "app||trail ", 'app||quo"te', "app||back\\slash", "app||nl\nx",
           "app||cr\rx", "app||tab\tx"]
    plan = make_plan("s", PREFIX, BulkAction.DELETE, [Listed(i, "p", '"e"') for i in ids])
    assert [t.listed.doc_id for t in plan.targets] == ids[:5]
    assert plan.summary() == "delete 5 keys in s; 4 left alone (4 id Dapr cannot delete on Cosmos DB ('\\', CR, LF " \
                             "or TAB in it))"
    assert make_plan("s", PREFIX, BulkAction.SET_TTL, [Listed("app||nl\nx", "p", '"e"')], 60).count == 1  # a save can
    assert [fits_a_batch(i) for i in ids[:5]] == [True, True, True, True, False]
    assert not fits_a_batch("app||\x01") and not fits_a_batch("app||x\",\"id\":\"other")
