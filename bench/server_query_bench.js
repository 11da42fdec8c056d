// In-process check and timing of the local Cosmos server's query path, with and
// without the gap fixes in stack/cosmos/server.js (no HTTP, no SDK).
//
//   node bench/server_query_bench.js check [N]     same pages and tokens with and without the fixes
//   node bench/server_query_bench.js time N P [patched|unpatched]
//                                                  ms per page, unpatched vs patched, N items over P partitions
//                                                  (unpatched: ~1.5 s a page at 20,000 items, O(N²) — keep N small)
//   node bench/server_query_bench.js --smoke       both at tiny sizes (check 300, time 2000 100), a second or two
//
// "check" runs a set of queries (cross-partition, one partition, ORDER BY, JOIN,
// subqueries, aggregates, several page sizes, a write between pages) in two
// child processes, one of them with the fixes, and compares every page's rows
// and continuation token byte for byte. Exit code 1 on any difference.
"use strict";
const path = require("path");
const { execFileSync } = require("child_process");

const STACK = path.resolve(__dirname, "..", "stack", "cosmos");
const load = (name) => require(require.resolve(name, { paths: [STACK] }));

function makeCollection(n, partitions) {
  // Deterministic etags and _ts so two processes build identical documents.
  let etag = 0;
  require("crypto").randomUUID = () => `etag-${(etag += 1)}`;
  Date.now = () => 1700000000000; // and deterministic _ts
  const Account = load("@vercel/cosmosdb-server/lib/account").default;
  const account = new Account("localhost", 1);
  account.databases.create({ id: "db" });
  account.database("db").collections.create({ id: "c", partitionKey: { paths: ["/partitionKey"], kind: "Hash" } });
  const coll = account.database("db").collection("c");
  for (let i = 0; i < n; i += 1) {
    coll.documents.create({
      id: `agent-registry||bench:agent-${String(i).padStart(6, "0")}`,
      partitionKey: `tenant-${String(i % partitions).padStart(5, "0")}`,
      body: { n: i, tags: i % 3 ? [i % 7, i % 5] : [] },
      rank: (i * 7919) % 101,
      isBinary: false,
    });
  }
  return coll;
}

function runner(patched) {
  if (!patched) return (coll, header, params, options) => coll.documents.query(params, options);
  const { asQueryRequest } = require(path.join(STACK, "server.js"));
  return (coll, header, params, options) => asQueryRequest(header, () => coll.documents.query(params, options));
}

function allPages(query, coll, header, params, maxItemCount, between) {
  const pages = [];
  let continuation = null;
  for (let i = 0; i < 100000; i += 1) {
    const out = query(coll, header, params, { maxItemCount, continuation });
    pages.push(out);
    if (!out.continuation) break;
    if (between && i === 1) between(coll);
    continuation = JSON.parse(JSON.stringify(out.continuation)); // as the HTTP header carries it
  }
  return pages;
}

const PK = (p) => ({ query: "SELECT c.id, c.partitionKey FROM c WHERE c.partitionKey = @pk", parameters: [{ name: "@pk", value: p }] });
const CASES = [
  ["scan pk column", null, { query: "SELECT c.partitionKey FROM c" }, 37],
  ["scan pk column 1000", null, { query: "SELECT c.partitionKey FROM c" }, 1000],
  ["whole documents", null, { query: "SELECT * FROM c" }, 50],
  ["one partition via header", '["tenant-00003"]', PK("tenant-00003"), 7],
  ["one partition, no header", null, PK("tenant-00003"), 7],
  ["one partition, all at once", '["tenant-00001"]', PK("tenant-00001"), null],
  ["order by", null, { query: "SELECT c.id, c.rank FROM c ORDER BY c.rank DESC" }, 33],
  ["join", null, { query: "SELECT c.id, t FROM c JOIN t IN c.body.tags" }, 13],
  ["subquery", null, { query: "SELECT c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.body.tags WHERE t = 3)" }, 9],
  ["array subquery", null, { query: "SELECT c.id, ARRAY(SELECT VALUE t FROM t IN c.body.tags WHERE t > 1) AS big FROM c" }, 21],
  ["scalar subquery", null, { query: "SELECT c.id, (SELECT VALUE COUNT(1) FROM t IN c.body.tags) AS n FROM c" }, 40],
  ["join subquery", null, { query: "SELECT c.id, x FROM c JOIN (SELECT VALUE t FROM t IN c.body.tags WHERE t > 1) x" }, 11],
  ["value", null, { query: "SELECT VALUE c.body.n FROM c WHERE c.body.n > @min", parameters: [{ name: "@min", value: 100 }] }, 64],
  ["count", null, { query: "SELECT VALUE COUNT(1) FROM c" }, 10],
  ["top", null, { query: "SELECT TOP 5 c.id FROM c" }, 2],
];

