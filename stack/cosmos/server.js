// Starts @vercel/cosmosdb-server over HTTPS on loopback with a certificate we
// generate per stack (the package's bundled one expired in 2021 and has no
// subjectAltName, which Go refuses). Used only by explorer.localstack.
//
// usage: node server.js --port PORT --cert CERT.pem --key KEY.pem [--host 127.0.0.1] [--entra CONFIG.json]
//
// --entra: the account has key authorization disabled and checks Entra ID tokens and data-plane
// roles instead (entra.js, docs/local-stack.md "Entra ID mode").
//
// Requiring this file (rather than running it) applies the gap fixes below
// without starting a server; bench/server_query_bench.js uses that.
"use strict";
const fs = require("fs");
const { AsyncLocalStorage } = require("async_hooks");

const serverDir = require("path").dirname(require.resolve("@vercel/cosmosdb-server/package.json"));
// The query engine exactly as the server resolves it (patches must hit that instance).
const engine = (name) => require(require.resolve(`@zeit/cosmosdb-query/lib/${name}`, { paths: [serverDir] }));

// Gap fix (docs/local-stack.md, "Query text: length and nesting"): the engine's parser took time
// exponential in how deeply a query nests parentheses (a 50-deep filter never finished and the
// server answered nobody); linear-parser.js gives it PEG.js's packrat cache, and refuses a query
// longer than Cosmos DB's limit with the service's 400.
const linearParser = require("./linear-parser");
linearParser.install(engine("parser"), require.resolve("@zeit/cosmosdb-query/lib/parser", { paths: [serverDir] }));

// Gap fix (docs/local-stack.md): the server answers a point read of an id that
// is not in the given partition with 500 ("Cannot read properties of
// undefined") instead of Cosmos DB's 404, so Dapr's get of a missing key failed.
// Answer 404 NotFound first, as Cosmos does; must run before the routes load.
const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const { parsePartitionKey } = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");
const serverReadDocument = readDocument.default;

/** Whether a partition-key header names the 'undefined' partition: [{}]. */
function isUndefinedPartition(text) {
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) && value.length === 1 && value[0] !== null && typeof value[0] === "object" &&
      !Array.isArray(value[0]) && Object.keys(value[0]).length === 0;
  } catch (err) {
    return false;
  }
}

/** A stored item's partition-key value (undefined: the item has none). */
function partitionValue(collection, data) {
  const paths = ((collection.read() || {}).partitionKey || {}).paths || [];
  if (!paths.length) return data.id;
  let value = data;
  for (const part of paths[0].slice(1).split("/")) value = value === undefined || value === null ? undefined : value[part];
  return value;
}
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  const header = req.headers["x-ms-documentdb-partitionkey"];
  if (collection.read() && header !== undefined && isUndefinedPartition(Array.isArray(header) ? header[0] : header)) {
    // Gap fix: Cosmos DB keeps items that lack the partition-key path in the 'undefined'
    // partition, addressed by the header [{}] (REST: an empty object for an undefined
    // component; azure-cosmos' NonePartitionKeyValue sends it). The package answered 400
    // "fewer components". It indexes such items under their id: read that, and only if the
    // item really has no partition key.
    const data = collection.document(params.docId, params.docId).read();
    if (!data || partitionValue(collection, data) !== undefined) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
    res.statusCode = 200;
    return data;
  }
  if (collection.read() && header !== undefined) {
    let partition;
    try {
      partition = parsePartitionKey(Array.isArray(header) ? header[0] : header, params.docId);
    } catch (err) {
      partition = undefined;
    }
    if (partition !== undefined && !collection.document(params.docId, partition).read()) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
  }
  return serverReadDocument(account, req, res, params);
};

// Gap fix (docs/local-stack.md, "Query cost"): every query page cost far more
// than the page. Three causes, measured in-process (bench/server_query_bench.js):
//  1. @zeit/cosmosdb-query compiles `FROM c` to
//     `$c.reduce(($, c) => [...$, {c}], [])`, which copies the accumulator for
//     every document: O(N²) per request (20,000 items: 1.6 s for any page).
//  2. Every page of a query re-evaluates it over a copy of the whole container
//     (filter, sort by _rid, project) and then finds the continuation point by a
//     linear scan: a full scan of N items in pages of P costs N²/P.
//  3. A single-partition query (x-ms-documentdb-partitionkey header) scans
//     every partition; Cosmos DB reads only that partition.
// Fixes, with results unchanged:
//  1. The accumulator is appended to in place (`$h.__append($, [...])`): the
//     same array contents, built once. The `[]` seed is a fresh array per call.
//     And the sort by _rid compares the _rid strings directly (see below).
//  2. The evaluated, sorted rows of a document query are cached per
//     (query text, parameters, partition header) on the collection and dropped
//     on any write to that collection, so a query issued after a write always
//     sees it. Pages are still cut by the engine's own paginate(), so tokens are
//     byte-for-byte what the server issued before; for queries without ORDER BY
//     the start of the page a token we issued points at is remembered, so
//     paginate() does not scan for it (rows are sorted by _rid, unique per
//     document, so the scan would land on that same row).
//  3. Documents are also indexed by partition key value; a query carrying a
//     string or number partition-key header is evaluated over that partition's
//     documents only. Its WHERE clause still filters, so results are the same
//     whenever the header and the filter agree (as the SDKs send them); when
//     they disagree the result is now the header's partition's, as on Cosmos DB.
const helpers = engine("helpers");
const transformer = engine("transformer");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const Documents = require("@vercel/cosmosdb-server/lib/account/documents").default;
const queryDocuments = require("@vercel/cosmosdb-server/lib/handler/query-documents");
const queries = require("./query");

