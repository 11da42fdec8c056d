"""explorer.core.agents.schema.SCHEMAS follows dapr-agents 1.0.9's own pydantic models, field by field.

The table is ours (the explorer's venv cannot import dapr-agents: it pins dapr < 1.19). This test
asks the library itself, in the agents app's own venv (explorer.localstack.installs.agents_python),
for each model's fields — whether each is required and whether it may be null — and compares. It
runs where that venv is installed (the local stack installs it the first time it runs the agents
app); elsewhere it is skipped, never installed from a unit test.
"""

from __future__ import annotations

import json
import subprocess
from unittest import mock

import pytest

from explorer.core.agents.schema import SCHEMAS

#: Our model name → the library's class (module, name); StreamContext is a TypedDict(total=False).
MODELS = {
    "AgentMetadataSchema": ("dapr_agents.agents.configs", "AgentMetadataSchema"),
    "AgentMetadata": ("dapr_agents.agents.configs", "AgentMetadata"),
    "PubSubMetadata": ("dapr_agents.agents.configs", "PubSubMetadata"),
    "MemoryStoreMetadata": ("dapr_agents.agents.configs", "MemoryStoreMetadata"),
    "MemoryMetadata": ("dapr_agents.agents.configs", "MemoryMetadata"),
    "LLMMetadata": ("dapr_agents.agents.configs", "LLMMetadata"),
    "ToolMetadata": ("dapr_agents.agents.configs", "ToolMetadata"),
    "RegistryMetadata": ("dapr_agents.agents.configs", "RegistryMetadata"),
    "AgentWorkflowEntry": ("dapr_agents.agents.schemas", "AgentWorkflowEntry"),
    "AgentWorkflowMessage": ("dapr_agents.agents.schemas", "AgentWorkflowMessage"),
    "ApprovalRequiredEvent": ("dapr_agents.agents.schemas", "ApprovalRequiredEvent"),
    "ToolCall": ("dapr_agents.types.message", "ToolCall"),
    "FunctionCall": ("dapr_agents.types.message", "FunctionCall"),
    "ToolExecutionRecord": ("dapr_agents.types.tools", "ToolExecutionRecord"),
    "StreamContext": ("dapr_agents.streaming.keys", "StreamContextDict"),
}

ASK = """
import importlib, json, sys, typing
import dapr_agents
models = json.loads(sys.argv[1])
out = {"version": __import__("importlib.metadata").metadata.version("dapr-agents"), "models": {}}
for ours, (module, name) in models.items():
    cls = getattr(importlib.import_module(module), name)
    if hasattr(cls, "model_fields"):
        fields = {n: {"required": f.is_required(), "annotation": str(f.annotation)} for n, f in cls.model_fields.items()}
        fields.update({n: {"required": False, "annotation": str(f.return_type)}
                       for n, f in getattr(cls, "model_computed_fields", {}).items()})  # dumped too
    else:
        fields = {n: {"required": False, "annotation": str(t)} for n, t in typing.get_type_hints(cls).items()}
    out["models"][ours] = fields
print(json.dumps(out))
"""


def installed_agents_python():
    """The agents app's venv interpreter when it is installed; None (never an install) otherwise."""
    try:
        from explorer.localstack import installs
    except ImportError:
        return None

    def only_if_there(target, install):
        if (target / ".installed").is_file():
            return target
        raise LookupError(target)

    try:
        with mock.patch.object(installs, "install_once", only_if_there):
            return installs.agents_python()
    except Exception:  # noqa: BLE001 - not installed, or no Python it runs on: nothing to ask
        return None


@pytest.fixture(scope="module")
def library() -> dict:
    python = installed_agents_python()
    if python is None:
        pytest.skip("the dapr-agents app's venv is not installed here (the local stack installs it the first time "
                    "it runs the agents app)")
    result = subprocess.run([str(python), "-c", ASK, json.dumps(MODELS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_is_the_release_the_table_follows(library):
    assert library["version"] == "1.0.9"


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_field_is_there_required_and_nullable_as_the_library_says(library, model):
    theirs = library["models"][model]
    ours = SCHEMAS[model]
    assert set(ours) == set(theirs), model
    for name, field in theirs.items():
        nullable = "Optional" in field["annotation"] or "None" in field["annotation"]
        assert (ours[name].required, ours[name].nullable) == (field["required"], nullable), (model, name, field)
