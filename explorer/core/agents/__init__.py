"""dapr-agents state as stored in Dapr state stores: what each document says.

dapr-agents 1.0.9 (Dapr's Python framework for durable agents) keeps three kinds of state, each
a plain Dapr key (the store's id prefix, e.g. `<app-id>||`, in front):

- the registry: `agents:{team}:{agent name}` (the agent's metadata, `AgentMetadataSchema`) and
  `agents:{team}:_index` (`{"agents": [names]}`), both in partition `agents:{team}`;
- workflow entries: `{agent-name}:_workflow_{instance}` (`AgentWorkflowEntry`: the messages of a
  run, its tool history, usage, approvals…), each in a partition of its own (its key);
- memory: `{agent-name}:_memory_{instance}`, a JSON array of messages (no model: plain dicts).

One agent's name is spelled three ways, each derived by the library: `Weather Bot` in the
registry (its name as given), `weather-bot` in state keys (spaces to dashes, lower case:
`DaprInfra.state_key_prefix`, `ConversationDaprStateMemory._memory_key`) and `WeatherBot` in its
Dapr workflow's name `dapr.agents.WeatherBot.workflow` (characters outside `[a-zA-Z0-9_-]`
removed: `agent_workflow_id` with `sanitize_openai_tool_name`; its messages carry that name too).
`AgentNames` ties them together. (A DurableAgent's pending approvals live under a fourth:
`weather bot:pending_approvals`, the name lower-cased with its spaces.)

This package parses those keys (`names`), builds a team from its `_index` and metadata documents
(`teams`: flagging an index entry with no document and a document the index does not list), and
decodes a run's conversation and its memory (`runs`). The shapes follow the library's pydantic
models (`schema.SCHEMAS`, a table of our own read from dapr-agents 1.0.9's source; docs/agents.md).

Pure logic: it must never do I/O (no network, no files, no clock), never import dapr,
dapr_agents, azure or textual, and never drop what it does not know: fields the models do not name
are kept and listed (`Unknown`), a document that does not fit says so (`Problem`) beside its raw
JSON, and nothing here raises on what a store holds.
"""
