"""Record how Dapr's Cosmos DB state store translates state queries into
tests/unit/recorded/dapr-query-cosmos-1.18.3.json, by running components-contrib's own Go code.

components-contrib v1.18.3 (state/query and state/azure/cosmosdb/cosmosdb_query.go, the version
stack/daprd pins) is compiled from the Go module cache: the cosmosdb package's two source files are
copied, unchanged, into a temporary module beside a small exporting file of our own (Go refuses
overlays inside the module cache, and the package's query visitor is unexported); `state/query` and
everything else come from the module cache as they are. Nothing of components-contrib is copied
into this repository. For every input it records what daprd would do:

- `queries`: the query JSON text → the Cosmos SQL, its parameters (name, value, Go type), the page
  limit and token — or the error daprd answers with (`json.Unmarshal` of the query, then
  `query.Builder.BuildQuery` with cosmosdb's `Query` visitor);
- `paths`: `replaceKeywords("c.value." + key)` for property paths;
- `original_keys`: dapr/dapr v1.18.2's `GetOriginalStateKey(id)` (the key daprd returns for an item
  id in a query answer);
- `values`: the bytes a query answer carries for a stored document (`execute`: base64-decoded for
  isBinary, else `jsoniter.ConfigFastest.Marshal` of the value as `encoding/json` decoded it).

Not a test: run by hand when the pinned components-contrib changes (needs Go and the module cache
that `make install` fills; GOFLAGS=-mod=mod, no network):

    .venv/bin/python -m tests.unit.recorded.record_dapr_query
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUTPUT = HERE / "dapr-query-cosmos-1.18.3.json"
CONTRIB = "github.com/dapr/components-contrib@v1.18.3"

# The inputs: what users type, what they mistype, and what Dapr handles in ways they would not expect.
QUERIES: list[tuple[str, str]] = [
    ("empty query", "{}"),
    ("EQ", '{"filter": {"EQ": {"state": "CA"}}}'),
    ("EQ nested", '{"filter": {"EQ": {"person.org": "Dev Ops"}}}'),
    ("EQ deep", '{"filter": {"EQ": {"a.b.c.d": "x"}}}'),
    ("EQ empty string", '{"filter": {"EQ": {"state": ""}}}'),
    ("EQ unicode", '{"filter": {"EQ": {"city": "Zürich ✓ 𝄞"}}}'),
    ("EQ quote in value", '{"filter": {"EQ": {"name": "O\'Brien \\" --"}}}'),
    ("EQ number", '{"filter": {"EQ": {"turns": 3}}}'),
    ("EQ bool", '{"filter": {"EQ": {"done": true}}}'),
    ("EQ null", '{"filter": {"EQ": {"done": null}}}'),
    ("EQ object", '{"filter": {"EQ": {"a": {"b": "c"}}}}'),
    ("EQ two pairs", '{"filter": {"EQ": {"a": "1", "b": "2"}}}'),
    ("EQ no pair", '{"filter": {"EQ": {}}}'),
    ("EQ not a map", '{"filter": {"EQ": ["a", "1"]}}'),
    ("EQ duplicate key", '{"filter": {"EQ": {"a": "1", "a": "2"}}}'),
    ("NEQ", '{"filter": {"NEQ": {"state": "CA"}}}'),
    ("NEQ number", '{"filter": {"NEQ": {"turns": 3}}}'),
    ("IN", '{"filter": {"IN": {"state": ["CA", "WA"]}}}'),
    ("IN one", '{"filter": {"IN": {"state": ["CA"]}}}'),
    ("IN empty", '{"filter": {"IN": {"state": []}}}'),
    ("IN not array", '{"filter": {"IN": {"state": "CA"}}}'),
    ("IN number", '{"filter": {"IN": {"turns": [1, 2]}}}'),
    ("IN mixed", '{"filter": {"IN": {"state": ["CA", 2]}}}'),
    ("GT int", '{"filter": {"GT": {"turns": 3}}}'),
    ("GTE float", '{"filter": {"GTE": {"total": 1.5}}}'),
    ("LT negative", '{"filter": {"LT": {"total": -2}}}'),
    ("LTE exponent", '{"filter": {"LTE": {"total": 1e3}}}'),
    ("GT big int", '{"filter": {"GT": {"n": 9007199254740993}}}'),
    ("GT huge", '{"filter": {"GT": {"n": 123456789012345678901234567890}}}'),
    ("GT too big", '{"filter": {"GT": {"n": 1e400}}}'),
    ("GT string", '{"filter": {"GT": {"turns": "3"}}}'),
    ("GT null", '{"filter": {"GT": {"turns": null}}}'),
    ("LT bool", '{"filter": {"LT": {"turns": false}}}'),
    ("AND", '{"filter": {"AND": [{"EQ": {"a": "1"}}, {"IN": {"b": ["2", "3"]}}]}}'),
    ("AND three", '{"filter": {"AND": [{"EQ": {"a": "1"}}, {"NEQ": {"b": "2"}}, {"GT": {"c": 3}}]}}'),
    ("AND one", '{"filter": {"AND": [{"EQ": {"a": "1"}}]}}'),
    ("AND empty", '{"filter": {"AND": []}}'),
    ("AND not array", '{"filter": {"AND": {"EQ": {"a": "1"}}}}'),
    ("AND bad entry", '{"filter": {"AND": [{"EQ": {"a": "1"}}, "x"]}}'),
    ("AND bad value", '{"filter": {"AND": [{"EQ": {"a": "1"}}, {"EQ": {"b": 2}}]}}'),
    ("OR", '{"filter": {"OR": [{"EQ": {"a": "1"}}, {"EQ": {"a": "2"}}]}}'),
    ("OR of AND", '{"filter": {"OR": [{"EQ": {"person.org": "A"}}, '
                  '{"AND": [{"EQ": {"person.org": "B"}}, {"IN": {"state": ["CA", "WA"]}}]}]}}'),
    ("AND of OR", '{"filter": {"AND": [{"OR": [{"EQ": {"a": "1"}}, {"EQ": {"a": "2"}}]}, '
                  '{"OR": [{"LT": {"n": 1}}, {"GT": {"n": 9}}]}]}}'),
    ("deep nesting", '{"filter": {"OR": [{"AND": [{"OR": [{"EQ": {"a": "1"}}, {"EQ": {"b": "2"}}]}, '
                     '{"EQ": {"c": "3"}}]}, {"EQ": {"d": "4"}}]}}'),
    ("unknown operator", '{"filter": {"LIKE": {"a": "x%"}}}'),
    ("lower-case operator", '{"filter": {"eq": {"a": "1"}}}'),
    ("two operators", '{"filter": {"EQ": {"a": "1"}, "NEQ": {"b": "2"}}}'),
    ("filter empty", '{"filter": {}}'),
    ("filter null", '{"filter": null}'),
    ("filter array", '{"filter": [{"EQ": {"a": "1"}}]}'),
    ("filter string", '{"filter": "a = 1"}'),
    ("Filter capitalised", '{"Filter": {"EQ": {"a": "1"}}}'),
    ("FILTER upper", '{"FILTER": {"EQ": {"a": "1"}}}'),
    ("filters typo", '{"filters": {"EQ": {"a": "1"}}}'),
    ("long s folds", '{"ſort": [{"key": "a"}]}'),
    ("filter given twice", '{"filter": {"EQ": {"a": "1"}}, "filter": {"EQ": {"b": "2"}}}'),
    ("sort asc", '{"sort": [{"key": "state"}]}'),
    ("sort desc", '{"sort": [{"key": "state", "order": "DESC"}]}'),
    ("sort ASC given", '{"sort": [{"key": "state", "order": "ASC"}]}'),
    ("sort desc lower", '{"sort": [{"key": "state", "order": "desc"}]}'),
    ("sort order odd", '{"sort": [{"key": "state", "order": "down"}]}'),
    ("sort two", '{"filter": {"EQ": {"person.org": "A"}}, '
                 '"sort": [{"key": "state", "order": "DESC"}, {"key": "person.name"}]}'),
    ("sort empty", '{"sort": []}'),
    ("sort null", '{"sort": null}'),
    ("sort not array", '{"sort": {"key": "a"}}'),
    ("sort no key", '{"sort": [{"order": "DESC"}]}'),
    ("sort key number", '{"sort": [{"key": 5}]}'),
    ("sort Key capitalised", '{"sort": [{"Key": "a", "ORDER": "DESC"}]}'),
    ("sort extra field", '{"sort": [{"key": "a", "direction": "DESC"}]}'),
    ("sort item null", '{"sort": [null]}'),
    ("page limit", '{"page": {"limit": 2}}'),
    ("page limit and token", '{"filter": {"EQ": {"a": "1"}}, "page": {"limit": 10, "token": "abc"}}'),
    ("page token only", '{"page": {"token": "+RID:~x#RT:1#TRC:2"}}'),
    ("page limit zero", '{"page": {"limit": 0}}'),
    ("page limit negative", '{"page": {"limit": -1}}'),
    ("page limit float", '{"page": {"limit": 2.0}}'),
    ("page limit exponent", '{"page": {"limit": 1e2}}'),
    ("page limit string", '{"page": {"limit": "2"}}'),
    ("page limit huge", '{"page": {"limit": 9223372036854775808}}'),
    ("page limit max", '{"page": {"limit": 9223372036854775807}}'),
    ("page token number", '{"page": {"token": 5}}'),
    ("page null", '{"page": null}'),
    ("page array", '{"page": [2]}'),
    ("page extra field", '{"page": {"size": 2}}'),
    ("everything", '{"filter": {"OR": [{"EQ": {"person.org": "A"}}, {"AND": [{"NEQ": {"person.org": "B"}}, '
                   '{"IN": {"state": ["CA", "WA"]}}, {"GTE": {"n": 2}}]}]}, '
                   '"sort": [{"key": "state", "order": "DESC"}, {"key": "person.name"}], '
                   '"page": {"limit": 3, "token": "t"}}'),
    ("not an object", '[]'),
    ("a string", '"x"'),
    ("null", 'null'),
    ("bad JSON", '{"filter": {"EQ": {"a": "1"}}'),
    ("trailing garbage", '{"filter": {}} x'),
    ("NaN", '{"filter": {"GT": {"a": NaN}}}'),
    ("single quotes", "{'filter': {}}"),
    ("key value", '{"filter": {"EQ": {"value": "x"}}}'),
    ("key value.value", '{"filter": {"EQ": {"value.value": "x"}}}'),
    ("key a.value", '{"filter": {"EQ": {"a.value": "x"}}}'),
    ("key Value", '{"filter": {"EQ": {"Value": "x"}}}'),
    ("key valueX", '{"filter": {"EQ": {"valueX": "x"}}}'),
    ("key with space", '{"filter": {"EQ": {"first name": "x"}}}'),
    ("key with quote", '{"filter": {"EQ": {"a\'b": "x"}}}'),
    ("key injection", '{"filter": {"EQ": {"a = \'1\' OR c.id": "x"}}}'),
    ("key empty", '{"filter": {"EQ": {"": "x"}}}'),
    ("key double dot", '{"filter": {"EQ": {"a..b": "x"}}}'),
    ("key trailing dot", '{"filter": {"EQ": {"a.": "x"}}}'),
    ("key leading dot", '{"filter": {"EQ": {".a": "x"}}}'),
    ("key hyphen", '{"filter": {"EQ": {"first-name": "x"}}}'),
    ("key digits", '{"filter": {"EQ": {"items.0": "x"}}}'),
    ("key bracket", '{"filter": {"EQ": {"items[0]": "x"}}}'),
    ("key umlaut", '{"filter": {"EQ": {"präferenz.stadt": "x"}}}'),
    ("key dotless i", '{"filter": {"EQ": {"ıd.x": "x"}}}'),
    ("key long s", '{"filter": {"EQ": {"ſtate.x": "x"}}}'),
    ("key shrinking upper", '{"filter": {"EQ": {"ⱥb.c": "x"}}}'),
    ("key backslash", '{"filter": {"EQ": {"a\\\\b": "x"}}}'),
    ("key _id", '{"filter": {"EQ": {"_id": "x"}}}'),
    ("sort key with space", '{"sort": [{"key": "first name"}]}'),
]

PATHS = ["a", "a.b", "value", "value.a", "a.value", "value.value.value", "Value.x", "VALUE", "valuex.value",
         "a.valueb", "x.VaLuE.y", "", ".", "a..b", "a.", "ı", "ıd.ı", "ſ", "ſ.ſ", "ⱥ", "ⱥb.c", "ǅ.x", "ß.ss",
         "a b.c d", "a'b", "a\\b", "a]b", "日本.語", "🙂.x", "a.b.c.d.e.f"]

ORIGINAL_KEYS = ["k", "app||k", "app||type||id||key", "||k", "app||", "a||b||c", "ns.app||k", "||", "a|b", ""]

VALUE_DOCUMENTS: list[dict] = [
    {"id": "v1", "isBinary": False, "value": {"state": "CA", "n": 3}},
    {"id": "v2", "isBinary": False, "value": {"pi": 3.14159265358979, "total": 1501.5, "tiny": 0.000001234}},
    {"id": "v3", "isBinary": False, "value": {"big": 1152921504606846977, "exp": 1e21, "neg": -0.1, "int": 42}},
    {"id": "v4", "isBinary": False, "value": {"html": "<a href='x'>&</a>", "unicode": "Zürich 𝄞", "nested": {"b": [1, "2", None, True]}}},
    {"id": "v5", "isBinary": True, "value": "AAEC/w=="},
    {"id": "v6", "isBinary": False, "value": {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}},
    {"id": "v7", "isBinary": False, "value": {"f": 100000000.0, "g": 123456.789, "h": 1e-7, "i": 2.5e-5}},
    {"id": "v8", "isBinary": False, "value": "a plain string"},
    {"id": "v9", "isBinary": False, "value": [1, 2.25, 3.333333333]},
]

_EXPORT = """package cosmosdb

