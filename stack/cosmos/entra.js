// The Cosmos-compatible server's Entra ID mode (server.js --entra CONFIG.json): an account with
// local (key) authorization disabled and native data-plane RBAC, as far as the local stack needs it.
//
// What it is for: in this mode every request must carry a Microsoft Entra ID access token
// (Authorization: type=aad&ver=1.0&sig=<JWT>) issued by the local token endpoint
// (stack/identity/token_endpoint.js). The token's RS256 signature is checked with the endpoint's
// public key, its issuer/tenant, audience, expiry and not-before; its oid must hold a role
// assignment, and the role must grant the request's data action (Cosmos DB Built-in Data Reader /
// Data Contributor). Master and resource keys are refused as Cosmos DB refuses them with
// disableLocalAuth. Database and container create/replace/delete are control plane (ARM, Bicep):
// refused for every token, so the containers the config names are created when the account is.
// Paths under /_explorer/ are the stand-in's own admin paths and bypass all of this.
//
// What it must never do: log or echo a token or a key (refusals name the principal's object id,
// never the token), accept a token it could not verify, or change anything in key mode (it is
// installed only with --entra).
//
// The config (written by explorer.localstack.manager):
//   { "account": "name used in messages", "publicKeyFile": "PEM of the token endpoint",
//     "tenant": "GUID", "audiences": ["https://..."] (added to the defaults below),
//     "clockSkewSeconds": 5,
//     "principals": [{"name": "reader", "objectId": "GUID", "roleDefinitionIds": ["GUID"]}],
//     "containers": [{"database": "db", "container": "c", "partitionKeyPath": "/partitionKey",
//                     "defaultTtl": -1 (optional)}] }
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const { Readable } = require("stream");

const BUILT_IN_DATA_READER = "00000000-0000-0000-0000-000000000001";
const BUILT_IN_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002";
const ACCOUNT_ACTION = "Microsoft.DocumentDB/databaseAccounts";
const CONTAINER_ACTION = `${ACCOUNT_ACTION}/sqlDatabases/containers`;
const ITEM_ACTION = `${CONTAINER_ACTION}/items`;
const READ_METADATA = `${ACCOUNT_ACTION}/readMetadata`;

// The built-in data-plane roles ("Cosmos DB Built-in Data Reader" and "... Data Contributor";
// learn.microsoft.com/azure/cosmos-db/nosql/security/reference-data-plane-roles, and the permission
// model in how-to-setup-rbac): their data actions, wildcards as the definitions write them.
const ROLES = {
  [BUILT_IN_DATA_READER]: [READ_METADATA, `${ITEM_ACTION}/read`, `${CONTAINER_ACTION}/executeQuery`,
    `${CONTAINER_ACTION}/readChangeFeed`],
  [BUILT_IN_DATA_CONTRIBUTOR]: [READ_METADATA, `${CONTAINER_ACTION}/*`, `${ITEM_ACTION}/*`],
};

// Microsoft Entra ID validators allow 5 minutes of clock skew by default; this stand-in runs on
// the same machine (one clock), so it allows only a few seconds (config clockSkewSeconds): enough
// for a request sent in a token's last moment, small enough that a client which stopped
// refreshing fails within seconds of its token's expiry.
const DEFAULT_CLOCK_SKEW_SECONDS = 5;

// Cosmos DB's own refusals. The texts and status/substatus codes are the service's as seen in
// public reports (cited per refusal); where no public text was found the wording is ours and
// says so in a comment.
const LEARN_MORE = "Learn more: https://aka.ms/cosmos-native-rbac.";

function loadConfig(file, host) {
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  const account = config.account || host;
  // Python azure-cosmos (_base.create_scope_from_url) and Go azcosmos (createScopeFromEndpoint)
  // both ask for scheme://hostname/.default, so a token's aud is "https://<host>" (no port);
  // https://cosmos.azure.com is the account-independent audience the service also accepts
  // (and azure-cosmos falls back to it on AADSTS500011).
  const audiences = new Set([`https://${host}`, "https://cosmos.azure.com", ...(config.audiences || [])]);
  const principals = new Map();
  for (const p of config.principals || []) principals.set(p.objectId.toLowerCase(), p);
  return {
    account,
    tenant: config.tenant,
    issuer: `https://sts.windows.net/${config.tenant}/`,
    publicKey: crypto.createPublicKey(fs.readFileSync(config.publicKeyFile)),
    audiences,
    skew: config.clockSkewSeconds === undefined ? DEFAULT_CLOCK_SKEW_SECONDS : Number(config.clockSkewSeconds),
    principals,
    containers: config.containers || [],
  };
}

