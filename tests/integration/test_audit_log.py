"""The audit log against the real daprd and server: every write path (CLI set, create and
delete; TUI save and delete) leaves exactly one line with what was done, refused or failed; a
read-only session never writes the log; a log that cannot be written stops the write before
anything is sent; and daprd's own API log shows no state write the audit log lacks."""

from __future__ import annotations

import os
import re

import orjson
import pytest

from explorer.tui.app import ExplorerApp
from explorer.session.audit_log import AuditLog
from explorer.cli.commands.registry import WRITE_COMMANDS
from explorer.components.files import load_components
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
from tests.support import REPO, every_etag, no_traceback, run_cli

from .conftest import own_stack, stack_env
from .test_tui import browse_to, open_key, save_through_dialog, until

pytestmark = pytest.mark.integration

#: Every audit file this module's tests wrote (the last test holds them against daprd's API log).
WRITTEN: list[AuditLog] = []


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own, whose daprd logs every API call (these tests write)."""
    with own_stack(tmp_path_factory, "audit-stack", api_logging=True) as local:
        SEED_WRITES["calls"] = state_write_calls(local)
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client()


@pytest.fixture
def audit_file(tmp_path):
    log = AuditLog(tmp_path / "state" / "audit.jsonl")
    WRITTEN.append(log)
    return log


def agents(cosmos):
    return cosmos.get_database_client("dapr-agents").get_container_client("agent-registry")


def item(cosmos, doc_id, partition):
    return agents(cosmos).read_item(doc_id, partition_key=partition)


def cli(stack, audit: AuditLog, *args):
    env = stack.client_env()
    env["DAPR_EXPLORER_AUDIT_LOG"] = str(audit.path)
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
                      str(stack.sidecars[AGENTS_APP].grpc_port)], env)
    no_traceback(result)
    return result


#: One way to use each write subcommand, and the lines it must leave; a subcommand that writes and
#: is missing here fails test_every_write_command_is_covered.
CLI_WRITES = {
    "set": (["set", AGENTS_STORE, "audit:each", '{"model": "audited"}', "--ttl", "3600"], 1),
    "delete": (["delete", AGENTS_STORE, "audit:each"], 1),
    "bulk": (["bulk", AGENTS_STORE, "delete", "--partition", "audit-bulk", "--confirm", "3"], 3),
    "import": (["import", AGENTS_STORE, "{file}", "--confirm", "2"], 2),
}


def test_every_write_command_is_covered():
    assert set(CLI_WRITES) == set(WRITE_COMMANDS)


@pytest.mark.parametrize("command", sorted(CLI_WRITES))
def test_each_write_command_leaves_a_line_per_key_it_wrote(stack, audit_file, command):
    if command == "bulk":
        for i in range(3):
            assert cli(stack, audit_file, "set", AGENTS_STORE, f"audit:bulk:{i}", "[1]", "--partition", "audit-bulk"
                       ).returncode == 0
    elif command == "delete":
        assert cli(stack, audit_file, "set", AGENTS_STORE, "audit:each", "1").returncode == 0
    elif command == "import":
        records = [{"id": f"{AGENTS_APP}||audit:import:{i}", "partitionKey": "audit-import", "isBinary": False,
                    "value": {"i": i}, "ttl": None} for i in range(2)]
        audit_file.path.parent.mkdir(parents=True, exist_ok=True)
        (audit_file.path.parent / "export.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    before = len(audit_file.read().records)
    args, lines = CLI_WRITES[command]
    args = [a.replace("{file}", str(audit_file.path.parent / "export.jsonl")) for a in args]
    result = cli(stack, audit_file, *args)
    assert result.returncode == 0, result.stderr
    records = audit_file.read().records[before:]
    assert len(records) == lines and {r.outcome for r in records} == {"done"}


def test_a_cli_save_leaves_one_line_saying_who_what_and_the_etags(stack, cosmos, audit_file):
    before = item(cosmos, f"{AGENTS_APP}||agent:planner", "gpt4")
    result = cli(stack, audit_file, "set", AGENTS_STORE, "agent:planner", '{"model": "audited"}', "--ttl", "3600")
    assert result.returncode == 0, result.stderr
    after = item(cosmos, f"{AGENTS_APP}||agent:planner", "gpt4")
    [record] = audit_file.read().records
    assert (record.store, record.operation, record.key, record.partition_key, record.outcome) == (
        AGENTS_STORE, "save", "agent:planner", "gpt4", "done")
    assert (record.etag_before, record.etag_after) == (before["_etag"], after["_etag"])
    assert (record.ttl_choice, record.ttl_in_seconds) == ("3600", "3600") and after["ttl"] == 3600
    assert record.user and record.host and record.identity in (None, "account key")
    assert '+  "model": "audited"' in record.diff and record.value_after.bytes == len(b'{"model":"audited"}')
    assert os.stat(audit_file.path).st_mode & 0o077 == 0, "readable by its user only"


def test_create_delete_conflict_and_refusal_each_leave_their_line(stack, cosmos, audit_file):
    assert cli(stack, audit_file, "set", AGENTS_STORE, "audit:new", "[1, 2]").returncode == 0
    assert cli(stack, audit_file, "delete", AGENTS_STORE, "audit:new").returncode == 0
    conflict = cli(stack, audit_file, "set", AGENTS_STORE, "agent:reviewer", "{}", "--etag", '"not-its-etag"')
    assert conflict.returncode == 4, conflict.stderr
    workflow_key = "dapr.internal.default.order-processor.workflow||order-1||metadata"
    refused = cli(stack, audit_file, "delete", AGENTS_STORE, workflow_key, "--partition", "x")
    records = audit_file.read().records
    assert [(r.operation, r.key, r.outcome) for r in records[:3]] == [
        ("create", "audit:new", "done"), ("delete", "audit:new", "done"), ("save", "agent:reviewer", "conflict")]
    assert records[0].value_before.sha256 is None and records[1].value_after.sha256 is None
    assert records[1].value_before.sha256 == records[0].value_after.sha256
    assert "etag" in records[2].error and records[2].etag_after is None
    # The workflow key does not exist: refused or not found before any write is decided — no line.
    assert refused.returncode != 0 and len(records) == 3


def test_read_only_never_writes_or_creates_the_log(stack, cosmos, audit_file):
    before = every_etag(cosmos)
    for command in ["set", AGENTS_STORE, "agent:planner", "{}"], ["delete", AGENTS_STORE, "agent:planner"]:
        assert cli(stack, audit_file, "--read-only", *command).returncode == 5
    browse = cli(stack, audit_file, "--read-only", "keys", AGENTS_STORE, "--partition", "gpt4")
    assert browse.returncode == 0 and not audit_file.path.exists() and not audit_file.path.parent.exists()
    assert every_etag(cosmos) == before


def test_a_log_that_cannot_be_written_stops_the_write_before_anything_is_sent(stack, cosmos, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    before = item(cosmos, f"{AGENTS_APP}||agent:planner", "gpt4")
    result = cli(stack, AuditLog(blocker / "audit.jsonl"), "set", AGENTS_STORE, "agent:planner", '{"x": 1}')
    assert result.returncode == 1 and "audit log" in result.stderr and "nothing was sent" in result.stderr
    assert item(cosmos, f"{AGENTS_APP}||agent:planner", "gpt4")["_etag"] == before["_etag"]


def test_the_audit_command_lists_filters_and_prints_json(stack, audit_file):
    assert cli(stack, audit_file, "set", AGENTS_STORE, "audit:listed", '"v"').returncode == 0
    env = dict(os.environ, DAPR_EXPLORER_AUDIT_LOG=str(audit_file.path))
    for argv in (["--json", "audit", "--since", "1h"], ["audit", "--json", "--store", AGENTS_STORE]):
        result = run_cli(argv, env)
        assert result.returncode == 0, result.stderr
        [line] = result.stdout.splitlines()
        assert orjson.loads(line)["key"] == "audit:listed"
    human = run_cli(["audit", "--diff"], env)
    assert human.returncode == 0 and "audit:listed" in human.stdout and '+"v"' in human.stdout
    assert run_cli(["audit", "--store", "other"], env).stdout.strip() == ""
    assert run_cli(["audit", "--since", "last tuesday"], env).returncode == 2
    cli(stack, audit_file, "delete", AGENTS_STORE, "audit:listed")


async def test_tui_save_and_delete_each_leave_one_line(stack, cosmos, audit_file):
    paths = [stack.resources_path]
    addresses = [s.grpc_address for s in stack.sidecars.values()]
    with stack_env(stack):
        os.environ["DAPR_EXPLORER_AUDIT_LOG"] = str(audit_file.path)
        app = ExplorerApp(load_components(paths), paths, addresses)
        async with app.run_test(size=(100, 30)) as pilot:
            await browse_to(pilot, AGENTS_STORE, "claude")
            editor = await open_key(pilot, "agent:reviewer")
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"audited": "tui"}'
            await save_through_dialog(pilot)
            await until(pilot, lambda: editor.saved_etags, "the save")
            await pilot.press("d")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDelete", "the delete confirmation")
            await pilot.press("y")
            await until(pilot, lambda: len(audit_file.read().records) == 2, "the delete's line")
            await until(pilot, lambda: type(app.screen).__name__ == "Browser", "back to the browser")
            await pilot.press("L")
            await until(pilot, lambda: type(app.screen).__name__ == "AuditView" and len(app.screen.records) == 2,
                        "the audit view with both writes")
            view = app.screen
            table = view.query_one("#audit-table")
            rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
            assert [(r[1], r[2], r[4]) for r in rows] == [("delete", "agent:reviewer", "done"),
                                                        ("save", "agent:reviewer", "done")]  # newest first
            await pilot.press("down")
            shown_detail = str(view.query_one("#audit-detail").render())
            assert '+  "audited": "tui"' in shown_detail and "identity" in shown_detail
    save, delete = audit_file.read().records
    assert (save.operation, save.key, save.outcome, save.etag_after) == ("save", "agent:reviewer", "done",
                                                                        editor.saved_etags[-1])
    assert (delete.operation, delete.etag_before, delete.outcome) == ("delete", save.etag_after, "done")


SEED_WRITES: dict[str, int] = {}


def state_write_calls(stack) -> int:
    """State writes every daprd of `stack` logged (--enable-api-logging): gRPC SaveState/DeleteState/
    ExecuteStateTransaction (a delete is a one-delete transaction) and the HTTP state API's POST/DELETE."""
    pattern = (r'method="?(?:/dapr\.proto\.runtime\.v1\.Dapr/(?:SaveState|DeleteState|ExecuteStateTransaction)'
               r'|(?:POST|DELETE) /v1\.0/state/)')
    return sum(len(re.findall(pattern, log.read_text())) for log in stack.run_dir.glob("daprd-*.log"))


def test_daprd_sent_no_state_write_the_audit_log_lacks(stack):
    """Last in this module: every SaveState/DeleteState daprd logged has an audit line (a conflict
    reaches daprd too); the seed's own writes, made before any test, are counted out."""
    lines = [r for log in WRITTEN for r in log.read().records if r.outcome in ("done", "conflict", "unverified")]
    assert lines, "no write was made: nothing to hold against daprd"
    assert state_write_calls(stack) - SEED_WRITES["calls"] == len(lines)
