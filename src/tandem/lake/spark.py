"""Spark as the query engine of customer data (`engine = "spark"` in tandem.toml).

Identity resolution is written as DuckDB SQL run through a raw DuckDB connection. On Spark the
*same* SQL runs through `SparkConnection`, an adapter with the part of the DuckDB connection API
the pipeline uses (`execute(sql, params).fetchall()`, `sql(q).to_arrow_table()`,
`register(name, arrow)`, `unregister(name)`): each statement is parsed by sqlglot as DuckDB SQL
and written as Spark SQL, with a few generic rewrites for what Spark lacks (see `translate`):

- `CREATE [OR REPLACE] TEMP TABLE x AS q` runs `q` and materialises the result with
  `localCheckpoint()` (so iterative label propagation does not build an ever-deeper lineage),
  registered as the temporary view `x`; `CREATE TEMP VIEW x AS q` registers `q` unmaterialised;
  `CREATE TEMP TABLE x (col TYPE, ...)` an empty one.
- `INSERT INTO x q` (x UNION ALL q), `UPDATE x SET ... [FROM y] WHERE ...` (x rewritten by a join),
  `ALTER TABLE x ADD COLUMN c TYPE` and `DROP TABLE|VIEW x` act on those temporary views.
- DuckDB functions without a Spark twin: `json_extract_string(doc, [paths])`,
  `from_json(doc, '<DuckDB JSON structure>')`, `regexp_full_match`, `hash` (a 63-bit
  `xxhash64`), `row_number() OVER ()` (a unique increasing id), and for probabilistic
  matching's person records `strip_accents` (`translate` with DuckDB's own fold table, then
  conjoining Hangul jamo composed as DuckDB composes them),
  `try_strptime` of dates (DuckDB's parse as regular expressions + `try_to_date`),
  `list_extract`, `first(x ORDER BY k)` (`max_by`/`min_by`), `jaro_winkler_similarity`
  (Splink's jar); string literals with a vertical tab or form feed are built with `char()`.
- A Python function an upper layer gives DuckDB (an Ibis Python UDF, such as person records'
  phone normaliser) runs on Spark as the same function, a Spark Python UDF registered by
  `python_function` (local Python workers run the driver's interpreter).

Bound parameters stay bound: `?` and `$name` markers become Spark's named markers and their
values go to `spark.sql(query, args=...)`; a value never becomes SQL text.

The lake's Delta tables are read from their snapshot's file list (`Lake.table(name)`: the
add actions of one version) with `spark.read.parquet`, partition values (`source=web/`) added as
columns: delta-spark is not needed. Results are collected to the driver as Arrow and written
back by deltalake (`tandem.lake.derived.replace_table`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from tandem.errors import TandemError

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame, SparkSession

    from tandem.lake.store import Lake

INSTALL_HINT = "engine = spark needs `pip install tandem[spark]` and Java 17+"


class SparkUnavailable(TandemError):
    """`engine = "spark"` but pyspark or Java is missing, or Spark cannot start."""

    status_code = 503
    error = "spark_unavailable"


class SparkSQLError(TandemError):
    """A statement the Spark adapter cannot run (a construct it does not translate)."""

    status_code = 500
    error = "spark_sql"


# -- the session ------------------------------------------------------------------------------
_SESSION_LOCK = threading.Lock()


def java_available() -> bool:
    """Whether a Java runtime can be found (JAVA_HOME or `java` on PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def spark_session(
    *, master: str | None = None, app_name: str = "tandem", config: dict[str, str] | None = None
) -> SparkSession:
    """The active SparkSession (e.g. under spark-submit or a notebook), else a new one on
    `master` (default `$TANDEM_SPARK_MASTER`, else `local[*]`), UTC session time zone, Splink's
    similarity functions on the class path when Splink is installed, and `config` on top.
    SparkUnavailable when pyspark or Java is missing or the JVM does not start."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "Spark is not installed",
            detail=f'{INSTALL_HINT}; or set engine = "duckdb" in tandem.toml',
        ) from None
    with _SESSION_LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        if not java_available():
            raise SparkUnavailable(
                "Spark needs Java, and no Java runtime was found (JAVA_HOME, PATH)",
                detail=INSTALL_HINT,
            )
        master = master or os.environ.get("TANDEM_SPARK_MASTER") or "local[*]"
        builder = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("TANDEM_SPARK_PARTITIONS", "8"))
            .config("spark.sql.ansi.enabled", "false")
        )
        if master.startswith("local"):
            # local Python workers run this interpreter (Tandem's environment, for the Python
            # functions of `python_function`), not whichever `python3` is on PATH: pyspark
            # reads only the environment variable
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        jar = _splink_jar()
        if jar:
            builder = builder.config("spark.jars", jar)
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: a message, not a Java trace
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkUnavailable(
                f"Spark could not start: {first[:300]}", detail=INSTALL_HINT
            ) from None
        session.sparkContext.setLogLevel("ERROR")
        return session


def _splink_jar() -> str | None:
    """The jar of Splink's string similarity functions (shipped in the Splink wheel, no
    download), for Splink's Spark back-end."""
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        return None
    try:
        return str(similarity_jar_location())
    except Exception:  # a Splink without a jar for this Spark: Splink says so when used
        return None


