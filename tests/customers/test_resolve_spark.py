"""`tandem resolve` with `engine = "spark"`: the same SQL on Spark, the same person records,
Splink on its Spark back-end finding the same pairs, the same customers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import ibis
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from tandem.customers.evaluation import pairwise_scores
from tandem.customers.matching import FIELDS, person_records
from tandem.customers.resolve import resolve
from tandem.db.models.identity import ResolutionRun
from tandem.demo.channels import build_channels, load_truth
from tandem.lake import spark as spark_mod
from tandem.lake.schema import SCHEMAS
from tandem.lake.spark import SparkLake, SparkUnavailable
from tandem.workspace import Workspace
from tests.customers.identity_helpers import configured, identify, reopen, send
from tests.spark_support import local_spark

pytestmark = pytest.mark.spark

AS_OF = date(2026, 11, 23)
WEIGHT_TOLERANCE = 1.0
"""Bits a pair's match weight may differ between the engines: Splink's Spark jar computes
Jaro-Winkler a little differently from DuckDB, which moves a few pairs between the similarity
levels of names, streets and emails, and so their trained weights."""
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from local_spark()


def _with_engine(ws: Workspace, engine: str) -> Workspace:
    """The workspace reopened with `engine` in its tandem.toml."""
    path = ws.root / "tandem.toml"
    text = path.read_text(encoding="utf-8")
    lines = [
        f'engine = "{engine}"' if line.startswith("engine = ") else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = ws.root
    ws.close()
    reopened = reopen(root)
    assert reopened.settings.engine == engine
    return reopened


def _rows(table: pa.Table, columns: list[str]) -> list[tuple[Any, ...]]:
    data = table.select(columns).to_pylist()
    return sorted((tuple(r[c] for c in columns) for r in data), key=repr)


def _clusters(table: pa.Table) -> set[frozenset[tuple[str, str]]]:
    """The partition of messages into customers, whatever the ids."""
    groups: dict[str, set[tuple[str, str]]] = {}
    for r in table.select(["source", "message_id", "customer_id"]).to_pylist():
        groups.setdefault(r["customer_id"], set()).add((r["source"], r["message_id"]))
    return {frozenset(g) for g in groups.values()}


def _keys(table: pa.Table, cluster: str) -> pa.Table:
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    return pa.table(
        {
            "key": pc.binary_join_element_wise(table["source"], table["record_id"], "|"),
            "cluster": table[cluster],
        }
    )


IDS = {"ids_new", "ids_continued", "ids_merged", "ids_retired"}
VARYING = {"label_rounds", "seconds", "matching"}
"""Counts that legitimately differ by engine: rounds of label propagation depend on the node
ids (hashes differ: DuckDB's hash vs xxhash64), seconds and Splink's own timings."""


WEIGHED = {"match_weight", "match_probability"}
"""identity_links columns that carry a probabilistic link's weight."""


def _link_weights(links: pa.Table) -> dict[tuple[Any, ...], float]:
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    rows = links.filter(pc.is_valid(links["match_weight"])).to_pylist()
    return {
        (r["left_source"], r["left_record_id"], r["right_source"], r["right_record_id"]): r[
            "match_weight"
        ]
        for r in rows
    }


def _same_matching(duck: dict[str, Any], spark: dict[str, Any]) -> None:
    """Splink on Spark: the same records, blocking, prior, training and pairs as on DuckDB; the
    levels without Jaro-Winkler trained to the same weights."""
    assert (duck["engine"], spark["engine"]) == ("duckdb", "spark")
    assert duck["pairs"] >= 5, duck
    for key in (
        "records",
        "compared_records",
        "left_out",
        "fields",
        "pairs_compared",
        "pairs_above_threshold",
        "not_corroborated",
        "pairs",
        "trained_on",
    ):
        assert spark[key] == duck[key], key
    assert spark["prior"] == pytest.approx(duck["prior"], rel=1e-6)
    compared = 0
    for comparison, levels in duck["parameters"].items():
        for level, weight in levels.items():
            if "Jaro-Winkler" not in level and weight is not None:
                assert spark["parameters"][comparison][level] == pytest.approx(weight, abs=0.01)
                compared += 1
    assert compared >= 15


def test_without_java_resolve_stops_with_a_clear_error_and_records_it(
    make_workspace: Callable[..., Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    ws = _with_engine(configured(make_workspace, ""), "spark")
    send(ws, "web", [identify("u1", email="a@example.com")])
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(spark_mod, "java_available", lambda: False)
    with pytest.raises(SparkUnavailable, match="no Java runtime") as info:
        resolve(ws, now=NOW)
    assert "pip install tandem[spark]" in (info.value.detail or "")
    with ws.session() as session:
        runs = session.scalars(select(ResolutionRun)).all()
        assert [(r.status, r.error) for r in runs] == [
            ("failed", "Spark needs Java, and no Java runtime was found (JAVA_HOME, PATH)")
        ]


def test_spark_gives_the_same_customers_as_duckdb(
    spark: Any, make_workspace: Callable[..., Workspace]
) -> None:
    # The demo company resolved on DuckDB, then the same workspace resolved again on Spark
    ws = make_workspace("both")
    build_channels(ws, customers=150, seed=5, as_of=AS_OF)
    on_duck = resolve(ws, now=NOW)
    duck_ids = ws.lake.raw("identities").to_pyarrow()
    duck_links = ws.lake.raw("identity_links").to_pyarrow()
    ws = _with_engine(ws, "spark")
    on_spark = resolve(ws, now=LATER)

    # the same counts: records, customers, merges by rule and by match, shared identifiers
    assert on_spark.counts["customers"] > 100
    assert on_spark.counts["merges_deterministic"] > 1000
    assert on_spark.counts["merges_probabilistic"] >= 1, "the CRM twins are matched"
    same = {k: v for k, v in on_spark.counts.items() if k not in VARYING and k not in IDS}
    assert same == {k: v for k, v in on_duck.counts.items() if k not in VARYING and k not in IDS}
    _same_matching(on_duck.counts["matching"], on_spark.counts["matching"])
    # every customer of the DuckDB run continues, under its id
    assert on_spark.counts["ids_continued"] == on_duck.counts["ids_new"] == same["customers"]
    assert on_spark.counts["ids_new"] == on_spark.counts["ids_merged"] == 0

    # the same partition of messages into customers, the same ids and identity links
    spark_ids = ws.lake.raw("identities").to_pyarrow()
    assert _clusters(spark_ids) == _clusters(duck_ids)
    cols = ["source", "message_id", "record_id", "customer_id"]
    assert _rows(spark_ids, cols) == _rows(duck_ids, cols)
    # the same links; a probabilistic link's weight within the tolerance
    spark_links = ws.lake.raw("identity_links").to_pyarrow()
    exact = [c for c in SCHEMAS["identity_links"].names if c not in WEIGHED]
    assert _rows(spark_links, exact) == _rows(duck_links, exact)
    weights = _link_weights(duck_links)
    assert len(weights) >= 1
    for pair, weight in _link_weights(spark_links).items():
        assert weight == pytest.approx(weights[pair], abs=WEIGHT_TOLERANCE), pair
    assert ws.lake.raw("profiles").count().to_pyarrow().as_py() == same["customers"]

    # and as good as the DuckDB run against the demo's truth
    truth, _ = load_truth(ws.root)
    scores = pairwise_scores(_keys(spark_ids, "customer_id"), _keys(truth, "person_id"))
    assert scores.f1 >= 0.99 and scores.precision == 1.0, scores

    # the run left no temporary views in the session
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []


# -- person records and Splink on Spark ----------------------------------------------------------
TRAITS: list[dict[str, Any]] = [
    # accents folded by DuckDB's strip_accents, a combining accent, letters without a fold
    {"firstName": " Zoë ", "lastName": "O'Brien-Smith", "birthday": "1980-2-3"},
    {"firstName": "e\u0301lodie", "lastName": "Dvořák", "birthday": "19800203"},
    {"firstName": "Łukasz", "lastName": "Nguyễn", "birthday": "1980023"},
    {"firstName": "İlkay", "lastName": "Søren", "birthday": "198023"},
    # a vertical tab and a form feed around names ending in v and f (trimmed, not the letters)
    {"firstName": "\u000bOlav\u000b", "lastName": "Graf\u000c", "birthday": "3/4/1980"},
    {"name": "Dr Ann  de Vere", "dateOfBirth": "03.04.1980", "phone": "0044 113 496 0000"},
    {"name": "MRS. Jane Doe", "birthDate": "3-4-80", "phone": "+44 (0)20 7946 0000"},
    {"name": "Ms\tKate Bush", "dob": "1980-02-31", "phone": "123"},
    {"name": "Prince", "birth_date": "1959-12-26T00:00:00Z", "email": " Zoe@Example.COM "},
    {"lastName": "Leap", "birthday": "2000-02-29", "postalCode": "sw1a 1aa"},
    {"lastName": "Noleap", "birthday": "1900-02-29", "zip": "ls1-4ap"},
    {"lastName": "Long", "birthday": "12345-01-01"},
    {"lastName": "Short", "birthday": "80-02-03"},
    {"lastName": "Blank", "birthday": " 1980/04/03 "},
    {"lastName": "Tail", "birthday": "1980-02-03x"},
    {"lastName": "Clock", "birthday": "1980-02-03 10:00"},
    {"lastName": "Word", "birthday": "not a date"},
    {
        "firstName": "Georgia",
        "surname": "Dasilva",
        "streetNumber": "29",
        "address_1": "Trumble  Street",
        "suburb": "Bayswater North",
    },
    {"lastName": "Seg", "address": {"street": "2 Low Rd", "city": "Leeds", "postalCode": "LS1"}},
    {"firstName": "Siobhan C.", "lastName": "C.", "mobile": "07970 231820"},
]


def _identify(user: str, traits: dict[str, Any], day: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user,
        "traits": traits,
        "timestamp": f"2026-05-{day:02d}T10:00:00Z",
    }


def _records(con: Any, records: Any) -> list[tuple[Any, ...]]:
    """The rows of a person-records expression run on `con` (DuckDB's or Spark's)."""
    if getattr(con, "name", "") == "duckdb":
        table = con.to_pyarrow(records)
    else:
        table = con.con.sql(str(ibis.to_sql(records, dialect="duckdb"))).to_arrow_table()
    return _rows(table, ["key", "source", *FIELDS])


def test_person_records_are_the_same_on_spark(
    spark: Any, make_workspace: Callable[..., Workspace]
) -> None:
    ws = make_workspace("records")
    messages = [_identify(f"u{n:02d}", traits, 1) for n, traits in enumerate(TRAITS)]
    # later messages: a new first name wins, an empty street does not erase the older one
    messages.append(_identify("u17", {"firstName": "Gina", "address_1": " "}, 2))
    send(ws, "crm", messages)
    on_duck = _records(ws.lake.con, person_records(ws.lake.events()))
    lake = SparkLake(ws.lake, spark)
    try:
        on_spark = _records(lake.con, person_records(lake.events()))
    finally:
        lake.close()
    assert on_spark == on_duck
    # and the values are the normalised ones (both engines wrong the same way would not do)
    by_key = {row[0]: dict(zip(["key", "source", *FIELDS], row, strict=True)) for row in on_duck}
    assert len(by_key) == len(TRAITS)
    assert (by_key["u00"]["first_name"], by_key["u00"]["birth_date"]) == ("zoe", "1980-02-03")
    assert (by_key["u01"]["first_name"], by_key["u01"]["last_name"]) == ("elodie", "dvorak")
    assert by_key["u04"]["first_name"] == "olav" and by_key["u04"]["last_name"] == "graf"
    # phones by identity resolution's normaliser, a Python function on both engines
    phones = [by_key[f"u{n:02d}"]["phone"] for n in (5, 6, 7, 19)]
    assert phones == ["+441134960000", "+442079460000", None, "+447970231820"]
    dates = {k: r["birth_date"] for k, r in by_key.items()}
    assert [dates[f"u{n:02d}"] for n in (1, 2, 3, 4, 5, 6, 7)] == [
        "1980-02-03",
        "1980-02-03",
        None,  # 1980 then month 23: DuckDB's parser does not backtrack
        "1980-04-03",
        "1980-04-03",
        "0080-04-03",
        None,  # 31 February
    ]
    assert dates["u09"] == "2000-02-29" and dates["u10"] is None
    assert by_key["u17"]["first_name"] == "gina" and by_key["u17"]["street"] == "29 trumble street"


def test_splink_clean_up_drops_only_the_views_of_its_own_run(spark: Any) -> None:
    """Two Splink runs share the session; the one that finishes first drops its own views,
    not those the other made meanwhile (nor views that are not Splink's)."""
    from splink import Linker

    from tandem.customers.matching import (
        MatchingOptions,
        _release_splink_tables,
        model_for,
        splink_api,
        splink_settings,
    )
    from tandem.lake.spark import SparkConnection

    names = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"]
    rows = [
        {
            "unique_id": f"k{n}",
            "first_name": names[n % 8],
            "last_name": names[(n * 3) % 8] + "son",
            "birth_date": f"19{60 + n % 9}-0{1 + n % 9}-1{n % 10}",
        }
        for n in range(40)
    ]
    records = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    records = records.append_column(
        "first_and_last",
        pa.array([f"{r['first_name']} {r['last_name']}" for r in rows]),
    )
    con = SparkConnection(spark)
    con.register("_tandem_test_records", records)
    model = model_for(["first_name", "last_name", "birth_date"], MatchingOptions())
    settings = splink_settings(model["comparisons"], model["blocking"])

    def start() -> tuple[Any, Any]:
        api = splink_api(con)
        table = api.register("_tandem_test_records", dataset_display_name="records")
        linker = Linker(table, settings, log_level=None)
        linker.training.estimate_u_using_random_sampling(max_pairs=10_000, seed=1)
        return api, linker

    def temporary() -> set[str]:
        return {t.name for t in spark.catalog.listTables() if t.isTemporary}

    try:
        first, first_linker = start()
        second, second_linker = start()  # started later, still running
        assert first.made_views and second.made_views
        assert not first.made_views & second.made_views
        theirs = second.made_views & temporary()
        assert any(name.startswith("__splink__") for name in theirs)
        _release_splink_tables(first, first_linker)
        left = temporary()
        assert not first.made_views & left
        assert theirs <= left
        assert "_tandem_test_records" in left
        _release_splink_tables(second, second_linker)
        assert {name for name in temporary() if name.startswith("__splink__")} == set()
    finally:
        con.close()
    assert "_tandem_test_records" not in temporary()