function dump(patched, n) {
  const query = runner(patched);
  const coll = makeCollection(n, 50);
  const out = {};
  for (const [name, header, params, max] of CASES) {
    out[name] = allPages(query, coll, header, params, max);
    out[`${name} (again)`] = allPages(query, coll, header, params, max);
  }
  // a write between pages, then a fresh query
  let i = 0;
  const write = (c) => {
    i += 1;
    c.documents.upsert({ id: `agent-registry||new-${i}`, partitionKey: "tenant-00003", body: { n: -i, tags: [] }, rank: 1 });
    c.documents.delete("agent-registry||bench:agent-000053", "tenant-00003");
  };
  out["write between pages"] = allPages(query, coll, '["tenant-00003"]', PK("tenant-00003"), 3, write);
  out["after the write"] = allPages(query, coll, '["tenant-00003"]', PK("tenant-00003"), 3);
  out["scan after the write"] = allPages(query, coll, null, { query: "SELECT c.id FROM c" }, 500);
  process.stdout.write(JSON.stringify(out));
}

function differences(n) {
  const run = (flag) => JSON.parse(execFileSync(process.execPath, [__filename, "dump", String(n), flag], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "inherit"] }));
  const before = run("unpatched");
  const after = run("patched");
  let bad = 0;
  for (const name of Object.keys(before)) {
    const same = JSON.stringify(before[name]) === JSON.stringify(after[name]);
    const rows = before[name].reduce((s, p) => s + (p.result ? p.result.length : 0), 0);
    console.log(`${same ? "same" : "DIFFERENT"}  ${name}: ${before[name].length} pages, ${rows} rows`);
    if (!same) bad += 1;
  }
  return bad;
}

function time(n, partitions, only) {
  const run = (flag) => execFileSync(process.execPath, [__filename, "timings", String(n), String(partitions), flag]).toString();
  for (const flag of only ? [only] : ["unpatched", "patched"]) process.stdout.write(`${flag}:\n${run(flag)}`);
}

function timings(n, partitions, patched) {
  const query = runner(patched);
  const coll = makeCollection(n, partitions);
  const ms = (fn) => {
    const t = process.hrtime.bigint();
    const r = fn();
    return [r, Number(process.hrtime.bigint() - t) / 1e6];
  };
  const scan = { query: "SELECT c.partitionKey FROM c" };
  let [page, first] = ms(() => query(coll, null, scan, { maxItemCount: 1000, continuation: null }));
  const [, second] = ms(() => query(coll, null, scan, { maxItemCount: 1000, continuation: page.continuation }));
  let pages = 0;
  const [, whole] = ms(() => {
    let continuation = null;
    do {
      page = query(coll, null, scan, { maxItemCount: 1000, continuation });
      continuation = page.continuation;
      pages += 1;
    } while (continuation && pages < 20);
  });
  const [, pk] = ms(() => query(coll, '["tenant-00000"]', PK("tenant-00000"), { maxItemCount: 100, continuation: null }));
  console.log(`  ${n} items / ${partitions} partitions: scan page 1 ${first.toFixed(1)} ms, page 2 ${second.toFixed(1)} ms, ` +
    `${pages} pages of 1000 ${whole.toFixed(0)} ms (${(whole / pages).toFixed(1)} ms/page); one partition's first page ${pk.toFixed(1)} ms`);
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === "check") process.exit(differences(Number(a || 2000)) ? 1 : 0);
else if (mode === "--smoke") {
  const bad = differences(300); // more than 53 items: the write between pages deletes bench:agent-000053
  time(2000, 100);
  process.exit(bad ? 1 : 0);
}
else if (mode === "dump") dump(b === "patched", Number(a));
else if (mode === "time") time(Number(a || 20000), Number(b || 1000), c);
else if (mode === "timings") timings(Number(a), Number(b), c === "patched");
else {
  console.error("usage: node bench/server_query_bench.js check [N] | time N P [patched|unpatched] | --smoke");
  process.exit(2);
}
