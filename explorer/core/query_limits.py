"""The work a Dapr state query or a raw SQL search may ask for: Cosmos DB's documented query limits,
and the explorer's own limit on nesting (docs/search.md, "Limits"). Pure: numbers, no logic."""

# Cosmos DB's documented query limits (Azure Cosmos DB service quotas, "SQL query limits" and
# "Per-request limits"); a query past them is refused here, with the limit named, and nothing is sent.
#: "Maximum length of SQL query: 512 KB", counted in characters by the service (its query engine's
#: maxSqlQueryInputLength is 524288; past it: "The SQL query text exceeded the maximum limit of
#: 524288 characters.").
MAX_SQL_LENGTH = 524_288
#: "Maximum request size: 2 MB": the query's body — its SQL and its parameters — is one request.
MAX_REQUEST_BYTES = 2 * 1024 * 1024
#: "Maximum ANDs per query", "Maximum ORs per query" (2,000 each) and "Maximum arguments per IN
#: expression" (6,000): the quotas page listed them until 2019, and accounts created then may still
#: carry them (maxLogicalAndPerSqlQuery, maxLogicalOrPerSqlQuery, maxInExpressionItemsCount); the
#: page no longer lists them. A filter within them runs on any account.
MAX_ANDS = 2000
MAX_ORS = 2000
MAX_IN_VALUES = 6000
#: AND/OR nested in AND/OR: Cosmos DB and Dapr document no limit, so this one is the explorer's. An
#: AND inside an AND is the same as one AND of all their parts, so no filter needs depth for its
#: meaning; a human-written one rarely goes past 5 levels. 32 keeps the reading of the filter, its
#: SQL (one pair of parentheses a level) and the service's parsing of that SQL small, whatever the
#: filter: a filter 50 levels deep once stalled the local server for good.
MAX_DEPTH = 32