/** A refusal: status, optional substatus, code and message as the service answers. */
const refusal = (status, substatus, code, message) => ({ status, substatus, code, message });
const unauthorized = (substatus, message) => refusal(401, substatus, "Unauthorized", message);

/** "7/17/2022 5:09:09 PM (UTC)": how the service writes times in its token messages. */
function serviceTime(seconds) {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours() % 12 || 12;
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h}:${pad(d.getUTCMinutes())}:` +
    `${pad(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? "AM" : "PM"} (UTC)`;
}

/** The fields of an Authorization header (URL-encoded or not: the SDKs send aad tokens plain). */
function authorizationFields(header) {
  let text = header;
  try {
    text = decodeURIComponent(header);
  } catch (err) {
    // not URL-encoded: read as is
  }
  const fields = {};
  for (const part of text.split("&")) {
    const at = part.indexOf("=");
    if (at > 0) fields[part.slice(0, at).trim().toLowerCase()] = part.slice(at + 1);
  }
  return fields;
}

/** The token's principal ({oid, claims}) or a refusal, at `now` (Unix seconds). */
function authenticate(req, config, now) {
  const header = req.headers.authorization;
  if (!header) {
    // The service's answer to a request without the header (REST API "Common Azure Cosmos DB
    // REST response headers"/status codes: 401 Unauthorized).
    return unauthorized(undefined, "Required Header authorization is missing. Ensure a valid Authorization token is passed.");
  }
  const fields = authorizationFields(Array.isArray(header) ? header[0] : header);
  const type = (fields.type || "").toLowerCase();
  if (type === "master" || type === "resource") {
    // disableLocalAuth: 401, substatus 5202, "Local Authorization is disabled. Use an AAD token to
    // authorize all requests." (learn.microsoft.com/azure/cosmos-db/how-to-container-copy,
    // troubleshooting "Request is unauthorized": "Unauthorized (401); Substatus: 5202; ...
    // Reason: Local Authorization is disabled. Use an AAD token to authorize all requests.")
    return unauthorized(5202, "Local Authorization is disabled. Use an AAD token to authorize all requests.");
  }
  if (type !== "aad") {
    return unauthorized(undefined, `The authorization type '${fields.type || ""}' is not supported. Use type=aad with a Microsoft Entra ID token.`);
  }
  const blocked = (message) => `Request blocked by Auth ${config.account} : ${message}`;
  const parts = String(fields.sig || "").split(".");
  let head;
  let claims;
  try {
    head = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch (err) {
    claims = undefined;
  }
  // Wording ours (no public text found for a token that is not a JWT or whose signature fails).
  if (parts.length !== 3 || !claims || typeof claims !== "object" || !head || head.alg !== "RS256") {
    return unauthorized(undefined, blocked("The provided AAD token is not a valid RS256 JWT."));
  }
  const signed = crypto.verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), config.publicKey, Buffer.from(parts[2], "base64url"));
  if (!signed) return unauthorized(undefined, blocked("The signature of the provided AAD token could not be validated."));
  if (claims.iss !== config.issuer || claims.tid !== config.tenant) {
    // Wording ours: the account trusts tokens of its own tenant only.
    return unauthorized(undefined, blocked(`Provided AAD token was issued by [${claims.iss}] for tenant [${claims.tid}]. ` +
      `This database account accepts tokens of tenant [${config.tenant}] only.`));
  }
  if (!config.audiences.has(claims.aud)) {
    // 401, substatus 5008 (Azure/azure-sdk-for-java#42800: "Provided AAD token is intended for
    // [https://acct.documents.azure.com/]. This database account accepts tokens intended for [...]").
    return unauthorized(5008, blocked(`Provided AAD token is intended for [${claims.aud}]. This database account accepts ` +
      `tokens intended for [${[...config.audiences].join(", ")}].`));
  }
  if (typeof claims.exp !== "number" || now > claims.exp + config.skew) {
    // 401 (Azure/azure-sdk-for-js#22620: "Request blocked by Auth <account> : Provided AAD token
    // has been expired since [7/17/2022 5:09:09 PM (UTC)]. Current server time is [...]. Please
    // refresh the AAD token."). Its substatus is not in the report; none is sent.
    return unauthorized(undefined, blocked(`Provided AAD token has been expired since [${serviceTime(claims.exp || 0)}]. ` +
      `Current server time is [${serviceTime(now)}]. Please refresh the AAD token.`));
  }
  if (typeof claims.nbf === "number" && now + config.skew < claims.nbf) {
    // Wording ours, in the shape of the expiry message.
    return unauthorized(undefined, blocked(`Provided AAD token is not valid before [${serviceTime(claims.nbf)}]. ` +
      `Current server time is [${serviceTime(now)}].`));
  }
  if (typeof claims.oid !== "string") return unauthorized(undefined, blocked("Provided AAD token has no oid claim."));
  return { oid: claims.oid, claims };
}

/** Whether a principal's role assignments grant `action` (a role's "x/*" grants every "x/..."). */
function grants(config, oid, action) {
  const principal = config.principals.get(oid.toLowerCase());
  if (!principal) return false;
  for (const role of principal.roleDefinitionIds || []) {
    for (const granted of ROLES[role] || []) {
      if (granted === action || (granted.endsWith("/*") && action.startsWith(granted.slice(0, -1)))) return true;
    }
  }
  return false;
}

/** An RBAC refusal: 403, substatus 5301 (Azure/azure-cosmos-dotnet-v3#2891, and the message shape
 * every public report shows: "... does not have required RBAC permissions to perform action
 * [Microsoft.DocumentDB/databaseAccounts/readMetadata] on resource [/]."). The resource is the
 * scope the action was asked on: "/" for the account, "/dbs/<db>/colls/<container>" below it
 * (the service's exact writing of a container scope was not found in public reports). */
function rbacRefusal(config, oid, action, scope) {
  return refusal(403, 5301, "Forbidden", `Request blocked by Auth ${config.account} : Request is blocked because principal ` +
    `[${oid}] does not have required RBAC permissions to perform action [${action}] on resource [${scope}]. ${LEARN_MORE}`);
}

function trueHeader(req, name) {
  const value = req.headers[name];
  return (Array.isArray(value) ? value : [value]).some((v) => typeof v === "string" && v.toLowerCase() === "true");
}

function pathOf(req) {
  let pathname = (req.url || "/").split("?")[0];
  pathname = `/${pathname.replace(/^\/+/, "")}`;
  while (pathname.length > 1 && pathname.endsWith("/")) pathname = pathname.slice(0, -1);
  return pathname;
}

/** What a request asks for: {action, scope}, {controlPlane: true}, {batch: true, scope}, or {} (no
 * data action known: a valid token is all it needs). The method as the package's router reads it. */
function classify(req) {
  const pathname = pathOf(req);
  const segments = pathname === "/" ? [] : pathname.slice(1).split("/").map((s) => {
    try {
      return decodeURIComponent(s);
    } catch (err) {
      return s;
    }
  });
  let method = req.method;
  if (method === "POST" && (trueHeader(req, "x-ms-documentdb-isquery") || req.headers["content-type"] === "application/query+json")) {
    method = "QUERY";
  } else if (trueHeader(req, "x-ms-documentdb-is-upsert")) method = "UPSERT";
  else if (trueHeader(req, "x-ms-cosmos-is-batch-request")) method = "BATCH";
  const [dbs, db, colls, coll, kind, id] = segments;
  const read = method === "GET" || method === "HEAD";
  if (!segments.length) return read ? { action: READ_METADATA, scope: "/" } : {};
  if (dbs !== "dbs") return {};
  if (segments.length <= 2 || (colls === "colls" && segments.length <= 4)) {
    // databases and containers: reading and listing them is metadata; writing them is control plane
    if (read || method === "QUERY") {
      const scope = segments.length <= 2 ? "/" : segments.length === 3 ? `/dbs/${db}` : `/dbs/${db}/colls/${coll}`;
      return { action: READ_METADATA, scope };
    }
    return { controlPlane: true, pathname };
  }
  const scope = `/dbs/${db}/colls/${coll}`;
  if (colls !== "colls") return {};
  if (kind === "pkranges") return { action: READ_METADATA, scope };
  if (kind === "udfs" || kind === "sprocs" || kind === "triggers") {
    // server-side programming is managed through the control plane when local auth is off
    return read || method === "QUERY" ? { action: READ_METADATA, scope } : { controlPlane: true, pathname };
  }
  if (kind !== "docs") return {};
  if (id === undefined) {
    if (method === "QUERY") return { action: `${CONTAINER_ACTION}/executeQuery`, scope };
    if (method === "UPSERT") return { action: `${ITEM_ACTION}/upsert`, scope };
    if (method === "BATCH") return { batch: true, scope };
    if (method === "POST") return { action: `${ITEM_ACTION}/create`, scope };
    // a read feed of the documents; with A-IM it is the change feed
    if (read) return { action: req.headers["a-im"] ? `${CONTAINER_ACTION}/readChangeFeed` : `${ITEM_ACTION}/read`, scope };
    return {};
  }
  if (read) return { action: `${ITEM_ACTION}/read`, scope };
  if (method === "DELETE") return { action: `${ITEM_ACTION}/delete`, scope };
  // Patch has no data action of its own in the permission model; it changes an item as replace does.
  if (method === "PUT" || method === "PATCH") return { action: `${ITEM_ACTION}/replace`, scope };
  return {};
}

/** The data action of one operation of a transactional batch or bulk request. */
const BATCH_ACTIONS = { Create: "create", Upsert: "upsert", Replace: "replace", Delete: "delete", Read: "read", Patch: "replace" };

function refuseRoute(refused) {
  return [{}, (account, req, res) => answer(res, refused)];
}

function answer(res, refused) {
  res.statusCode = refused.status;
  if (refused.substatus !== undefined) res.setHeader("x-ms-substatus", String(refused.substatus));
  console.log(`refused ${refused.status}${refused.substatus !== undefined ? `/${refused.substatus}` : ""}: ${refused.message}`);
  return { code: refused.code, message: refused.message };
}

/** A batch's body is needed to know its operations: read it, check each operation, and hand the
 * package's handler a stream of the same bytes. */
function batchRoute(matched, config, oid, scope) {
  const [params, handler] = matched;
  return [params, async (account, req, res, p) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    let operations;
    try {
      operations = JSON.parse(body.toString("utf8"));
    } catch (err) {
      operations = undefined; // the handler answers a body that is not JSON
    }
    for (const op of Array.isArray(operations) ? operations : []) {
      const verb = BATCH_ACTIONS[op && op.operationType];
      if (verb && !grants(config, oid, `${ITEM_ACTION}/${verb}`)) return answer(res, rbacRefusal(config, oid, `${ITEM_ACTION}/${verb}`, scope));
    }
    const replay = Readable.from([body]);
    Object.assign(replay, { headers: req.headers, method: req.method, url: req.url });
    return handler(account, replay, res, p);
  }];
}

/** The route for `req` in Entra mode: the package's (through `inner`), or a refusal. */
function guard(inner, config, req, now) {
  if (pathOf(req).startsWith("/_explorer/")) return inner(req);
  const who = authenticate(req, config, now);
  if (who.status) return refuseRoute(who);
  const op = classify(req);
  if (op.controlPlane) {
    // 403, substatus 5300 (dotnet/efcore#32197, microsoft/vscode-cosmosdb#2879: "Request blocked by
    // Auth <account> : The given request [POST /dbs/catalogdb/colls] cannot be authorized by AAD
    // token in data plane. Learn more: https://aka.ms/cosmos-native-rbac.")
    return refuseRoute(refusal(403, 5300, "Forbidden", `Request blocked by Auth ${config.account} : The given request ` +
      `[${req.method} ${op.pathname}] cannot be authorized by AAD token in data plane. ${LEARN_MORE}`));
  }
  if (op.batch) {
    const matched = inner(req);
    return matched && matched[1] ? batchRoute(matched, config, who.oid, op.scope) : matched;
  }
  if (op.action && !grants(config, who.oid, op.action)) return refuseRoute(rbacRefusal(config, who.oid, op.action, op.scope));
  return inner(req);
}

/** Create the config's databases and containers in a new account: the stand-in for ARM/Bicep. */
function provision(account, containers) {
  for (const spec of containers) {
    if (!account.database(spec.database).read()) account.databases.create({ id: spec.database });
    const database = account.database(spec.database);
    if (database.collection(spec.container).read()) continue;
    const body = { id: spec.container, partitionKey: { paths: [spec.partitionKeyPath || "/partitionKey"], kind: "Hash", version: 2 } };
    if (spec.defaultTtl !== undefined && spec.defaultTtl !== null) body.defaultTtl = spec.defaultTtl;
    database.collections.create(body);
  }
}

/** Switch the server into Entra mode: `routes` is the package's routes module (server.js's). */
function install(configFile, { host, routes }) {
  const config = loadConfig(configFile, host);
  const inner = routes.default;
  routes.default = (req) => guard(inner, config, req, Math.floor(Date.now() / 1000));
  // The package makes its account when the server listens (and again after a restart of the
  // process): the config's containers exist before the first request.
  const accountModule = require("@vercel/cosmosdb-server/lib/account");
  const Account = accountModule.default;
  accountModule.default = class ProvisionedAccount extends Account {
    constructor(...args) {
      super(...args);
      provision(this, config.containers);
    }
  };
  console.log(`Entra ID mode: key authorization disabled; ${config.principals.size} principal(s) with role assignments, ` +
    `${config.containers.length} container(s) provisioned; audiences ${[...config.audiences].join(", ")}`);
  return config;
}

module.exports = { install, loadConfig, authenticate, classify, grants, guard, serviceTime, ROLES };
