"""State store backends: what the explorer reads from a store directly, past Dapr (partitions, keys,
search, workflow and agent documents). Cosmos DB is the one backend today (backends/cosmos)."""
