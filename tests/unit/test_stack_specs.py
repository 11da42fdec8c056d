"""Container specs the local stack derives from the component files (pure logic)."""

from pathlib import Path

from explorer.components.files import load_components
from explorer.localstack.specs import ContainerSpec, container_specs

REPO = Path(__file__).resolve().parents[2]


def test_specs_follow_the_component_files():
    specs = {s.store: s for s in container_specs(load_components([REPO / "components"]))}
    assert specs == {
        "statestore-workflows-cosmos": ContainerSpec("statestore-workflows-cosmos", "dapr-workflows", "workflow-state", None),
        "statestore-agents-cosmos": ContainerSpec("statestore-agents-cosmos", "dapr-agents", "agent-registry", None),
        "statestore-cache-cosmos": ContainerSpec("statestore-cache-cosmos", "dapr-cache", "session-cache", -1),
    }
