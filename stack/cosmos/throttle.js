// Throughput for the local Cosmos-compatible server: a request charge that grows with the work, a
// provisioned RU/s that answers 429 as Cosmos DB does, priority-based execution, and a record of
// every request, so the explorer's gentleness on production is tested (docs/production-load.md).
//
// install(server) wraps the HTTPS server's request listeners (server.js calls it once); nothing
// else of the server changes. Admin paths under /_explorer/ (loopback test hooks, not Cosmos DB's
// API; JSON in, JSON out; never recorded, never charged, never throttled):
//   GET    /_explorer/requests   the record: [{time, method, path, priority, status, charge,
//                                 userAgent, database, collection}], oldest first
//   DELETE /_explorer/requests   clear the record
//   PUT    /_explorer/throttle   {"ruPerSecond": N, "database"?: D, "collection"?: C}: provision N
//                                 RU/s for one collection, or for the account when no collection
//                                 is named; or {"failNext": {"count": N, "method"?: M,
//                                 "userAgent"?: substring}}: answer the next N matching requests
//                                 429 whatever the load (a fault injector for tests)
//   GET    /_explorer/throttle   what is set
//   DELETE /_explorer/throttle   provision nothing: no request is throttled
//
// What it must never do: execute a request it answers 429 (Cosmos DB: "no changes were made"),
// answer 429 to an admin path, or record a request body (values may be anything).
"use strict";
const { randomUUID } = require("crypto");

// The documented text of the common 429 (learn.microsoft.com/azure/cosmos-db/nosql/
// troubleshoot-request-rate-too-large, "Request rate is large"), substatus 3200 (RUBudgetExceeded).
const THROTTLED_MESSAGE =
  "Request rate is large. More Request Units may be needed, so no changes were made. " +
  "Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429";
const THROTTLED_SUBSTATUS = "3200";
const PRIORITY_HEADER = "x-ms-cosmos-priority-level";
const MAX_RECORDED = 200000;

