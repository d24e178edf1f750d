"""The lake: Delta tables `events` and `quarantine` in the workspace's lake folder, written with
deduplication by (source, message_id), read through Ibis on DuckDB.

Writes are Delta commits (one per table per call): a reader never sees half a write, and several
processes (the server and a CLI import) may append at the same time; deltalake's optimistic
concurrency orders their commits and a conflicting commit is retried here. The server's appends
and background merges write their log entry directly (`Lake._append_entry`, `_rewrite_entry`:
the same put-if-absent, without deltalake's listing of the whole log on every commit).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote, unquote

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.dataset as ds  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from deltalake import (
    CommitProperties,
    DeltaTable,
    PostCommitHookProperties,
)
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from tandem.errors import TandemError
from tandem.lake.dedupe import DedupeIndex
from tandem.lake.schema import EVENTS, PARTITIONS, QUARANTINE, SCHEMAS

if TYPE_CHECKING:
    import ibis  # type: ignore[import-untyped]
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.writer import GroupCommitWriter

COMMIT_RETRIES = 20
APPEND_TABLES_CONFIG: dict[str, str] = {
    "delta.checkpointInterval": "10",
    "delta.logRetentionDuration": "interval 10 seconds",
    "delta.deletedFileRetentionDuration": "interval 10 seconds",
}
"""Table properties of the append-heavy tables (`events`, `quarantine`). Readers (and deltalake's
own commits) replay the log entries since the last checkpoint (~0.2 ms each; each small append is
one), so checkpoints are frequent: every 10 commits, or every 2 seconds under a GroupCommitWriter.
On a local disk deltalake also lists the whole `_delta_log` folder to read a table (~20-40 us per
entry kept there), and the server commits up to ~100 times a second: so log entries expire after
10 seconds (once a checkpoint follows them), and so do tombstones (files merged away), which
would otherwise fill every checkpoint. Neither grows with the table's history. Time travel
reaches back 10 seconds (Tandem reads only the latest version; a handle left behind longer is
read again from the latest checkpoint); `Lake.compact(vacuum=True)` finds unreferenced files by
listing the table (a full vacuum), not from tombstones."""
SMALL_FILE_BYTES = 16 * 1024 * 1024
"""Files under this size are merged by `Lake.compact_small_files`."""
STAT_TEXT_CHARS = 32
"""Strings longer than this get no maximum in a file's statistics (a prefix is a valid minimum,
not a valid maximum); JSON text columns get no min/max at all (never range-filtered)."""
T = TypeVar("T")
_WARNINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def quiet_ibis() -> Iterator[None]:
    """Silence the DeprecationWarning ibis 12 raises when it reads a table's schema with DuckDB
    2.0's deprecated fetch_arrow_table(). catch_warnings changes process-wide state, so one
    thread at a time."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


class LakeFailure(TandemError):
    """A lake table could not be read or written (disk full, a corrupt or foreign table)."""

    status_code = 503
    error = "lake_error"


class ParsedBatch(Protocol):
    """What `Lake.append` takes (tandem.customers.spec.Parsed is one)."""

    @property
    def events(self) -> pa.Table: ...

    @property
    def rejections(self) -> Sequence[object]: ...

    def quarantine(self, ingested_at: datetime) -> pa.Table: ...


@dataclass(frozen=True)
class WriteResult:
    accepted: int
    """New messages stored."""
    duplicates: int
    """Messages whose (source, message_id) was stored already, or repeated in the same write."""
    rejected: int
    """Rejections written to quarantine."""
    version: int | None
    """The `events` table version of the commit; None when nothing was written to it."""


@dataclass(frozen=True)
class TableCompaction:
    table: str
    files_before: int
    files_after: int
    rows: int
    duplicates_removed: int
    files_vacuumed: int


@dataclass(frozen=True)
class CompactResult:
    tables: list[TableCompaction] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"tables": [t.__dict__ for t in self.tables]}


