"""Dapr workflow state as stored in the actor state store: what each part says.

Decodes the protobuf values Dapr's workflow engine saves under
`<app>||dapr.internal.<ns>.<app>.workflow||<instance>||<part>` (history and
inbox events, metadata, custom status, and the 1.18 signing parts) into
values a screen can show, and derives an instance's runtime status from its
history the way durabletask does. Pure logic: it must never do I/O
(no network, no files, no clock), never import dapr, grpc, azure, textual or
google.protobuf, and never drop what it does not know: unknown fields and
event types are kept, in order, and shown; bytes that do not decode become an
error text beside the raw bytes, never an exception out of
`decode_workflow_part`.

The schema is a table of our own (`schema`: `MESSAGES`, `ENUMS`), read with the
schema-less wire reader in `protowire`; `decode` turns a part's bytes into the values
a screen shows (`values`), `summary` one instance as a list shows it. The table follows
durabletask-go v0.12.2-0.20260720132056-79042da5fe61 (`api/protos/*.pb.go`), the module the
pinned daprd 1.18.2 is built with; tests/unit/test_workflow_schema.py checks
it field by field against that module's own descriptors. docs/workflow-decoding.md
says why a table and not generated `*_pb2` modules.
"""
