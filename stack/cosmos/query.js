// The clauses of Cosmos DB's query language that @zeit/cosmosdb-query 0.7.2 (the local
// server's query engine) cannot parse: DISTINCT, DISTINCT VALUE, GROUP BY (with COUNT, SUM,
// MIN, MAX, AVG) and OFFSET ... LIMIT, answered with Cosmos DB's documented semantics
// (docs/local-stack.md, "Queries: DISTINCT, GROUP BY, OFFSET…LIMIT", cites each rule).
// Also refuses, as the gateway does, GROUP BY and aggregates without VALUE across partitions.
// Used only by server.js's Documents.prototype.query. It must never touch stored documents,
// and never answer a query the engine can parse on its own (plan() returns null for those, so
// their rows, pages and tokens stay exactly what they were).
//
// How: the query is cut into its top-level clauses by a small tokenizer, and the engine
// evaluates what it can parse (the SELECT list, FROM, WHERE, ORDER BY); this file then
// removes duplicates, groups and aggregates, skips and takes. The engine's grammar is a
// generated parser with no source in the package; extending it would mean carrying a copy of
// its grammar, and rewriting around it keeps every expression, function and parameter exactly
// as the engine evaluates them elsewhere.
"use strict";

const serverDir = require("path").dirname(require.resolve("@vercel/cosmosdb-server/package.json"));
// The engine's COUNT, SUM, MIN, MAX, AVG, exactly as the server resolves them: the same
// treatment of undefined, mixed types and objects as its SELECT VALUE COUNT(1) has.
const engineAggregates = require(require.resolve("@zeit/cosmosdb-query/lib/aggregate-functions", { paths: [serverDir] }));
// ... except AVG over no number at all: the engine divides 0 by 0 (NaN, sent as null);
// "If any individual argument has an undefined value that value isn't included" (average.md).
const AGGREGATE_FUNCTIONS = {
  ...engineAggregates,
  AVG: (values) => (values.some((v) => typeof v === "number") ? engineAggregates.AVG(values) : undefined),
};
// The engine strips undefined from a result array by copying the array for every element
// (reduce with [...o, v]): O(N²). Harmless on a page, but this file asks the engine for whole
// results (30,000 rows: 12 s). Same output, built once.
const helpers = require(require.resolve("@zeit/cosmosdb-query/lib/helpers", { paths: [serverDir] }));
const stripUndefined = helpers.stripUndefined;
helpers.stripUndefined = (value) => {
  if (!Array.isArray(value)) return stripUndefined(value);
  const out = [];
  for (let i = 0; i < value.length; i += 1) if (typeof value[i] !== "undefined") out.push(helpers.stripUndefined(value[i]));
  return out;
};
const AGGREGATES = new Set(["COUNT", "SUM", "MIN", "MAX", "AVG"]);

/** An error the client caused: server.js answers it with 400, as the engine's own errors. */
function badRequest(message) {
  const err = new Error(message);
  err.badRequest = true;
  return err;
}

/** Tokens of a query: {type: word|string|number|param|punct, text, upper, start, end, depth}. */
function tokenize(text) {
  const tokens = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "-" && text[i + 1] === "-") {
      while (i < text.length && text[i] !== "\n") i += 1;
      continue;
    }
    const start = i;
    let type;
    if (c === '"' || c === "'") {
      i += 1;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
      i += 1;
      type = "string";
    } else if (/[A-Za-z_$]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_$]/.test(text[i])) i += 1;
      type = "word";
    } else if (c === "@") {
      i += 1;
      while (i < text.length && /[A-Za-z0-9_$]/.test(text[i])) i += 1;
      type = "param";
    } else if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9.eExX]/.test(text[i])) i += 1;
      type = "number";
    } else {
      i += 1;
      type = "punct";
    }
    const token = { type, text: text.slice(start, i), start, end: i, depth };
    token.upper = token.text.toUpperCase();
    if (type === "punct" && "([{".includes(c)) depth += 1;
    if (type === "punct" && ")]}".includes(c)) {
      depth -= 1;
      token.depth = depth;
    }
    tokens.push(token);
  }
  return tokens;
}

