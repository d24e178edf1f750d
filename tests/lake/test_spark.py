"""lake/spark: DuckDB SQL run on Spark gives DuckDB's answers; Delta snapshots; bound values."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from tandem.errors import TandemError
from tandem.lake import spark as spark_mod
from tandem.lake.schema import SCHEMAS
from tandem.lake.spark import SparkConnection, SparkSQLError, SparkUnavailable, delta_frame
from tandem.workspace import Workspace
from tests.customers.identity_helpers import identify, send, track
from tests.spark_support import local_spark

spark_tests = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from local_spark()


@pytest.fixture
def con(spark: Any) -> Iterator[SparkConnection]:
    connection = SparkConnection(spark)
    yield connection
    connection.close()


PEOPLE = pa.table(
    {
        "id": pa.array([1, 2, 3, 4, 5], pa.int64()),
        "name": ["Ann", "bob", None, "O'Brien", "ann"],
        "doc": [
            '{"email": " Ann@X.org ", "ids": [{"id": "a1", "type": "email"}]}',
            '{"email": "bob@y", "phone": 4420, "ids": []}',
            None,
            '{"ids": [{"id": 7, "type": "phone"}, {"id": "q", "type": "x"}]}',
            '{"email": "no-at-sign"}',
        ],
    }
)

# Each script runs on DuckDB and on Spark: same rows (order-insensitive).
SCRIPTS: list[tuple[str, list[tuple[str, list[Any] | None]]]] = [
    (
        "temp tables, list indexing and json_extract_string with several paths",
        [
            (
                "CREATE OR REPLACE TEMP TABLE j AS SELECT id, "
                "json_extract_string(doc, ['$.email', '$.phone']) AS v FROM people",
                None,
            ),
            ("SELECT id, v[1], v[2] FROM j", None),
        ],
    ),
    (
        "from_json with a DuckDB structure, unnest, regexp_full_match",
        [
            (
                "SELECT id, e.id AS xid, e.type FROM (SELECT id, unnest(from_json("
                'json_extract(doc, \'$.ids\'), \'[{"id": "VARCHAR", "type": "VARCHAR"}]\')) '
                "AS e FROM people WHERE contains(doc, 'ids'))",
                None,
            ),
            (
                "SELECT id, regexp_full_match(lower(trim(json_extract_string(doc, '$.email'))), "
                "'[^@\\s]+@[^@\\s]+') FROM people WHERE doc IS NOT NULL",
                None,
            ),
            ("SELECT id, regexp_full_match(name, ?) FROM people", ["[a-z]+"]),
        ],
    ),
    (
        "INSERT, UPDATE with and without FROM, ALTER TABLE ADD COLUMN",
        [
            ("CREATE OR REPLACE TEMP TABLE t (k BIGINT, v VARCHAR)", None),
            ("INSERT INTO t SELECT id, name FROM people", None),
            ("INSERT INTO t SELECT ?, ?", [9, "nine"]),
            ("UPDATE t SET v = upper(v) WHERE k IN (SELECT id FROM people WHERE id > ?)", [3]),
            (
                "CREATE OR REPLACE TEMP TABLE s AS SELECT id, 'from-s-' || id AS w FROM people "
                "WHERE id <= 2",
                None,
            ),
            ("UPDATE t SET v = s.w FROM s WHERE t.k = s.id AND t.v IS NOT NULL", None),
            ("ALTER TABLE t ADD COLUMN n BIGINT", None),
            ("UPDATE t SET n = k * 10", None),
            ("SELECT k, v, n FROM t", None),
        ],
    ),
    (
        "GROUP BY ALL, FILTER, count of distinct rows, arg_max, ANTI JOIN, shifts",
        [
            (
                "SELECT lower(name) AS n, count(*) FILTER (WHERE id > 1) AS c, "
                "count(DISTINCT (id, name)) AS d, arg_max(id, id) AS top, "
                "(max(id) << 3) >> 1 AS s FROM people GROUP BY ALL",
                None,
            ),
            (
                "SELECT p.id FROM people p ANTI JOIN (SELECT 2 AS id UNION ALL SELECT 4) q "
                "ON q.id = p.id",
                None,
            ),
        ],
    ),
]


TEXTS = pa.table(
    {
        "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "s": ["Zoë Dvořák", "e\u0301lodie", "\x0bOlav\x0c", " Łukasz ", "İlkay", None],
        "d": ["1980-2-3", "19800203", "1980023", "3/4/80", "1980-02-31", " 1980/04/03 "],
        "t": pa.array([3, 1, 2, 2, 5, 4], pa.int64()),
        "g": ["a", "a", "a", "b", "b", "b"],
    }
)

# DuckDB functions Spark lacks, used by person records (matching): same answers.
FUNCTIONS = [
    "SELECT id, strip_accents(lower(s)) FROM texts",
    "SELECT id, trim(s, ' \t\n\r\x0b\x0c') FROM texts",
    "SELECT id, strftime(try_strptime(d, ['%Y-%m-%d', '%Y%m%d', '%d/%m/%Y', '%Y/%m/%d']), "
    "'%Y-%m-%d') FROM texts",
    "SELECT id, list_extract(string_split(s, ' '), -1), list_extract(string_split(s, ' '), 2) "
    "FROM texts",
    "SELECT g, first(s ORDER BY t DESC) FILTER (WHERE s IS NOT NULL), first(d ORDER BY t) "
    "FROM texts GROUP BY g",
]


@spark_tests
def test_duckdb_functions_of_person_records_give_duckdb_answers(con: SparkConnection) -> None:
    duck = duckdb.connect()
    duck.register("texts", TEXTS)
    con.register("texts", TEXTS)
    for sql in FUNCTIONS:
        expected = duck.execute(sql).fetchall()
        assert _rows(con.execute(sql).fetchall()) == _rows(expected), sql
    # the values themselves (not only agreement)
    assert duck.execute(FUNCTIONS[0]).fetchall()[:3] == [
        (1, "zoe dvorak"),
        (2, "elodie"),
        (3, "\x0bolav\x0c"),
    ]


def test_accent_table_folds_as_duckdb_does() -> None:
    source, target = spark_mod.accent_table()
    assert len(source) > 4000 and len(target) > 400  # folds, then deletions
    table = {ord(c): (target[i] if i < len(target) else None) for i, c in enumerate(source)}
    samples = ["Zoë", "Dvořák", "e\u0301lodie", "Nguyễn", "Ångström", "Çağla", "Łódź", "한국"]
    samples += ["\u0cf3a\U00011f00b", "Straße œuvre ﬁ"]  # newer marks; no fold to several
    duck = duckdb.connect()
    for text in samples:
        expected = duck.execute("SELECT strip_accents(?)", [text]).fetchone()
        assert expected is not None
        assert text.translate(table) == expected[0], text
    assert "Nguyễn".translate(table) == "Nguyen"


ACCENTS = pa.table(
    {
        "id": pa.array(range(1, 20), pa.int64()),
        "s": [
            "Straße Æsir œuvre ﬁnance ĳssel Øre Łódź",  # kept as they are by DuckDB
            "e\u0301lodie \u0301x Ångström Nguyễn",  # folded, marks deleted
            "\u0cf3a\U00011f00b\u0ece",  # marks newer than Python's Unicode tables
            "\U0001d15e \U0001d400 \u212b",  # composed symbols outside the BMP, a singleton
            "\u1112\u1161\u11ab\u1100\u116e\u11a8",  # 한국 in conjoining jamo
            "\u1100\u1161 \uac00\u11a8 \uac01\u11a8",  # L+V; LV+T composes; LVT+T does not
            "\u1100\u0301\u1161\u0301\u11a8",  # marks between jamo are removed, then composed
            "x\u1100y\u1161z\u11a8",  # jamo apart: nothing to compose
            "\u1100\u1161\u1100\u1161\u11a8\u11a8",  # runs side by side
            "\u11a8\u1161\u1100",  # the wrong order: nothing to compose
            "Zoë \u1109\u1165\u11af 'quoted' back\\slash",
            "",
            None,
            "\u1112",
            "\ud55c\u11a8",  # a full syllable (LVT) then a trailing consonant
            "\ud7a3",
            "\u1112\u1175\u11c2",  # the last jamo of each kind
            "\u1100\u1161\u11c3",  # U+11C3 is no modern trailing consonant
            "\ua960\u1161 \u1100\ud7b0",  # old jamo: no syllable
        ],
    }
)


@spark_tests
def test_strip_accents_on_spark_is_duckdbs(con: SparkConnection) -> None:
    """Character by character (the fold table) and in context: DuckDB composes conjoining
    Hangul jamo into syllables once the marks between them are gone."""
    duck = duckdb.connect()
    duck.register("accents", ACCENTS)
    con.register("accents", ACCENTS)
    sql = "SELECT id, strip_accents(s) FROM accents"
    expected = sorted(duck.execute(sql).fetchall())
    assert sorted(con.execute(sql).fetchall()) == expected
    by_id = dict(expected)
    assert by_id[1] == "Straße Æsir œuvre ﬁnance ĳssel Øre Łodz"
    assert by_id[5] == "한국"
    assert by_id[6] == "\uac00 \uac01 \uac01\u11a8"


def _duck() -> Any:
    duck = duckdb.connect()
    duck.register("people", PEOPLE)
    return duck


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


@spark_tests
@pytest.mark.parametrize("title,script", SCRIPTS, ids=[s[0][:40] for s in SCRIPTS])
def test_duckdb_statements_give_duckdb_answers_on_spark(
    con: SparkConnection, title: str, script: list[tuple[str, list[Any] | None]]
) -> None:
    duck = _duck()
    con.register("people", PEOPLE)
    for sql, params in script:
        expected = duck.execute(sql, params or []).fetchall()
        got = con.execute(sql, params).fetchall()
        if sql.startswith("SELECT"):  # DuckDB's DDL and DML return counts: not compared
            assert _rows(got) == _rows(expected), (title, sql)
    assert got, "each script ends with a query that returns rows"


@spark_tests
def test_temporary_tables_are_materialised_and_dropped(con: SparkConnection, spark: Any) -> None:
    con.register("people", PEOPLE)
    con.execute("CREATE OR REPLACE TEMP TABLE a AS SELECT id FROM people WHERE id > 2")
    con.execute("CREATE OR REPLACE TEMP VIEW b AS SELECT id FROM people WHERE id < 2")
    # a temp table is a checkpointed plan (its lineage is cut), a view is not
    plan_a = spark.table("a")._jdf.queryExecution().analyzed().toString()
    assert "LogicalRDD" in plan_a and "people" not in plan_a.lower()
    assert con.execute("SELECT count(*) FROM a").fetchall() == [(3,)]
    assert set(con.views()) >= {"a", "b", "people"}
    con.execute("DROP TABLE a")
    assert not spark.catalog.tableExists("a")
    with pytest.raises(SparkSQLError, match="no temporary table a"):
        con.execute("DROP TABLE a")
    con.execute("DROP TABLE IF EXISTS a")
    con.close()
    assert con.views() == [] and not spark.catalog.tableExists("b")


@spark_tests
def test_bound_values_stay_values(con: SparkConnection) -> None:
    nasty = "x' OR '1'='1'; DROP VIEW people; --"
    con.register("people", PEOPLE)
    assert con.execute("SELECT ? AS v", [nasty]).fetchall() == [(nasty,)]
    assert con.execute("SELECT count(*) FROM people WHERE name = ?", [nasty]).fetchall() == [(0,)]
    assert con.execute("SELECT id FROM people WHERE name = ?", ["O'Brien"]).fetchall() == [(4,)]
    # a ? inside a string literal is text, not a marker; named $markers bind by name
    assert con.execute("SELECT '?' AS q, ? AS v", ["?"]).fetchall() == [("?", "?")]
    assert con.sql("SELECT $a || $b AS v", params={"a": "it's", "b": '"x"'}).fetchall() == [
        ('it\'s"x"',)
    ]
    assert con.execute("SELECT count(*) FROM people").fetchall() == [(5,)]
    with pytest.raises(SparkSQLError, match="2 parameter markers but 1 values"):
        con.execute("SELECT ?, ?", [1])


@spark_tests
def test_update_from_refuses_ambiguous_matches(con: SparkConnection) -> None:
    con.register("people", PEOPLE)
    con.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT id, name FROM people")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE s AS SELECT 1 AS id, 'a' AS w UNION ALL SELECT 1, 'b'"
    )
    with pytest.raises(SparkSQLError, match="more than one row of s"):
        con.execute("UPDATE t SET name = s.w FROM s WHERE t.id = s.id")
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(5,)]


@spark_tests
def test_statements_spark_cannot_run_are_clear_errors(con: SparkConnection) -> None:
    with pytest.raises(SparkSQLError, match="temporary tables and views only"):
        con.execute("CREATE TABLE kept AS SELECT 1 AS x")
    with pytest.raises(SparkSQLError, match="Spark cannot run the translated statement"):
        con.execute("SELECT * FROM no_such_table")
    with pytest.raises(SparkSQLError, match="DELETE"):
        con.execute("DELETE FROM people")


@spark_tests
def test_delta_frame_reads_exactly_the_snapshot(
    spark: Any, make_workspace: Callable[..., Workspace]
) -> None:
    ws = make_workspace("delta")
    send(ws, "web", [identify("u1", email="a@x.org"), track("u1")])
    send(ws, "shop", [identify("s1", anon="an-1"), track(anon="an-1"), track("s1")])
    table = ws.lake.table("events")
    frame = delta_frame(spark, table, SCHEMAS["events"])
    assert frame.columns == SCHEMAS["events"].names
    expected = ws.lake.raw("events").to_pyarrow()
    got = frame.toArrow()
    key = [("source", "ascending"), ("message_id", "ascending")]
    assert got.num_rows == expected.num_rows == 5
    assert got.select(["source", "message_id", "user_id", "type"]).sort_by(key).to_pylist() == (
        expected.select(["source", "message_id", "user_id", "type"]).sort_by(key).to_pylist()
    )
    assert sorted(got["source"].to_pylist()) == ["shop"] * 3 + ["web"] * 2
    # a later commit is not in the snapshot the frame was planned on
    send(ws, "web", [track("u2")])
    assert frame.count() == 5
    assert delta_frame(spark, ws.lake.table("events"), SCHEMAS["events"]).count() == 6
    # an empty table reads as no rows with the schema
    empty = delta_frame(spark, ws.lake.table("quarantine"), SCHEMAS["quarantine"])
    assert empty.count() == 0 and empty.columns == SCHEMAS["quarantine"].names


def test_without_pyspark_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(SparkUnavailable) as info:
        spark_mod.spark_session()
    assert isinstance(info.value, TandemError)
    assert "pip install tandem[spark]" in (info.value.detail or "")


def test_without_java_the_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(SparkUnavailable, match="no Java runtime"):
        spark_mod.spark_session()