// 1. in-place accumulation
helpers.__append = (acc, items) => {
  for (let i = 0; i < items.length; i += 1) acc.push(items[i]);
  return acc;
};
const isAcc = (node) => node && node.type === "Identifier" && node.name === "$";
function appendInPlace(array) {
  // [...$, a, ...b]  ->  $h.__append($, [a, ...b])
  if (!array || array.type !== "ArrayExpression" || !array.elements.length) return array;
  const [first, ...rest] = array.elements;
  if (!first || first.type !== "SpreadElement" || !isAcc(first.argument)) return array;
  return {
    type: "CallExpression",
    callee: { type: "MemberExpression", object: { type: "Identifier", name: "$h" }, property: { type: "Identifier", name: "__append" } },
    arguments: [{ type: "Identifier", name: "$" }, { type: "ArrayExpression", elements: rest }],
  };
}
function linearReduces(node) {
  if (Array.isArray(node)) {
    node.forEach(linearReduces);
  } else if (node && typeof node === "object") {
    for (const key of Object.keys(node)) linearReduces(node[key]);
    const [fn, seed] = node.type === "CallExpression" ? node.arguments : [];
    if (
      node.type === "CallExpression" && node.callee.type === "MemberExpression" &&
      node.callee.property.name === "reduce" && node.arguments.length === 2 &&
      seed.type === "ArrayExpression" && !seed.elements.length &&
      fn.type === "ArrowFunctionExpression" && isAcc(fn.params[0])
    ) {
      if (fn.body.type === "ArrayExpression") fn.body = appendInPlace(fn.body);
      else if (fn.body.type === "ConditionalExpression" && isAcc(fn.body.alternate)) {
        fn.body.consequent = appendInPlace(fn.body.consequent);
      }
    }
  }
  return node;
}
// Gap fix (docs/local-stack.md, "Query text: length and nesting"): the engine compiles `a OR b OR c`
// to nested calls, $h.or($h.or(a, b), c), one level per operand, and V8 could not compile the
// generated function past about 1,500 (RangeError: a 2,000-OR query, within Cosmos DB's limits, was
// refused). A chain of one operator becomes one call that applies the same helper left to right:
// every operand is evaluated as before (helper arguments never short-circuit), the same result.
helpers.__chain = (name, ...operands) => operands.reduce((acc, operand) => helpers[name](acc, operand));
const helperName = (node) => node && node.type === "CallExpression" && node.callee.type === "MemberExpression" &&
  !node.callee.computed && node.callee.object.type === "Identifier" && node.callee.object.name === "$h" &&
  node.arguments.length === 2 ? node.callee.property.name : undefined;
function chained(node) {
  const name = helperName(node);
  if (name !== "and" && name !== "or") return node;
  const operands = [];
  let left = node;
  for (; helperName(left) === name; left = left.arguments[0]) operands.push(left.arguments[1]);
  if (operands.length < 2) return node;
  operands.push(left);
  return {
    type: "CallExpression",
    callee: { type: "MemberExpression", object: { type: "Identifier", name: "$h" }, property: { type: "Identifier", name: "__chain" } },
    arguments: [{ type: "StringLiteral", value: name }, ...operands.reverse()],
  };
}
function flatChains(node) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i += 1) flatChains((node[i] = chained(node[i])));
  } else if (node && typeof node === "object") {
    for (const key of Object.keys(node)) flatChains((node[key] = chained(node[key])));
  }
  return node;
}
const transform = transformer.default;
transformer.default = (ast) => linearReduces(flatChains(chained(transform(ast))));
// Also 1: without ORDER BY the engine sorts rows by _rid through its generic
// comparator, half of a query's evaluation time at 100,000 items. For string
// _rids (every document's) that comparator is plain string order, so sort on
// the extracted _rid instead: the same stable sort, the same order.
const sort = helpers.sort;
helpers.sort = (collection, getRid, compositeIndexes, ...orders) => {
  if (orders.length) return sort(collection, getRid, compositeIndexes, ...orders);
  const keyed = new Array(collection.length);
  for (let i = 0; i < collection.length; i += 1) {
    const rid = getRid(collection[i]);
    if (typeof rid !== "string") return sort(collection, getRid, compositeIndexes, ...orders);
    keyed[i] = { rid, row: collection[i] };
  }
  keyed.sort((a, b) => (a.rid === b.rid ? 0 : a.rid < b.rid ? -1 : 1));
  return keyed.map((k) => k.row);
};

