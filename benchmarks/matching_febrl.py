"""Probabilistic matching on Febrl4: Tandem end to end vs Splink called directly, and accuracy.

Target (issue 4): Tandem's time within 1.3x of Splink called directly with the same settings.

- `splink_direct`: Splink 5 on its DuckDB back-end over the prepared person records (an Arrow
  table in memory, the same rows `person_records` produces), with the same comparisons,
  blocking rules, training steps and threshold as Tandem: register, prior, u, EM passes,
  predict, edges at or above the threshold as Arrow. Data preparation is NOT timed here.
- `tandem_match`: from the lake: `person_records(lake.events())` (JSON traits read, fields
  normalised, latest value per user id, in DuckDB) -> `match_records` (the same Splink run plus
  the corroboration rule) -> edges.
- `tandem_resolve`: the whole `tandem resolve` (identifiers, matching, graph, customer ids,
  lake writes, profiles).

Each is run `--repeat` times, Splink direct and Tandem taking turns. `ratio` compares the
medians, `ratio_best` the fastest runs (the least disturbed by other work on a shared machine;
`load_average` says how busy it was). Precision, recall
and F1 are pairwise over clusters (connected components of the edges) against Febrl's links.
Prints JSON. Usage: uv run python benchmarks/matching_febrl.py [--repeat 3] [--no-resolve]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_library  # noqa: F401  (imported before timing: both runs start warm)

from tandem.customers.evaluation import pairwise_scores
from tandem.customers.matching import (
    FIELDS,
    MatchingOptions,
    match_records,
    model_for,
    person_records,
    splink_settings,
)
from tandem.workspace import Workspace

TARGET_RATIO = 1.3
ROOT = Path(__file__).resolve().parent.parent


def _febrl() -> Any:
    """tests/customers/data/febrl.py: the Febrl import the tests use."""
    path = ROOT / "tests" / "customers" / "data" / "febrl.py"
    spec = importlib.util.spec_from_file_location("febrl_data", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clusters(keys: list[str], edges: pa.Table) -> pa.Table:
    """Connected components of the edges (key, cluster)."""
    graph = nx.Graph()
    graph.add_nodes_from(keys)
    left, right = edges["left_key"].to_pylist(), edges["right_key"].to_pylist()
    graph.add_edges_from(zip(left, right, strict=True))
    rows = [(k, str(n)) for n, part in enumerate(nx.connected_components(graph)) for k in part]
    return pa.table({"key": [k for k, _ in rows], "cluster": [c for _, c in rows]})


def scores(truth: pa.Table, edges: pa.Table) -> dict[str, Any]:
    s = pairwise_scores(clusters(truth["key"].to_pylist(), edges), truth)
    return {"precision": round(s.precision, 5), "recall": round(s.recall, 5), "f1": round(s.f1, 5)}


def prepare(records: pa.Table) -> pa.Table:
    """The rows match_records compares (a last name or a birth date), with the concatenated
    name its name comparison's term frequencies use."""
    keep = pc.or_(pc.is_valid(records["last_name"]), pc.is_valid(records["birth_date"]))
    records = records.filter(keep)
    both = pc.binary_join_element_wise(records["first_name"], records["last_name"], " ")
    return records.append_column("first_and_last", both)


def splink_direct(records: pa.Table, options: MatchingOptions) -> pa.Table:
    """Splink 5 called directly, with the model Tandem trains on these records."""
    from splink import DuckDBAPI, Linker, block_on

    filled = [
        f for f in FIELDS if f != "full_name" and records[f].null_count < records.num_rows - 1
    ]
    model = model_for(filled, options)
    data = records.rename_columns(["unique_id" if c == "key" else c for c in records.column_names])
    api = DuckDBAPI()
    table = api.register(data, dataset_display_name="febrl4")
    linker = Linker(table, splink_settings(model["comparisons"], model["blocking"]), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*r) for r in model["prior"]], recall=options.prior_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=options.max_pairs_for_u, seed=options.seed
    )
    for rule in model["training"]:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    predictions = linker.inference.predict(threshold_match_probability=options.threshold)
    edges = predictions.as_duckdbpyrelation().select(
        "least(unique_id_l, unique_id_r) AS left_key, greatest(unique_id_l, unique_id_r) "
        "AS right_key, match_weight, match_probability"
    )
    return edges.to_arrow_table()


def timed(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(round(time.perf_counter() - started, 3))
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-resolve", action="store_true", help="skip the whole resolve")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    febrl = _febrl()
    options = MatchingOptions()
    truth = febrl.truth("febrl4")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = Workspace.init(folder / "ws", company="Febrl")
        started = time.perf_counter()
        febrl.ingest(ws.lake, "febrl4", folder)
        ingest_seconds = time.perf_counter() - started
        lake = ws.lake
        prepared = prepare(lake.con.to_pyarrow(person_records(lake.events())))

        # interleaved (direct, tandem, direct, ...): a shared machine's load drifts alike on both
        direct_runs: list[float] = []
        tandem_runs: list[float] = []
        for _ in range(args.repeat):
            _, runs, direct_edges = timed(lambda: splink_direct(prepared, options), 1)
            direct_runs += runs
            _, runs, tandem_result = timed(
                lambda: match_records(lake.con, person_records(lake.events()), options), 1
            )
            tandem_runs += runs
        direct_s, tandem_s = statistics.median(direct_runs), statistics.median(tandem_runs)
        report: dict[str, Any] = {
            "data": "febrl4 (5,000 + 5,000 records, 5,000 true links)",
            "ingest_seconds": round(ingest_seconds, 3),
            "threshold": options.threshold,
            "splink_direct": {
                "seconds": direct_s,
                "runs": direct_runs,
                "edges": direct_edges.num_rows,
                **scores(truth, direct_edges),
            },
            "tandem_match": {
                "seconds": tandem_s,
                "runs": tandem_runs,
                "edges": tandem_result.edges.num_rows,
                "steps": tandem_result.stats.get("steps"),
                "not_corroborated": tandem_result.stats.get("not_corroborated"),
                **scores(truth, tandem_result.edges),
            },
            "ratio": round(tandem_s / direct_s, 3),
            "ratio_best": round(min(tandem_runs) / min(direct_runs), 3),
            "target_ratio": TARGET_RATIO,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        report["meets_target"] = report["ratio"] <= TARGET_RATIO
        if not args.no_resolve:
            from tandem.customers.resolve import resolve

            resolve_s, resolve_runs, result = timed(lambda: resolve(ws), args.repeat)
            identities = lake.con.to_pyarrow(lake.raw("identities")).to_pylist()
            predicted = pa.table(
                {
                    "key": [f"{r['source']}:{r['record_id']}" for r in identities],
                    "cluster": [r["customer_id"] for r in identities],
                }
            )
            s = pairwise_scores(predicted, truth)
            report["tandem_resolve"] = {
                "seconds": resolve_s,
                "runs": resolve_runs,
                "stages": result.seconds,
                "customers": result.counts["customers"],
                "precision": round(s.precision, 5),
                "recall": round(s.recall, 5),
                "f1": round(s.f1, 5),
            }
            report["resolve_ratio"] = round(resolve_s / direct_s, 3)
        ws.close()
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
