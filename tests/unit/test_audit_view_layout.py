"""The TUI's audit view as a person reads it at 80 and 100 columns, over a real audit log file (the view
reads only the file: no store, sidecar or server is involved): every column keeps a readable width,
long keys, partitions and store names are cut with …, and store text never reaches the screen raw."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from explorer.session.audit_log import AuditLog
from explorer.core.audit import AuditRecord, ValueFacts
from explorer.tui.screens.audit import AuditView, fitted_widths
from tests.support import screen_lines, screen_raw_controls


def record(key: str, partition: str, store: str = "statestore-orders-cosmos", outcome: str = "done") -> AuditRecord:
    return AuditRecord(time="2026-12-07T22:00:00.000Z", user="ops", host="box", context=None, identity=None,
                       store=store, operation="save", key=key, doc_id=f"app||{key}", app_id="app", partition_key=partition,
                       etag_before=None, etag_after='"e1"', ttl_in_seconds=None, ttl_choice=None, outcome=outcome,
                       error=None, value_before=ValueFacts.of(None), value_after=ValueFacts.of(b"{}"),
                       diff="+{\n+  \"v\": \"\\u001b[2J\"\n+}")


def write_log(path: Path) -> AuditLog:
    log = AuditLog(path)
    log.append(record("orders/" + "x" * 150, "app||orders/" + "x" * 150))
    log.append(record("t\x1b]0;owned\x07\u202e\nfake", "pk\u009b2J", outcome="failed"))
    log.append(record("short", "p", store="s"))
    return log


class AuditApp(App):
    def __init__(self, log: AuditLog) -> None:
        super().__init__()
        self.log_file = log

    def on_mount(self) -> None:
        self.push_screen(AuditView(self.log_file))


@pytest.mark.parametrize("width", [80, 100])
async def test_the_audit_view_keeps_its_columns_readable(tmp_path, width):
    app = AuditApp(write_log(tmp_path / "audit.jsonl"))
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause(0.3)
        table = app.screen.query_one("#audit-table")
        widths = {c.label.plain: c.get_render_width(table) for c in table.columns.values()}
        assert sum(widths.values()) <= width, widths
        assert widths["Time (UTC)"] >= 21 and widths["Write"] >= 7 and widths["Outcome"] >= 9, widths
        assert min(widths["Key"], widths["Partition"], widths["Store"]) >= 12, widths
        lines = screen_lines(app)
        header = next(line for line in lines if "Time (UTC)" in line)
        assert all(title in header for title in ("Write", "Key", "Partition", "Outcome", "Store")), header
        long_row = next(line for line in lines if "orders/xx" in line)
        assert "…" in long_row and "done" in long_row, long_row
        assert any("2026-12-07 22:00:00" in line and "failed" in line for line in lines)


async def test_the_audit_view_shows_hostile_names_visibly(tmp_path):
    app = AuditApp(write_log(tmp_path / "audit.jsonl"))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.3)
        table = app.screen.query_one("#audit-table")
        table.move_cursor(row=1)
        await pilot.pause(0.2)
        count, first = screen_raw_controls(app)
        assert count == 0, first
        lines = screen_lines(app)
        assert not any(line.strip().startswith("fake") for line in lines), "\n".join(lines)
        assert any("t\\x1b]0;owned\\x07\\u202e⏎fake" in line for line in lines), "\n".join(lines)


def test_fitted_widths_give_the_rest_to_the_columns_still_cut():
    assert fitted_widths(200, [20, 10, 24]) == [20, 10, 24]  # everything fits: natural widths
    cut = fitted_widths(80, [157, 162, 24])
    assert sum(cut) <= 80 - 42 - 6 and min(cut) >= 10 and cut[0] >= cut[1]
    assert fitted_widths(100, [157, 5, 1])[0] > 40  # a short partition and store leave their share to the key


def test_the_audit_command_prints_hostile_names_visibly(tmp_path):
    """`dapr-explorer audit` (it reads the log alone: no store) over the same file, human and --json."""
    import json
    import os

    from tests.support import raw_controls, run_cli

    write_log(tmp_path / "audit.jsonl")
    env = {**os.environ, "DAPR_EXPLORER_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "COLUMNS": "300"}
    for argv in (["audit", "--diff"], ["--json", "audit"]):
        result = run_cli(argv, env)
        assert result.returncode == 0, result.stderr
        assert raw_controls(result.stdout + result.stderr) == 0, result.stdout
        assert "Traceback" not in result.stderr
    human = run_cli(["audit"], env).stdout
    assert "t\\x1b]0;owned\\x07\\u202e⏎fake" in human and "pk\\x9b2J" in human
    assert not any(line.startswith("fake") for line in human.splitlines())
    records = [json.loads(line) for line in run_cli(["--json", "audit"], env).stdout.splitlines()]
    assert records[1]["key"] == "t\x1b]0;owned\x07\u202e\nfake"
