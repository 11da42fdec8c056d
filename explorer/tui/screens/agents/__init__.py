"""The dapr-agents views: a registry store's teams (teams.py), an agent's runs (runs.py), and one run's
conversation, memory and workflow (run_view.py); what the three share is in common.py.

What it is for: "which agents are registered, is the registry sane, and what did this agent say
and do?" — `Teams` lists each team (a row for its `_index`) and its agents with role, LLM, tools,
app and flags (listed in `_index` with no document, a document the index does not list, a
document that does not fit dapr-agents' model); the detail pane shows the selected agent's three
name spellings, metadata, problems, unknown fields and raw JSON. Enter on an agent opens
`AgentRuns` (its workflow entries, a page at a time); enter on a run opens `AgentRunView`: the
conversation (system prompt, messages, tool calls and their results, usage), `m` its memory, `w`
the Dapr workflow instance's timeline (explorer.tui.screens.workflows.timeline) when one has the run's id. `v`
opens the selected document in the key editor — the one place the explorer edits, so a registry
entry, the `_index` or a memory array is edited there, etag-checked, like every other key.

What it must never do: I/O outside a worker (everything goes through the session: its AgentsReader,
WorkflowReader and the runs it puts together), write (the key editor does, through the session), or
hide what it cannot decode: problems are shown beside the raw JSON.
"""
