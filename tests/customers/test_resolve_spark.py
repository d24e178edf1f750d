"""`tandem resolve` with `engine = "spark"`: the same SQL on Spark, the same customers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from tandem.customers.evaluation import pairwise_scores
from tandem.customers.resolve import resolve
from tandem.db.models.identity import ResolutionRun
from tandem.demo.channels import build_channels, load_truth
from tandem.lake import spark as spark_mod
from tandem.lake.schema import SCHEMAS
from tandem.lake.spark import SparkUnavailable
from tandem.workspace import Workspace
from tests.customers.identity_helpers import configured, identify, reopen, send
from tests.spark_support import local_spark

pytestmark = pytest.mark.spark

AS_OF = date(2026, 11, 23)
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
    assert on_spark.counts["matching"]["pairs"] == on_duck.counts["matching"]["pairs"]
    # every customer of the DuckDB run continues, under its id
    assert on_spark.counts["ids_continued"] == on_duck.counts["ids_new"] == same["customers"]
    assert on_spark.counts["ids_new"] == on_spark.counts["ids_merged"] == 0

    # the same partition of messages into customers, the same ids and identity links
    spark_ids = ws.lake.raw("identities").to_pyarrow()
    assert _clusters(spark_ids) == _clusters(duck_ids)
    cols = ["source", "message_id", "record_id", "customer_id"]
    assert _rows(spark_ids, cols) == _rows(duck_ids, cols)
    link_cols = SCHEMAS["identity_links"].names
    assert _rows(ws.lake.raw("identity_links").to_pyarrow(), link_cols) == _rows(
        duck_links, link_cols
    )
    assert ws.lake.raw("profiles").count().to_pyarrow().as_py() == same["customers"]

    # and as good as the DuckDB run against the demo's truth
    truth, _ = load_truth(ws.root)
    scores = pairwise_scores(_keys(spark_ids, "customer_id"), _keys(truth, "person_id"))
    assert scores.f1 >= 0.99 and scores.precision == 1.0, scores

    # the run left no temporary views in the session
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []
