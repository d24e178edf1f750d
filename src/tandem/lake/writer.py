"""Group commit: many concurrent submitters, one Delta commit per group.

The HTTP layer does not commit per request. It submits each parsed request to a
GroupCommitWriter; a background thread takes everything submitted within `max_delay` seconds (or
until `max_rows` rows), writes one commit to `events` and one to `quarantine` (only when there are
rejections), then resolves each submitter's future with its own counts. Requests that arrive
while a commit is being written wait for the next one, so groups grow with the load instead of
queues. When the commit fails, every future of the group fails with the error (the HTTP layer
answers 503): a future never resolves as success unless its rows are committed.

A commit (`Lake.append_many`: a Parquet file written with pyarrow, then the commit of its add
action, written directly as the table's next log entry: `Lake._append_entry`) takes 2-4 ms of
CPU for 100 events, whatever the table's size or history. What does grow with the history is
the work of readers and of deltalake's own commits (they replay the log entries since the last
checkpoint and list the `_delta_log` folder). So a maintenance thread, off the commit path and at
most once per `maintain_interval` seconds (each pass reads the log once, however many commits
came since the last), merges the small files every `compact_every` commits
(`Lake.compact_small_files`: files of about the same size, once `compact_min_files` of them
have accumulated, in a rewrite-only commit that runs beside the appends; if it conflicts it is
skipped and tried again later), writes a checkpoint when `checkpoint_every` commits followed the
last one, and deletes expired log entries every `cleanup_every` commits.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tandem.errors import TandemError

if TYPE_CHECKING:
    from tandem.lake.store import Lake, ParsedBatch, WriteResult


class WriterClosed(TandemError):
    """The writer was closed; nothing more can be submitted."""

    status_code = 503
    error = "writer_closed"


@dataclass
class _Item:
    parsed: ParsedBatch
    future: Future[WriteResult]


_STOP = object()
MAINTENANCE_NICE = 10
"""The maintenance thread's nice value (0 normal, 19 lowest)."""


class GroupCommitWriter:
    """Thread-safe; concurrent `submit`s are grouped into one Delta commit per table."""

    def __init__(
        self,
        lake: Lake,
        *,
        max_delay: float = 0.005,
        max_rows: int = 20_000,
        compact_every: int | None = 20,
        checkpoint_every: int = 10,
        cleanup_every: int = 200,
        maintain_interval: float = 2.0,
        compact_min_files: int = 4,
    ):
        self.lake = lake
        self.max_delay = max_delay
        self.max_rows = max_rows
        self.compact_every = compact_every
        self.checkpoint_every = checkpoint_every
        self.cleanup_every = cleanup_every
        self.maintain_interval = maintain_interval
        self.compact_min_files = compact_min_files
        self.compactions = 0
        """How many background compactions merged files (for tests and metrics)."""
        self.checkpoints = 0
        """How many background checkpoints were written (for tests and metrics)."""
        lake.checkpoint_in_background = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._maintainer = threading.Thread(
            target=self._maintain, name="tandem-lake-maintain", daemon=True
        )
        self._maintainer.start()
        self._queue: queue.Queue[_Item | object] = queue.Queue()
        self._closed = False
        self._close_lock = threading.Lock()
        self.commits = 0
        """How many groups were committed (for tests and metrics)."""
        self._thread = threading.Thread(target=self._run, name="tandem-group-commit", daemon=True)
        self._thread.start()

    def submit(self, parsed: ParsedBatch) -> Future[WriteResult]:
        """Queue a batch; the future resolves with its WriteResult once committed."""
        future: Future[WriteResult] = Future()
        with self._close_lock:
            if self._closed:
                raise WriterClosed("the lake writer is closed")
            self._queue.put(_Item(parsed, future))
        return future

    def close(self) -> None:
        """Flush what is pending, then stop the thread."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()
        self._stop.set()
        self._wake.set()
        self._maintainer.join()
        self.lake.checkpoint_in_background = False
        gc.unfreeze()  # the dedupe index's sets (and what was alive then) can be collected again

    def __enter__(self) -> GroupCommitWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Item)
            group = [first]
            rows = first.parsed.events.num_rows
            deadline = time.monotonic() + self.max_delay
            while rows < self.max_rows:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Item)
                group.append(item)
                rows += item.parsed.events.num_rows
            self._commit(group)

    def _commit(self, group: list[_Item]) -> None:
        live = [item for item in group if item.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.lake.append_many([item.parsed for item in live])
        except BaseException as exc:
            for item in live:
                item.future.set_exception(exc)
            return
        self.commits += 1
        for item, result in zip(live, results, strict=True):
            item.future.set_result(result)
        self._wake.set()

    def _maintain(self) -> None:
        """Checkpoint, merge small files and clean the log up as commits accumulate, at most
        once per `maintain_interval` (each pass reads the log once, whatever the number of
        commits since the last); one last checkpoint on close (the next process opens the
        tables from it). The thread runs at a lower CPU priority (nice 10, where the OS has
        per-thread priorities): merging rewrites megabytes, and on a busy machine the requests
        waiting for their commit come first."""
        _lower_priority()
        checkpointed = compacted = cleaned = 0
        last = float("-inf")
        while True:
            self._wake.wait()
            self._wake.clear()
            pause = last + self.maintain_interval - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)  # cut short by close()
            last = time.monotonic()
            commits = self.commits
            stopping = self._stop.is_set()
            read = False  # whether this pass read the log already (compaction does)
            if self.compact_every and commits - compacted >= self.compact_every:
                compacted = commits
                read = True
                if self.lake.compact_small_files(min_files=self.compact_min_files):
                    self.compactions += 1
            if commits - checkpointed >= self.checkpoint_every or (
                stopping and commits > checkpointed
            ):
                checkpointed = commits
                cleanup = commits - cleaned >= self.cleanup_every
                if cleanup:
                    cleaned = commits
                self.lake.checkpoint(cleanup=cleanup, refresh=not read or stopping)
                self.checkpoints += 1
            if stopping:
                return


def _lower_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux: a thread is a task with its own nice
    value); elsewhere, nothing."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        setpriority(os.PRIO_PROCESS, threading.get_native_id(), MAINTENANCE_NICE)
