"""Matching component files with sidecar metadata (pure logic; metadata built by hand)."""

from pathlib import Path

from explorer.components.files import parse_components
from explorer.dapr.sidecar import RegisteredStore, SidecarMetadata
from explorer.session.stores import match_stores

FILE = """
kind: Component
metadata: {name: a}
spec:
  type: state.azure.cosmosdb
  metadata: [{name: database, value: d}, {name: collection, value: c}]
"""


def test_either_side_alone_and_both_matched():
    comps = parse_components(FILE, Path("a.yaml"))
    sidecar = SidecarMetadata("app1", "1.18.2", (RegisteredStore("a", "state.azure.cosmosdb", "v1", ("ETAG",)),
                                                  RegisteredStore("mem", "state.in-memory", "v1", ())))
    rows = {r.name: r for r in match_stores(comps, [sidecar])}
    assert rows["a"].owner == "app1" and rows["a"].location == "d/c" and rows["a"].capabilities == ("ETAG",)
    assert rows["mem"].declared_in is None and rows["mem"].owner == "app1"
    alone = match_stores(comps, [])
    assert alone[0].owner == "no sidecar"