// 3. partition index, and invalidation of the page cache on every write
const itemsSet = Items.prototype._set;
const itemsDelete = Items.prototype.delete;
function indexPartition(docs, rid) {
  const item = docs._data.get(rid);
  if (!docs._byPartition) docs._byPartition = new Map();
  const pk = docs._getPartition(item.read());
  let partition = docs._byPartition.get(pk);
  if (!partition) docs._byPartition.set(pk, (partition = new Map()));
  partition.set(rid, item);
}
function unindexPartition(docs, data) {
  const pk = docs._getPartition(data);
  const partition = docs._byPartition && docs._byPartition.get(pk);
  if (partition) {
    partition.delete(data._rid);
    if (!partition.size) docs._byPartition.delete(pk);
  }
}
Documents.prototype._set = function set(data) {
  journalBefore(this, data);
  const stored = itemsSet.call(this, data);
  this._pageCache = null;
  indexPartition(this, data._rid);
  return stored;
};
Documents.prototype.delete = function del(idOrRid, partition) {
  const data = this._item("/id", idOrRid, partition).read();
  if (data) journalBefore(this, data);
  itemsDelete.call(this, idOrRid, partition);
  this._pageCache = null;
  unindexPartition(this, data);
};

// The undo log of a transactional batch (see "Transactional batch" below). While a batch runs,
// every write to the collection first remembers what it is about to overwrite: the stored item
// under the _rid it writes or deletes (the very object, so its _etag, _ts and body come back
// unchanged) and each unique-key index entry it sets or drops. Every write of the package ends in
// _set or delete above (create, replace, upsert, patch; replace is a delete plus a _set), so
// nothing escapes it. Rolling back puts all of that back, and the _rid counter too.
const getValue = require("@vercel/cosmosdb-server/lib/utils/get-value").default;
const ABSENT = Symbol("absent");
function journalBefore(docs, data) {
  const journal = docs._journal;
  if (!journal) return;
  if (!journal.items.has(data._rid)) journal.items.set(data._rid, docs._data.has(data._rid) ? docs._data.get(data._rid) : ABSENT);
  for (const keyPath of docs._uniqueKeyPaths) {
    const key = docs._getId(keyPath, getValue(keyPath.slice(1).split("/"), data), docs._getPartition(data));
    if (!journal.index.has(key)) journal.index.set(key, docs._index.has(key) ? docs._index.get(key) : ABSENT);
  }
}
function beginJournal(docs) {
  docs._journal = { items: new Map(), index: new Map(), ridCount: docs._ridCount };
}
function endJournal(docs, rollback) {
  const journal = docs._journal;
  docs._journal = null;
  if (!rollback) return;
  for (const [key, rid] of journal.index) {
    if (rid === ABSENT) docs._index.delete(key);
    else docs._index.set(key, rid);
  }
  for (const [rid, item] of journal.items) {
    const current = docs._data.get(rid);
    if (current) unindexPartition(docs, current.read());
    if (item === ABSENT) docs._data.delete(rid);
    else {
      docs._data.set(rid, item);
      indexPartition(docs, rid);
    }
  }
  docs._ridCount = journal.ridCount;
  docs._pageCache = null;
}

const MALFORMED_CONTINUATION = "The continuation token specified in the request is malformed. Re-run the query without it and iterate.";

/** Whether a continuation header is one the server could have issued: JSON of {token: "…"}. */
function isContinuation(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) && typeof value.token === "string";
  } catch (err) {
    return false;
  }
}

// 2. the page cache: only for requests through the query-documents handler
const queryRequest = new AsyncLocalStorage();
const serverQueryDocuments = queryDocuments.default;
queryDocuments.default = (account, req, res, params) => {
  const header = req.headers["x-ms-documentdb-partitionkey"];
  const partitionHeader = Array.isArray(header) ? header[0] : header;
  if (headerPartition(partitionHeader) !== undefined) {
    // Gap fix: Cosmos DB runs a query that carries a partition-key header in that partition,
    // whatever its SQL says (REST "Query Documents": x-ms-documentdb-partitionkey scopes the
    // query to one partition; only a query WITHOUT it must be allowed to fan out with
    // x-ms-documentdb-query-enablecrosspartition). The package refused a scoped query whose
    // WHERE clause did not name the partition key ("missing partition keys"). Its check is
    // skipped here; Documents.query below evaluates the query over that partition only.
    req.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  }
  const continuation = req.headers["x-ms-continuation"];
  if (continuation !== undefined && !isContinuation(Array.isArray(continuation) ? continuation[0] : continuation)) {
    // Gap fix: the package read a continuation it could not parse as none, and answered from the
    // first page; Cosmos DB refuses it with 400 and this text (the gateway's wording, quoted in
    // Azure/azure-cosmos-dotnet-v2#252 and azure-cosmos-dotnet-v3#3416).
    res.statusCode = 400;
    return { code: "BadRequest", message: MALFORMED_CONTINUATION };
  }
  return queryRequest.run({ partitionHeader }, async () => {
    const body = await serverQueryDocuments(account, req, res, params);
    // Cosmos DB's error bodies carry a code; the package's query errors had a message only
    if (res.statusCode === 400 && body && typeof body === "object" && body.message !== undefined && body.code === undefined) {
      return { code: "BadRequest", message: body.message };
    }
    return body;
  });
};

