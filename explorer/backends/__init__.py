"""State store backends: what the explorer reads from a store directly, past Dapr (partitions, keys,
search, workflow and agent documents). The session depends on the interface (backends/base.py: list
partitions, page keys, point-read a document, query); Cosmos DB is the one backend today (backends/cosmos).
What it must never do: write (writes go through Dapr, explorer.session.gateway), or call the session back."""
