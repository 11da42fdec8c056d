"""The local stack with `actors=True`: Dapr's placement and scheduler (real binaries, built from the
same modules as daprd) run on loopback beside the server, every daprd connects to both, and stopping
the stack leaves no process and no open port. A cached build of the services needs no Go. With
`apps=True` the workflow and actor apps run too, on loopback, and stop with the stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from explorer.dapr.daprd import DaprdPorts, daprd_argv
from explorer.errors import StackError
from explorer.localstack import app_processes, manager
from explorer.localstack.installs import find_dapr_services
from explorer.localstack.manager import LocalStack
from explorer.localstack.apps import ACTOR_APP_ID as ACTORS_APP
from explorer.localstack.apps import WORKFLOW_APP_ID as WORKFLOWS_APP
from explorer.resources import build_dapr_services_script

from .test_stack_lifecycle import port_open, wait_dead

pytestmark = pytest.mark.integration

APPS = ("runtime-a", "runtime-b")


def metadata(http_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v1.0/metadata", timeout=5) as response:
        return json.load(response)


def connected(meta: dict, scheduler_address: str) -> bool:
    """Dapr 1.18's metadata: actorRuntime {runtimeStatus, hostReady, placement}, scheduler {connected_addresses}."""
    actors = meta.get("actorRuntime") or {}
    scheduler = meta.get("scheduler") or {}
    return (actors.get("runtimeStatus") == "RUNNING" and actors.get("placement") == "placement: connected"
            and scheduler_address in (scheduler.get("connected_addresses") or scheduler.get("connectedAddresses") or []))