// Written by dapr-explorer's tests/unit/recorded/record_dapr_query.py into a temporary copy of the package:
// exports what the recorder reads. Not part of components-contrib.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	jsoniter "github.com/json-iterator/go"

	"github.com/dapr/components-contrib/state/query"
)

type RecordedParameter struct {
	Name   string      `json:"name"`
	Value  interface{} `json:"value"`
	GoType string      `json:"goType"`
}

type Recorded struct {
	SQL        string              `json:"sql,omitempty"`
	Parameters []RecordedParameter `json:"parameters"`
	Limit      int                 `json:"limit"`
	Token      string              `json:"token"`
	Error      string              `json:"error,omitempty"`
}

func RecordTranslate(text string) Recorded {
	var qq query.Query
	if err := json.Unmarshal([]byte(text), &qq); err != nil {
		return Recorded{Error: "failed to parse JSON query body: " + err.Error()}
	}
	q := &Query{}
	if err := query.NewQueryBuilder(q).BuildQuery(&qq); err != nil {
		return Recorded{Error: err.Error()}
	}
	params := []RecordedParameter{}
	for _, p := range q.query.parameters {
		params = append(params, RecordedParameter{Name: p.Name, Value: p.Value, GoType: fmt.Sprintf("%T", p.Value)})
	}
	return Recorded{SQL: q.query.query, Parameters: params, Limit: q.limit, Token: q.token}
}