class Lake:
    """The customer data lake of one workspace (`workspace.lake`). Thread-safe for writing."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if "://" in self.path:
            raise LakeFailure(
                f"the lake at {self.path} is an object-store URL; this version supports a "
                "local folder only",
                detail="set lake_url in tandem.toml to a folder",
            )
        self._lock = threading.RLock()
        self._tables: dict[str, DeltaTable] = {}
        self._stale: set[str] = set()
        """Tables whose handle is behind our own last commit."""
        self._heads: dict[str, int] = {}
        """The latest version of a table this lake knows of (its own last commit, or a later one
        it followed through the log), ahead of the handle after appends (`_append_entry`)."""
        self._index = DedupeIndex()
        self._local = threading.local()
        self._connections: list[ibis.BaseBackend] = []
        self._con_lock = threading.Lock()
        self._maintenance: dict[str, DeltaTable] = {}
        self._maintenance_lock = threading.Lock()
        self.checkpoint_in_background = False
        """Set by a GroupCommitWriter, whose maintenance thread writes checkpoints and cleans
        the log: appends then take the direct path (`_append_entry`), which has no post-commit
        checkpoint of its own."""

    # -- tables ------------------------------------------------------------------------------
    def table_path(self, name: str) -> str:
        return str(Path(self.path) / name)

    def table(self, name: str) -> DeltaTable:
        """The Delta table `name` at its latest version, created (empty) on first use."""
        with self._lock:
            return self._table(name)

    def _table(self, name: str) -> DeltaTable:
        """`table` for callers holding the lock (or running for a caller that holds it: a
        stream's producer runs on deltalake's thread while the caller waits)."""
        table = self._tables.get(name)
        if table is None:
            table = self._open_or_create(name)
            self._tables[name] = table
        elif name in self._stale or self._newer_exists(name, table):
            _guard(table.update_incremental, f"read the {name} table")
            self._stale.discard(name)
        else:
            return table
        self._heads[name] = table.version()  # the handle is at the latest version now
        return table

    def _newer_exists(self, name: str, table: DeltaTable) -> bool:
        """Whether a commit follows the handle's version: the next log entry exists, or the
        handle's own entry is gone (expired log entries were deleted after a later checkpoint).
        File system checks of microseconds, where refreshing the handle costs milliseconds."""
        log = Path(self.table_path(name), "_delta_log")
        version = table.version()
        return (log / f"{version + 1:020d}.json").exists() or not (
            log / f"{version:020d}.json"
        ).exists()

    def _open_or_create(self, name: str) -> DeltaTable:
        path = self.table_path(name)
        schema = SCHEMAS[name]
        config = APPEND_TABLES_CONFIG if name in (EVENTS, QUARANTINE) else None
        try:
            table = DeltaTable(path)
        except TableNotFoundError:
            Path(path).mkdir(parents=True, exist_ok=True)
            try:
                table = DeltaTable.create(
                    path, schema, partition_by=PARTITIONS[name], configuration=config
                )
            except DeltaError:  # another process created it at the same instant
                table = _guard(lambda: DeltaTable(path), f"open the {name} table")
        except DeltaError as exc:
            raise LakeFailure(f"cannot open the {name} table at {path}: {exc}") from None
        _check_schema(name, path, table, schema)
        if config is not None:
            _configure(table, config)
        return table

    # -- writing -----------------------------------------------------------------------------
    def append(self, parsed: ParsedBatch) -> WriteResult:
        """Store accepted messages (one `events` commit, skipping known (source, message_id))
        and rejections (one `quarantine` commit). Synchronous."""
        return self.append_many([parsed])[0]

    def append_many(self, batches: Sequence[ParsedBatch]) -> list[WriteResult]:
        """Several batches in one commit per table, with each batch's own counts."""
        ingested_at = datetime.now(UTC)
        with self._lock:
            tables = [_with_ingested_at(b.events, ingested_at) for b in batches]
            combined = pa.concat_tables(tables) if tables else pa.table({})
            keep, kept_per_batch = self._dedupe(combined, [t.num_rows for t in tables])
            version = self._write_events(combined.filter(keep) if keep is not None else combined)
            self._write_quarantine([b.quarantine(ingested_at) for b in batches if b.rejections])
            return [
                WriteResult(
                    accepted=kept,
                    duplicates=t.num_rows - kept,
                    rejected=len(b.rejections),
                    version=version if kept else None,
                )
                for b, t, kept in zip(batches, tables, kept_per_batch, strict=True)
            ]

    def append_stream(self, chunks: Iterable[tuple[pa.Table, pa.Table]]) -> WriteResult:
        """A stream of (events, quarantine) chunks as ONE `events` commit (then one `quarantine`
        commit): a failure part-way leaves nothing in `events`. For file imports.

        Each chunk is deduplicated, then written as Parquet files on a thread of their own
        while the next chunk is read and validated; the commit of all their add actions comes
        last. Files of a failed import are deleted (no commit ever referenced them)."""
        ingested_at = datetime.now(UTC)
        counts = {"accepted": 0, "duplicates": 0}
        quarantines: list[pa.Table] = []
        folder = self.table_path(EVENTS)
        written: list[Future[list[AddAction | RemoveAction]]] = []
        with self._lock:
            try:
                with ThreadPoolExecutor(1, thread_name_prefix="tandem-lake-files") as files:
                    for events, quarantine in chunks:
                        if quarantine.num_rows:
                            quarantines.append(quarantine)
                        if not events.num_rows:
                            continue
                        stamped = _with_ingested_at(events, ingested_at)
                        keep, (kept,) = self._dedupe(stamped, [stamped.num_rows])
                        counts["accepted"] += kept
                        counts["duplicates"] += stamped.num_rows - kept
                        chosen = stamped.filter(keep) if keep is not None else stamped
                        if chosen.num_rows:
                            written.append(files.submit(_write_files, folder, EVENTS, chosen))
                actions = [action for future in written for action in future.result()]
                version = self._write_events(actions) if actions else None
            except BaseException:
                self._index.reset()
                for future in written:
                    if future.done() and not future.exception():
                        _delete_files(folder, future.result())
                raise
            self._write_quarantine(quarantines)
        return WriteResult(
            accepted=counts["accepted"],
            duplicates=counts["duplicates"],
            rejected=sum(q.num_rows for q in quarantines),
            version=version if counts["accepted"] else None,
        )

    def _dedupe(self, events: pa.Table, sizes: list[int]) -> tuple[pa.Array | None, list[int]]:
        """A keep-mask (None: keep all) and the kept count per consecutive slice of `sizes`.
        The ids kept are added to the index at once (so repeats within the write are caught);
        a failed commit resets the index."""
        if not events.num_rows:
            return None, [0 for _ in sizes]
        version = self._follow(EVENTS)
        sources = pc.unique(events.column("source")).to_pylist()
        log = Path(self.table_path(EVENTS)) / "_delta_log"
        self._index.catch_up(
            version,
            sources,
            log,
            lambda: self._table(EVENTS),
            freeze=self.checkpoint_in_background,  # a server's: long-lived, millions of ids
        )
        ids = events.column("message_id").to_pylist()
        if len(sources) == 1:
            known = self._index.ids(sources[0])
            unique = pc.count_distinct(events.column("message_id")).as_py() == len(ids)
            if unique and known.isdisjoint(ids):  # the common case, without a Python loop
                known.update(ids)
                return None, list(sizes)
            mask = [not (m in known or known.add(m)) for m in ids]  # type: ignore[func-returns-value]
        else:
            mask = []
            for source, message_id in zip(events.column("source").to_pylist(), ids, strict=True):
                known = self._index.ids(source)
                mask.append(message_id not in known)
                known.add(message_id)
        kept, start = [], 0
        for size in sizes:
            kept.append(sum(mask[start : start + size]))
            start += size
        if all(mask):
            return None, kept
        return pa.array(mask, pa.bool_()), kept

    def _write_events(self, data: pa.Table | list[AddAction | RemoveAction]) -> int | None:
        """Commit rows (or files already written) to `events`; the new version."""
        if isinstance(data, pa.Table) and not data.num_rows:
            return None
        try:
            version, actions = self._commit(EVENTS, data)
        except BaseException:
            self._index.reset()
            raise
        # The commit is durable: nothing after this point may fail the write.
        try:
            if version is not None:
                added = [
                    (a.partition_values.get("source"), a.path)
                    for a in actions
                    if isinstance(a, AddAction)
                ]
                self._index.committed(version, added)
        except Exception:  # the index re-reads the table on its next use
            self._index.reset()
            self._tables.pop(EVENTS, None)
            self._heads.pop(EVENTS, None)
            version = None
        return version

    def _write_quarantine(self, tables: list[pa.Table]) -> None:
        rows = [t for t in tables if t.num_rows]
        if rows:
            self._commit(QUARANTINE, pa.concat_tables(rows))

    def _commit(
        self, name: str, data: pa.Table | list[AddAction | RemoveAction]
    ) -> tuple[int | None, list[AddAction | RemoveAction]]:
        """Append `data` as one commit: one Parquet file per partition written here (pyarrow,
        with its statistics; or files written already), then a commit of just their add
        actions. Returns the commit's version (None if it cannot be told) and its actions.

        Under a GroupCommitWriter (`checkpoint_in_background`) a plain append takes the direct
        path, `_append_entry`: well under a millisecond, where deltalake's commit costs 5-20 ms
        plus a listing of the whole `_delta_log` folder (on a local disk its cost grows with
        every entry kept there: +40 ms per 1,000 entries). Otherwise deltalake commits it (its
        conflict resolution merges concurrent appends, retried; its post-commit hook writes
        the checkpoints), and the version is found in the log entries after the handle's
        version; the handle is left behind (the next `_table` brings it up to date)."""
        folder = self.table_path(name)
        actions = _write_files(folder, name, data) if isinstance(data, pa.Table) else data
        if self.checkpoint_in_background and all(isinstance(a, AddAction) for a in actions):
            try:
                return self._append_entry(name, actions), actions  # type: ignore[arg-type]
            except _NotDirect:
                pass  # deltalake commits it
            except BaseException:
                _delete_files(folder, actions)
                raise
        table = self._table(name)
        hooks = PostCommitHookProperties(create_checkpoint=not self.checkpoint_in_background)
        for attempt in (1, 2):
            read_version = table.version()
            try:
                table.create_write_transaction(
                    actions,
                    mode="append",
                    schema=SCHEMAS[name],
                    partition_by=PARTITIONS[name],
                    commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES),
                    post_commithook_properties=hooks,
                )
                break
            except (DeltaError, OSError) as exc:
                if attempt == 1 and not isinstance(exc, CommitFailedError | OSError):
                    # e.g. the log entries after the handle's version expired: read it again
                    with contextlib.suppress(DeltaError, OSError):
                        table.update_incremental()
                        continue
                _delete_files(folder, actions)  # never referenced by the log: nobody reads them
                what = "commit to" if isinstance(exc, CommitFailedError) else "write to"
                raise LakeFailure(f"could not {what} the {name} table: {exc}") from None
        self._stale.add(name)
        marker = Path(actions[0].path).name  # a file name with a UUID: in our entry only
        log = Path(folder, "_delta_log")
        for version in range(read_version + 1, read_version + 1 + COMMIT_RETRIES + 1):
            try:
                entry = (log / f"{version:020d}.json").read_text(encoding="utf-8")
            except OSError:
                return None, actions
            if marker in entry:
                return version, actions
        return None, actions

    def _follow(self, name: str) -> int:
        """The latest version of table `name`: the known head, moved past the log entries
        other writers added after it (a stat and a small read each; the handle is not
        refreshed). A head that cannot be followed (unknown, its entry expired) or an entry that
        changes the table's metadata or protocol refreshes the handle instead (and checks the
        schema again)."""
        head = self._heads.get(name)
        if head is None or name not in self._tables:
            return self._table(name).version()
        log = Path(self.table_path(name), "_delta_log")
        if not (log / f"{head:020d}.json").exists():
            return self._reread(name)
        while True:
            try:
                entry = (log / f"{head + 1:020d}.json").read_bytes()
            except FileNotFoundError:
                break
            except OSError:
                return self._reread(name)
            if b'"metaData"' in entry or b'"protocol"' in entry:
                return self._reread(name)
            head += 1
        self._heads[name] = head
        return head

    def _reread(self, name: str) -> int:
        """Refresh the handle of `name` to the latest version and check its schema again."""
        self._stale.add(name)
        table = self._table(name)
        _check_schema(name, self.table_path(name), table, SCHEMAS[name])
        return table.version()

    def _append_entry(self, name: str, actions: list[AddAction]) -> int:
        """Commit `actions` (files added, `dataChange` true) to `name` by writing the log entry
        the Delta protocol defines for a blind append, without deltalake's commit.

        The entry is written to a hidden file in `_delta_log`, then hard-linked as the next
        version's entry: a link fails when that entry exists, so two writers can never take
        the same version (the put-if-absent the protocol requires; deltalake does the same on a
        local disk). When another writer took it, its entry is read: appends and file rewrites
        do not conflict with a blind append (nothing was read), so the next version is tried;
        a change of metadata or protocol has the handle refreshed and the schema checked first.
        Only a table of protocol 1/2 without table features is written this way (what Tandem
        creates); `_NotDirect` hands any other, or a file system without hard links, back to
        deltalake. Entries are checked to be contiguous: the head's own entry exists, so an
        expired version number can never be reused."""
        head = self._follow(name)
        if not _direct_ok(self._tables[name]):
            raise _NotDirect
        log = Path(self.table_path(name), "_delta_log")
        staged = log / f".tandem-{uuid.uuid4().hex}.json.tmp"
        try:
            staged.write_bytes(_append_log_entry(actions, head, PARTITIONS[name]))
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise LakeFailure(f"could not write to the {name} table: {exc}") from None
        try:
            for _ in range(MAX_VERSIONS_FOLLOWED):
                try:
                    os.link(staged, log / f"{head + 1:020d}.json")
                except FileExistsError:  # another writer took that version: read it, go on
                    head = self._follow(name)
                    if not _direct_ok(self._tables[name]):
                        raise _NotDirect from None
                    continue
                except OSError:  # no hard links here (nothing was committed)
                    raise _NotDirect from None
                self._heads[name] = head + 1
                self._stale.add(name)
                return head + 1
        finally:
            with contextlib.suppress(OSError):  # committed or not: the staged copy is not read
                staged.unlink()
        raise LakeFailure(f"could not commit to the {name} table: other writers kept ahead")

    def writer(self, **options: Any) -> GroupCommitWriter:
        """A GroupCommitWriter over this lake (the server's write path); close it when done."""
        from tandem.lake.writer import GroupCommitWriter

        return GroupCommitWriter(self, **options)

    # -- reading -----------------------------------------------------------------------------
    @property
    def con(self) -> ibis.BaseBackend:
        """The Ibis DuckDB connection the lake's tables are registered in: one per thread (a
        DuckDB connection is not safe to share between threads, e.g. the server's workers)."""
        con: ibis.BaseBackend | None = getattr(self._local, "con", None)
        if con is None:
            import ibis

            con = ibis.duckdb.connect()
            con.raw_sql("SET TimeZone = 'UTC'")
            self._local.con = con
            with self._con_lock:
                self._connections.append(con)
        return con

    def raw(self, name: str) -> ir.Table:
        """Table `name` as stored, refreshed to its latest version (physical duplicates and
        all)."""
        with self._lock:
            table = self._table(name)
            dataset = _guard(lambda: table.to_pyarrow_dataset(), f"read the {name} table")
        con = self.con
        with quiet_ibis():
            con.con.register(f"lake_{name}", dataset)
            return con.table(f"lake_{name}")

    def events(self) -> ir.Table:
        """The `events` table, deduplicated on (source, message_id) (first ingested wins). The
        one way later stages read events; refreshed to the latest commit on each call."""
        import ibis

        raw = self.raw(EVENTS)
        window = ibis.window(group_by=[raw.source, raw.message_id], order_by=[raw.ingested_at])
        ranked = raw.mutate(_copy=ibis.row_number().over(window))
        return ranked.filter(ranked._copy == 0).drop("_copy")

    def quarantine(self) -> ir.Table:
        """The `quarantine` table, refreshed to the latest commit."""
        return self.raw(QUARANTINE)

    # -- maintenance -------------------------------------------------------------------------
    def compact(self, *, vacuum: bool = False, retention_hours: int = 168) -> CompactResult:
        """Merge small files, remove physical duplicates from `events`; with `vacuum`, delete
        files no longer referenced and older than `retention_hours`, from every table of the lake
        (the others are only vacuumed: a resolution rewrites the derived ones whole, and each run
        leaves the previous run's files behind)."""
        from tandem.lake.maintenance import compact_table, vacuum_table

        with self._lock:
            results = [
                compact_table(self, name, vacuum=vacuum, retention_hours=retention_hours)
                for name in (EVENTS, QUARANTINE)
            ]
            if vacuum:
                results += [
                    vacuum_table(self, name, retention_hours=retention_hours)
                    for name in SCHEMAS
                    if name not in (EVENTS, QUARANTINE)
                    and Path(self.table_path(name), "_delta_log").is_dir()
                ]
            self._index.reset()
        return CompactResult(results)

    def compact_small_files(
        self, *, min_files: int = 2, small_bytes: int = SMALL_FILE_BYTES, max_files: int = 2000
    ) -> bool:
        """Merge the small files of each partition of both tables into one file (a rewrite-only
        commit: no rows change, `dataChange` false), through handles of their own: it runs
        beside appends without holding the write lock. A conflict (another compaction, a
        duplicate removal) or failure is not an error (the data is untouched): False, and it is
        tried again later. True when files were merged."""
        merged = False
        with self._maintenance_lock:
            for name in (EVENTS, QUARANTINE):
                try:
                    merged = (
                        self._merge_small_files(name, min_files, small_bytes, max_files) or merged
                    )
                except (DeltaError, OSError, pa.ArrowException):
                    continue
        return merged

    def _merge_small_files(
        self, name: str, min_files: int, small_bytes: int, max_files: int
    ) -> bool:
        table = self._maintenance_table(name)
        if table is None:
            return False
        adds = pa.table(table.get_add_actions(flatten=True))
        if not adds.num_rows:
            return False
        small = adds.filter(pc.less(adds.column("size_bytes"), small_bytes))
        (column,) = PARTITIONS[name]
        # files are merged with files of about their size (tiers 8x apart): a merged file is
        # merged again only with its peers, so each row is rewritten a few times, not at every
        # pass (merging all small files each time would rewrite the growing file again and again)
        tiers = pc.floor(pc.logb(pc.max_element_wise(small.column("size_bytes"), 1), 8))
        small = small.append_column("tier", tiers)
        merged = False
        read = table.version()  # the version the files were listed at
        for group in small.group_by([f"partition.{column}", "tier"]).aggregate([]).to_pylist():
            value = group[f"partition.{column}"]
            files = small.filter(
                pc.and_(
                    pc.equal(small.column(f"partition.{column}"), value),
                    pc.equal(small.column("tier"), group["tier"]),
                )
            ).slice(0, max_files)
            if files.num_rows < min_files:
                continue
            paths = files.column("path").to_pylist()
            body_schema = pa.schema([f for f in SCHEMAS[name] if f.name != column])
            rows = ds.dataset(
                [str(Path(self.table_path(name), unquote(p))) for p in paths],
                schema=body_schema,
                format="parquet",
            ).to_table(use_threads=False)  # on this (background) thread only
            folder = self.table_path(name)
            add = _write_file(folder, {column: value}, rows, data_change=False)
            now = int(time.time() * 1000)
            removes = [
                RemoveAction(unquote(p), False, now, size, {column: value})
                for p, size in zip(paths, files.column("size_bytes").to_pylist(), strict=True)
            ]
            if _direct_ok(table):  # entries since the files were listed are checked each time
                if _rewrite_entry(folder, read, [*removes, add], PARTITIONS[name]) is None:
                    Path(folder, add.path).unlink(missing_ok=True)  # data untouched: next pass
                    return merged
                merged = True
                continue
            try:
                table.create_write_transaction(
                    [*removes, add],
                    mode="append",
                    schema=SCHEMAS[name],
                    partition_by=PARTITIONS[name],
                    post_commithook_properties=PostCommitHookProperties(
                        create_checkpoint=False, cleanup_expired_logs=False
                    ),
                )
            except (DeltaError, OSError):
                Path(folder, add.path).unlink(missing_ok=True)
                table.update_incremental()
                continue
            merged = True  # the handle stays at the version it merged from: the next pass reads
        return merged

    def checkpoint(self, *, cleanup: bool = False, refresh: bool = True) -> None:
        """Write a checkpoint of both tables at their latest version (the writer's maintenance
        thread does this every few commits, off the commit path), or, without `refresh`, at the
        version `compact_small_files` just read (no second read of the log, which lists the
        whole `_delta_log` folder; the merge follows in the next checkpoint); with `cleanup`,
        also delete
        log entries older than the log retention, and entries a direct append staged but never
        committed (a process killed in between) once they are a minute old. A failure is not an
        error: tried again later.
        """
        with self._maintenance_lock:
            for name in (EVENTS, QUARANTINE):
                try:
                    table = self._maintenance_table(name, refresh=refresh)
                    if table is None:
                        continue
                    table.create_checkpoint()
                    if cleanup:
                        table.cleanup_metadata()
                        _delete_staged(Path(self.table_path(name), "_delta_log"), 60)
                except (DeltaError, OSError):
                    continue

    def _maintenance_table(self, name: str, *, refresh: bool = True) -> DeltaTable | None:
        """The maintenance thread's own handle of a table (brought to its latest version unless
        `refresh` is false); None while the table does not exist yet."""
        table = self._maintenance.get(name)
        if table is None:
            try:
                table = DeltaTable(self.table_path(name))
            except TableNotFoundError:
                return None
            self._maintenance[name] = table
        elif refresh:
            table.update_incremental()
        return table

    def close(self) -> None:
        with self._con_lock:
            for con in self._connections:
                con.disconnect()
            self._connections.clear()
            self._local = threading.local()


