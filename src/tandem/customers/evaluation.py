"""Accuracy of an identity resolution against ground truth: pairwise precision, recall and F1.

Both inputs are (key, cluster) tables: `predicted` says which cluster (customer id) each key
(record) was put in, `truth` which cluster (person) it really belongs to. A pair of keys is
*predicted* when both keys share a predicted cluster and *true* when they share a truth cluster.

    precision = |predicted ∩ true| / |predicted|      recall = |predicted ∩ true| / |true|

The keys evaluated are the keys of `truth`; a truth key missing from `predicted` counts as a
cluster of its own (it was linked to nothing), and predicted keys absent from `truth` are
ignored. Pair counts are computed in DuckDB from group sizes (a group of n keys holds
n·(n-1)/2 pairs), never by enumerating pairs, so millions of keys are cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    """Pairs of keys in the same truth cluster."""
    predicted_pairs: int
    """Pairs of keys in the same predicted cluster."""
    correct_pairs: int
    """Pairs that are both (true positives)."""
    keys: int
    """Keys evaluated (the keys of the truth table)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_PAIRS_SQL = """
WITH t AS (
    SELECT CAST(key AS VARCHAR) AS key, CAST(cluster AS VARCHAR) AS cluster
    FROM truth_keys WHERE key IS NOT NULL AND cluster IS NOT NULL
),
p AS (
    SELECT CAST(key AS VARCHAR) AS key, any_value(CAST(cluster AS VARCHAR)) AS cluster
    FROM predicted_keys WHERE key IS NOT NULL AND cluster IS NOT NULL GROUP BY 1
),
j AS (
    SELECT t.key, t.cluster AS truth, coalesce(p.cluster, '\x00' || t.key) AS pred
    FROM t LEFT JOIN p USING (key)
)
SELECT
    (SELECT count(*) FROM j) AS keys,
    (SELECT coalesce(sum(n * (n - 1) // 2), 0)
       FROM (SELECT count(*)::HUGEINT AS n FROM j GROUP BY truth)) AS true_pairs,
    (SELECT coalesce(sum(n * (n - 1) // 2), 0)
       FROM (SELECT count(*)::HUGEINT AS n FROM j GROUP BY pred)) AS predicted_pairs,
    (SELECT coalesce(sum(n * (n - 1) // 2), 0)
       FROM (SELECT count(*)::HUGEINT AS n FROM j GROUP BY truth, pred)) AS correct_pairs
"""


def pairwise_scores(predicted: pa.Table, truth: pa.Table) -> Scores:
    """Pairwise precision, recall and F1 of `predicted` against `truth`, both tables with the
    columns `key` and `cluster` (any type; compared as text). Truth keys should be unique (a
    repeated truth key keeps every row)."""
    for name, table in (("predicted", predicted), ("truth", truth)):
        missing = {"key", "cluster"} - set(table.schema.names)
        if missing:
            raise ValueError(f"the {name} table needs the columns key and cluster")
    con = duckdb.connect()
    try:
        con.register("predicted_keys", predicted.select(["key", "cluster"]))
        con.register("truth_keys", truth.select(["key", "cluster"]))
        row = con.execute(_PAIRS_SQL).fetchone()
    finally:
        con.close()
    assert row is not None
    keys, true_pairs, predicted_pairs, correct = (int(v) for v in row)
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        keys=keys,
    )
