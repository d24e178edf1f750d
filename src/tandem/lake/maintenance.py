"""Compaction: merge small files, remove physical duplicates, optionally vacuum."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError

from tandem.errors import InvalidValue
from tandem.lake.schema import EVENTS, PARTITIONS, SCHEMAS
from tandem.lake.store import COMMIT_RETRIES, LakeFailure, TableCompaction, sql_text

if TYPE_CHECKING:
    from tandem.lake.store import Lake


MIN_VACUUM_RETENTION_HOURS = 1
"""The shortest retention a vacuum accepts without `force`. A reader (the server answering a
query, a segment evaluation) or a writer (an import, a compaction) works on the table version it
loaded; its files stop being referenced once a newer version replaces them, and a vacuum with a
shorter retention than that work takes deletes them under it."""


def check_vacuum_retention(retention_hours: int, *, force: bool = False) -> None:
    """Refuse a vacuum retention under MIN_VACUUM_RETENTION_HOURS unless `force` (for a lake
    nothing else uses: no server, no import running)."""
    if retention_hours < 0:
        raise InvalidValue(
            f"a retention of {retention_hours} hours is negative", field="retention_hours"
        )
    if retention_hours < MIN_VACUUM_RETENTION_HOURS and not force:
        raise InvalidValue(
            f"a vacuum retention of {retention_hours} hours is below the minimum of "
            f"{MIN_VACUUM_RETENTION_HOURS} hour: it would delete files that a running server or "
            "import may still be reading or writing",
            field="retention_hours",
            detail=f"keep --retention-hours at {MIN_VACUUM_RETENTION_HOURS} or more, or add "
            "--force when nothing else uses this lake",
        )


def compact_table(lake: Lake, name: str, *, vacuum: bool, retention_hours: int) -> TableCompaction:
    table = lake.table(name)
    files_before = len(table.file_uris())
    try:
        removed = remove_duplicates(table) if name == EVENTS else 0
        table.optimize.compact()
        table.update_incremental()
        files_after = len(table.file_uris())
        vacuumed = _vacuum(table, retention_hours) if vacuum else 0
        rows = table.count()
    except DeltaError as exc:
        raise LakeFailure(f"could not compact the {name} table: {exc}") from None
    return TableCompaction(name, files_before, files_after, rows, removed, vacuumed)


def vacuum_table(lake: Lake, name: str, *, retention_hours: int) -> TableCompaction:
    """Delete the files of table `name` that its latest version no longer references and that
    are older than `retention_hours`; nothing else changes. For the tables a resolution rewrites
    whole (identities, profiles, customer_events, ...) every run leaves the previous run's files
    behind, as large as the table; for the appended ones, the files a deletion rewrote."""
    table = lake.table(name)
    try:
        files = len(table.file_uris())
        vacuumed = _vacuum(table, retention_hours)
        rows = table.count()
    except DeltaError as exc:
        raise LakeFailure(f"could not vacuum the {name} table: {exc}") from None
    return TableCompaction(name, files, files, rows, 0, vacuumed)


def _vacuum(table: DeltaTable, retention_hours: int) -> int:
    """Delete the files `table` no longer references that are older than `retention_hours`
    (found by listing the folder: tombstones expire from the log); returns how many."""
    return len(
        table.vacuum(
            retention_hours=retention_hours,
            enforce_retention_duration=False,
            dry_run=False,
            full=True,
        )
    )


def remove_duplicates(table: DeltaTable) -> int:
    """Rewrite each source partition that holds a message id more than once, keeping the first
    ingested copy; one commit per affected source. Returns the number of rows removed."""
    con = duckdb.connect()
    removed = 0
    try:
        con.register("events", table.to_pyarrow_dataset())
        sources = con.sql(
            "SELECT source, count(*) - count(DISTINCT message_id) AS extra FROM events "
            "GROUP BY source HAVING extra > 0 ORDER BY source"
        ).fetchall()
        for source, _extra in sources:
            removed += _rewrite_source(con, table, str(source))
    finally:
        con.close()
    return removed


def _rewrite_source(con: duckdb.DuckDBPyConnection, table: DeltaTable, source: str) -> int:
    for attempt in range(1, COMMIT_RETRIES + 1):
        table.update_incremental()
        con.register("events", table.to_pyarrow_dataset())
        before = con.sql(
            "SELECT count(*) FROM events WHERE source = ?", params=[source]
        ).fetchall()[0]
        kept: pa.Table = con.sql(
            "SELECT * FROM events WHERE source = ? QUALIFY row_number() OVER "
            "(PARTITION BY message_id ORDER BY ingested_at, message_id) = 1",
            params=[source],
        ).to_arrow_table()
        kept = kept.select(SCHEMAS[EVENTS].names).cast(SCHEMAS[EVENTS])
        literal = sql_text(source)
        try:
            write_deltalake(
                table,
                kept,
                mode="overwrite",
                predicate=f"source = {literal}",
                partition_by=PARTITIONS[EVENTS],
            )
        except CommitFailedError:  # a concurrent append to this source: read again
            time.sleep(0.01 * attempt)
            continue
        return int(before[0] if before else 0) - int(kept.num_rows)
    raise LakeFailure(f"could not remove duplicates of source {source!r}: too many conflicts")