// -- the charge model ------------------------------------------------------------------------
// Cosmos DB charges by the work done: a 1 KB point read is 1 RU, a 1 KB write about 5 RU, a query
// a couple of RU plus what it reads (learn.microsoft.com/azure/cosmos-db/request-units). This
// server cannot count documents loaded by a query, so it charges by bytes moved:
//   point read (GET .../docs/{id})         1 RU per started KB of the answer (at least 1)
//   query (POST .../docs, isquery)         2 RU + 1 RU per started KB of the answer
//   write (POST/PUT/PATCH .../docs..., DELETE .../docs/{id}, batches)
//                                          5 RU per started KB of the request body (at least 5)
//   anything else (account, databases, collections, partition key ranges): 1 RU
//   an error answer (400 and up: refused, not found, conflict, precondition failed): 1 RU
//   a 429 of ours: 0 RU (the request was not executed)
const KB = 1024;
const DOCS = /^\/*dbs\/([^/]+)\/colls\/([^/]+)\/docs(\/[^/?]+)?\/?$/;
const SCOPE = /^\/*dbs\/([^/]+)\/colls\/([^/?]+)/;

function pathOf(req) {
  return (req.url || "").split("?")[0];
}

function isQuery(req) {
  const flag = String(req.headers["x-ms-documentdb-isquery"] || "").toLowerCase() === "true";
  return flag || /application\/query\+json/i.test(String(req.headers["content-type"] || ""));
}

function charge(req, status, responseBytes) {
  if (status === 429) return 0;
  if (status >= 400) return 1;
  const docs = DOCS.exec(pathOf(req));
  if (!docs) return 1;
  const pointRequest = docs[3] !== undefined;
  if (req.method === "GET" && pointRequest) return Math.max(1, Math.ceil(responseBytes / KB));
  if (req.method === "POST" && !pointRequest && isQuery(req)) return 2 + Math.ceil(responseBytes / KB);
  if (["POST", "PUT", "PATCH", "DELETE"].includes(req.method)) {
    const sent = Number(req.headers["content-length"] || 0) || 0;
    return 5 * Math.max(1, Math.ceil(sent / KB));
  }
  return 1;
}

// -- provisioned throughput and priority-based execution --------------------------------------
// Cosmos DB: "If, in any given second, the operations consume more RUs than the provisioned RU/s,
// Azure Cosmos DB will return a 429"; the RUs available reset every second. With priority-based
// execution, "if both priorities are present and the user goes above the configured RU/s, low
// priority requests start getting throttled first", yet "each priority level can consume the
// complete provisioned throughput in absence of the other" (no reservation). The model here: per
// scope (a collection, or the account) a window of one wall-clock second counts the RU consumed
// by High and by Low requests. A High request (the default; no header) is refused while the
// window has consumed the provisioned RU/s. A Low request is refused earlier, once the window has
// consumed the provisioned RU/s less the high-priority demand (the RU High requests consumed in
// this window or the one before, whichever is more): without High traffic Low gets everything,
// with it Low yields what High needs. A refused request waits until the window ends
// (x-ms-retry-after-ms). Charges are added when the answer is sent, so a window can overrun by
// the requests in flight when it filled up, as on Cosmos DB.
const state = { limits: new Map(), windows: new Map(), failNext: null, record: [] };

function scopeKey(database, collection) {
  return database && collection ? `${database}/${collection}` : "";
}

function requestScope(req) {
  const m = SCOPE.exec(pathOf(req));
  if (!m) return { database: null, collection: null };
  const decode = (text) => {
    try {
      return decodeURIComponent(text);
    } catch (err) {
      return text;
    }
  };
  return { database: decode(m[1]), collection: decode(m[2]) };
}

function windowOf(key, now) {
  const second = Math.floor(now / 1000);
  let win = state.windows.get(key);
  if (!win) {
    win = { second, high: 0, low: 0, previousHigh: 0 };
    state.windows.set(key, win);
  } else if (win.second !== second) {
    win.previousHigh = win.second === second - 1 ? win.high : 0;
    win.second = second;
    win.high = 0;
    win.low = 0;
  }
  return win;
}

/** The scopes whose throughput a request draws on: its collection's and the account's, if provisioned. */
function limitedScopes(scope) {
  const keys = [];
  const own = scopeKey(scope.database, scope.collection);
  if (own && state.limits.has(own)) keys.push(own);
  if (state.limits.has("")) keys.push("");
  return keys;
}

/** Milliseconds to wait if the request must be refused now, else 0. */
function refusal(req, scope, priority, now) {
  const fail = state.failNext;
  if (fail && fail.count > 0 && (!fail.method || fail.method === req.method) &&
      (!fail.userAgent || String(req.headers["user-agent"] || "").includes(fail.userAgent))) {
    fail.count -= 1;
    return fail.retryAfterMs;
  }
  for (const key of limitedScopes(scope)) {
    const limit = state.limits.get(key);
    const win = windowOf(key, now);
    const consumed = win.high + win.low;
    const highDemand = Math.max(win.high, win.previousHigh);
    const threshold = priority === "low" ? Math.max(0, limit - highDemand) : limit;
    if (consumed >= threshold) return Math.max(1, 1000 - (now % 1000));
  }
  return 0;
}

function consume(scope, priority, ru, now) {
  for (const key of limitedScopes(scope)) {
    const win = windowOf(key, now);
    if (priority === "low") win.low += ru;
    else win.high += ru;
  }
}

function remember(entry) {
  state.record.push(entry);
  if (state.record.length > MAX_RECORDED) state.record.splice(0, state.record.length - MAX_RECORDED);
}

function answer(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("x-ms-activity-id", randomUUID());
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(text);
}

function throttledAnswer(req, res, retryAfterMs) {
  req.resume(); // the body is not read: drain it so the keep-alive connection stays usable
  const activity = randomUUID();
  answer(res, 429, {
    code: "TooManyRequests",
    message: `Message: {"Errors":[${JSON.stringify(THROTTLED_MESSAGE)}]}\r\nActivityId: ${activity}, Request URI: ${pathOf(req)}`,
  }, {
    "x-ms-retry-after-ms": String(retryAfterMs),
    "x-ms-substatus": THROTTLED_SUBSTATUS,
    "x-ms-request-charge": "0",
    "x-ms-activity-id": activity,
  });
}

