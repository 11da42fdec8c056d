// A stand-in for Azure's managed identity endpoint (the App Service protocol, api-version
// 2019-08-01), on loopback, for the local stack's Entra ID mode. Used only by explorer.localstack.
//
// usage: IDENTITY_HEADER=<secret> node token_endpoint.js --public-key-out FILE
//            [--port 0] [--host 127.0.0.1] [--lifetime SECONDS] [--identities identities.json]
//
// What it is for: daprd (Go azidentity v1.7.0) and the explorer (Python azure-identity, through
// MSAL's ManagedIdentityClient) find it through IDENTITY_ENDPOINT / IDENTITY_HEADER and ask it for
// a token exactly as they ask App Service (read from their sources, see below). It answers with a
// JWT signed RS256 by a key pair made at start; the public key goes to --public-key-out, which the
// Cosmos-compatible server (stack/cosmos/entra.js) verifies signatures with. The identities (two
// user-assigned managed identities, "reader" and "contributor") and the tenant are in
// identities.json beside this file.
//
// What it must never do: log a token or the identity header's value; listen on anything but the
// host it is given (loopback); issue a token without the identity header.
//
// The protocol, as the clients speak it:
// - Go azidentity v1.7.0, managed_identity_client.go createAppServiceAuthRequest: GET
//   $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=<scope minus "/.default">[&client_id=|&mi_res_id=],
//   header X-IDENTITY-HEADER: $IDENTITY_HEADER. createAccessToken reads access_token and
//   expires_in, else expires_on as a number or a string of Unix seconds. Any status but 200/201
//   is an authentication failure (the body is quoted in daprd's error).
// - Python azure-identity 1.27 (_credentials/app_service.py) hands App Service to MSAL 1.39's
//   ManagedIdentityClient (msal/managed_identity.py _obtain_token_on_app_service): the same GET,
//   client_id / mi_res_id / object_id for a user-assigned identity, headers X-IDENTITY-HEADER and
//   Metadata: true. It needs access_token and expires_on; on anything else it reads statusCode
//   and message from the JSON body (App Service's error shape), so errors here have that shape.
//
// Test hooks on loopback (this stand-in only; real endpoints have nothing like them):
// - GET /_explorer/issued: {"issued": {"reader": N, "contributor": M}, "minted": K}, the number
//   of tokens issued per identity since start (tests watch clients refresh through it).
// - GET /_explorer/mint?identity=&aud=&oid=&lifetime=&nbf=&iss=&tid=&forge=1 (needs the
//   X-IDENTITY-HEADER): a token with chosen claims for negative tests — `lifetime` seconds from
//   now (negative: already expired), `nbf` seconds from now, `forge=1` signs it with another key.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");

const API_VERSION = "2019-08-01";
const TOKEN_PATH = "/msi/token";

function parseArgs(argv) {
  const args = {
    host: "127.0.0.1",
    port: "0",
    lifetime: "3600",
    identities: path.join(__dirname, "identities.json"),
  };
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
  const lifetime = Number(args.lifetime);
  if (!args["public-key-out"] || !Number.isInteger(lifetime) || lifetime < 1) {
    console.error("usage: IDENTITY_HEADER=<secret> node token_endpoint.js --public-key-out FILE [--port 0] " +
      "[--host 127.0.0.1] [--lifetime SECONDS (a whole number >= 1)] [--identities FILE]");
    process.exit(2);
  }
  if (!process.env.IDENTITY_HEADER) {
    console.error("token_endpoint.js: IDENTITY_HEADER is not set; it is the secret every token request must carry");
    process.exit(2);
  }
  args.lifetime = lifetime;
  return args;
}

const base64url = (data) => Buffer.from(data).toString("base64url");

