"""The customer data lake: Delta tables `events` and `quarantine`, deduplicated writes, group
commit for the server, and the Ibis/DuckDB query layer every later stage reads through."""

from tandem.lake.schema import EVENTS_SCHEMA, QUARANTINE_SCHEMA
from tandem.lake.store import (
    CompactResult,
    Lake,
    LakeFailure,
    ParsedBatch,
    TableCompaction,
    WriteResult,
)
from tandem.lake.writer import GroupCommitWriter, WriterClosed

__all__ = [
    "EVENTS_SCHEMA",
    "QUARANTINE_SCHEMA",
    "CompactResult",
    "GroupCommitWriter",
    "Lake",
    "LakeFailure",
    "ParsedBatch",
    "TableCompaction",
    "WriteResult",
    "WriterClosed",
]