# -- reading Delta tables from their snapshot ----------------------------------------------------
def delta_frame(spark: SparkSession, table: DeltaTable, schema: pa.Schema) -> DataFrame:
    """The rows of `table`'s current snapshot as a Spark DataFrame with `schema`'s columns:
    its data files (the add actions of that version), read with `spark.read.parquet`, and the
    partition columns' values (stored in the log, not in the files) added as literals."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    protocol = table.protocol()
    features = set(protocol.reader_features or [])
    if "deletionVectors" in features or "columnMapping" in features:
        raise SparkUnavailable(
            f"the Delta table {table.table_uri} uses {', '.join(sorted(features))}, which "
            "Tandem cannot read on Spark without delta-spark",
            detail='set engine = "duckdb" in tandem.toml',
        )
    partitions = list(table.metadata().partition_columns)
    file_schema = pa.schema([f for f in schema if f.name not in partitions])
    spark_schema = from_arrow_schema(file_schema)
    uris = table.file_uris()
    actions = table.get_add_actions(flatten=True)
    actions = pa.table(actions) if not isinstance(actions, pa.Table) else actions
    # file_uris() and the add actions list the snapshot's files in the same order
    groups: dict[tuple[Any, ...], list[str]] = {}
    columns = [actions.column(f"partition.{p}").to_pylist() for p in partitions]
    for index, uri in enumerate(uris):
        key = tuple(col[index] for col in columns)
        groups.setdefault(key, []).append(uri)
    frames: list[DataFrame] = []
    for key, files in sorted(groups.items(), key=lambda kv: [str(v) for v in kv[0]]):
        frame = spark.read.schema(spark_schema).parquet(*files)
        for name, value in zip(partitions, key, strict=True):
            field = schema.field(name)
            frame = frame.withColumn(
                name, F.lit(value).cast(from_arrow_schema(pa.schema([field]))[0].dataType)
            )
        frames.append(frame.select(*schema.names))
    if not frames:
        return spark.createDataFrame([], from_arrow_schema(schema))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


# -- parameters -------------------------------------------------------------------------------
def _named_placeholders(
    sql: str, params: Sequence[Any] | dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """`sql` with its positional `?` markers renamed `$_p0`, `$_p1`, ... in order (found by
    sqlglot's tokenizer, so a `?` inside a string literal stays), and the named values."""
    if params is None:
        return sql, {}
    if isinstance(params, dict):
        return sql, {str(k): v for k, v in params.items()}
    values = list(params)
    tokens = [t for t in sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)]
    marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if len(marks) != len(values):
        raise SparkSQLError(
            f"the statement has {len(marks)} parameter markers but {len(values)} values were given"
        )
    out: list[str] = []
    last = 0
    args: dict[str, Any] = {}
    for index, (token, value) in enumerate(zip(marks, values, strict=True)):
        out.append(sql[last : token.start])
        out.append(f"$_p{index}")
        args[f"_p{index}"] = value
        last = token.end + 1
    out.append(sql[last:])
    return "".join(out), args


def _spark_args(args: dict[str, Any]) -> dict[str, Any]:
    """Values as Spark SQL literals: lists become `array(...)` columns of literals."""
    from pyspark.sql import functions as F

    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, (list, tuple)):
            # a collection constructor is taken as is; the SQL casts it where it must
            out[key] = F.array(*[F.lit(v) for v in value])
        else:
            out[key] = value
    return out


