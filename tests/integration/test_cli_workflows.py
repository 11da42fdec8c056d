"""`dapr-explorer workflows` and `workflow` against the session's real stack: instances the real
workflow app left (explorer/localstack/apps/workflow_app.py, run by daprd 1.18.2 with placement and
scheduler), found by their metadata documents and decoded — as a user types the commands."""

from __future__ import annotations

import orjson
import pytest

from explorer.localstack.apps.workflow_app import SEEDED_INSTANCES
from explorer.localstack.seed import AGENT_RUNS, WORKFLOWS_STORE
from tests.support import REPO, no_traceback, run_cli

pytestmark = pytest.mark.integration


def cli(stack, *args: str):
    env = stack.client_env()
    for name in ("DAPR_GRPC_PORT", "DAPR_GRPC_ENDPOINT"):
        env.pop(name, None)
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--no-start-sidecar"], env)
    no_traceback(result)
    return result


def lines(text: str) -> list[dict]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def test_workflows_json_lists_every_seeded_instance_with_the_status_dapr_reached(stack):
    result = cli(stack, "workflows", WORKFLOWS_STORE, "--json")
    assert result.returncode == 0, result.stderr
    listed = {i["instance_id"]: i for i in lines(result.stdout)}
    for seeded in SEEDED_INSTANCES:
        assert listed[seeded.instance_id]["status"] == seeded.state, (seeded, listed.get(seeded.instance_id))
        for child in seeded.children:
            assert listed[child]["status"] == "COMPLETED" and listed[child]["parent_instance_id"] == seeded.instance_id
    assert all(i["name"] and i["created"] and i["history_length"] > 0 for i in listed.values())
    assert "instances" in result.stderr and "RU" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_status_filter_in_any_case_and_position_picks_the_failed_one(stack, where):
    args = ["workflows", WORKFLOWS_STORE, "--status", "Failed", "--json"]
    result = cli(stack, *(["--read-only", *args] if where == "before" else [*args, "--read-only"]))
    assert result.returncode == 0, result.stderr
    failed = [s.instance_id for s in SEEDED_INSTANCES if s.state == "FAILED"]
    failed += [r.instance_id for r in AGENT_RUNS if r.state == "FAILED"]  # the agents' runs are workflows of this store too
    assert sorted(i["instance_id"] for i in lines(result.stdout)) == sorted(failed)


def test_an_unknown_status_is_a_usage_error_naming_the_real_ones(stack):
    result = cli(stack, "workflows", WORKFLOWS_STORE, "--status", "stuck")
    assert result.returncode == 2 and "'stuck'" in result.stderr and "running" in result.stderr
    assert result.stdout == ""


def test_workflow_json_prints_the_failed_instance_then_its_events_with_the_activity_error(stack):
    failed = next(s for s in SEEDED_INSTANCES if s.state == "FAILED")
    result = cli(stack, "workflow", WORKFLOWS_STORE, failed.instance_id, "--json")
    assert result.returncode == 0, result.stderr
    head, *events = lines(result.stdout)
    assert head["instance"]["status"] == "FAILED" and head["instance"]["failure"]["message"]
    assert [e["sequence"] for e in events if e["part"] == "history"] == list(range(head["instance"]["history_length"]))
    assert not [e for e in events if e.get("error")], "every document daprd wrote decodes"
    types = [e["value"]["type"] for e in events if e["part"] == "history"]
    assert types.count("TaskFailed") >= 3, types  # retries exhausted: three attempts
    assert types[-1] == "ExecutionCompleted" or "ExecutionCompleted" in types
    failure = next(e["value"]["failure"] for e in events if e["part"] == "history" and e["value"]["type"] == "TaskFailed")
    assert failure["stack_trace"] and failure["message"]


def test_workflow_in_words_shows_why_it_failed_and_the_stack_trace(stack):
    failed = next(s for s in SEEDED_INSTANCES if s.state == "FAILED")
    result = cli(stack, "workflow", WORKFLOWS_STORE, failed.instance_id)
    assert result.returncode == 0, result.stderr
    assert "FAILED" in result.stdout.splitlines()[0]
    assert "failure:" in result.stdout and "Traceback" not in result.stderr
    assert "TaskFailed" in result.stdout and "input:" in result.stdout


def test_an_instance_that_is_not_there_exits_3_with_one_line(stack):
    result = cli(stack, "workflow", WORKFLOWS_STORE, "order-0000")
    assert result.returncode == 3 and "order-0000" in result.stderr and "workflows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_calls_a_store_holding_workflow_state_without_actorStateStore_an_error(stack, tmp_path):
    """The same container, described by a component file that lost `actorStateStore`: daprd would not
    run workflows on it, and the doctor says so (reading the real workflow state daprd wrote)."""
    source = (REPO / "components" / "statestore-workflows-cosmos.yaml").read_text()
    lines_kept, skip = [], 0
    for line in source.splitlines():
        if skip:
            skip -= 1
            continue
        if "name: actorStateStore" in line:
            skip = 1  # and its value line
            continue
        lines_kept.append(line)
    (tmp_path / "statestore-workflows-cosmos.yaml").write_text("\n".join(lines_kept) + "\n")
    (tmp_path / "local-secrets.yaml").write_text((REPO / "components" / "local-secrets.yaml").read_text())
    env = stack.client_env()
    result = run_cli(["doctor", WORKFLOWS_STORE, "--json", "--resources-path", str(tmp_path), "--no-start-sidecar"], env)
    no_traceback(result)
    findings = [f for f in lines(result.stdout) if f["code"] == "not-actor-state-store"]
    assert result.returncode == 1 and len(findings) == 1, result.stdout + result.stderr
    assert findings[0]["severity"] == "error" and "||metadata" in findings[0]["message"]
    healthy = cli(stack, "doctor", WORKFLOWS_STORE, "--json")
    assert "not-actor-state-store" not in healthy.stdout and "legacy-reminders" not in healthy.stdout