const CACHED_ROWS_PER_COLLECTION = 300000;
const ROWS = Symbol("rows");
const paginate = helpers.paginate;
let capturing = false;
helpers.paginate = (collection, maxItemCount, continuation, getRid, ...orders) => {
  // The compiled query calls paginate() once, as its return value (top-level
  // SELECT only; subqueries never paginate), so its input is the whole result.
  if (capturing) return { [ROWS]: { rows: collection, getRid, orders } };
  return paginate(collection, maxItemCount, continuation, getRid, ...orders);
};

const UNDEFINED_PARTITION = Symbol("the 'undefined' partition");

function headerPartition(header) {
  if (header === undefined) return undefined;
  if (isUndefinedPartition(header)) return UNDEFINED_PARTITION;
  try {
    const value = parsePartitionKey(header, undefined);
    return typeof value === "string" || typeof value === "number" ? value : undefined;
  } catch (err) {
    return undefined;
  }
}

function cachePage(docs, key, entry) {
  // A small LRU bounded by rows: Map keeps insertion order; oldest first.
  if (!docs._pageCache) docs._pageCache = { entries: new Map(), rows: 0 };
  const cache = docs._pageCache;
  cache.entries.set(key, entry);
  cache.rows += entry.rows.length + 1;
  for (const [oldKey, old] of cache.entries) {
    if (cache.rows <= CACHED_ROWS_PER_COLLECTION || old === entry) break;
    cache.entries.delete(oldKey);
    cache.rows -= old.rows.length + 1;
  }
}

function cachedPage(docs, key) {
  const cache = docs._pageCache;
  const entry = cache && cache.entries.get(key);
  if (entry) {
    cache.entries.delete(key);
    cache.entries.set(key, entry);
  }
  return entry;
}

function pagedRows({ rows, getRid, orders }) {
  const entry = { rows, getRid, orders, starts: new Map(), known: undefined, found: undefined };
  // paginate() looks for a token's row with rows.findIndex: answer from `starts`
  // when we issued the token, else scan as it would. Installed once (rows is
  // ours alone): deleting it again would slow the array down.
  Object.defineProperty(rows, "findIndex", {
    value(predicate) {
      if (entry.known !== undefined) return entry.known;
      entry.found = Array.prototype.findIndex.call(this, predicate);
      return entry.found;
    },
  });
  return entry;
}

function paginateRows(entry, maxItemCount, continuation) {
  const token = continuation ? continuation.token : undefined;
  entry.known = token === undefined ? 0 : entry.starts.get(token);
  entry.found = undefined;
  const page = paginate(entry.rows, maxItemCount, continuation, entry.getRid, ...entry.orders);
  let start = entry.known !== undefined ? entry.known : entry.found;
  if (start === undefined || start < 0) start = entry.rows.length;
  if (page.continuation && !entry.orders.length && maxItemCount > 0) {
    entry.starts.set(page.continuation.token, start + maxItemCount);
  }
  return page;
}

const itemsQuery = Items.prototype.query;
Documents.prototype.query = function query(params, options) {
  const request = queryRequest.getStore();
  if (!request || !this._parent.read()) return itemsQuery.call(this, params, options);
  const { maxItemCount, continuation } = options;
  linearParser.checkLength(params.query); // before query.js reads it
  const partition = headerPartition(request.partitionHeader);
  const scope = partition === undefined ? null : partition === UNDEFINED_PARTITION ? { undefined: true } : [partition];
  const key = JSON.stringify([params.query, params.parameters || null, scope]);
  try {
    let entry = cachedPage(this, key);
    if (!entry) {
      // the 'undefined' partition's items are indexed under the value undefined
      const indexed = partition === UNDEFINED_PARTITION ? undefined : partition;
      const source = partition === undefined ? this._data : (this._byPartition && this._byPartition.get(indexed)) || new Map();
      const parent = this._parent.read();
      const udf = this._userDefinedFunctions();
      const docs = [...source.values()].map((item) => item.read());
      const options = {
        parameters: params.parameters,
        udf,
        compositeIndexes: (parent.indexingPolicy ? parent.indexingPolicy.compositeIndexes : null) || [],
      };
      // DISTINCT, GROUP BY, OFFSET...LIMIT (query.js): whole rows, paged below like any others
      const extended = queries.run(params, partition === undefined, (text) => this._getQuery(text).exec(docs, options));
      let result = extended && { [ROWS]: extended };
      capturing = !extended;
      try {
        if (!extended) result = this._getQuery(params.query).exec(docs, { ...options, maxItemCount, continuation });
      } finally {
        capturing = false;
      }
      if (!result || !result[ROWS]) return result; // aggregates: no pages to cut
      entry = pagedRows(result[ROWS]);
      // A user-defined function may be anything (Date.now, Math.random): never reuse its rows.
      if (!udf || !Object.keys(udf).length) cachePage(this, key, entry);
    }
    return paginateRows(entry, maxItemCount, continuation);
  } catch (err) {
    // as Items.query: the engine's errors are the client's (400)
    err.badRequest = true;
    throw err;
  }
};

// Fidelity fixes at the request's entry (docs/local-stack.md, "Partition-key
// header", "Item ids" and "Id length"). The routes module is called per request
// through its exports object, so wrapping routes.default sees every request
// before a handler does; a rejection is answered by a handler of our own.
const routes = require("@vercel/cosmosdb-server/lib/routes");
const documentOperations = require("@vercel/cosmosdb-server/lib/handler/_document-operations");
const PK_HEADER = "x-ms-documentdb-partitionkey";