# -- translating DuckDB SQL ----------------------------------------------------------------------
_DUCK_TYPES = {
    "VARCHAR": "string",
    "TEXT": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "JSON": "string",
    "UBIGINT": "bigint",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


def _json_structure_to_ddl(structure: Any) -> str:
    """A DuckDB `from_json` structure ('[{"id": "VARCHAR"}]') as a Spark DDL type."""
    if isinstance(structure, list):
        if len(structure) != 1:
            raise SparkSQLError("from_json: a list structure must hold one element type")
        return f"array<{_json_structure_to_ddl(structure[0])}>"
    if isinstance(structure, dict):
        fields = ", ".join(f"`{k}`: {_json_structure_to_ddl(v)}" for k, v in structure.items())
        return f"struct<{fields}>"
    if isinstance(structure, str) and structure.upper() in _DUCK_TYPES:
        return _DUCK_TYPES[structure.upper()]
    raise SparkSQLError(f"from_json: the type {structure!r} is not translated to Spark")


def _hash63(args: list[exp.Expression]) -> exp.Expression:
    """DuckDB's `hash(...)` (an unsigned 64-bit hash): a non-negative 63-bit xxhash64."""
    return exp.Anonymous(
        this="shiftrightunsigned",
        expressions=[exp.Anonymous(this="xxhash64", expressions=args), exp.Literal.number(1)],
    )


_RANKING = (
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Lag,
    exp.Lead,
    exp.PercentRank,
    exp.CumeDist,
)


_UNSIGNED = {
    exp.DataType.Type.UBIGINT: "BIGINT",
    exp.DataType.Type.UINT: "BIGINT",
    exp.DataType.Type.USMALLINT: "INT",
    exp.DataType.Type.UTINYINT: "SMALLINT",
}


def _rewrite(node: exp.Expression) -> exp.Expression:
    """One node of a DuckDB AST rewritten to what Spark runs the same way."""
    if isinstance(node, exp.JSONExtractScalar) and isinstance(node.expression, exp.Array):
        return exp.Array(
            expressions=[
                exp.Anonymous(this="get_json_object", expressions=[_sub(node.this), _sub(p)])
                for p in node.expression.expressions
            ]
        )
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name == "from_json" and len(node.expressions) == 2:
            shape = node.expressions[1]
            if isinstance(shape, exp.Literal) and shape.is_string:
                ddl = _json_structure_to_ddl(json.loads(shape.this))
                return exp.Anonymous(
                    this="from_json",
                    expressions=[_sub(node.expressions[0]), exp.Literal.string(ddl)],
                )
        if name == "hash":
            return _hash63([_sub(e) for e in node.expressions])
        if name == "strip_accents" and len(node.expressions) == 1:
            return _strip_accents(_sub(node.expressions[0]))
        if name == "jaro_winkler_similarity":
            # Splink's similarity jar (on spark.jars, registered by Splink's SparkAPI)
            return exp.Anonymous(
                this="jaro_winkler", expressions=[_sub(e) for e in node.expressions]
            )
        if name == "try_strptime" and len(node.expressions) == 2:
            return _try_strptime(node.expressions[0], node.expressions[1])
        if name in ("list_extract", "list_element", "array_extract") and len(node.expressions) == 2:
            # 1-based on both; out of range (and 0) is NULL on DuckDB
            array, index = node.expressions
            if isinstance(index, exp.Literal) and not index.is_string and int(index.this) == 0:
                return exp.Null()
            return exp.Anonymous(this="try_element_at", expressions=[_sub(array), _sub(index)])
        if name in ("list_position", "array_position", "list_indexof", "array_indexof"):
            # 1-based on both; DuckDB gives NULL when absent, Spark 0
            return exp.Nullif(
                this=exp.Anonymous(
                    this="array_position", expressions=[_sub(e) for e in node.expressions]
                ),
                expression=exp.Literal.number(0),
            )
    if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
        return _first_ordered(node.this)
    if isinstance(node, exp.Literal) and node.is_string and _SPARK_UNESCAPED.search(node.this):
        # sqlglot writes \v and \f, which Spark reads as the letters v and f
        return _literal_with_controls(node.this)
    if isinstance(node, exp.DataType) and node.this in _UNSIGNED:
        # Spark has no unsigned integers: the signed type of the same width (DuckDB values
        # above its maximum are not supported; hash() is 63-bit here, see _hash63)
        return exp.DataType.build(_UNSIGNED[node.this])
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        anchored: exp.Expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            anchored = exp.Literal.string(f"^(?:{pattern.this})$")
        else:
            anchored = exp.Anonymous(
                this="concat",
                expressions=[
                    exp.Literal.string("^(?:"),
                    _sub(pattern),
                    exp.Literal.string(")$"),
                ],
            )
        return exp.RegexpLike(this=_sub(node.this), expression=anchored)
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.RowNumber)
        and not node.args.get("partition_by")
        and not node.args.get("order")
    ):
        return exp.Add(
            this=exp.Anonymous(this="monotonically_increasing_id", expressions=[]),
            expression=exp.Literal.number(1),
        )
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, _RANKING)
        and node.args.get("spec") is not None
    ):
        # Ibis writes ranking windows with an explicit whole-partition frame; Spark
        # only accepts ranking functions without one
        window = node.copy()
        window.set("spec", None)
        return _sub(window)
    if (
        isinstance(node, exp.Count)
        and isinstance(node.this, exp.Distinct)
        and len(node.this.expressions) == 1
        and isinstance(node.this.expressions[0], exp.Tuple)
    ):
        # DuckDB counts distinct row values (a row with NULL fields counts): Spark's struct
        parts = node.this.expressions[0].expressions
        struct = exp.Anonymous(this="struct", expressions=[_sub(p) for p in parts])
        return exp.Count(this=exp.Distinct(expressions=[struct]))
    return node