/** Whether token i is the top-level keyword `word` (not a property name such as c.value). */
function isKeyword(tokens, i, word) {
  const t = tokens[i];
  if (!t || t.type !== "word" || t.depth !== 0 || t.upper !== word) return false;
  const before = tokens[i - 1];
  return !(before && before.type === "punct" && before.text === ".");
}

/** The top-level clauses of a SELECT, as text; null when it is not one we can cut. */
function clauses(text) {
  const tokens = tokenize(text);
  if (!isKeyword(tokens, 0, "SELECT")) return null;
  const out = { tokens, distinct: false, top: null, value: false };
  let i = 1;
  if (isKeyword(tokens, i, "DISTINCT")) {
    out.distinct = true;
    i += 1;
  }
  if (isKeyword(tokens, i, "TOP")) {
    out.top = tokens[i + 1];
    i += 2;
  }
  if (isKeyword(tokens, i, "VALUE")) {
    out.value = true;
    i += 1;
  }
  out.listStart = i;
  // where each later clause starts (token index), in the order the grammar allows them
  const marks = [];
  for (let j = i; j < tokens.length; j += 1) {
    if (isKeyword(tokens, j, "FROM") || isKeyword(tokens, j, "WHERE") || isKeyword(tokens, j, "OFFSET") || isKeyword(tokens, j, "LIMIT")) {
      marks.push([tokens[j].upper, j]);
    } else if ((isKeyword(tokens, j, "GROUP") || isKeyword(tokens, j, "ORDER")) && isKeyword(tokens, j + 1, "BY")) {
      marks.push([`${tokens[j].upper} BY`, j]);
    }
  }
  const end = (k) => (k + 1 < marks.length ? tokens[marks[k + 1][1]].start : text.length);
  out.list = text.slice(tokens[i] ? tokens[i].start : text.length, marks.length ? tokens[marks[0][1]].start : text.length).trim();
  out.parts = {};
  marks.forEach(([name, j], k) => {
    if (out.parts[name] !== undefined) throw badRequest(`Syntax error, incorrect syntax near '${tokens[j].text}'.`);
    out.parts[name] = { text: text.slice(tokens[j].start, end(k)).trim(), index: j };
  });
  return out;
}

/** Split a list at its top-level commas: [{text, start}] (start: offset in `text`). */
function splitList(text) {
  const items = [];
  let from = 0;
  for (const t of tokenize(text)) {
    if (t.type === "punct" && t.text === "," && t.depth === 0) {
      items.push(text.slice(from, t.start).trim());
      from = t.end;
    }
  }
  items.push(text.slice(from).trim());
  return items.filter((item) => item.length);
}

/** A SELECT item: {expr, alias} — `expr AS alias` or `expr alias`. */
function selectItem(text) {
  const tokens = tokenize(text);
  const n = tokens.length;
  if (n >= 3 && tokens[n - 2].type === "word" && tokens[n - 2].upper === "AS" && tokens[n - 2].depth === 0 && tokens[n - 1].type === "word") {
    return { expr: text.slice(0, tokens[n - 2].start).trim(), alias: tokens[n - 1].text };
  }
  return { expr: text.trim(), alias: null };
}

/** The expression's tokens without blanks and in one case for keywords: to compare texts. */
function normalized(expr) {
  // names of properties keep their case; a function's name does not (lower(c.a) = LOWER(c.a))
  const tokens = tokenize(expr);
  return tokens.map((t, k) => (t.type === "word" && tokens[k + 1] && tokens[k + 1].text === "(" ? t.upper : t.text)).join(" ");
}

/** `COUNT(x)` and friends as a whole expression: {name, arg}; else null. */
function aggregateCall(expr) {
  const tokens = tokenize(expr);
  if (tokens.length < 3 || tokens[0].type !== "word" || !AGGREGATES.has(tokens[0].upper)) return null;
  const open = tokens[1];
  const close = tokens[tokens.length - 1];
  if (open.text !== "(" || close.text !== ")" || close.depth !== 0) return null;
  // the first ( must close at the very end: COUNT(1) + SUM(2) is not one call
  for (let k = 2; k < tokens.length - 1; k += 1) if (tokens[k].depth === 0) return null;
  return { name: tokens[0].upper, arg: expr.slice(open.end, close.start).trim() };
}

