"""The Cosmos DB backend: the connection, Entra ID sign-in (entra_id), the partition and key lister,
search, and the workflow and agents readers. Reads only: every write goes through Dapr (session.gateway)."""