_SPARK_UNESCAPED = re.compile("[\x0b\x0c]")


def _literal_with_controls(text: str) -> exp.Expression:
    """A string literal holding a vertical tab or a form feed, as `concat` of literals and
    `char(11)` / `char(12)`."""
    parts: list[exp.Expression] = []
    for piece in re.split("([\x0b\x0c])", text):
        if piece in ("\x0b", "\x0c"):
            parts.append(exp.Anonymous(this="char", expressions=[exp.Literal.number(ord(piece))]))
        elif piece:
            parts.append(exp.Literal.string(piece))
    return exp.Anonymous(this="concat", expressions=parts)


@functools.cache
def accent_table() -> tuple[str, str]:
    """DuckDB's `strip_accents` character by character, as the two strings of Spark's
    `translate(s, from, to)`: the characters it folds to another character (é -> e), then those
    it deletes (combining marks). Computed by DuckDB itself over every code point (its Unicode
    version, not Python's), so Spark folds each character exactly as DuckDB does. No character
    folds to several: DuckDB keeps ß, æ, œ and ligatures as they are."""
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            SELECT c, strip_accents(c) FROM (
                SELECT i, chr(CAST(i AS INTEGER)) AS c FROM (
                    SELECT * FROM range(1, 55296) r(i)  -- not the surrogates
                    UNION ALL SELECT * FROM range(57344, 1114112) r(i)
                )
            ) WHERE strip_accents(c) <> c ORDER BY i
            """
        ).fetchall()
    finally:
        con.close()
    if any(len(folded) > 1 for _, folded in rows):
        raise SparkSQLError("DuckDB's strip_accents folds a character to several: not translated")
    folded = [(c, f) for c, f in rows if len(f) == 1]
    deleted = [c for c, f in rows if f == ""]
    return "".join(c for c, _ in folded) + "".join(deleted), "".join(f for _, f in folded)


_HANGUL_L = "".join(chr(c) for c in range(0x1100, 0x1113))
_HANGUL_V = "".join(chr(c) for c in range(0x1161, 0x1176))
_HANGUL_T = "".join(chr(c) for c in range(0x11A8, 0x11C3))
_HANGUL_LV = "".join(chr(c) for c in range(0xAC00, 0xD7A4, 28))
_HANGUL_RUN = (
    f"[{_HANGUL_L[0]}-{_HANGUL_L[-1]}][{_HANGUL_V[0]}-{_HANGUL_V[-1]}]"
    f"[{_HANGUL_T[0]}-{_HANGUL_T[-1]}]?|[{_HANGUL_LV}][{_HANGUL_T[0]}-{_HANGUL_T[-1]}]"
)
"""Conjoining jamo that Unicode composes into one syllable: leading + vowel (+ trailing), or a
syllable without a trailing consonant + trailing."""


def _code_point(text: str) -> str:
    return f"CAST(conv(hex(encode({text}, 'UTF-16BE')), 16, 10) AS INT)"


@functools.cache
def _strip_accents_template() -> exp.Expression:
    """Spark SQL for DuckDB's strip_accents of `__text__`: characters folded by `translate`
    with `accent_table`, then (only for text with conjoining Hangul jamo, which DuckDB composes
    after removing the marks between them, as Unicode's NFC does: "ᄒ"+"ᅡ"+"ᆫ" -> "한") each run
    of composable jamo replaced by its syllable, computed from the code points."""
    folded = "translate(__text__, __from__, __to__)"
    first, second = _code_point("substr(run, 1, 1)"), _code_point("substr(run, 2, 1)")
    third = _code_point("substr(run, 3, 1)")
    syllable = (
        f"CASE WHEN {first} < 44032 THEN 44032 + (({first} - 4352) * 21 + {second} - 4449) * 28"
        f" + CASE WHEN length(run) = 3 THEN {third} - 4519 ELSE 0 END"
        f" ELSE {first} + {second} - 4519 END"
    )
    as_text = f"decode(unhex(lpad(hex({syllable}), 4, '0')), 'UTF-16BE')"
    composed = (
        f"concat(element_at(split({folded}, '{_HANGUL_RUN}', -1), 1), array_join(zip_with("
        f"regexp_extract_all({folded}, '({_HANGUL_RUN})', 1), "
        f"slice(split({folded}, '{_HANGUL_RUN}', -1), 2, 1000000), "
        f"(run, rest) -> concat({as_text}, rest)), ''))"
    )
    jamo = f"[{_HANGUL_L[0]}-{_HANGUL_T[-1]}]"
    sql = f"CASE WHEN __text__ RLIKE '{jamo}' THEN {composed} ELSE {folded} END"
    return sqlglot.parse_one(sql, read="spark")


def _strip_accents(text: exp.Expression) -> exp.Expression:
    source, target = accent_table()
    values = {
        "__text__": text,
        "__from__": exp.Literal.string(source),
        "__to__": exp.Literal.string(target),
    }

    def place(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in values:
            return values[node.name].copy()
        return node

    return _strip_accents_template().copy().transform(place)


_STRPTIME_FIELDS = {
    "%Y": ("year", r"(\d{1,4}+)"),
    "%m": ("month", r"(\d{1,2}+)"),
    "%d": ("day", r"(\d{1,2}+)"),
}
"""strptime fields as (part, pattern): possessive, as DuckDB's parser does not backtrack."""


def _try_strptime(text: exp.Expression, formats: exp.Expression) -> exp.Expression:
    """DuckDB's `try_strptime(text, [formats])` for dates (%Y, %m, %d and literal separators):
    the first format whose pattern matches, parsed as DuckDB parses (digits taken greedily, up
    to 4 for the year and 2 for month and day, blanks around allowed), an invalid date NULL."""
    items = list(formats.expressions) if isinstance(formats, exp.Array) else [formats]
    if not items or not all(isinstance(f, exp.Literal) and f.is_string for f in items):
        raise SparkSQLError("try_strptime on Spark needs literal formats")
    parsed: list[exp.Expression] = []
    for item in items:
        fmt = str(item.this)
        pattern, order = "", []
        for token in re.split("(%.)", fmt):
            if token in _STRPTIME_FIELDS:
                order.append(_STRPTIME_FIELDS[token][0])
                pattern += _STRPTIME_FIELDS[token][1]
            elif token.startswith("%") and len(token) == 2:
                raise SparkSQLError(f"try_strptime on Spark does not translate {token} in {fmt!r}")
            else:
                pattern += re.escape(token)
        if sorted(order) != ["day", "month", "year"]:
            raise SparkSQLError(f"try_strptime on Spark needs %Y, %m and %d once each: {fmt!r}")
        regex = exp.Literal.string("^\\s*" + pattern + "\\s*$")
        group = {
            part: exp.Anonymous(
                this="regexp_extract",
                expressions=[_sub(text), _sub(regex), exp.Literal.number(order.index(part) + 1)],
            )
            for part in order
        }
        iso = exp.Anonymous(
            this="concat_ws",
            expressions=[
                exp.Literal.string("-"),
                exp.Anonymous(
                    this="lpad",
                    expressions=[group["year"], exp.Literal.number(4), exp.Literal.string("0")],
                ),
                group["month"],
                group["day"],
            ],
        )
        date = exp.Anonymous(this="try_to_date", expressions=[iso, exp.Literal.string("yyyy-M-d")])
        parsed.append(
            exp.Case(
                ifs=[
                    exp.If(this=exp.RegexpLike(this=_sub(text), expression=_sub(regex)), true=date)
                ]
            )
        )
    first = parsed[0] if len(parsed) == 1 else exp.Coalesce(this=parsed[0], expressions=parsed[1:])
    return exp.Cast(this=first, to=exp.DataType.build("TIMESTAMP"))


def _first_ordered(order: exp.Order) -> exp.Expression:
    """DuckDB's `first(x ORDER BY k [DESC], ...)` as Spark's `max_by(x, k)` / `min_by(x, k)`
    (several keys: a struct of them; all in one direction)."""
    keys = list(order.expressions)
    directions = {bool(k.args.get("desc")) for k in keys}
    if len(directions) != 1:
        raise SparkSQLError("first(... ORDER BY) on Spark needs every key in one direction")
    values = [_sub(k.this) for k in keys]
    key = values[0] if len(values) == 1 else exp.Anonymous(this="struct", expressions=values)
    return exp.Anonymous(
        this="max_by" if directions.pop() else "min_by", expressions=[_sub(order.this), key]
    )


def _sub(node: exp.Expression) -> exp.Expression:
    """A copy of `node` rewritten (sqlglot does not visit the children of a node a rewrite
    replaced)."""
    return node.transform(_rewrite)


def to_spark_sql(expression: exp.Expression) -> str:
    """A DuckDB expression (query) as Spark SQL text."""
    rewritten = expression.copy().transform(_rewrite)
    return str(rewritten.sql(dialect="spark"))


def _table_name(table: exp.Expression) -> str:
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table):
        raise SparkSQLError(f"expected a table name, got {table.sql(dialect='duckdb')}")
    return str(table.name)