/** Whether an expression holds an aggregate call of its own (COUNT(1) + 1, [MAX(c.a)]); one
 * inside a subquery, (SELECT VALUE COUNT(1) FROM t IN c.tags), aggregates that subquery only. */
function hasAggregate(expr) {
  const tokens = tokenize(expr);
  const frames = []; // per open bracket: whether it opens a subquery
  for (let k = 0; k < tokens.length; k += 1) {
    const t = tokens[k];
    if (t.type === "punct" && "([{".includes(t.text)) {
      frames.push(t.text === "(" && tokens[k + 1] && tokens[k + 1].type === "word" && tokens[k + 1].upper === "SELECT");
    } else if (t.type === "punct" && ")]}".includes(t.text)) frames.pop();
    else if (t.type === "word" && AGGREGATES.has(t.upper) && tokens[k + 1] && tokens[k + 1].text === "(" &&
      !(tokens[k - 1] && tokens[k - 1].text === ".") && !frames.some(Boolean)) return true;
  }
  return false;
}

/** A literal the SELECT list may always hold next to GROUP BY: a number, string, true/false/null. */
function isLiteral(expr) {
  const tokens = tokenize(expr);
  if (tokens.length === 2 && tokens[0].text === "-" && tokens[1].type === "number") return true;
  if (tokens.length !== 1) return false;
  const [t] = tokens;
  return t.type === "number" || t.type === "string" || (t.type === "word" && ["TRUE", "FALSE", "NULL", "UNDEFINED"].includes(t.upper));
}

/** The name Cosmos DB (and the engine) gives an unaliased SELECT item: a path's last name, else $N. */
function implicitName(expr) {
  const tokens = tokenize(expr);
  const last = tokens[tokens.length - 1];
  const isPath = tokens.every((t) => t.type === "word" || t.text === "." || t.text === "[" || t.text === "]" || t.type === "string" || t.type === "number");
  if (!isPath || tokens.length < 3) return null;
  if (last.type === "word") return last.text;
  if (last.text === "]" && tokens[tokens.length - 2].type === "string") return JSON.parse(`"${tokens[tokens.length - 2].text.slice(1, -1)}"`);
  return null;
}

/** A non-negative integer from an OFFSET, LIMIT or TOP operand (a literal or a parameter). */
function count(token, parameters, clause) {
  if (!token) throw badRequest(`Syntax error, incorrect syntax near '${clause}'.`);
  let value;
  if (token.type === "number" && /^[0-9]+$/.test(token.text)) value = Number(token.text);
  else if (token.type === "param") {
    const found = (parameters || []).find((p) => p.name === token.text);
    value = found ? found.value : undefined;
  } else throw badRequest(`Syntax error, incorrect syntax near '${token.text}'.`);
  if (!Number.isInteger(value) || value < 0) {
    // The service's wording for a bad bound is not documented; this line is the local server's.
    throw badRequest(`The ${clause} count must be a non-negative integer, not ${JSON.stringify(value === undefined ? null : value)} (${token.text}).`);
  }
  return value;
}

