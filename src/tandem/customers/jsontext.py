"""DuckDB's JSON functions as Ibis builtins, declared once for every module that reads the JSON
text columns of the lake (traits, properties, context).

Each is a builtin: Ibis writes a call to DuckDB's function of that name (nothing runs in Python).
`json_extract_string` has two faces because DuckDB's function has two signatures, and an Ibis
builtin has one type: one path gives one text, a list of paths gives a list of texts (the
document parsed once).
"""

from __future__ import annotations

import ibis  # type: ignore[import-untyped]


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def json_extract_string(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the value at `path` (a JSONPath `$.a` or a JSON pointer `/a`) as text; strings
    without quotes, numbers and booleans as written, objects and lists as JSON; NULL when
    missing."""


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def json_extract_strings(doc: str, paths: list[str]) -> list[str]:  # type: ignore[empty-body]
    """DuckDB: the values at several paths of one document, parsed once (as json_extract_string,
    one item per path)."""


@ibis.udf.scalar.builtin(name="json_value")  # type: ignore[untyped-decorator]
def json_value(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the scalar at `path` as JSON text (NULL for objects and lists)."""


@ibis.udf.scalar.builtin(name="json_contains")  # type: ignore[untyped-decorator]
def json_contains(doc: str, needle: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: whether the JSON `doc` contains the JSON `needle` (a list holding it, ...)."""
