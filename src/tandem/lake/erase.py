"""Deleting rows from lake tables by key, for right-to-be-forgotten erasures.

A deletion is one Delta commit per table: a `MERGE` of the table with an Arrow table of keys
whose predicate is built from column NAMES only (checked against the table's schema), never from
values, so a value a user typed cannot become SQL text. Deleted rows stay in older table
versions (and their data files) until the files are vacuumed: `vacuum_now` removes them at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pyarrow as pa  # type: ignore[import-untyped]
from deltalake.exceptions import CommitFailedError, DeltaError

from tandem.lake.schema import SCHEMAS
from tandem.lake.store import Lake, LakeFailure

RETRIES = 10


def delete_rows(
    lake: Lake, name: str, keys: pa.Table, match: Sequence[Sequence[str]] | None = None
) -> int:
    """Delete the rows of table `name` that match a row of `keys`; returns how many.

    `match` lists alternatives, each a list of columns that must all be equal (a null never
    matches): `[["source", "message_id"]]` deletes by the pair, `[["customer_id"],
    ["id_value"]]` deletes rows whose customer id OR identifier value is in `keys`. Default: all
    columns of `keys`, all equal. No key rows: nothing is written (no empty commit)."""
    schema = SCHEMAS[name]
    alternatives = [list(columns) for columns in (match or [keys.column_names])]
    for columns in alternatives:
        for column in columns:
            if column not in schema.names or column not in keys.column_names:
                raise ValueError(f"{column} is not a column of both {name} and the keys")
    if keys.num_rows == 0:
        return 0
    keys = keys.cast(pa.schema([schema.field(c).with_nullable(True) for c in keys.column_names]))
    predicate = " OR ".join(
        "(" + " AND ".join(f't."{c}" = s."{c}"' for c in columns) + ")" for columns in alternatives
    )
    attempt = 0
    with lake._lock:  # in-process writers (the server's commits) wait; other processes retry
        while True:
            table = lake.table(name)
            try:
                metrics = (
                    table.merge(keys, predicate=predicate, source_alias="s", target_alias="t")
                    .when_matched_delete()
                    .execute()
                )
                break
            except CommitFailedError as exc:
                attempt += 1
                if attempt >= RETRIES:
                    raise LakeFailure(
                        f"could not delete from the {name} table: {exc}",
                        detail="another process kept writing to it; try again",
                    ) from None
                time.sleep(0.05 * attempt)
            except (DeltaError, OSError) as exc:
                raise LakeFailure(f"could not delete from the {name} table: {exc}") from None
        table.update_incremental()
    return int(metrics.get("num_target_rows_deleted", 0))


def vacuum_now(lake: Lake, names: Sequence[str]) -> int:
    """Delete, at once, the data files no longer in the current version of tables `names` (so
    erased rows are gone from disk, and time travel to before the erasure is no longer
    possible). Returns the number of files removed."""
    removed = 0
    with lake._lock:
        for name in names:
            table = lake.table(name)
            try:
                files = table.vacuum(
                    retention_hours=0, enforce_retention_duration=False, dry_run=False
                )
            except (DeltaError, OSError) as exc:
                raise LakeFailure(f"could not vacuum the {name} table: {exc}") from None
            removed += len(files)
    return removed
