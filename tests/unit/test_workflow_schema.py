"""The schema table in explorer.core.workflows matches the schema the pinned daprd really uses.

daprd 1.18.2 is built with the durabletask-go version stack/daprd/go.mod pins; each of that module's
generated `api/protos/*.pb.go` files carries `file_<x>_proto_rawDesc`, the serialized
FileDescriptorProto protoc compiled it from. This test reads those bytes from the Go module cache
(downloading the module through the Go module proxy when the cache lacks it), and compares every
message, field number, name, type, label and oneof the table knows — and every field those messages
have that the table does not know, and every enum value — failing with a list of what differs.
google.protobuf is used here only to read descriptors; the module under test never imports it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, timestamp_pb2, wrappers_pb2

from explorer.core.workflows.schema import ENUMS, MESSAGES, PART_MESSAGES, SCHEMA_MODULE, SCHEMA_VERSION, FieldSpec
from tests.support import REPO

T = descriptor_pb2.FieldDescriptorProto
KINDS = {
    T.TYPE_STRING: "string", T.TYPE_BYTES: "bytes", T.TYPE_BOOL: "bool", T.TYPE_INT32: "int32",
    T.TYPE_UINT32: "uint32", T.TYPE_INT64: "int64", T.TYPE_UINT64: "uint64", T.TYPE_ENUM: "enum",
    T.TYPE_MESSAGE: "message",
}
BACKEND_PACKAGE = "durabletask.protos.backend.v1."
RAW_DESC = re.compile(r"var file_\w+_rawDesc = \[\]byte\{(.*?)\n\}", re.S)


def _go(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["go", *args], capture_output=True, text=True, timeout=300, cwd=REPO)


@lru_cache(maxsize=1)
def _module_dir() -> Path:
    if shutil.which("go") is None:
        pytest.skip("the Go toolchain is not on PATH (needed to find the pinned durabletask-go module)")
    cache = Path(_go("env", "GOMODCACHE").stdout.strip())
    directory = cache / f"{SCHEMA_MODULE}@{SCHEMA_VERSION}"
    if not directory.is_dir():
        download = _go("mod", "download", "-json", f"{SCHEMA_MODULE}@{SCHEMA_VERSION}")
        info = json.loads(download.stdout or "{}")
        assert not info.get("Error") and download.returncode == 0, f"go mod download failed: {download.stdout}{download.stderr}"
        directory = Path(info["Dir"])
    return directory


@lru_cache(maxsize=1)
def pinned_schema() -> tuple[dict[str, descriptor_pb2.DescriptorProto], dict[str, descriptor_pb2.EnumDescriptorProto]]:
    """Every message and enum of the pinned module's protos, by name as the table writes it."""
    messages: dict[str, descriptor_pb2.DescriptorProto] = {}
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
    files = sorted((_module_dir() / "api" / "protos").glob("*.pb.go"))
    found = 0
    for path in files:
        match = RAW_DESC.search(path.read_text())
        if match is None:
            continue
        found += 1
        data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})", match.group(1)))
        descriptor = descriptor_pb2.FileDescriptorProto.FromString(data)

        def walk(message: descriptor_pb2.DescriptorProto, prefix: str) -> None:
            messages[prefix + message.name] = message
            for nested in message.nested_type:
                walk(nested, prefix + message.name + ".")
            for nested_enum in message.enum_type:
                enums[prefix + message.name + "." + nested_enum.name] = nested_enum

        for message in descriptor.message_type:
            walk(message, "")
        for enum_type in descriptor.enum_type:
            enums[enum_type.name] = enum_type
    assert found >= 5, f"expected rawDesc byte slices in {len(files)} .pb.go files; found {found} (format changed?)"
    for well_known in (timestamp_pb2.Timestamp, wrappers_pb2.StringValue):
        proto = descriptor_pb2.DescriptorProto()
        well_known.DESCRIPTOR.CopyToProto(proto)
        messages[well_known.DESCRIPTOR.full_name] = proto
    return messages, enums


def _short(type_name: str) -> str:
    return type_name.lstrip(".").removeprefix(BACKEND_PACKAGE)