const reject = (statusCode, code, message) => [
  {},
  (account, req, res) => {
    res.statusCode = statusCode;
    return { code, message };
  },
];

// 1. The partition-key header. Cosmos DB documents it as a JSON array of the
// key's values (REST API "Get a Document": x-ms-documentdb-partitionkey, type
// Array; https://learn.microsoft.com/rest/api/cosmos-db/get-a-document), and the
// SDKs send JSON with every non-ASCII character escaped (a header must be
// ASCII): azure-cosmos (Python) json.dumps -> "\ud83e\udd16". But azcosmos (Go,
// daprd's SDK; sdk/data/azcosmos/partition_key.go toJsonString, v1.0.3 and
// main) writes each string with strconv.QuoteToASCII, which is Go syntax, not
// JSON: "\U0001f916" for a character outside the BMP, "\x01" / "\a" / "\v" /
// "\x7f" for control characters without a JSON short form. The package's
// parser (JSON.parse) refused those with a 500. Read the header as JSON, and
// where that fails, as the same JSON with Go's string escapes also allowed;
// only a header that is neither is refused, with 400 BadRequest. The value is
// then handed on as plain JSON, so every handler (read, replace, delete,
// patch, create, upsert, query, batch) sees the same parsed key.
// Whether the service itself accepts the Go-only escapes is not documented
// (docs/local-stack.md says what is and is not known).
function parseGoQuotedJson(text) {
  let i = 0;
  const fail = () => {
    throw new SyntaxError(`bad partition key at ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i += 1;
  };
  const hex = (n) => {
    const digits = text.slice(i, i + n);
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) fail();
    i += n;
    return parseInt(digits, 16);
  };
  const SHORT = { '"': '"', "\\": "\\", "/": "/", "'": "'", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", a: "\x07", v: "\x0b" };
  function string() {
    i += 1; // opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i];
      if (c === '"') {
        i += 1;
        return out;
      }
      if (c !== "\\") {
        out += c;
        i += 1;
        continue;
      }
      const e = text[i + 1];
      i += 2;
      if (e in SHORT) out += SHORT[e];
      else if (e === "u") out += String.fromCharCode(hex(4)); // surrogate pairs join as in JSON
      else if (e === "U") {
        const cp = hex(8);
        if (cp > 0x10ffff) fail();
        out += String.fromCodePoint(cp);
      } else if (e === "x") {
        const b = hex(2);
        // Go writes \xHH for a byte below 0x20, for 0x7f, and for a byte that is not UTF-8
        // (which its json.Marshal of the document body writes as U+FFFD).
        out += b < 0x80 ? String.fromCharCode(b) : "\ufffd";
      } else fail();
    }
  }
  function value() {
    ws();
    const c = text[i];
    if (c === '"') return string();
    if (c === "[") {
      i += 1;
      const items = [];
      ws();
      if (text[i] === "]") {
        i += 1;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ",") i += 1;
        else if (text[i] === "]") {
          i += 1;
          return items;
        } else fail();
      }
    }
    // numbers, true, false, null, {}: JSON's own grammar
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|\{\s*\})/.exec(text.slice(i));
    if (!m) fail();
    i += m[0].length;
    return JSON.parse(m[0]);
  }
  const result = value();
  ws();
  if (i !== text.length) fail();
  return result;
}

function readPartitionKeyHeader(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return parseGoQuotedJson(text);
  }
}
exports.readPartitionKeyHeader = readPartitionKeyHeader;

// 2. Item ids in a point operation's URL (GET/PUT/PATCH/DELETE .../docs/{id}).
// Cosmos DB documents that '/', '\', '?' and '#' may not be used in an id
// (Resource.Id: https://learn.microsoft.com/dotnet/api/microsoft.azure.documents.resource.id),
// but the service does not refuse them on create or upsert (Azure/azure-cosmos-dotnet-v3
// #2573, #2606, #4129). What a point operation on such an id answers was measured by
// the SDK teams on the emulator's (routing) gateway, e.g. azcosmos v1.0.3
// emulator_cosmos_item_test.go TestItemIdEncodingRoutingGW (the Go SDK escapes the id
// with url.PathEscape, as daprd sends it): '/' (%2F), '\' (%5C), '#' (%23), a trailing
// blank and a literal %HH in the id (sent %25HH): 401 Unauthorized; CR, LF, TAB:
// 400 BadRequest; '?' (%3F), other blanks and non-ASCII: served. A '/' sent raw
// (azure-cosmos for Python quotes the link with '/' safe) makes more path segments:
// 404 NotFound (azure-cosmos-dotnet-v3 CosmosItemIdEncodingTests, Gateway; #2606).
// The package decoded %2F and friends and served them all, and a raw '/' was "no route".
const POINT = /^\/*dbs\/[^/]+\/colls\/[^/]+\/docs\/(.+)$/;
const UNAUTHORIZED =
  "The input authorization token can't serve the request. The wrong key is being used or the expected " +
  "payload is not built as per the protocol. (dapr-explorer local server: Cosmos DB's gateway refuses a " +
  "point operation on an id containing '/', '\\', '#', a literal %XX or a trailing blank this way.)";
function checkPointId(req) {
  if (!["GET", "PUT", "PATCH", "DELETE"].includes(req.method)) return undefined;
  let pathname = (req.url || "").split("?")[0];
  while (pathname.length > 1 && pathname.endsWith("/")) pathname = pathname.slice(0, -1);
  const m = POINT.exec(pathname);
  if (!m) return undefined;
  const segment = m[1];
  if (segment.includes("/")) {
    return reject(404, "NotFound", `The value '${pathname.replace(/^\/+/, "")}' specified for the resource is invalid: an id may not contain '/'.`);
  }
  let id;
  try {
    id = decodeURIComponent(segment);
  } catch (err) {
    return reject(400, "BadRequest", `The request URL ${pathname} is not valid.`);
  }
  if (/[\r\n\t]/.test(id)) return reject(400, "BadRequest", "The request id contains a carriage return, line feed or tab.");
  if (/[/\\#]/.test(id) || / $/.test(id) || /%[0-9a-fA-F]{2}/.test(id)) return reject(401, "Unauthorized", UNAUTHORIZED);
  return undefined;
}

const route = routes.default;
routes.default = (req) => {
  const header = req.headers[PK_HEADER];
  if (header !== undefined) {
    const text = Array.isArray(header) ? header[0] : header;
    let value;
    try {
      value = readPartitionKeyHeader(text);
    } catch (err) {
      return reject(400, "BadRequest", `The partition key supplied in ${PK_HEADER} is not a valid JSON array: ${text}`);
    }
    req.headers[PK_HEADER] = JSON.stringify(value);
  }
  return checkPointId(req) || batchRoute(req, route(req));
};

// 3. Id length. "Maximum length of id: 1,023 bytes" (Azure Cosmos DB service quotas,
// per-item limits: https://learn.microsoft.com/azure/cosmos-db/concepts-limits).
// Over it the service answers 400 BadRequest "... Ensure to provide a unique non-empty
// string less than '1024' characters." (asserted against the service by azure-cosmos'
// tests/test_resource_id.py, test_create_illegal_characters). The package stored any
// length. Checked on the body of create, upsert and replace, batches included.
const MAX_ID_BYTES = 1023;
function idTooLong(input) {
  const id = input && input.resourceBody && input.resourceBody.id;
  if (typeof id !== "string" || Buffer.byteLength(id, "utf8") <= MAX_ID_BYTES) return undefined;
  return {
    statusCode: 400,
    body: {
      code: "BadRequest",
      message: `The input name '${id}' is invalid. Ensure to provide a unique non-empty string less than '${MAX_ID_BYTES + 1}' characters.`,
    },
  };
}
for (const name of ["createOperation", "upsertOperation", "replaceOperation"]) {
  const operation = documentOperations[name];
  documentOperations[name] = (collection, input) => idTooLong(input) || operation(collection, input);
}

// 4. Transactional batch (docs/local-stack.md, "Transactional batch"). Dapr's state
// transactions (ExecuteStateTransaction, so every actor and workflow state save) reach Cosmos DB
// as ONE transactional batch: components-contrib v1.18.3 state/azure/cosmosdb/cosmosdb.go Multi
// builds azcosmos.TransactionalBatch for the request's partitionKey metadata. How it is sent
// (azcosmos v1.0.3 cosmos_transactional_batch.go, cosmos_transactional_batch_options.go,
// cosmos_container.go ExecuteTransactionalBatch; azure-cosmos 4.17.1 _base.py
// _format_batch_operations, _populate_batch_headers): POST dbs/{db}/colls/{coll}/docs with
// x-ms-cosmos-is-batch-request: True, x-ms-cosmos-batch-atomic: True and the partition in
// x-ms-documentdb-partitionkey; the body a JSON array of {operationType: Create|Upsert|Replace|
// Delete|Read|Patch, id, resourceBody, ifMatch, ifNoneMatch}, with no partition key per operation.
// What the service answers (learn.microsoft.com/azure/cosmos-db/nosql/transactional-batch; the
// SDKs' emulator tests azcosmos emulator_cosmos_batch_test.go and azure-cosmos
// tests/test_transactional_batch.py): the operations run in order and either all commit (200, an
// array of {statusCode, requestCharge, eTag, resourceBody}) or none does: 207 Multi-Status, the
// first failing operation with its own status (409 create of an existing id, 404 read/replace/
// delete of a missing one, 412 If-Match mismatch, 400 a body outside the partition or without
// the key) and every other one 424 Failed Dependency; operations after the failure do not run.
// An empty batch is 400 "Batch request has no operations.", more than 100 operations 400 "Batch
// request has more operations than what is supported.", a payload over 2 MB 413.
// The package's handler read the bulk format (a partition key per operation), so a batch that
// named its partition only in the header failed with 500 "Failed to parse ...: undefined"; and it
// never rolled back. Atomic batches are answered here; non-atomic (bulk) requests still go to the
// package's handler.
const batchDocuments = require("@vercel/cosmosdb-server/lib/handler/batch-documents");
const readJson = require("@vercel/cosmosdb-server/lib/json").default;
const trueHeader = require("@vercel/cosmosdb-server/lib/true-header").default;
const { patchOperation } = require("@vercel/cosmosdb-server/lib/handler/_patch-operations");
const MAX_BATCH_OPERATIONS = 100;
const MAX_BATCH_BYTES = 2 * 1024 * 1024;
const WRONG_PARTITION =
  "Partition key provided either doesn't correspond to definition in the collection or doesn't match partition key field values specified in the document.";
const PRECONDITION_FAILED = "Operation cannot be performed because one of the specified precondition is not met.";
const NOT_FOUND = "Entity with the specified id does not exist in the system.";

const failure = (statusCode, code, message) => ({ statusCode, body: { code, message } });

/** The batch's partition from its (already normalized) header: a value, UNDEFINED_PARTITION, or a failure. */
function batchPartition(header) {
  if (header === undefined) return failure(400, "BadRequest", "PartitionKey value must be supplied for this operation.");
  if (isUndefinedPartition(header)) return { value: UNDEFINED_PARTITION };
  const parsed = JSON.parse(header); // routes.default has read it (JSON or Go-quoted) and re-written it as JSON
  const components = Array.isArray(parsed) ? parsed : [parsed];
  if (components.length !== 1 || (components[0] !== null && typeof components[0] === "object")) {
    return failure(400, "BadRequest", WRONG_PARTITION);
  }
  return { value: components[0] };
}

function inPartition(collection, data, partition) {
  const value = partitionValue(collection, data);
  return partition === UNDEFINED_PARTITION ? value === undefined : value === partition;
}

/** The item with this id in the batch's partition, or undefined. The package indexes items by
 * (partition || id), so its lookup may find a same-id item of another partition: check it. */
function findItem(collection, id, partition) {
  if (typeof id !== "string") return undefined;
  const data = collection.document(id, partition === UNDEFINED_PARTITION ? undefined : partition).read();
  return data && data.id === id && inPartition(collection, data, partition) ? data : undefined;
}

function checkBody(collection, body, partition) {
  if (!body || typeof body !== "object" || Array.isArray(body) || typeof body.id !== "string" || !body.id) {
    return failure(400, "BadRequest", "The input content is invalid because the required properties - 'id; ' - are missing");
  }
  const tooLong = idTooLong({ resourceBody: body });
  if (tooLong) return tooLong;
  if (!inPartition(collection, body, partition)) return failure(400, "BadRequest", WRONG_PARTITION);
  return undefined;
}

const ifMatchFails = (op, data) => typeof op.ifMatch === "string" && op.ifMatch !== data._etag;

const writeResult = (statusCode, body) => ({ statusCode, body });

function runBatchOperation(collection, op, partition) {
  try {
    return runOperation(collection, op, partition);
  } catch (err) {
    // the package's own refusals, as its single operations answer them
    if (err.conflict) return failure(409, "Conflict", err.message);
    if (err.badRequest) return failure(400, "BadRequest", err.message);
    throw err;
  }
}

function runOperation(collection, op, partition) {
  const docs = collection.documents;
  const type = op && typeof op === "object" ? op.operationType : undefined;
  switch (type) {
    case "Create": {
      const bad = checkBody(collection, op.resourceBody, partition);
      if (bad) return bad;
      if (findItem(collection, op.resourceBody.id, partition)) {
        return failure(409, "Conflict", "Entity with the specified id already exists in the system.");
      }
      return writeResult(201, docs.create(op.resourceBody));
    }
    case "Upsert": {
      const bad = checkBody(collection, op.resourceBody, partition);
      if (bad) return bad;
      const data = findItem(collection, op.resourceBody.id, partition);
      // an If-Match on a missing item creates it, as a single upsert does (docs/local-stack.md)
      if (data && ifMatchFails(op, data)) return failure(412, "PreconditionFailed", PRECONDITION_FAILED);
      return data ? writeResult(200, docs.replace(op.resourceBody, data)) : writeResult(201, docs.create(op.resourceBody));
    }
    case "Replace": {
      const bad = checkBody(collection, op.resourceBody, partition);
      if (bad) return bad;
      const id = typeof op.id === "string" ? op.id : op.resourceBody.id;
      if (op.resourceBody.id !== id) return failure(400, "BadRequest", "The id in the request does not match the id of the document.");
      const data = findItem(collection, id, partition);
      if (!data) return failure(404, "NotFound", NOT_FOUND);
      if (ifMatchFails(op, data)) return failure(412, "PreconditionFailed", PRECONDITION_FAILED);
      return writeResult(200, docs.replace(op.resourceBody, data));
    }
    case "Delete":
    case "Read": {
      const data = findItem(collection, op.id, partition);
      if (!data) return failure(404, "NotFound", NOT_FOUND);
      if (type === "Read") return { statusCode: 200, body: data, read: true };
      if (ifMatchFails(op, data)) return failure(412, "PreconditionFailed", PRECONDITION_FAILED);
      docs.delete(op.id, partition === UNDEFINED_PARTITION ? undefined : partition);
      return { statusCode: 204, body: undefined };
    }
    case "Patch": {
      const data = findItem(collection, op.id, partition);
      if (!data) return failure(404, "NotFound", NOT_FOUND);
      // azcosmos and azure-cosmos both send resourceBody {operations, condition?}
      const spec = Array.isArray(op.resourceBody) ? { operations: op.resourceBody } : op.resourceBody || {};
      if (!Array.isArray(spec.operations)) return failure(400, "BadRequest", "Invalid patch request: check syntax of patch specification.");
      // the package's single patch, on the item found above (its lookup lands on the same one)
      return patchOperation(collection, {
        id: op.id,
        partitionKey: JSON.stringify([partition === UNDEFINED_PARTITION ? {} : partition]),
        ifMatch: typeof op.ifMatch === "string" ? op.ifMatch : undefined,
        operations: spec.operations,
        condition: spec.condition,
      });
    }
    default:
      return undefined; // refused as a whole before anything runs
  }
}

async function atomicBatch(account, req, res, { dbId, collId }) {
  let raw;
  try {
    raw = await readJson(req);
  } catch (err) {
    res.statusCode = 400;
    return { code: "BadRequest", message: `The batch request body is not valid JSON: ${err.message}` };
  }
  const collection = account.database(dbId).collection(collId);
  if (!collection.read()) {
    res.statusCode = 404;
    return { code: "NotFound", message: NOT_FOUND };
  }
  const refuse = (statusCode, code, message) => {
    res.statusCode = statusCode;
    return { code, message };
  };
  if (Buffer.byteLength(JSON.stringify(raw), "utf8") > MAX_BATCH_BYTES) {
    return refuse(413, "RequestEntityTooLarge", "Request size is too large.");
  }
  if (!Array.isArray(raw)) return refuse(400, "BadRequest", "The batch request body must be a JSON array of operations.");
  if (!raw.length) return refuse(400, "BadRequest", "Batch request has no operations.");
  if (raw.length > MAX_BATCH_OPERATIONS) return refuse(400, "BadRequest", "Batch request has more operations than what is supported.");
  const known = ["Create", "Upsert", "Replace", "Delete", "Read", "Patch"];
  const unknown = raw.find((op) => !op || typeof op !== "object" || !known.includes(op.operationType));
  if (unknown !== undefined) {
    return refuse(400, "BadRequest", `Operation type '${unknown && unknown.operationType}' is not supported in Batch.`);
  }
  const header = req.headers[PK_HEADER];
  const partition = batchPartition(Array.isArray(header) ? header[0] : header);
  if (partition.statusCode) return refuse(partition.statusCode, partition.body.code, partition.body.message);

  // Azure SDK for Go asks for no bodies of writes unless EnableContentResponseOnWrite (Prefer:
  // return=minimal, cosmos_headers_policy.go); reads always carry theirs.
  const minimal = /return=minimal/i.test(String(req.headers.prefer || ""));
  // Everything below is synchronous: no other request runs between the operations.
  const docs = collection.documents;
  const results = [];
  let failedAt = -1;
  beginJournal(docs);
  try {
    for (let i = 0; i < raw.length; i += 1) {
      const result = runBatchOperation(collection, raw[i], partition.value);
      results.push(result);
      if (result.statusCode >= 400) {
        failedAt = i;
        break;
      }
    }
  } catch (err) {
    endJournal(docs, true);
    throw err;
  }
  endJournal(docs, failedAt >= 0);

  if (failedAt >= 0) {
    res.statusCode = 207;
    return raw.map((op, i) => {
      // per operation the service sends statusCode, requestCharge (and a subStatusCode); no message
      return i === failedAt ? { statusCode: results[i].statusCode, requestCharge: 1 } : { statusCode: 424, requestCharge: 0 };
    });
  }
  res.statusCode = 200;
  return results.map(({ statusCode, body, read }) => {
    const out = { statusCode, requestCharge: 1 };
    if (body && body._etag) out.eTag = body._etag;
    if (body && (read || !minimal)) out.resourceBody = body;
    return out;
  });
}

/** The batch handler for a request, or undefined to leave it to the package (bulk). */
function batchRoute(req, matched) {
  if (!matched || matched[1] !== batchDocuments.default) return matched;
  if (!trueHeader(req, "x-ms-cosmos-batch-atomic")) return matched;
  return [matched[0], atomicBatch];
}

/** Run fn as if inside a query request carrying this partition-key header (for in-process benches). */
exports.asQueryRequest = (partitionHeader, fn) => queryRequest.run({ partitionHeader }, fn);

const { createHttpsServer } = require("@vercel/cosmosdb-server");

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    args[name] = argv[i + 1];
  }
  if (!args.cert || !args.key) {
    console.error("usage: node server.js --port PORT --cert CERT --key KEY [--host HOST] [--entra CONFIG.json]");
    process.exit(2);
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.entra) require("./entra").install(args.entra, { host: args.host, routes });
  const server = createHttpsServer({
    cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key),
    keepAlive: true,
  });
  require("./throttle").install(server); // charges, provisioned RU/s, the request record (throttle.js)
  server.on("error", (err) => {
    console.error(`cosmosdb-server failed: ${err.message}`);
    process.exit(1);
  });
  server.listen(Number(args.port), args.host, () => {
    const { address, port } = server.address();
    // The stack manager waits for this exact line.
    console.log(`READY https://${address}:${port}/`);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) {
    // close() alone waits for clients' keep-alive connections to end, so every stop took
    // the manager's full 5 s grace; no request is in flight once the stack is told to stop.
    process.on(sig, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}

if (require.main === module) main();
