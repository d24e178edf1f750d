"""Derived lake tables (identities, identity links, customer ids, profiles, customer events):
written whole by a resolution run, one Delta overwrite commit each, so a reader sees the previous
run or the new one, never a mix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake
from deltalake.exceptions import DeltaError

from tandem.lake.schema import PARTITIONS, SCHEMAS
from tandem.lake.store import Lake, LakeFailure, quiet_ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

DERIVED = ("identities", "identity_links", "customer_ids", "profiles", "customer_events")
DEPENDS: dict[str, tuple[str, ...]] = {"identities": ("customer_events",)}
"""Tables derived from another derived table: writing `identities` makes `customer_events`
stale (`is_stale`) until it is written again from them."""


def _stale_marker(lake: Lake, name: str) -> Path:
    return Path(lake.path) / f".{name}.stale"


def is_stale(lake: Lake, name: str) -> bool:
    """Whether a table `name` depends on was rewritten since `name` was last written: a
    resolution that failed between the two commits, or identities written without deriving
    behaviour. Readers then compute it from its sources instead (tandem.customers.behaviour)."""
    return _stale_marker(lake, name).exists()


def replace_table(lake: Lake, name: str, data: pa.Table | pa.RecordBatchReader) -> int:
    """Overwrite derived table `name` with `data` (cast to its schema) in one commit; returns
    the new table version."""
    if name not in DERIVED:
        raise ValueError(f"{name} is not a derived table")
    schema = SCHEMAS[name]
    if isinstance(data, pa.Table) and not data.schema.equals(schema):
        data = data.select(schema.names).cast(schema)
    elif isinstance(data, pa.RecordBatchReader) and not data.schema.equals(schema):
        data = _cast_batches(data, schema)
    table = lake.table(name)  # created empty on first use (and with it the lake's folder)
    for dependent in DEPENDS.get(name, ()):  # before the commit: a failure leaves it marked
        _stale_marker(lake, dependent).touch()
    try:
        write_deltalake(
            table,
            data,
            mode="overwrite",
            partition_by=PARTITIONS[name] or None,
        )
    except (DeltaError, OSError) as exc:
        raise LakeFailure(f"could not write the {name} table: {exc}") from None
    table.update_incremental()
    _stale_marker(lake, name).unlink(missing_ok=True)
    return int(table.version())


def _cast_batches(reader: pa.RecordBatchReader, schema: pa.Schema) -> pa.RecordBatchReader:
    """`reader`'s batches in `schema` (columns chosen by name and cast), still streamed."""

    def cast() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            if batch.num_rows:
                yield from (
                    pa.Table.from_batches([batch]).select(schema.names).cast(schema).to_batches()
                )

    return pa.RecordBatchReader.from_batches(schema, cast())


def temp_table(lake: Lake, name: str) -> ir.Table:
    """An Ibis table over `name`, a temporary table or view made on this thread's DuckDB
    connection (`lake.con.con`) by a resolution stage."""
    con = lake.con
    with quiet_ibis():
        return con.table(name)