def _spark_type(kind: exp.DataType) -> str:
    return str(kind.sql(dialect="spark"))


@dataclass
class Result:
    """A statement's result, shaped like a DuckDB relation / cursor."""

    frame: DataFrame | None

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self.frame is None:
            return []
        return [tuple(row) for row in self.frame.collect()]

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.frame is None:
            return None
        rows = self.frame.limit(1).collect()
        return tuple(rows[0]) if rows else None

    def to_arrow_table(self) -> pa.Table:
        if self.frame is None:
            return pa.table({})
        table: pa.Table = self.frame.toArrow()
        return table

    fetch_arrow_table = to_arrow_table
    arrow = to_arrow_table


_PYTHON_FUNCTIONS: dict[str, tuple[Callable[..., Any], str]] = {}


def python_function(name: str, function: Callable[..., Any], return_type: str = "string") -> None:
    """Let SQL run through a SparkConnection call the Python `function` as `name(...)` (also
    as `name_<n>(...)`: Ibis numbers the Python UDFs it gives DuckDB), registered in the
    session as a Spark Python UDF the first time a statement calls it: an upper layer that gives
    DuckDB a Python function gives Spark the same one. `function` receives None for NULL."""
    _PYTHON_FUNCTIONS[name.lower()] = (function, return_type)