func RecordReplaceKeywords(key string) string {
	return replaceKeywords(key)
}

func RecordValue(document []byte) (string, error) {
	item := CosmosItem{}
	if err := json.Unmarshal(document, &item); err != nil {
		return "", err
	}
	if item.IsBinary {
		data, _ := base64.StdEncoding.DecodeString(item.Value.(string))
		return base64.StdEncoding.EncodeToString(data), nil
	}
	data, err := jsoniter.ConfigFastest.Marshal(&item.Value)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(data), nil
}
"""

_MAIN = """package main

import (
	"encoding/json"
	"os"

	"github.com/dapr/components-contrib/state/azure/cosmosdb"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
)

type input struct {
	Queries      []string          `json:"queries"`
	Paths        []string          `json:"paths"`
	OriginalKeys []string          `json:"original_keys"`
	Values       []json.RawMessage `json:"values"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := map[string]interface{}{}
	queries := []cosmosdb.Recorded{}
	for _, text := range in.Queries {
		queries = append(queries, cosmosdb.RecordTranslate(text))
	}
	paths := []string{}
	for _, p := range in.Paths {
		paths = append(paths, cosmosdb.RecordReplaceKeywords("c.value."+p))
	}
	keys := []string{}
	for _, k := range in.OriginalKeys {
		keys = append(keys, stateLoader.GetOriginalStateKey(k))
	}
	values := []map[string]string{}
	for _, v := range in.Values {
		data, err := cosmosdb.RecordValue(v)
		if err != nil {
			values = append(values, map[string]string{"error": err.Error()})
		} else {
			values = append(values, map[string]string{"base64": data})
		}
	}
	out["queries"], out["paths"], out["original_keys"], out["values"] = queries, paths, keys, values
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
"""


def record() -> dict:
    modcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    package = Path(modcache) / CONTRIB / "state" / "azure" / "cosmosdb"
    if not package.is_dir():
        sys.exit(f"{package} is missing: run `make install` (it builds daprd from the module cache) first")
    with tempfile.TemporaryDirectory(prefix="record-dapr-query-") as tmp:
        work = Path(tmp)
        module = (ROOT / "stack" / "daprd" / "go.mod").read_text()
        (work / "go.mod").write_text(module.replace("module github.com/dapr-explorer/stack/daprd",
                                                    "module dapr-explorer/record-dapr-query", 1))
        shutil.copy(ROOT / "stack" / "daprd" / "go.sum", work / "go.sum")
        (work / "main.go").write_text(_MAIN.replace('"github.com/dapr/components-contrib/state/azure/cosmosdb"',
                                                    '"dapr-explorer/record-dapr-query/cosmosdb"'))
        (work / "cosmosdb").mkdir()
        for name in ("cosmosdb.go", "cosmosdb_query.go"):
            shutil.copy(package / name, work / "cosmosdb" / name)
        (work / "cosmosdb" / "zz_record.go").write_text(_EXPORT)
        stdin = json.dumps({"queries": [text for _, text in QUERIES], "paths": PATHS,
                            "original_keys": ORIGINAL_KEYS, "values": VALUE_DOCUMENTS})
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
        done = subprocess.run(["go", "run", "."], cwd=work, input=stdin,
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.exit(f"go run failed:\n{done.stderr}")
        out = json.loads(done.stdout)
    return {
        "source": f"{CONTRIB} state/query + state/azure/cosmosdb/cosmosdb_query.go; "
                  "github.com/dapr/dapr@v1.18.2 pkg/components/state GetOriginalStateKey",
        "queries": [{"name": name, "query": text, **result} for (name, text), result in zip(QUERIES, out["queries"])],
        "paths": [{"key": key, "path": path} for key, path in zip(PATHS, out["paths"])],
        "original_keys": [{"id": doc_id, "key": key} for doc_id, key in zip(ORIGINAL_KEYS, out["original_keys"])],
        "values": [{"document": doc, **result} for doc, result in zip(VALUE_DOCUMENTS, out["values"])],
    }


def main() -> None:
    recorded = record()
    OUTPUT.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT} ({len(recorded['queries'])} queries)")


if __name__ == "__main__":
    main()
