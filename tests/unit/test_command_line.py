"""Global options mean the same before and after the subcommand (pure: argparse only).

Once `dapr-explorer --read-only delete S K` dropped `--read-only` (the subparser's default
overwrote it) and deleted the key; these tests fail on that parser."""

from __future__ import annotations

import itertools

import pytest

from explorer.cli.parser import parse_args

WRITES = [["set", "S", "K", "{}"], ["delete", "S", "K"]]
EVERY = WRITES + [["get", "S", "K"], ["stores"], ["doctor"], ["partitions", "S"], ["keys", "S", "--partition", "p"],
                  ["export", "S"], ["demo"], ["stack"]]
FLAGS = ["--read-only", "--json", "--no-start-sidecar"]


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c[0])
@pytest.mark.parametrize("flag", FLAGS)
def test_a_flag_before_or_after_the_subcommand_is_on(command, flag):
    dest = flag.lstrip("-").replace("-", "_")
    assert getattr(parse_args([flag, *command]), dest) is True
    assert getattr(parse_args([*command, flag]), dest) is True
    assert getattr(parse_args(command), dest) is False


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c[0])
def test_repeatable_options_are_joined_from_both_sides(command):
    args = parse_args(["--resources-path", "a", "--dapr-grpc-port", "5001", *command,
                       "--resources-path", "b", "--dapr-grpc-port", "5002"])
    assert args.resources_path == ["a", "b"]
    assert args.dapr_grpc_port == [5001, 5002]


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c[0])
def test_single_value_options_given_before_are_kept(command):
    before = parse_args(["--cosmos-ca-file", "ca.pem", "--daprd", "/bin/daprd", *command])
    after = parse_args([*command, "--cosmos-ca-file", "ca.pem", "--daprd", "/bin/daprd"])
    for args in (before, after):
        assert args.cosmos_ca_file == "ca.pem" and args.daprd == "/bin/daprd"


def test_every_position_gives_the_same_namespace():
    options = [["--read-only"], ["--json"], ["--resources-path", "dir"], ["--dapr-grpc-port", "5001"]]
    command = ["delete", "S", "K", "--etag", "E"]
    seen = set()
    for before in itertools.product([True, False], repeat=len(options)):
        head = [word for option, first in zip(options, before) if first for word in option]
        tail = [word for option, first in zip(options, before) if not first for word in option]
        seen.add(repr(sorted(vars(parse_args([*head, *command, *tail])).items())))
    assert len(seen) == 1, seen


def test_doctor_takes_store_names():
    assert parse_args(["doctor", "a", "b"]).stores == ["a", "b"]
    assert parse_args(["doctor"]).stores == []


@pytest.mark.parametrize("argv", [["--dapr-grpc-port", "x", "stores"], ["stores", "--dapr-grpc-port", "70000"],
                                  ["keys", "S", "--partition", "p", "--page-size", "0"]])
def test_bad_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