def _python_function(name: str) -> tuple[Callable[..., Any], str] | None:
    base = name.lower()
    found = _PYTHON_FUNCTIONS.get(base)
    if found is None and re.fullmatch(r".+_\d+", base):
        found = _PYTHON_FUNCTIONS.get(base.rsplit("_", 1)[0])
    return found


class SparkConnection:
    """The subset of a raw DuckDB connection identity resolution uses, on Spark."""

    name = "pyspark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        # Spark 4.x fails to checkpoint a UNION whose sides were checkpointed ("key not found"
        # in LogicalRDD's constraint rewrite); the pipeline needs no inferred constraints
        spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
        self._views: set[str] = set()
        self._functions: set[str] = set()
        self.statements = 0
        """Statements run (for the logs and the tests)."""
        self.timings: list[tuple[str, float]] = []

    # -- DuckDB's API ---------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Result:
        return self._run(sql, params)

    def sql(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Result:
        return self._run(sql, params)

    def register(self, name: str, data: Any) -> SparkConnection:
        """Register an Arrow table (or anything with `to_table()`, like a pyarrow dataset)
        as the temporary view `name`."""
        table = data if isinstance(data, pa.Table) else data.to_table()
        self.register_frame(name, self.spark.createDataFrame(table))
        return self

    def unregister(self, name: str) -> SparkConnection:
        self.drop(name)
        return self

    def close(self) -> None:
        """Drop every temporary view this connection made."""
        for name in list(self._views):
            self.drop(name)

    # -- helpers --------------------------------------------------------------------------------
    def register_frame(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def views(self) -> list[str]:
        return sorted(self._views)

    def query(self, expression: exp.Expression, args: dict[str, Any]) -> DataFrame:
        """Run a DuckDB query expression on Spark."""
        self._register_python_functions(expression)
        text = to_spark_sql(expression)
        used = {p.name for p in expression.find_all(exp.Placeholder) if p.name}
        bound = {k: v for k, v in args.items() if k in used}
        try:
            return self.spark.sql(text, args=_spark_args(bound) or None)
        except Exception as exc:
            if type(exc).__module__.startswith("pyspark"):
                first = str(exc).strip().splitlines()[0][:500]
                raise SparkSQLError(
                    f"Spark cannot run the translated statement: {first}", detail=text[:2000]
                ) from exc
            raise

    def _register_python_functions(self, expression: exp.Expression) -> None:
        """Register in the session the `python_function`s `expression` calls."""
        for node in expression.find_all(exp.Anonymous):
            name = str(node.this).lower()
            found = _python_function(name)
            if found is not None and name not in self._functions:
                function, return_type = found
                self.spark.udf.register(name, function, return_type)
                self._functions.add(name)

    def _materialise(self, name: str, frame: DataFrame) -> None:
        self.register_frame(name, frame.localCheckpoint(eager=True))

    def _run(self, sql: str, params: Sequence[Any] | dict[str, Any] | None) -> Result:
        text, args = _named_placeholders(sql, params)
        try:
            statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise SparkSQLError(f"cannot read the statement as DuckDB SQL: {exc}") from None
        result = Result(None)
        for statement in statements:
            self.statements += 1
            started = time.perf_counter()
            result = self._statement(statement, args)
            self.timings.append(
                (statement.sql(dialect="duckdb")[:80], time.perf_counter() - started)
            )
        return result

    def _statement(self, node: exp.Expression, args: dict[str, Any]) -> Result:
        if isinstance(node, exp.Create):
            return self._create(node, args)
        if isinstance(node, exp.Insert):
            name = _table_name(node.this)
            added = self.query(node.expression, args)
            current = self.spark.table(name)
            self._materialise(name, current.union(added.toDF(*current.columns)))
            return Result(None)
        if isinstance(node, exp.Update):
            self._update(node, args)
            return Result(None)
        if isinstance(node, exp.Alter):
            return self._alter(node)
        if isinstance(node, exp.Drop):
            name = _table_name(node.this)
            if not node.args.get("exists") and not self.spark.catalog.tableExists(name):
                raise SparkSQLError(f"no temporary table {name}")
            self.drop(name)
            return Result(None)
        if isinstance(node, exp.Query):
            return Result(self.query(node, args))
        raise SparkSQLError(
            f"the Spark adapter does not run {node.key.upper()} statements",
            detail=node.sql(dialect="duckdb")[:500],
        )

    def _create(self, node: exp.Create, args: dict[str, Any]) -> Result:
        kind = str(node.args.get("kind") or "").upper()
        name = _table_name(node.this)
        properties = node.args.get("properties")
        temporary = properties is not None and any(
            isinstance(p, exp.TemporaryProperty) for p in properties.expressions
        )
        if kind not in ("TABLE", "VIEW") or not temporary:
            raise SparkSQLError(
                f"the Spark adapter makes temporary tables and views only, not {name}",
                detail=node.sql(dialect="duckdb")[:500],
            )
        if not node.args.get("replace") and self.spark.catalog.tableExists(name):
            raise SparkSQLError(f"temporary table {name} already exists")
        query = node.expression
        if query is None:  # CREATE TEMP TABLE x (col TYPE, ...)
            schema = node.this
            columns = [
                f"CAST(NULL AS {_spark_type(c.args['kind'])}) AS `{c.name}`"
                for c in schema.expressions
                if isinstance(c, exp.ColumnDef)
            ]
            frame = self.spark.sql(f"SELECT {', '.join(columns)} WHERE false")
            self._materialise(name, frame)
            return Result(None)
        frame = self.query(query, args)
        if kind == "VIEW":
            self.register_frame(name, frame)
        else:
            self._materialise(name, frame)
        return Result(None)

    def _alter(self, node: exp.Alter) -> Result:
        from pyspark.sql import functions as F

        name = _table_name(node.this)
        frame = self.spark.table(name)
        for action in node.args.get("actions") or []:
            if not isinstance(action, exp.ColumnDef):
                raise SparkSQLError(
                    "the Spark adapter only adds columns with ALTER TABLE",
                    detail=node.sql(dialect="duckdb")[:500],
                )
            frame = frame.withColumn(
                action.name, F.lit(None).cast(_spark_type(action.args["kind"]))
            )
        self._materialise(name, frame)
        return Result(None)

    def _update(self, node: exp.Update, args: dict[str, Any]) -> None:
        """`UPDATE x SET c = e, ... [FROM y] WHERE w` as x rebuilt:
        without FROM, `CASE WHEN w THEN e ELSE c END`; with FROM, x LEFT JOIN y ON w (each
        row of x matching at most one row of y, as DuckDB needs for a defined result)."""
        name = _table_name(node.this)
        columns = self.spark.table(name).columns
        assignments: dict[str, exp.Expression] = {}
        for eq in node.expressions:
            if not isinstance(eq, exp.EQ) or not isinstance(eq.this, exp.Column):
                raise SparkSQLError("UPDATE: SET must assign columns")
            assignments[eq.this.name] = eq.expression
        unknown = [c for c in assignments if c not in columns]
        if unknown:
            raise SparkSQLError(f"UPDATE: {name} has no column {unknown[0]}")
        where = node.args.get("where")
        condition: exp.Expression = where.this if where is not None else exp.true()
        source = node.args.get("from")
        target = exp.to_identifier(name)
        hit = exp.column("__tandem_hit", table="__tandem_from")
        if source is None:
            # the condition evaluated once per row (it may hold IN (subquery), which Spark
            # allows in a projection only as a plain column: computed in a first pass)
            inner = exp.select(
                *[exp.column(c, table=target) for c in columns],
                exp.alias_(exp.func("coalesce", condition.copy(), exp.false()), "__tandem_hit"),
            ).from_(exp.to_table(name))
            flagged = self.query(inner, args)
            self.register_frame("__tandem_update", flagged)
            try:
                outer = exp.select(
                    *[
                        exp.alias_(
                            exp.Case(
                                ifs=[
                                    exp.If(
                                        this=exp.column("__tandem_hit"),
                                        true=_requalify(assignments[c], name, "__tandem_update"),
                                    )
                                ],
                                default=exp.column(c),
                            ),
                            c,
                        )
                        if c in assignments
                        else exp.column(c)
                        for c in columns
                    ]
                ).from_("__tandem_update")
                frame = self.query(outer, args)
                self._materialise(name, frame)
            finally:
                self.drop("__tandem_update")
            return
        joined = source.this
        alias = joined.alias_or_name
        marked = exp.select(exp.Star(), exp.alias_(exp.true(), "__tandem_hit")).from_(joined.copy())
        query = exp.select(
            *[
                exp.alias_(
                    exp.Case(
                        ifs=[exp.If(this=hit.copy(), true=assignments[c].copy())],
                        default=exp.column(c, table=target),
                    ),
                    c,
                )
                if c in assignments
                else exp.column(c, table=target)
                for c in columns
            ]
        ).from_(exp.to_table(name))
        query = query.join(
            exp.Subquery(
                this=marked, alias=exp.TableAlias(this=exp.to_identifier("__tandem_from"))
            ),
            on=_requalify(condition, alias, "__tandem_from"),
            join_type="left",
        )
        # references to the joined table by its alias now point at the marked subquery
        rewritten = query.transform(lambda n: _requalify(n, alias, "__tandem_from"))
        before = self.spark.table(name).count()
        frame = self.query(rewritten, args).localCheckpoint(eager=True)
        after = frame.count()
        if after != before:
            raise SparkSQLError(
                f"UPDATE {name} ... FROM {alias}: some rows match more than one row of {alias}"
            )
        self.register_frame(name, frame)


def _requalify(node: exp.Expression, old: str, new: str) -> exp.Expression:
    """`node` with columns qualified by `old` qualified by `new`."""

    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.table == old:
            return exp.column(n.name, table=new)
        return n

    return node.copy().transform(swap)


# -- the lake on Spark --------------------------------------------------------------------------
class SparkIbisConnection:
    """Stands where the pipeline expects `lake.con` (an Ibis backend): `.con` is the
    SparkConnection, `.name` the engine."""

    name = "pyspark"

    def __init__(self, con: SparkConnection) -> None:
        self.con = con


class SparkLake:
    """A Lake whose query connection is Spark: `con.con` is a SparkConnection; `raw(name)`
    and `events()` register `lake_<name>` on Spark from the table's Delta snapshot (and
    return the DuckDB Ibis expression, which stages compile to SQL text); writing, Delta
    handles and the rest are the wrapped Lake's."""

    def __init__(self, lake: Lake, spark: SparkSession) -> None:
        self._lake = lake
        self.spark = spark
        self._con = SparkIbisConnection(SparkConnection(spark))

    @property
    def con(self) -> SparkIbisConnection:
        return self._con

    @property
    def lake(self) -> Lake:
        return self._lake

    def register(self, name: str) -> DataFrame:
        """Register `lake_<name>` on Spark from the current snapshot of table `name`."""
        from tandem.lake.schema import SCHEMAS

        frame = delta_frame(self.spark, self._lake.table(name), SCHEMAS[name])
        self._con.con.register_frame(f"lake_{name}", frame)
        return frame

    def raw(self, name: str) -> ir.Table:
        self.register(name)
        return self._lake.raw(name)

    def events(self) -> ir.Table:
        from tandem.lake.schema import EVENTS

        self.register(EVENTS)
        return self._lake.events()

    def close(self) -> None:
        self._con.con.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lake, name)


TEMPORARY_PREFIXES = ("_tandem_", "_cc_", "_tl_", "_ti_", "lake_")
"""Names of the temporary views a resolution makes (the pipeline's stages and the lake's
tables)."""


def drop_temporaries() -> int:
    """Drop the temporary views a resolution left in the active Spark session (they pin
    checkpointed data in the executors' memory); returns how many."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return 0
    spark = SparkSession.getActiveSession()
    if spark is None:
        return 0
    dropped = 0
    for table in spark.catalog.listTables():
        if table.isTemporary and table.name.startswith(TEMPORARY_PREFIXES):
            spark.catalog.dropTempView(table.name)
            dropped += 1
    return dropped