def listening(pid: int) -> set[tuple[str, int]]:
    """The (address, port) pairs process `pid` listens on over TCP (IPv4 and IPv6), read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            if width == 8:
                host = ".".join(str(b) for b in reversed(bytes.fromhex(address)))
            else:
                host = "::1" if address == "0" * 24 + "01000000" else ("::" if set(address) == {"0"} else address)
            found.add((host, int(port, 16)))
    return found


def test_actors_stack_runs_placement_and_scheduler_connects_every_sidecar_and_leaves_nothing(tmp_path):
    started = time.monotonic()
    stack = LocalStack(app_ids=APPS, run_dir=tmp_path, actors=True).start()
    try:
        print(f"start with actors=True: {time.monotonic() - started:.1f}s")
        assert stack.placement is not None and stack.scheduler is not None
        for service in (stack.placement, stack.scheduler):
            with urllib.request.urlopen(f"http://127.0.0.1:{service.healthz_port}/healthz", timeout=5) as response:
                assert response.status == 200, service.name
            assert (tmp_path / f"{service.name}.log").read_text().strip(), f"{service.name}'s log is in the run folder"
        for app_id in APPS:
            argv = stack.sidecars[app_id].process.argv
            assert argv[argv.index("--placement-host-address") + 1] == stack.placement.address
            assert argv[argv.index("--scheduler-host-address") + 1] == stack.scheduler.address

        seen: dict[str, dict] = {}

        def all_connected() -> bool:
            for app_id in APPS:
                seen[app_id] = metadata(stack.sidecars[app_id].http_port)
            return all(connected(seen[app_id], stack.scheduler.address) for app_id in APPS)

        deadline = time.monotonic() + 30
        while not all_connected() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all_connected(), json.dumps({a: {k: m.get(k) for k in ("actorRuntime", "scheduler")} for a, m in seen.items()})
        print(f"every daprd connected to placement and scheduler: {time.monotonic() - started:.1f}s after start()")
        for app_id in APPS:  # and their logs say so (daprd may log the stream a moment after metadata shows it)
            wanted = (f"Connected to placement service: {stack.placement.address}", "Scheduler stream connected")
            log_file, deadline = tmp_path / f"daprd-{app_id}.log", time.monotonic() + 15
            while not all(line in (log := log_file.read_text()) for line in wanted) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert wanted[0] in log, log[-3000:]
            assert wanted[1] in log, log[-3000:]

        pids = [p.pid for p in stack.processes()]
        assert len(pids) == len(APPS) + 3, "one server, placement, scheduler and a daprd per app"
        sockets = {pid: listening(pid) for pid in pids}
        ports = sorted({port for found in sockets.values() for _, port in found})
        not_loopback = {pid: sorted(a for a in found if a[0] not in ("127.0.0.1", "::1")) for pid, found in sockets.items()}
        assert {pid: found for pid, found in not_loopback.items() if found} == {}, "everything listens on loopback only"
        service_ports = sockets[stack.placement.process.pid] | sockets[stack.scheduler.process.pid]
        assert {stack.placement.port, stack.placement.healthz_port, stack.scheduler.port, stack.scheduler.healthz_port,
                stack.scheduler.etcd_client_port} <= {port for _, port in service_ports}
    finally:
        stack.stop()
    assert wait_dead(pids) == []
    assert [p for p in ports if port_open(p)] == []


def test_the_apps_run_beside_their_sidecars_on_loopback_and_stop_leaves_nothing(tmp_path):
    """apps=True: the workflow app beside order-processor's daprd, the actor app with a daprd of its own
    that calls it on --app-port; daprd reports the worker and the actor types; every listener of every
    process (the apps' too) is on loopback; their logs are in the run folder; stop() ends them all."""
    started = time.monotonic()
    stack = LocalStack(app_ids=(WORKFLOWS_APP,), run_dir=tmp_path, apps=True).start()
    try:
        print(f"start with apps=True: {time.monotonic() - started:.1f}s")
        assert stack.actors and set(stack.app_processes) == {WORKFLOWS_APP, ACTORS_APP}
        assert set(stack.sidecars) == {WORKFLOWS_APP, ACTORS_APP}
        workflow_meta = metadata(stack.sidecars[WORKFLOWS_APP].http_port)
        assert workflow_meta["workflows"]["connectedWorkers"] == 1
        actor_meta = metadata(stack.sidecars[ACTORS_APP].http_port)
        assert {a["type"] for a in actor_meta["actors"]} == {"CartActor", "InventoryActor"}
        app_port = stack.app_processes[ACTORS_APP].app_port
        assert actor_meta["appConnectionProperties"] == {"port": app_port, "protocol": "http", "channelAddress": "127.0.0.1"}
        argv = stack.sidecars[ACTORS_APP].process.argv
        assert argv[argv.index("--app-port") + 1] == str(app_port)
        assert "--app-port" not in stack.sidecars[WORKFLOWS_APP].process.argv
        for app_id in (WORKFLOWS_APP, ACTORS_APP):
            assert "READY" in (tmp_path / f"app-{app_id}.log").read_text()
        pids = [p.pid for p in stack.processes()]
        assert len(pids) == 2 + 2 + 3, "two apps, two daprd, server, placement, scheduler"
        sockets = {pid: listening(pid) for pid in pids}
        ports = sorted({port for found in sockets.values() for _, port in found})
        assert ("127.0.0.1", app_port) in sockets[stack.app_processes[ACTORS_APP].process.pid]
        not_loopback = {pid: sorted(a for a in found if a[0] not in ("127.0.0.1", "::1")) for pid, found in sockets.items()}
        assert {pid: found for pid, found in not_loopback.items() if found} == {}, "everything listens on loopback only"
    finally:
        stack.stop()
    assert wait_dead(pids) == []
    assert [p for p in ports if port_open(p)] == []


def test_an_app_that_dies_at_start_gives_an_error_naming_its_log_and_stops_everything(tmp_path, monkeypatch):
    monkeypatch.setitem(app_processes.APP_MODULES, ACTORS_APP, "explorer.localstack.apps.no_such_app")
    stack = LocalStack(app_ids=(WORKFLOWS_APP,), run_dir=tmp_path, apps=True)
    with pytest.raises(StackError) as info:
        stack.start()
    first = str(info.value).splitlines()[0]
    assert first == (f"the {ACTORS_APP} app exited during start-up (code 1). Its log ({tmp_path / f'app-{ACTORS_APP}.log'}) "
                     "ends:")
    assert "No module named explorer.localstack.apps.no_such_app" in str(info.value)
    assert wait_dead([p.pid for p in stack.processes()]) == []


def test_apps_need_the_workflow_apps_sidecar(tmp_path):
    with pytest.raises(StackError, match="add 'order-processor' to app_ids"):
        LocalStack(app_ids=("agent-registry",), run_dir=tmp_path, apps=True)


def test_without_actors_daprd_gets_no_placement_or_scheduler(tmp_path):
    """The default stays what it was: no services, empty addresses (the launcher's default)."""
    argv = daprd_argv(Path("daprd"), "app", [tmp_path], DaprdPorts(1, 2, 3, 4))
    assert argv[argv.index("--placement-host-address") + 1] == ""
    assert argv[argv.index("--scheduler-host-address") + 1] == ""
    stack = LocalStack(app_ids=("no-actors",), run_dir=tmp_path)
    assert stack.actors is False and stack.services() == []


def test_a_service_that_dies_at_start_gives_one_line_naming_its_log_and_stops_everything(tmp_path, monkeypatch):
    fake = tmp_path / "broken-scheduler"
    fake.write_text('#!/bin/sh\necho \'time="now" level=fatal msg="Fatal error running scheduler: broken on purpose"\'\nexit 1\n')
    fake.chmod(0o755)
    placement, _ = find_dapr_services()
    monkeypatch.setattr(manager, "find_dapr_services", lambda: (placement, fake))
    stack = LocalStack(app_ids=("never",), run_dir=tmp_path / "run", actors=True)
    with pytest.raises(StackError) as info:
        stack.start()
    message = str(info.value)
    assert "\n" not in message
    assert message == (f"Dapr's scheduler exited during start-up (code 1): Fatal error running scheduler: broken on purpose "
                       f"(its log: {tmp_path / 'run' / 'scheduler.log'})")
    assert stack.sidecars == {}, "no daprd starts without its services"
    assert wait_dead([p.pid for p in stack.processes()]) == []


def test_a_cached_build_of_placement_and_scheduler_needs_no_go(tmp_path):
    """The script hashes go.mod and go.sum, not where it is: a copy elsewhere (like the wheel's) with Go
    left off its PATH prints the same cached binaries (a rebuild would fail)."""
    cached = find_dapr_services()  # builds them once if this machine has none
    copy = tmp_path / "stack"
    (copy / "daprd").mkdir(parents=True)
    shutil.copy2(build_dapr_services_script(), copy / "build-dapr-services.sh")
    for name in ("go.mod", "go.sum"):
        shutil.copy2(build_dapr_services_script().parent / "daprd" / name, copy / "daprd" / name)
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname", "awk", "cat", "sha256sum", "cut"):
        (tools / tool).symlink_to(shutil.which(tool))
    started = time.monotonic()
    result = subprocess.run(["/bin/bash", str(copy / "build-dapr-services.sh")], capture_output=True, text=True,
                            env=dict(os.environ, PATH=str(tools)), timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert [Path(line) for line in result.stdout.splitlines()] == list(cached)
    assert time.monotonic() - started < 5
