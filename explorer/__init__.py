"""dapr-explorer: look inside Dapr state stores that live in Azure Cosmos DB."""

__version__ = "0.1.0"