// -- admin paths --------------------------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (err) {
        reject(new Error(`the body is not JSON: ${err.message}`));
      }
    });
    req.on("error", reject);
  });
}

function configuration() {
  return {
    limits: [...state.limits].map(([key, ruPerSecond]) => {
      const [database, collection] = key ? key.split("/") : [null, null];
      return { database, collection, ruPerSecond };
    }),
    failNext: state.failNext,
  };
}

async function admin(req, res) {
  const path = pathOf(req).replace(/\/+$/, "");
  const bad = (message) => answer(res, 400, { code: "BadRequest", message });
  try {
    if (path === "/_explorer/requests") {
      if (req.method === "GET") return answer(res, 200, { requests: state.record });
      if (req.method === "DELETE") {
        state.record = [];
        return answer(res, 200, { requests: [] });
      }
    }
    if (path === "/_explorer/throttle") {
      if (req.method === "GET") return answer(res, 200, configuration());
      if (req.method === "DELETE") {
        state.limits.clear();
        state.windows.clear();
        state.failNext = null;
        return answer(res, 200, configuration());
      }
      if (req.method === "PUT" || req.method === "POST") {
        const body = await readBody(req);
        if (body.failNext !== undefined) {
          const { count, method, userAgent, retryAfterMs } = body.failNext || {};
          if (!Number.isInteger(count) || count < 0) return bad("failNext.count must be a whole number >= 0");
          state.failNext = { count, method: method ? String(method).toUpperCase() : null,
                             userAgent: userAgent || null, retryAfterMs: Number(retryAfterMs) > 0 ? Number(retryAfterMs) : 100 };
        }
        if (body.ruPerSecond !== undefined) {
          const rate = Number(body.ruPerSecond);
          if (!Number.isFinite(rate) || rate < 0) return bad("ruPerSecond must be a number >= 0");
          if (Boolean(body.database) !== Boolean(body.collection)) return bad("name both database and collection, or neither (the account)");
          const key = scopeKey(body.database, body.collection);
          state.limits.set(key, rate);
          state.windows.delete(key);
        }
        return answer(res, 200, configuration());
      }
    }
    return answer(res, 404, { code: "NotFound", message: `no admin path ${req.method} ${path}` });
  } catch (err) {
    return bad(err.message);
  }
}

// -- the hook ---------------------------------------------------------------------------------------

/** Put throughput, charges and the record in front of the server's own request listeners. */
function install(server) {
  const listeners = server.listeners("request");
  server.removeAllListeners("request");
  server.on("request", (req, res) => {
    if (pathOf(req).startsWith("/_explorer/")) {
      admin(req, res);
      return;
    }
    const started = Date.now();
    const raw = req.headers[PRIORITY_HEADER];
    const priorityText = raw === undefined ? null : String(Array.isArray(raw) ? raw[0] : raw);
    const priority = priorityText && priorityText.toLowerCase() === "low" ? "low" : "high";
    const scope = requestScope(req);
    const entry = {
      time: started, method: req.method, path: pathOf(req), priority: priorityText, status: 0, charge: 0,
      userAgent: String(req.headers["user-agent"] || ""), database: scope.database, collection: scope.collection,
    };
    const wait = refusal(req, scope, priority, started);
    if (wait > 0) {
      throttledAnswer(req, res, wait);
      entry.status = 429;
      remember(entry);
      return;
    }
    const end = res.end;
    res.end = function endWithCharge(chunk, ...rest) {
      const bytes = chunk === undefined || chunk === null || typeof chunk === "function" ? 0 :
        Buffer.isBuffer(chunk) ? chunk.length : Buffer.byteLength(String(chunk), "utf8");
      const ru = charge(req, res.statusCode, bytes);
      if (!res.headersSent) res.setHeader("x-ms-request-charge", String(ru));
      entry.status = res.statusCode;
      entry.charge = ru;
      consume(scope, priority, ru, Date.now());
      remember(entry);
      return end.call(this, chunk, ...rest);
    };
    for (const listener of listeners) listener.call(server, req, res);
  });
}

module.exports = { install, charge, THROTTLED_MESSAGE };