def table_differences(table: dict = MESSAGES, enum_table: dict = ENUMS) -> list[str]:
    """What the table says that the pinned descriptors do not, one line each naming the message and field."""
    messages, enums = pinned_schema()
    differences: list[str] = []
    for name, fields in table.items():
        descriptor = messages.get(name)
        if descriptor is None:
            differences.append(f"{name}: no such message in {SCHEMA_MODULE}@{SCHEMA_VERSION}")
            continue
        pinned = {field.number: field for field in descriptor.field}
        for number, spec in fields.items():
            field = pinned.get(number)
            if field is None:
                differences.append(f"{name}.{spec.name} (#{number}): no field #{number} in the pinned schema")
                continue
            oneof = (descriptor.oneof_decl[field.oneof_index].name
                     if field.HasField("oneof_index") and not field.proto3_optional else None)
            expected = (field.name, KINDS.get(field.type, f"type {field.type}"),
                        _short(field.type_name) if field.type_name else None, field.label == T.LABEL_REPEATED, oneof)
            actual = (spec.name, spec.kind, spec.of, spec.repeated, spec.oneof)
            if actual != expected:
                differences.append(f"{name} #{number}: table says {actual}, pinned schema says {expected}")
        for number, field in pinned.items():
            if number not in fields:
                differences.append(f"{name}.{field.name} (#{number}): in the pinned schema, missing from the table")
    for name, values in enum_table.items():
        descriptor = enums.get(name)
        pinned_values = {value.number: value.name for value in descriptor.value} if descriptor else None
        if pinned_values != values:
            differences.append(f"enum {name}: table says {values}, pinned schema says {pinned_values}")
    return differences


def test_the_pinned_module_is_the_one_stack_daprd_builds_with():
    go_mod = (REPO / "stack" / "daprd" / "go.mod").read_text()
    pinned = re.search(rf"^\s*{re.escape(SCHEMA_MODULE)}\s+(\S+)", go_mod, re.M)
    assert pinned is not None, f"stack/daprd/go.mod no longer requires {SCHEMA_MODULE}"
    assert pinned.group(1) == SCHEMA_VERSION, (
        f"daprd now builds with {SCHEMA_MODULE} {pinned.group(1)}; the workflow schema table follows "
        f"{SCHEMA_VERSION}: update SCHEMA_VERSION and let this module's other tests say what changed"
    )


def test_every_message_field_and_enum_of_the_table_matches_the_pinned_descriptors():
    differences = table_differences()
    assert not differences, "the workflow schema table differs from the pinned schema:\n" + "\n".join(differences)


def test_every_history_event_type_of_the_pinned_schema_is_in_the_table():
    messages, _ = pinned_schema()
    pinned = {field.number: field.name for field in messages["HistoryEvent"].field if field.HasField("oneof_index")
              and messages["HistoryEvent"].oneof_decl[field.oneof_index].name == "eventType"}
    table = {number: spec.name for number, spec in MESSAGES["HistoryEvent"].items() if spec.oneof == "eventType"}
    assert table == pinned
    assert len(table) == 20  # numbers 3–17, 20–22, 31, 32 as of this pin


def test_every_message_and_enum_the_table_refers_to_is_in_it():
    referred = {(spec.kind, spec.of) for fields in MESSAGES.values() for spec in fields.values() if spec.of}
    missing = [f"{kind} {name}" for kind, name in referred
               if (kind == "message" and name not in MESSAGES) or (kind == "enum" and name not in ENUMS)]
    assert not missing
    assert set(PART_MESSAGES.values()) <= set(MESSAGES)


def test_a_table_that_drifts_from_the_schema_is_told_apart_by_name():
    """The check names the message and field that differ (here: a field number, a type and an enum value)."""
    drifted = dict(MESSAGES)
    drifted["TaskScheduledEvent"] = {**MESSAGES["TaskScheduledEvent"], 9: FieldSpec("name", "string")}
    drifted["TimerFiredEvent"] = {1: MESSAGES["TimerFiredEvent"][1], 2: FieldSpec("timerId", "uint64")}
    enums = {**ENUMS, "StalledReason": {0: "PATCH_MISMATCH"}}
    differences = table_differences(drifted, enums)
    assert any(line.startswith("TaskScheduledEvent.name (#9): no field #9") for line in differences), differences
    assert any(line.startswith("TimerFiredEvent #2: table says ('timerId', 'uint64'") for line in differences), differences
    assert any(line.startswith("enum StalledReason:") for line in differences), differences
    assert len(differences) == 3, differences


PURITY_PROBE = """
import sys
import explorer.core.workflows.decode, explorer.core.workflows.summary, explorer.core.workflows.protowire
print(",".join(sorted({m.split(".")[0] + ("." + m.split(".")[1] if m.startswith("google.") else "")
                       for m in sys.modules if m.split(".")[0] in ("google", "dapr", "grpc", "azure", "textual")})))
"""


def test_the_decoder_imports_no_protobuf_runtime_nor_any_sdk():
    """The table and wire reader are all the decoder needs: a fresh interpreter that imports it has
    loaded no google.protobuf, dapr, grpc, azure or textual module."""
    result = subprocess.run([sys.executable, "-c", PURITY_PROBE], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"loaded by explorer.core.workflows: {result.stdout.strip()}"
