"""The one declaration of DuckDB's JSON functions, run on DuckDB."""

from __future__ import annotations

import ibis

from tandem.customers.jsontext import (
    json_contains,
    json_extract_string,
    json_extract_strings,
    json_value,
)

DOC = '{"name": "Ada", "n": 3, "tags": ["a", "b"], "it\'s": "quoted"}'


def run(expr: object) -> object:
    con = ibis.duckdb.connect()
    return con.execute(expr)


def test_each_function_calls_duckdb() -> None:
    t = ibis.memtable({"doc": [DOC]})
    row = run(
        t.select(
            name=json_extract_string(t.doc, "$.name"),
            quoted=json_extract_string(t.doc, "/it's"),
            tags=json_extract_string(t.doc, "/tags"),
            missing=json_extract_string(t.doc, "/nope"),
            many=json_extract_strings(t.doc, ibis.literal(["$.name", "$.n"], type="array<string>")),
            scalar=json_value(t.doc, "$.tags"),
            number=json_value(t.doc, "$.n"),
            has_b=json_contains(t.doc, '{"tags": ["b"]}'),
            has_c=json_contains(t.doc, '{"tags": ["c"]}'),
        )
    ).to_dict("records")[0]  # type: ignore[attr-defined]
    assert row["name"] == "Ada"
    assert row["quoted"] == "quoted"
    assert row["tags"] == '["a","b"]'
    assert row["missing"] is None
    assert list(row["many"]) == ["Ada", "3"]
    assert row["scalar"] is None
    assert row["number"] == "3"
    assert row["has_b"] is True
    assert row["has_c"] is False
