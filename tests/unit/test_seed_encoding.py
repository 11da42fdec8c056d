"""What the seed asks of the apps (pure logic: the plans in explorer.localstack.apps, no stack):
every workflow state issue 10 names is seeded once under an id that reads well, the plain seed
keys are ones daprd's state API accepts, and `dapr-explorer stack` says what was left."""

import ast
from datetime import timedelta
from pathlib import Path

from explorer.dapr.daprd import DaprdPorts, daprd_argv
from explorer.localstack import seed
from explorer.localstack.apps import actor_app, workflow_app


def test_each_workflow_state_is_seeded_once_under_a_readable_order_id():
    instances = workflow_app.SEEDED_INSTANCES
    assert [i.instance_id for i in instances] == [f"order-{n}" for n in range(1001, 1007)]
    assert sorted(i.state for i in instances) == ["COMPLETED", "COMPLETED", "FAILED", "RUNNING", "RUNNING", "TERMINATED"]
    waits = {i.custom_status for i in instances if i.state == "RUNNING"}
    assert waits == {workflow_app.WAITING_FOR_PAYMENT, workflow_app.WAITING_FOR_DELIVERY_SLOT}
    [terminated] = [i for i in instances if i.terminate]
    assert terminated.state == "TERMINATED" and terminated.custom_status == workflow_app.WAITING_FOR_PAYMENT
    [parent] = [i for i in instances if i.children]
    assert parent.children == (f"{parent.instance_id}-shipment",)


def test_only_the_failed_order_pays_with_the_declined_card_and_its_retries_are_short():
    declined = [i.instance_id for i in workflow_app.SEEDED_INSTANCES if i.input["card"] == workflow_app.DECLINED_CARD]
    assert declined == ["order-1002"]
    retry = workflow_app.CHARGE_RETRY
    assert retry.max_number_of_attempts == 3 and retry.first_retry_interval == timedelta(seconds=1)
    assert workflow_app.DELIVERY_SLOT_WAIT >= timedelta(days=1)


def test_every_seeded_instance_names_a_registered_workflow():
    names = {w.__name__ for w in workflow_app.WORKFLOWS}
    assert {i.workflow for i in workflow_app.SEEDED_INSTANCES} <= names


def test_actor_calls_name_methods_the_actors_have():
    hosted = {cls.__name__: cls for cls in actor_app.ACTORS}
    for call in actor_app.SEEDED_CALLS:
        interface = next(base for base in hosted[call.actor_type].__mro__ if base.__name__.endswith("Interface"))
        names = {getattr(v, "__actormethod__", None) for v in vars(interface).values()}
        assert call.method in names, call
    assert {(c.actor_type, c.actor_id) for c in actor_app.SEEDED_CALLS} == {
        ("CartActor", "cart-42"), ("CartActor", "cart-77"), ("InventoryActor", "sku-A-1"), ("InventoryActor", "sku-B-7")}


def test_plain_seed_keys_never_contain_double_pipe():
    for write in seed.cache_writes() + seed.order_writes():
        assert "||" not in write.key


def test_a_daprd_with_an_app_calls_it_on_loopback_over_http(tmp_path):
    argv = daprd_argv(tmp_path / "daprd", "cart-service", [tmp_path], DaprdPorts(1, 2, 3, 4), app_port=5)
    assert argv[argv.index("--app-port") + 1] == "5"
    assert argv[argv.index("--app-channel-address") + 1] == "127.0.0.1"
    assert argv[argv.index("--app-protocol") + 1] == "http"
    assert "--app-port" not in daprd_argv(tmp_path / "daprd", "x", [tmp_path], DaprdPorts(1, 2, 3, 4))


def test_the_stack_command_says_which_instances_the_apps_left_or_that_there_are_none():
    from explorer.cli.commands.stack import _seed_summary

    summary = seed.SeedSummary(23, 7, (("order-1001", "COMPLETED"), ("order-1002", "FAILED")), 0, 2.3)
    said = _seed_summary(summary, apps=True)
    assert said.startswith("seeded 23 keys through daprd, 7 actor state keys")
    assert "2 workflow instances written by daprd from the apps (order-1001 completed, order-1002 failed)" in said
    assert said.endswith(" in 2.3s")
    assert "dapr-agents" not in said
    agents = seed.SeedSummary(13, 7, (("order-1001", "COMPLETED"),), 0, 4.0, ("Weather Bot", "Flight Desk"),
                              (("weather-0001", "COMPLETED"), ("trip-0002", "RUNNING"), ("flight-0001", "FAILED")))
    assert ("; dapr-agents registered Weather Bot, Flight Desk and ran 3 runs (weather-0001 completed, "
            "trip-0002 running, flight-0001 failed) in 4.0s") in _seed_summary(agents, apps=True)
    quick = _seed_summary(seed.SeedSummary(23, 0, (), 1000, 0.1), apps=False)
    assert quick == "seeded 23 keys through daprd (--no-apps: no actor, workflow or agent state), 1000 bench keys in 0.1s"


def test_the_agent_runs_leave_every_state_once_under_lower_case_ids_of_agents_the_app_builds():
    """dapr-agents lower-cases the workflow entry key ({agent}:_workflow_{instance}), so an id with
    capitals would name its entry differently; the seed and stack/agents/app.py agree on the team, the
    store and the agents (the app runs in another venv: its constants are read from its source)."""
    runs = seed.AGENT_RUNS
    assert all(r.instance_id == r.instance_id.lower() for r in runs)
    assert len({r.instance_id for r in runs}) == len(runs)
    assert sorted({r.state for r in runs}) == ["COMPLETED", "FAILED", "RUNNING"]
    assert [r.state for r in runs].count("FAILED") == 1 and [r.state for r in runs].count("RUNNING") == 1
    source = (Path(__file__).resolve().parents[2] / "stack" / "agents" / "app.py").read_text()
    constants = {node.targets[0].id: node.value.value for node in ast.parse(source).body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}
    assert constants["TEAM"] == seed.AGENTS_TEAM and constants["STATE_STORE"] == seed.STATE_STORE_OF_AGENTS
    assert constants["REGISTRY_STORE"] == seed.AGENTS_STORE
    built = {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.keyword) and node.arg == "name"
             for node in [node.value] if isinstance(node, ast.Constant)}
    assert {r.agent for r in runs} <= built