/** A signed RS256 JWT of `claims`, with the key's id in its header. */
function signJwt(claims, key) {
  const header = { typ: "JWT", alg: "RS256", kid: key.kid };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signed}.${crypto.sign("sha256", Buffer.from(signed), key.privateKey).toString("base64url")}`;
}

function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" });
  return { publicKey, privateKey, kid: crypto.createHash("sha256").update(der).digest("base64url").slice(0, 27) };
}

/** The claims of an Entra ID v1 access token for a managed identity (the ones resource servers read). */
function claimsFor(tenant, identity, resource, now, lifetime) {
  const iss = `https://sts.windows.net/${tenant}/`;
  return {
    aud: resource,
    iss,
    iat: now,
    nbf: now,
    exp: now + lifetime,
    appid: identity.clientId,
    appidacr: "2",
    idp: iss,
    oid: identity.objectId,
    sub: identity.objectId,
    tid: tenant,
    uti: base64url(crypto.randomBytes(16)), // unique per token, as Entra ID's
    ver: "1.0",
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const secret = Buffer.from(process.env.IDENTITY_HEADER);
  const config = JSON.parse(fs.readFileSync(args.identities, "utf8"));
  const identities = config.identities;
  const key = newKey();
  let forger; // made on the first forged token only
  fs.writeFileSync(args["public-key-out"], key.publicKey.export({ type: "spki", format: "pem" }));
  const issued = Object.fromEntries(Object.keys(identities).map((name) => [name, 0]));
  let minted = 0;

  const byClientId = (id) => Object.keys(identities).find((name) => identities[name].clientId.toLowerCase() === id.toLowerCase());
  const byObjectId = (id) => Object.keys(identities).find((name) => identities[name].objectId.toLowerCase() === id.toLowerCase());

  function reply(res, status, body) {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  }
  const fail = (res, status, message) => {
    console.log(`refused (${status}): ${message}`);
    reply(res, status, { statusCode: status, message });
  };
  function headerOk(req) {
    const given = req.headers["x-identity-header"];
    if (typeof given !== "string") return false;
    const bytes = Buffer.from(given);
    return bytes.length === secret.length && crypto.timingSafeEqual(bytes, secret);
  }

  function token(req, res, query) {
    if (!headerOk(req)) {
      return fail(res, 401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.");
    }
    if (query.get("api-version") !== API_VERSION) {
      return fail(res, 400, `api-version '${query.get("api-version")}' is not supported here; use ${API_VERSION} (App Service).`);
    }
    const resource = query.get("resource");
    if (!resource) return fail(res, 400, "The 'resource' query parameter is required (the token's audience, e.g. https://cosmos.azure.com).");
    if (query.get("mi_res_id")) {
      return fail(res, 400, "Selecting an identity by resource id (mi_res_id) is not supported by this local endpoint; use client_id.");
    }
    const clientId = query.get("client_id");
    const objectId = query.get("object_id") || query.get("principal_id");
    let name;
    if (clientId) name = byClientId(clientId);
    else if (objectId) name = byObjectId(objectId);
    else {
      return fail(res, 400, "No identity was asked for, and this local endpoint has no system-assigned identity: pass " +
        `client_id of one of its user-assigned identities (${Object.keys(identities).join(", ")}; azureClientId in a Dapr component).`);
    }
    if (!name) {
      return fail(res, 400, `No user-assigned identity with ${clientId ? `client_id ${clientId}` : `object id ${objectId}`} ` +
        `is assigned here (known: ${Object.keys(identities).join(", ")}).`);
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsFor(config.tenant, identities[name], resource, now, args.lifetime);
    issued[name] += 1;
    console.log(`issued a token for ${name} (resource ${resource}, expires_on ${claims.exp})`);
    return reply(res, 200, {
      access_token: signJwt(claims, key),
      expires_on: String(claims.exp),
      resource,
      token_type: "Bearer",
      client_id: identities[name].clientId,
    });
  }

  function mint(req, res, query) {
    if (!headerOk(req)) return fail(res, 401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.");
    const name = query.get("identity") || "contributor";
    if (!identities[name]) return fail(res, 400, `Unknown identity '${name}' (known: ${Object.keys(identities).join(", ")}).`);
    const number = (field, fallback) => {
      const text = query.get(field);
      return text === null ? fallback : Number(text);
    };
    const lifetime = number("lifetime", args.lifetime);
    const nbf = number("nbf", 0);
    if (!Number.isFinite(lifetime) || !Number.isFinite(nbf)) return fail(res, 400, "lifetime and nbf are seconds from now (numbers).");
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsFor(config.tenant, identities[name], query.get("aud") || "https://cosmos.azure.com", now, 0);
    claims.exp = now + lifetime;
    claims.nbf = now + nbf;
    for (const field of ["oid", "iss", "tid"]) if (query.get(field) !== null) claims[field] = query.get(field);
    if (query.get("oid") !== null) claims.sub = claims.oid;
    const forge = query.get("forge") === "1";
    if (forge && !forger) forger = newKey();
    minted += 1;
    console.log(`minted a test token for ${name}${forge ? " (forged signature)" : ""}`);
    return reply(res, 200, { access_token: signJwt(claims, forge ? { ...forger, kid: key.kid } : key), expires_on: String(claims.exp) });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://local");
    if (req.method !== "GET") return fail(res, 405, `${req.method} is not supported; the protocol is GET.`);
    if (url.pathname === TOKEN_PATH) return token(req, res, url.searchParams);
    if (url.pathname === "/_explorer/issued") return reply(res, 200, { issued, minted });
    if (url.pathname === "/_explorer/mint") return mint(req, res, url.searchParams);
    return fail(res, 404, `No such path ${url.pathname}; tokens are served at ${TOKEN_PATH}.`);
  });
  server.keepAliveTimeout = 60000;
  server.on("error", (err) => {
    console.error(`token endpoint failed: ${err.message}`);
    process.exit(1);
  });
  server.listen(Number(args.port), args.host, () => {
    const { address, port } = server.address();
    // explorer.localstack waits for this exact line; it is IDENTITY_ENDPOINT.
    console.log(`READY http://${address}:${port}${TOKEN_PATH}`);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}

if (require.main === module) main();
