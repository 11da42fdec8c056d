// Starts @vercel/cosmosdb-server over HTTPS on loopback with a certificate we
// generate per stack (the package's bundled one expired in 2021 and has no
// subjectAltName, which Go refuses). Used only by explorer.localstack.
//
// usage: node server.js --port PORT --cert CERT.pem --key KEY.pem [--host 127.0.0.1]
"use strict";
const fs = require("fs");

// Gap fix (docs/local-stack.md): the server answers a point read of an id that
// is not in the given partition with 500 ("Cannot read properties of
// undefined") instead of Cosmos DB's 404, so Dapr's get of a missing key failed.
// Answer 404 NotFound first, as Cosmos does; must run before the routes load.
const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const { parsePartitionKey } = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");
const serverReadDocument = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  const header = req.headers["x-ms-documentdb-partitionkey"];
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

const { createHttpsServer } = require("@vercel/cosmosdb-server");

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    args[name] = argv[i + 1];
  }
  if (!args.cert || !args.key) {
    console.error("usage: node server.js --port PORT --cert CERT --key KEY [--host HOST]");
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const server = createHttpsServer({
  cert: fs.readFileSync(args.cert),
  key: fs.readFileSync(args.key),
  keepAlive: true,
});
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
  process.on(sig, () => server.close(() => process.exit(0)));
}