/** A canonical text of a JSON value, with object keys sorted: equal values, equal texts. */
function canonical(value) {
  if (value === undefined) return "u";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).filter((k) => value[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const CROSS_PARTITION_AGGREGATES = "Cross partition query only supports 'VALUE <AggregateFunc>' for aggregates.";

/**
 * The plan for a query that needs this file, or null to leave it to the engine as before.
 * `crossPartition`: the request carries no partition-key header. Throws a bad request for what
 * Cosmos DB refuses.
 */
function plan(text, parameters, crossPartition) {
  let parsed;
  try {
    parsed = clauses(String(text).trim());
  } catch (err) {
    if (err.badRequest) throw err;
    return null;
  }
  if (!parsed) return null;
  const { parts } = parsed;
  const grouped = parts["GROUP BY"] !== undefined;
  const items = parsed.value ? [{ expr: parsed.list, alias: null }] : splitList(parsed.list).map(selectItem);
  if (crossPartition && (grouped || (!parsed.value && items.some((item) => hasAggregate(item.expr))))) {
    // What the gateway answers a query across partitions with GROUP BY or with an aggregate
    // that is not SELECT VALUE (docs/local-stack.md): the SDKs for Python and Go run no such query.
    throw badRequest(CROSS_PARTITION_AGGREGATES);
  }
  if (!parsed.distinct && !grouped && parts.OFFSET === undefined && parts.LIMIT === undefined) return null;

  const order = ["FROM", "WHERE", "GROUP BY", "ORDER BY", "OFFSET", "LIMIT"];
  const present = order.filter((name) => parts[name] !== undefined);
  const positions = present.map((name) => parts[name].index);
  if (positions.some((p, k) => k && p < positions[k - 1])) {
    const misplaced = present.find((name, k) => k && parts[name].index < parts[present[k - 1]].index);
    throw badRequest(`Syntax error, incorrect syntax near '${misplaced.split(" ")[0]}'.`);
  }
  if ((parts.OFFSET === undefined) !== (parts.LIMIT === undefined)) {
    // "Both the OFFSET count and the LIMIT count are required in the OFFSET LIMIT clause."
    const token = parsed.tokens[(parts.OFFSET || parts.LIMIT).index];
    throw badRequest(`Syntax error, incorrect syntax near '${token.text}'.`);
  }
  if (grouped && parts["ORDER BY"] !== undefined) {
    // "You can't use GROUP BY with an ORDER BY clause." (group-by.md, Remarks)
    throw badRequest("GROUP BY cannot be used with ORDER BY (Cosmos DB, GROUP BY remarks); the local server refuses it as the service documents.");
  }

  const tokenAfter = (name) => parsed.tokens[parts[name].index + 1];
  const plan = {
    distinct: parsed.distinct,
    value: parsed.value,
    top: parsed.top ? count(parsed.top, parameters, "TOP") : null,
    offset: parts.OFFSET !== undefined ? count(tokenAfter("OFFSET"), parameters, "OFFSET") : null,
    limit: parts.LIMIT !== undefined ? count(tokenAfter("LIMIT"), parameters, "LIMIT") : null,
  };
  for (const name of ["OFFSET", "LIMIT"]) {
    if (parts[name] && tokenize(parts[name].text).length !== 2) throw badRequest(`Syntax error, incorrect syntax near '${name}'.`);
  }
  const source = [parts.FROM, parts.WHERE].filter(Boolean).map((p) => p.text).join(" ");
  if (!grouped) {
    plan.base = `SELECT ${parsed.value ? "VALUE " : ""}${parsed.list} ${source} ${parts["ORDER BY"] ? parts["ORDER BY"].text : ""}`.trim();
    return plan;
  }

  // GROUP BY: the keys, and each SELECT item as a key, an aggregate or a literal.
  const keys = splitList(parts["GROUP BY"].text.replace(/^GROUP\s+BY/i, ""));
  if (!keys.length) throw badRequest("Syntax error, incorrect syntax near 'BY'.");
  for (const key of keys) {
    if (hasAggregate(key)) throw badRequest("Aggregate functions are not allowed in a GROUP BY clause (Cosmos DB, GROUP BY remarks).");
    if (/\bSELECT\b/i.test(key)) throw badRequest("Subqueries are not allowed in a GROUP BY clause (Cosmos DB, GROUP BY remarks).");
    if (selectItem(key).alias) throw badRequest(`Syntax error, incorrect syntax near '${selectItem(key).alias}'.`);
  }
  const keyIndex = new Map(keys.map((k, n) => [normalized(k), n]));
  const args = [];
  let unnamed = 0;
  plan.columns = items.map(({ expr, alias }) => {
    const call = aggregateCall(expr);
    let column;
    if (call) {
      args.push(call.arg);
      column = { kind: "aggregate", fn: call.name, arg: args.length - 1 };
    } else if (keyIndex.has(normalized(expr))) column = { kind: "key", key: keyIndex.get(normalized(expr)) };
    else if (isLiteral(expr)) column = { kind: "literal", expr };
    else if (hasAggregate(expr)) {
      throw badRequest(`The local server does not evaluate an aggregate inside an expression with GROUP BY: ${expr} (docs/local-stack.md).`);
    } else {
      // "the SELECT clause can only contain the subset of properties and system functions
      // included in the GROUP BY clause" (group-by.md, Remarks). The service's own wording of
      // this refusal is not documented; this line is the local server's.
      throw badRequest(`'${expr}' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.`);
    }
    column.name = alias || (column.kind === "key" && implicitName(expr)) || `$${(unnamed += 1)}`;
    return column;
  });
  const fields = [...keys.map((k, n) => `k${n}: ${k}`), ...args.map((a, n) => `a${n}: ${a}`)];
  plan.keys = keys.length;
  plan.args = args.length;
  plan.literals = plan.columns.filter((c) => c.kind === "literal").map((c) => c.expr);
  plan.base = `SELECT VALUE {${fields.join(", ")}} ${source}`.trim();
  return plan;
}

/**
 * The rows of a planned query in their order, as JSON values. `exec(text)` runs a query the
 * engine can parse over the request's documents and returns its whole result (undefined
 * already stripped, as the engine's pages are). `aggregates`: the engine's COUNT, SUM, ...
 */
function evaluate(planned, exec, aggregates) {
  let rows;
  if (planned.columns) {
    const groups = new Map();
    for (const row of exec(planned.base)) {
      const keyValues = [];
      for (let n = 0; n < planned.keys; n += 1) keyValues.push(row[`k${n}`]);
      const id = keyValues.map(canonical).join("\u0000");
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { keys: keyValues, args: Array.from({ length: planned.args }, () => []) }));
      for (let n = 0; n < planned.args; n += 1) group.args[n].push(row[`a${n}`]);
    }
    const literals = planned.literals.length ? exec(`SELECT VALUE {${planned.literals.map((l, n) => `l${n}: ${l}`).join(", ")}}`)[0] || {} : {};
    rows = [];
    for (const group of groups.values()) {
      let literal = 0;
      const values = planned.columns.map((column) => {
        if (column.kind === "key") return group.keys[column.key];
        if (column.kind === "aggregate") return aggregates[column.fn](group.args[column.arg]);
        literal += 1;
        return literals[`l${literal - 1}`];
      });
      if (planned.value) {
        if (values[0] !== undefined) rows.push(values[0]);
      } else {
        const out = {};
        planned.columns.forEach((column, n) => {
          if (values[n] !== undefined) out[column.name] = values[n];
        });
        rows.push(out);
      }
    }
  } else {
    rows = exec(planned.base);
  }
  if (planned.distinct) {
    const seen = new Set();
    rows = rows.filter((row) => {
      const id = canonical(row);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }
  if (planned.offset !== null) rows = rows.slice(planned.offset, planned.offset + planned.limit);
  if (planned.top !== null) rows = rows.slice(0, planned.top);
  return rows;
}

/** Rows in the shape the engine's paginate() pages: [row, {_rid}] with rids in row order. */
function pageable(rows) {
  // a fixed width, so a token still orders right if a write changed the count meanwhile
  return {
    rows: rows.map((row, n) => [row, { _rid: `q${String(n).padStart(12, "0")}` }]),
    getRid: (d) => d._rid,
    orders: [],
  };
}

/**
 * The whole result of a query that needs this file, paged as the engine's own rows are
 * ({rows, getRid, orders} for paginate()), or null when the engine answers it alone.
 * `exec(text)` runs an engine query over the request's documents with the request's parameters
 * and returns the engine's {result}. Throws bad requests (400) for what Cosmos DB refuses.
 */
function run({ query, parameters }, crossPartition, exec) {
  const planned = plan(query, parameters, crossPartition);
  if (!planned) return null;
  return pageable(evaluate(planned, (text) => exec(text).result, AGGREGATE_FUNCTIONS));
}

module.exports = { run, plan, evaluate, pageable, tokenize, canonical, CROSS_PARTITION_AGGREGATES };
