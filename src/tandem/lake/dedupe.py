"""The writer's memory of committed message ids, per source, kept current cheaply.

Scanning `events` before every commit would be far too slow at HTTP rates (a commit every ~50 ms).
Instead the index loads a source's message ids once (its partition's `message_id` column), and
remembers which data files it has read. Before a commit it compares the table's current version
with the one it reflects; when another process has committed since, it follows those commits'
log entries: the files they add are read, except the files a compaction wrote (`dataChange`
false) out of files it had read already, which hold no new ids. (When the log entries cannot be
followed, it lists the table and reads the files it has not seen yet.) The cost of keeping up is
that of the new rows, never of the table.

Two processes committing the same message id at the same instant can both pass the check; the
query layer (`Lake.events()`) is deduplicated and `Lake.compact()` removes such copies.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.dataset as ds  # type: ignore[import-untyped]
from deltalake import DeltaTable


class DedupeIndex:
    """Committed message ids per source for one Delta table (not thread-safe: the Lake locks)."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}
        self._files: dict[str, set[str]] = {}
        self._version: int | None = None

    def reset(self) -> None:
        """Forget everything (after a failed commit, whose ids were added optimistically)."""
        self._ids.clear()
        self._files.clear()
        self._version = None

    def catch_up(
        self,
        version: int,
        sources: Iterable[str],
        log_folder: Path,
        current: Callable[[], DeltaTable],
        *,
        freeze: bool = False,
    ) -> None:
        """Bring the index up to `version` (the table's latest, known to the caller) and load
        any of `sources` not loaded yet. Log entries are followed when possible; otherwise
        `current()` gives a handle updated to the latest version, whose files are listed (the
        handle is not needed, nor refreshed, in the common case). With `freeze` (a long-running
        server), a new source's set is kept out of the garbage collector's way
        (`_long_lived_set`)."""
        if version != self._version:
            if not self._replay(log_folder, version):
                table = current()
                version = table.version()
                for source in self._ids:
                    self._read_new_files(table, source)
            self._version = version
        new = [source for source in sources if source not in self._ids]
        if new:
            table = current()
            for source in new:
                self._ids[source] = _long_lived_set() if freeze else set()
                self._files[source] = set()
                self._read_new_files(table, source)

    def ids(self, source: str) -> set[str]:
        """The committed ids of a source loaded by `catch_up` (mutable: add new ones to it)."""
        return self._ids[source]

    def committed(self, version: int, added: Iterable[tuple[str | None, str]]) -> None:
        """Our own commit landed as `version` (its ids were added already), adding the files
        `added` ((source, path) pairs). When it directly follows the version we reflect, those
        files are ours: mark them read (the cost does not grow with the table), and they are
        never re-read."""
        if self._version is None or version != self._version + 1:
            return
        for source, path in added:
            if source in self._files:
                self._files[source].add(_name(path))
        self._version = version

    def _replay(self, log_folder: Path, version: int) -> bool:
        """Follow the commits after the reflected version up to `version` through their log
        entries; False (nothing half-learnt that is wrong) when that is not possible."""
        if self._version is None or version < self._version or version - self._version > 1000:
            return False
        table_folder = log_folder.parent
        try:
            for number in range(self._version + 1, version + 1):
                entry = (log_folder / f"{number:020d}.json").read_text(encoding="utf-8")
                added: list[tuple[str, str, bool]] = []
                removed: list[tuple[str, str]] = []
                for line in entry.split("\n"):  # not splitlines(): \x85 may sit in strings
                    action = json.loads(line) if line.strip() else {}
                    for kind in ("add", "remove"):
                        item = action.get(kind)
                        if not item:
                            continue
                        source = (item.get("partitionValues") or {}).get("source")
                        if source not in self._ids:
                            continue
                        path = unquote(item["path"])
                        if kind == "add":
                            added.append((source, path, item.get("dataChange") is False))
                        else:
                            removed.append((source, _name(path)))
                # a rewrite of files already read brings no new ids; anything else is read
                rewrite = all(name in self._files[source] for source, name in removed)
                new: dict[str, list[str]] = {}
                for source, path, same_data in added:
                    if _name(path) in self._files[source]:
                        continue
                    if same_data and rewrite:
                        self._files[source].add(_name(path))
                    else:
                        new.setdefault(source, []).append(str(table_folder / path))
                for source, paths in new.items():
                    ids = ds.dataset(paths, format="parquet").to_table(columns=["message_id"])
                    self._ids[source].update(_strings(ids.column("message_id")))
                    self._files[source].update(_name(p) for p in paths)
        except (OSError, ValueError, KeyError, AttributeError, TypeError, pa.ArrowException):
            return False
        return True

    def _read_new_files(self, table: DeltaTable, source: str) -> None:
        uris = table.file_uris(file_pruning_predicate=[("source", "=", source)])
        seen = self._files[source]
        new = [uri for uri in uris if _name(uri) not in seen]
        if new:
            ids = ds.dataset(new, format="parquet").to_table(columns=["message_id"])
            self._ids[source].update(_strings(ids.column("message_id")))
            seen.update(_name(uri) for uri in new)


def _long_lived_set() -> set[str]:
    """An empty set for a source's ids, which the garbage collector will never traverse. It
    holds only strings (no reference cycle can run through it) and grows to millions of them,
    and every full collection would visit each one: 0.1-0.4 s pauses at 2 million ids, every
    few seconds while the server ingests. `gc.freeze()` moves every object tracked now, this set
    included, to the permanent generation; it runs once per source loaded (what is alive at
    that moment is never collected as a cycle: a bounded, one-time cost; the GroupCommitWriter
    unfreezes them when it closes)."""
    ids: set[str] = set()
    gc.freeze()
    return ids


def _name(path: str) -> str:
    """A data file's name: unique in the table (deltalake names files with a UUID)."""
    return path.rsplit("/", 1)[-1]


def _strings(column: pa.ChunkedArray) -> list[str]:
    return [value for value in column.to_pylist() if value is not None]