class _NotDirect(Exception):
    """The direct append path does not apply: deltalake commits instead."""


MAX_VERSIONS_FOLLOWED = 10_000
"""A direct append gives up after this many versions taken by other writers in a row."""


def _direct_ok(table: DeltaTable) -> bool:
    """Whether the table's protocol lets `_append_entry` write it: reader 1, writer 2 at most
    (append-only and invariants, which an append honours by construction), no table features."""
    protocol = table.protocol()
    return (
        protocol.min_reader_version == 1
        and protocol.min_writer_version <= 2
        and not protocol.writer_features
        and not protocol.reader_features
    )


def _delete_staged(log: Path, age: float) -> None:
    """Delete the log entries `_append_entry` staged more than `age` seconds ago: a live append
    links its staged entry within milliseconds, so these are left by a process that died."""
    cutoff = time.time() - age
    with os.scandir(log) as entries:
        for entry in entries:
            if entry.name.startswith(".tandem-") and entry.stat().st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def _append_log_entry(
    actions: Sequence[AddAction | RemoveAction], read_version: int, partitions: list[str]
) -> bytes:
    """The Delta log entry of `actions`: commitInfo, then one `add` or `remove` each (paths
    URL-encoded, as the protocol stores them). Adds only: a blind append (WRITE); with removes:
    a rewrite of files (OPTIMIZE, no data change)."""
    append = all(isinstance(a, AddAction) for a in actions)
    info = {
        "commitInfo": {
            "timestamp": int(time.time() * 1000),
            "operation": "WRITE" if append else "OPTIMIZE",
            "operationParameters": (
                {"mode": "Append", "partitionBy": json.dumps(partitions)} if append else {}
            ),
            "readVersion": read_version,
            "isBlindAppend": append,
            "engineInfo": "tandem",
            "clientVersion": "tandem",
        }
    }
    lines = [json.dumps(info, separators=(",", ":"))]
    for action in actions:
        entry: dict[str, Any]
        if isinstance(action, AddAction):
            entry = {
                "add": {
                    "path": quote(action.path, safe="/="),
                    "partitionValues": dict(action.partition_values),
                    "size": action.size,
                    "modificationTime": action.modification_time,
                    "dataChange": action.data_change,
                    "stats": action.stats,
                }
            }
        else:
            entry = {
                "remove": {
                    "path": quote(action.path, safe="/="),
                    "deletionTimestamp": action.deletion_timestamp,
                    "dataChange": action.data_change,
                    "extendedFileMetadata": True,
                    "partitionValues": dict(action.partition_values or {}),
                    "size": action.size,
                }
            }
        lines.append(json.dumps(entry, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _rewrite_entry(
    folder: str,
    read_version: int,
    actions: list[AddAction | RemoveAction],
    partitions: list[str],
) -> int | None:
    """Commit a rewrite of files (`actions`: their removes, then the merged file's add, no data
    change) read at `read_version`, the way `Lake._append_entry` commits appends (a staged
    entry hard-linked as the next version), but on its own: the maintenance thread holds no
    write lock. Entries other writers committed after `read_version` are read: appends do not
    conflict with a rewrite; an entry that removes one of the same files (another merge, a
    duplicate removal, an erasure) or changes metadata or protocol does. The new version, or
    None on a conflict or when the log cannot be followed (nothing committed)."""
    gone = {a.path for a in actions if isinstance(a, RemoveAction)}
    log = Path(folder, "_delta_log")
    staged = log / f".tandem-{uuid.uuid4().hex}.json.tmp"
    head = read_version
    try:
        staged.write_bytes(_append_log_entry(actions, read_version, partitions))
        for _ in range(MAX_VERSIONS_FOLLOWED):
            if not (log / f"{head:020d}.json").exists():
                return None  # expired: the log between cannot be checked
            try:
                os.link(staged, log / f"{head + 1:020d}.json")
                return head + 1
            except FileExistsError:
                entry = (log / f"{head + 1:020d}.json").read_bytes()
            if b'"metaData"' in entry or b'"protocol"' in entry:
                return None
            if b'"remove"' in entry:
                for line in entry.split(b"\n"):
                    removed = json.loads(line).get("remove") if line.strip() else None
                    if removed and unquote(removed["path"]) in gone:
                        return None
            head += 1
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    finally:
        with contextlib.suppress(OSError):
            staged.unlink()


def sql_text(value: str) -> str:
    """`value` as a SQL string literal, for the predicates deltalake takes only as SQL text
    (a delete or an overwrite of one partition); every quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def _configure(table: DeltaTable, config: dict[str, str]) -> None:
    """Give a table made by an earlier version the properties it lacks or has other values of
    (one metadata commit, once); a failure (e.g. another process doing the same) is not an
    error."""
    current = table.metadata().configuration
    missing = {k: v for k, v in config.items() if current.get(k) != v}
    if missing:
        try:
            table.alter.set_table_properties(missing, raise_if_not_exists=False)
        except (DeltaError, OSError):
            return


def _write_files(folder: str, name: str, data: pa.Table) -> list[AddAction | RemoveAction]:
    """Write `data` as one Parquet file per partition value in the table folder (named and
    placed as deltalake names them) and return their add actions, with statistics."""
    partitions = PARTITIONS[name]
    if not partitions:
        return [_write_file(folder, {}, data, data_change=True)]
    (column,) = partitions  # the append tables are partitioned by `source` only
    values = pc.unique(data.column(column)).to_pylist()
    actions: list[AddAction | RemoveAction] = []
    for value in values:
        rows = data if len(values) == 1 else data.filter(pc.equal(data.column(column), value))
        actions.append(
            _write_file(folder, {column: value}, rows.drop_columns([column]), data_change=True)
        )
    return actions


def _delete_files(folder: str, actions: list[AddAction | RemoveAction]) -> None:
    for action in actions:
        if isinstance(action, AddAction):
            Path(folder, action.path).unlink(missing_ok=True)


def _write_file(
    folder: str, partition: dict[str, str | None], body: pa.Table, *, data_change: bool
) -> AddAction:
    """One Parquet file of `body` (without the partition columns) in its partition's folder."""
    folders = [f"{k}={quote(v, safe='')}" for k, v in partition.items() if v is not None]
    relative = "/".join([*folders, f"part-00000-{uuid.uuid4()}-c000.snappy.parquet"])
    path = Path(folder, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        body,
        path,
        compression="snappy",
        use_dictionary=[c for c in _DICTIONARY_COLUMNS if c in body.column_names],
        write_statistics=False,  # the Delta log has them
        store_schema=False,  # readers take the table's schema from the log (~0.3 ms a file)
    )
    stat = path.stat()
    return AddAction(
        path=relative,  # deltalake URL-encodes it in the log
        size=stat.st_size,
        partition_values=partition,
        modification_time=int(stat.st_mtime * 1000),
        data_change=data_change,
        stats=_stats(body),
    )


_DICTIONARY_COLUMNS = ("type", "event", "name", "origin", "reason")
_NO_RANGE_COLUMNS = ("traits", "properties", "context", "raw")


def _stats(table: pa.Table) -> str:
    """A data file's Delta statistics: row count, null counts, min/max (see STAT_TEXT_CHARS)."""
    minimum: dict[str, Any] = {}
    maximum: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for name in table.column_names:
        column = table.column(name)
        nulls[name] = column.null_count
        if name in _NO_RANGE_COLUMNS or column.null_count == len(column):
            continue
        low, high = pc.min_max(column).values()
        low, high = low.as_py(), high.as_py()
        if isinstance(low, str):
            minimum[name] = low[:STAT_TEXT_CHARS]
            if len(high) <= STAT_TEXT_CHARS:
                maximum[name] = high
        elif isinstance(low, datetime):  # milliseconds: the minimum down, the maximum up
            minimum[name] = _millis(low, up=False)
            maximum[name] = _millis(high, up=True)
        elif isinstance(low, int | float):
            minimum[name], maximum[name] = low, high
    return json.dumps(
        {
            "numRecords": table.num_rows,
            "minValues": minimum,
            "maxValues": maximum,
            "nullCount": nulls,
        },
        separators=(",", ":"),
    )


def _millis(value: datetime, *, up: bool) -> str:
    micros = value.microsecond % 1000
    if up and micros:
        value = value + timedelta(microseconds=1000 - micros)
    else:
        value = value - timedelta(microseconds=micros)
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _with_ingested_at(events: pa.Table, ingested_at: datetime) -> pa.Table:
    """Stamp `ingested_at` (the write time) on every row; cast to the exact events schema."""
    schema = SCHEMAS[EVENTS]
    index = schema.get_field_index("ingested_at")
    column = pa.repeat(pa.scalar(ingested_at, schema.field(index).type), events.num_rows)
    stamped = events.set_column(index, schema.field(index), column)
    return stamped if stamped.schema.equals(schema) else stamped.cast(schema)


def _check_schema(name: str, path: str, table: DeltaTable, expected: pa.Schema) -> None:
    actual = pa.schema(table.schema().to_arrow())
    found = {f.name: str(f.type) for f in actual}
    wanted = {f.name: str(f.type) for f in expected}
    if found != wanted:
        missing = sorted(set(wanted) - set(found))
        extra = sorted(set(found) - set(wanted))
        changed = sorted(k for k in set(wanted) & set(found) if wanted[k] != found[k])
        raise LakeFailure(
            f"the {name} table at {path} does not have Tandem's {name} schema",
            detail=f"missing columns: {missing or 'none'}; unexpected: {extra or 'none'}; "
            f"different types: {changed or 'none'}. Move it away or point lake_url elsewhere.",
        )


def _guard(action: Callable[[], T], what: str) -> T:
    try:
        result = action()
    except (DeltaError, OSError) as exc:
        raise LakeFailure(f"could not {what}: {exc}") from None
    return result
