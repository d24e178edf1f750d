"""The lake: appends with dedupe, the deduplicated query layer, group commit, concurrent writers,
compaction and the fixed schema."""

from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from tandem.customers.spec import Parsed, normalise_messages
from tandem.lake import Lake, LakeFailure, WriterClosed
from tandem.lake.schema import EVENTS_SCHEMA

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def parsed(ids: list[str], *, source: str = "web", bad: int = 0) -> Parsed:
    messages = [{"type": "track", "userId": "u", "event": "X", "messageId": i} for i in ids]
    messages += [{"type": "track", "event": "no user"}] * bad
    return normalise_messages(messages, source=source, received_at=NOW, origin="test")


def count(lake: Lake, name: str = "events") -> int:
    table = lake.events() if name == "events" else lake.raw(name)
    return int(table.count().to_pyarrow().as_py())


def test_append_stores_once_and_counts_duplicates(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    first = lake.append(parsed(["a", "b", "c"], bad=2))
    assert (first.accepted, first.duplicates, first.rejected) == (3, 0, 2)
    assert first.version == 1
    again = lake.append(parsed(["b", "c", "d", "d"]))
    assert (again.accepted, again.duplicates, again.rejected) == (1, 3, 0)
    assert count(lake) == 4
    assert lake.raw("events").count().to_pyarrow().as_py() == 4
    assert count(lake, "quarantine") == 2
    # the same id in another source is another message
    other = lake.append(parsed(["a"], source="app"))
    assert (other.accepted, other.duplicates) == (1, 0)
    lake.close()


def test_nothing_to_write_makes_no_commit(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.append(parsed(["a"]))
    version = lake.table("events").version()
    result = lake.append(parsed(["a"]))
    assert (result.accepted, result.duplicates, result.version) == (0, 1, None)
    assert lake.table("events").version() == version
    lake.close()


def test_dedupe_sees_commits_of_another_writer(tmp_path: Path) -> None:
    """Two Lake objects are two processes as far as the index goes: each reads the files the
    other added since its last look."""
    server, cli = Lake(tmp_path / "lake"), Lake(tmp_path / "lake")
    assert server.append(parsed(["a"])).accepted == 1  # server's index is now loaded
    assert cli.append(parsed(["a", "b"])).accepted == 1
    assert server.append(parsed(["b", "c"])).accepted == 1  # b came from the CLI
    assert count(server) == 3
    server.close()
    cli.close()


def test_events_view_hides_physical_duplicates_and_compact_removes_them(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for ids in (["a", "b"], ["c"], ["d", "e"]):
        lake.append(parsed(ids))
    lake.append(parsed(["x"], source="app"))
    # two processes racing on the same id can both store it: simulate with a raw write
    copy = parsed(["a", "c"]).events
    write_deltalake(lake.table_path("events"), copy, mode="append", partition_by=["source"])
    assert lake.raw("events").count().to_pyarrow().as_py() == 8
    assert count(lake) == 6
    result = lake.compact()
    events = next(t for t in result.tables if t.table == "events")
    assert events.duplicates_removed == 2
    assert events.rows == 6
    assert events.files_before == 5 and events.files_after == 2  # one file per source
    ids = sorted(lake.raw("events").message_id.to_pyarrow().to_pylist())
    assert ids == ["a", "b", "c", "d", "e", "x"]
    # the writer still dedupes after compaction rewrote the files
    assert lake.append(parsed(["a", "f"])).accepted == 1
    lake.close()


def test_vacuum_only_when_asked(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for i in range(3):
        lake.append(parsed([f"m{i}"]))
    kept = lake.compact()
    assert all(t.files_vacuumed == 0 for t in kept.tables)
    vacuumed = lake.compact(vacuum=True, retention_hours=0)
    events = next(t for t in vacuumed.tables if t.table == "events")
    assert events.files_vacuumed == 3
    assert count(lake) == 3
    lake.close()


def test_schema_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "lake" / "events"
    write_deltalake(str(path), pa.table({"source": ["x"], "other": [1]}))
    lake = Lake(tmp_path / "lake")
    with pytest.raises(LakeFailure) as caught:
        lake.append(parsed(["a"]))
    assert "does not have Tandem's events schema" in caught.value.message
    assert "other" in (caught.value.detail or "")
    lake.close()


def test_tables_are_created_on_first_use_with_the_fixed_schema(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    assert count(lake) == 0 and count(lake, "quarantine") == 0
    schema = pa.schema(DeltaTable(lake.table_path("events")).schema().to_arrow())
    assert schema.names == EVENTS_SCHEMA.names
    assert DeltaTable(lake.table_path("events")).metadata().partition_columns == ["source"]
    lake.close()


def test_object_store_urls_are_refused_for_now(tmp_path: Path) -> None:
    with pytest.raises(LakeFailure, match="object-store URL"):
        Lake("s3://bucket/lake")


def test_events_query_sees_new_commits(tmp_path: Path) -> None:
    reader, writer = Lake(tmp_path / "lake"), Lake(tmp_path / "lake")
    assert count(reader) == 0
    writer.append(parsed(["a", "b"]))
    assert count(reader) == 2
    reader.close()
    writer.close()


# -- group commit --------------------------------------------------------------------------------
def test_group_commit_gives_each_submitter_its_own_counts(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.append(parsed(["seen"]))
    writer = lake.writer(max_delay=0.05)
    batches = [parsed([f"t{t}-{i}" for i in range(10)] + ["seen"], bad=1) for t in range(20)]
    futures = []
    barrier = threading.Barrier(20)

    def submit(batch: Parsed) -> None:
        barrier.wait()
        futures.append(writer.submit(batch))

    threads = [threading.Thread(target=submit, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [f.result(timeout=30) for f in futures]
    writer.close()
    assert all((r.accepted, r.duplicates, r.rejected) == (10, 1, 1) for r in results)
    assert writer.commits < 20  # grouped
    assert count(lake) == 201
    assert count(lake, "quarantine") == 20
    lake.close()


def test_close_flushes_and_then_refuses(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    writer = lake.writer(max_delay=1.0)
    future = writer.submit(parsed(["a", "b"]))
    writer.close()
    assert future.result(timeout=1).accepted == 2
    with pytest.raises(WriterClosed):
        writer.submit(parsed(["c"]))
    lake.close()


def test_a_failed_commit_fails_every_future_of_the_group(tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "events").write_text("not a table folder")
    lake = Lake(tmp_path / "lake")
    with lake.writer(max_delay=0.05) as writer:
        futures = [writer.submit(parsed([f"m{i}"])) for i in range(5)]
        errors = [f.exception(timeout=30) for f in futures]
    assert all(isinstance(e, LakeFailure) for e in errors)
    lake.close()


# -- concurrent processes ------------------------------------------------------------------------
def _append_many(path: str, prefix: str, rounds: int) -> None:
    lake = Lake(path)
    for r in range(rounds):
        lake.append(parsed([f"{prefix}-{r}-{i}" for i in range(50)] + [f"shared-{r}"]))
    lake.close()


def test_two_processes_append_at_once_and_nothing_is_lost(tmp_path: Path) -> None:
    path = str(tmp_path / "lake")
    Lake(path).table("events")  # created up front, as a workspace does
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_many, args=(path, name, 15)) for name in ("server", "cli")
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    lake = Lake(path)
    # every distinct message is there exactly once in the deduplicated view
    assert count(lake) == 2 * 15 * 50 + 15
    ids = lake.raw("events").message_id.to_pyarrow().to_pylist()
    assert {i for i in ids if not i.startswith("shared")} == {
        f"{p}-{r}-{i}" for p in ("server", "cli") for r in range(15) for i in range(50)
    }
    assert len(ids) <= 2 * 15 * 50 + 2 * 15  # a racing shared id may be stored twice at most
    lake.compact()
    assert lake.raw("events").count().to_pyarrow().as_py() == 2 * 15 * 50 + 15
    lake.close()


def test_schema_of_parsed_events_matches_the_table() -> None:
    assert parsed(["a"]).events.schema.names == EVENTS_SCHEMA.names


def test_queries_from_many_threads_at_once(tmp_path: Path) -> None:
    """The server answers from a pool of threads: each gets its own DuckDB connection."""
    lake = Lake(tmp_path / "lake")
    lake.append(parsed([f"m{i}" for i in range(100)]))
    counts: list[int] = []
    barrier = threading.Barrier(8)

    def query() -> None:
        barrier.wait()
        for _ in range(5):
            counts.append(count(lake))

    threads = [threading.Thread(target=query) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [100] * 40
    lake.close()


def test_unicode_line_separators_in_values_do_not_break_the_bookkeeping(tmp_path: Path) -> None:
    """U+2028 and U+0085 stay unescaped in the Delta log's statistics; a regression once made
    a durable commit answer as failed."""
    lake = Lake(tmp_path / "lake")
    odd = "line\u2028separator\x85next"
    messages = [{"type": "track", "userId": odd, "event": odd, "messageId": odd}]
    batch = normalise_messages(messages, source="web", received_at=NOW)
    first = lake.append(batch)
    assert (first.accepted, first.version) == (1, 1)
    assert lake.append(batch).duplicates == 1
    assert lake.events().user_id.to_pyarrow().to_pylist() == [odd]
    lake.close()


def test_writer_merges_small_files_in_the_background_and_dedupe_still_holds(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "lake")
    writer = lake.writer(max_delay=0, compact_every=4)
    for n in range(12):
        result = writer.submit(parsed([f"{n}-{i}" for i in range(10)])).result()
        assert (result.accepted, result.duplicates) == (10, 0)
    assert lake.checkpoint_in_background  # appends leave checkpoints to the compaction thread
    writer.close()
    assert not lake.checkpoint_in_background
    assert writer.compactions >= 1
    assert writer.checkpoints >= 1  # every checkpoint_every commits, and one on close
    assert len(lake.table("events").file_uris()) < 12
    log = tmp_path / "lake" / "events" / "_delta_log"
    assert any(p.name.endswith(".checkpoint.parquet") for p in log.iterdir())
    assert lake.raw("events").count().to_pyarrow().as_py() == 120
    again = lake.append_many([parsed([f"{n}-{i}" for i in range(10)]) for n in range(12)])
    assert sum(r.duplicates for r in again) == 120
    assert sum(r.accepted for r in again) == 0
    lake.close()


def test_index_follows_a_compaction_without_reading_the_merged_file(tmp_path: Path) -> None:
    """Another writer's compaction rewrites files the index has read: no new ids, nothing to
    read; a file another writer appended is still read (its ids count as duplicates)."""
    lake, other = Lake(tmp_path / "lake"), Lake(tmp_path / "lake")
    for n in range(3):
        lake.append(parsed([f"a{n}"]))
    other.append(parsed(["b"]))
    assert other.compact_small_files()
    reads: list[int] = []
    original = lake._index._read_new_files

    def spy(table: DeltaTable, source: str) -> None:
        reads.append(1)
        original(table, source)

    lake._index._read_new_files = spy  # type: ignore[method-assign]
    result = lake.append(parsed(["a0", "a1", "b", "c"]))
    assert (result.accepted, result.duplicates) == (1, 3)
    assert reads == []  # followed through the log, not by listing and re-reading the table
    assert count(lake) == 5
    lake.close()
    other.close()


# -- the commit path: own Parquet files, add actions with statistics, log upkeep ----------------
def _adds(table_folder: Path) -> list[dict[str, object]]:
    adds = []
    for entry in sorted((table_folder / "_delta_log").glob("*.json")):
        for line in entry.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                adds.append(action["add"])
    return adds


def test_appends_write_readable_files_with_exact_statistics(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    odd = "a b/c=d%é:x"  # a source name needing escapes in the partition folder
    lake.append_many([parsed(["m1", "m2", "m3"]), parsed(["m9", "m10"], source=odd)])
    (web, other) = sorted(_adds(tmp_path / "lake" / "events"), key=lambda a: str(a["path"]))[::-1]
    assert web["partitionValues"] == {"source": "web"}
    assert other["partitionValues"] == {"source": odd}
    assert (tmp_path / "lake" / "events" / unquote(str(other["path"]))).is_file()
    stats = json.loads(str(web["stats"]))
    assert stats["numRecords"] == 3
    assert stats["minValues"]["message_id"] == "m1" and stats["maxValues"]["message_id"] == "m3"
    assert stats["nullCount"]["user_id"] == 0 and stats["nullCount"]["traits"] == 3
    # times: the minimum rounded down and the maximum up to the millisecond
    assert stats["minValues"]["received_at"] == "2026-03-01T12:00:00.000Z"
    assert "traits" not in stats["minValues"]  # JSON text gets no range
    # deltalake and the query layer read what was written
    table = DeltaTable(str(tmp_path / "lake" / "events"))
    rows = pa.table(table.to_pyarrow_table()).sort_by("message_id").to_pylist()
    assert [(r["source"], r["message_id"]) for r in rows] == [
        ("web", "m1"),
        (odd, "m10"),
        ("web", "m2"),
        ("web", "m3"),
        (odd, "m9"),
    ]
    assert count(lake) == 5
    events = lake.events()
    assert events.filter(events.source == odd).count().to_pyarrow().as_py() == 2
    # merging small files removes exactly the files it merged, escaped paths included
    lake.append_many([parsed(["m4"]), parsed(["m11"], source=odd)])
    assert lake.compact_small_files()
    table = DeltaTable(str(tmp_path / "lake" / "events"))
    assert len(table.file_uris()) == 2
    assert table.to_pyarrow_dataset().count_rows() == 7
    assert lake.append(parsed(["m10", "m12"], source=odd)).duplicates == 1
    lake.close()


def test_statistics_bounds_hold_for_long_text_and_sub_millisecond_times() -> None:
    from tandem.lake.store import _stats

    late = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)
    table = pa.table(
        {
            "user_id": ["b" * 40, "a" * 40],
            "event": ["x" * 40, "y"],
            "received_at": pa.array([late, late], pa.timestamp("us", tz="UTC")),
        }
    )
    stats = json.loads(_stats(table))
    assert stats["minValues"]["user_id"] == "a" * 32  # a prefix is a valid lower bound
    assert "user_id" not in stats["maxValues"]  # a prefix is not a valid upper bound
    assert stats["maxValues"]["event"] == "y"
    assert stats["minValues"]["received_at"] == "2026-03-01T12:00:00.123Z"
    assert stats["maxValues"]["received_at"] == "2026-03-01T12:00:00.124Z"


def test_tables_of_an_earlier_version_get_the_append_properties(tmp_path: Path) -> None:
    folder = tmp_path / "lake" / "events"
    folder.mkdir(parents=True)
    DeltaTable.create(
        str(folder),
        EVENTS_SCHEMA,
        partition_by=["source"],
        configuration={"delta.logRetentionDuration": "interval 1 hour"},  # an earlier value
    )
    lake = Lake(tmp_path / "lake")
    config = lake.table("events").metadata().configuration
    assert config["delta.checkpointInterval"] == "10"
    assert config["delta.logRetentionDuration"] == "interval 10 seconds"
    assert config["delta.deletedFileRetentionDuration"] == "interval 10 seconds"
    assert lake.append(parsed(["a"])).accepted == 1
    lake.close()


@pytest.mark.parametrize("direct", [False, True], ids=["deltalake", "direct"])
def test_expired_log_entries_are_deleted_and_dedupe_still_sees_their_files(
    tmp_path: Path, direct: bool
) -> None:
    """Another process's commits whose log entries were cleaned up: the index cannot follow
    them through the log, so it lists the table and reads the files it has not seen. The
    server's own last entry is gone too: a direct append reads the table again rather than
    reuse an expired version number."""
    server, cli = Lake(tmp_path / "lake"), Lake(tmp_path / "lake")
    server.checkpoint_in_background = direct
    assert server.append(parsed(["s0"])).accepted == 1  # the server's index is loaded
    table = cli.table("events")
    table.alter.set_table_properties({"delta.logRetentionDuration": "interval 0 seconds"})
    for n in range(12):
        assert cli.append(parsed([f"c{n}"])).accepted == 1
    cli.checkpoint(cleanup=True)
    log = tmp_path / "lake" / "events" / "_delta_log"
    assert not (log / f"{1:020d}.json").exists()  # the entries after the server's look are gone
    result = server.append(parsed(["c3", "c11", "s0", "new"]))
    assert (result.accepted, result.duplicates, result.version) == (1, 3, 15)
    assert count(server) == 14
    assert DeltaTable(str(tmp_path / "lake" / "events")).version() == 15
    server.close()
    cli.close()


# -- the direct append path (a GroupCommitWriter's lake) -----------------------------------------
def _direct(lake: Lake) -> Lake:
    """A lake whose appends take the direct path, as under a GroupCommitWriter (whose
    maintenance thread would write the checkpoints)."""
    lake.checkpoint_in_background = True
    return lake


def _entry(table_folder: Path, version: int) -> list[dict[str, dict[str, object]]]:
    text = (table_folder / "_delta_log" / f"{version:020d}.json").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_direct_appends_are_delta_commits_deltalake_reads(tmp_path: Path) -> None:
    lake = _direct(Lake(tmp_path / "lake"))
    odd = "a b/c=d%é:x"  # a partition folder with escapes: the log holds its path URL-encoded
    results = lake.append_many([parsed(["m1", "m2"], bad=1), parsed(["m9"], source=odd)])
    assert [(r.accepted, r.rejected, r.version) for r in results] == [(2, 1, 1), (1, 0, 1)]
    folder = tmp_path / "lake" / "events"
    info, *adds = _entry(folder, 1)
    assert info["commitInfo"]["operation"] == "WRITE"
    assert info["commitInfo"]["isBlindAppend"] is True
    assert info["commitInfo"]["readVersion"] == 0
    assert sorted(str(a["add"]["partitionValues"]["source"]) for a in adds) == [odd, "web"]
    assert all((folder / unquote(str(a["add"]["path"]))).is_file() for a in adds)
    assert not list((folder / "_delta_log").glob(".tandem-*"))  # the staged entry is gone
    # deltalake, another process's view, reads what was committed, statistics included
    table = DeltaTable(str(folder))
    assert table.version() == 1
    rows = pa.table(table.to_pyarrow_table()).sort_by("message_id").to_pylist()
    assert [(r["source"], r["message_id"]) for r in rows] == [
        ("web", "m1"),
        ("web", "m2"),
        (odd, "m9"),
    ]
    stats = pa.table(table.get_add_actions(flatten=True)).column("num_records").to_pylist()
    assert sorted(stats) == [1, 2]
    assert count(lake, "quarantine") == 1
    # a deltalake commit by another writer, then a direct one: consecutive versions
    other = Lake(tmp_path / "lake")
    assert other.append(parsed(["o1"])).version == 2
    again = lake.append(parsed(["o1", "m1", "m3"]))
    assert (again.accepted, again.duplicates, again.version) == (1, 2, 3)
    assert count(other) == 5
    lake.close()
    other.close()


def test_a_version_taken_meanwhile_is_followed_and_the_next_one_used(tmp_path: Path) -> None:
    """Another process commits the very version the direct append was about to take: the link
    fails, that entry is read, and the append lands on the next version; nothing is lost."""
    server, cli = _direct(Lake(tmp_path / "lake")), Lake(tmp_path / "lake")
    assert server.append(parsed(["s1"])).version == 1
    follow = server._follow
    calls: list[str] = []

    def racing(name: str) -> int:
        head = follow(name)
        calls.append(name)
        if calls == ["events", "events"]:  # the append's own look at the log: then a race
            assert cli.append(parsed(["c1"])).version == head + 1
        return head

    server._follow = racing  # type: ignore[method-assign]
    result = server.append(parsed(["s2", "s3"]))
    assert (result.accepted, result.version) == (2, 3)
    assert calls.count("events") == 3  # the taken version was read before the next try
    folder = tmp_path / "lake" / "events"
    # version 2 is the other process's; ours, staged while version 1 was the latest, is 3
    assert str(_entry(folder, 2)[0]["commitInfo"]["clientVersion"]).startswith("delta-rs")
    assert _entry(folder, 3)[0]["commitInfo"]["readVersion"] == 1
    table = DeltaTable(str(folder))
    assert table.version() == 3
    assert sorted(pa.table(table.to_pyarrow_table()).column("message_id").to_pylist()) == [
        "c1",
        "s1",
        "s2",
        "s3",
    ]
    # the server's index followed the other process's commit: c1 is known
    assert server.append(parsed(["c1"])).duplicates == 1
    server.close()
    cli.close()


def test_direct_appends_follow_a_metadata_change_and_refuse_another_schema(tmp_path: Path) -> None:
    from deltalake.schema import Field, PrimitiveType

    server, admin = _direct(Lake(tmp_path / "lake")), Lake(tmp_path / "lake")
    assert server.append(parsed(["a"])).version == 1
    admin.table("events").alter.set_table_properties({"delta.checkpointInterval": "20"})
    assert server.append(parsed(["b"])).version == 3  # after the property change (version 2)
    admin.table("events").alter.add_columns([Field("extra", PrimitiveType("string"))])
    folder = tmp_path / "lake" / "events"
    files = {p for p in folder.rglob("*.parquet")}
    with pytest.raises(LakeFailure, match="does not have Tandem's events schema"):
        server.append(parsed(["c"]))
    assert DeltaTable(str(folder)).version() == 4  # nothing committed after the schema change
    assert {p for p in folder.rglob("*.parquet")} == files  # and its file was deleted
    server.close()
    admin.close()


def test_a_table_with_table_features_is_appended_to_by_deltalake(tmp_path: Path) -> None:
    from deltalake import TableFeatures

    lake = _direct(Lake(tmp_path / "lake"))
    lake.table("events").alter.add_feature(
        TableFeatures.ChangeDataFeed, allow_protocol_versions_increase=True
    )
    result = lake.append(parsed(["a", "b"]))
    assert (result.accepted, result.version) == (2, 2)
    info = _entry(tmp_path / "lake" / "events", 2)[0]["commitInfo"]
    assert str(info["clientVersion"]).startswith("delta-rs")  # deltalake wrote this commit
    assert count(lake) == 2
    lake.close()


def test_entries_staged_by_a_killed_process_are_deleted_by_the_log_cleanup(
    tmp_path: Path,
) -> None:
    import os
    import time

    lake = _direct(Lake(tmp_path / "lake"))
    lake.append(parsed(["a"]))
    log = tmp_path / "lake" / "events" / "_delta_log"
    old, recent = log / ".tandem-dead.json.tmp", log / ".tandem-live.json.tmp"
    old.write_text("{}")
    recent.write_text("{}")
    os.utime(old, (time.time() - 120, time.time() - 120))
    lake.checkpoint(cleanup=True)
    assert not old.exists()
    assert recent.exists()  # perhaps an append about to link it
    assert DeltaTable(str(tmp_path / "lake" / "events")).version() == 1
    lake.close()


def test_a_merge_commits_beside_appends_but_not_over_a_merge_of_the_same_files(
    tmp_path: Path,
) -> None:
    from deltalake.transaction import RemoveAction

    from tandem.lake.store import _rewrite_entry, _write_file

    lake = _direct(Lake(tmp_path / "lake"))
    for n in range(3):
        lake.append(parsed([f"a{n}"]))
    folder = tmp_path / "lake" / "events"
    listed = DeltaTable(str(folder))
    adds = pa.table(listed.get_add_actions(flatten=True))
    paths = [unquote(p) for p in adds.column("path").to_pylist()]
    rows = pa.table(listed.to_pyarrow_table()).drop_columns(["source"])

    def merge() -> int | None:
        add = _write_file(str(folder), {"source": "web"}, rows, data_change=False)
        removes = [
            RemoveAction(p, False, 0, s, {"source": "web"})
            for p, s in zip(paths, adds.column("size_bytes").to_pylist(), strict=True)
        ]
        return _rewrite_entry(str(folder), listed.version(), [*removes, add], ["source"])

    assert lake.append(parsed(["b"])).version == 4  # an append after the listing...
    assert merge() == 5  # ...does not conflict with the merge
    assert merge() is None  # the same files merged again: they are gone, nothing committed
    table = DeltaTable(str(folder))
    assert table.version() == 5
    assert len(table.file_uris()) == 2  # the merged file and b's
    assert table.to_pyarrow_dataset().count_rows() == 4
    info = _entry(folder, 5)[0]["commitInfo"]
    assert (info["operation"], info["readVersion"]) == ("OPTIMIZE", 3)
    assert lake.append(parsed(["a1", "c"])).duplicates == 1
    lake.close()


def test_the_dedupe_index_is_not_traversed_by_the_garbage_collector(tmp_path: Path) -> None:
    """Millions of ids in a set a full collection visits one by one stall every request."""
    import gc

    lake = Lake(tmp_path / "lake")
    writer = lake.writer()
    assert writer.submit(parsed(["a", "b"])).result().accepted == 2
    ids = lake._index.ids("web")
    assert ids == {"a", "b"}
    assert gc.is_tracked(ids)
    assert not any(o is ids for o in gc.get_objects())  # in the permanent generation
    writer.close()
    assert any(o is ids for o in gc.get_objects())  # collectable again
    lake.close()


def test_vacuum_reaches_the_tables_a_resolution_rewrites(tmp_path: Path) -> None:
    from tandem.lake.derived import replace_table

    lake = Lake(tmp_path / "lake")
    lake.append(parsed(["m0"]))
    for customer in ("cus_1", "cus_2", "cus_3"):  # three resolutions, each a whole rewrite
        replace_table(
            lake,
            "identities",
            pa.table(
                {
                    "source": ["web"],
                    "message_id": ["m0"],
                    "record_id": ["m0"],
                    "customer_id": [customer],
                }
            ),
        )
    folder = Path(lake.table_path("identities"))
    assert len(list(folder.glob("*.parquet"))) == 3
    kept = lake.compact(vacuum=True, retention_hours=1)  # the old files are newer than that
    identities = next(t for t in kept.tables if t.table == "identities")
    assert identities.files_vacuumed == 0 and len(list(folder.glob("*.parquet"))) == 3
    vacuumed = lake.compact(vacuum=True, retention_hours=0)
    identities = next(t for t in vacuumed.tables if t.table == "identities")
    assert identities.files_vacuumed == 2 and identities.rows == 1
    assert [p.name for p in folder.glob("*.parquet")] == [
        Path(lake.table("identities").file_uris()[0]).name
    ]
    assert lake.raw("identities").customer_id.to_pyarrow().to_pylist() == ["cus_3"]
    # tables never written are not created by a vacuum
    assert not Path(lake.table_path("profiles")).exists()
    assert {t.table for t in lake.compact().tables} == {"events", "quarantine"}
    lake.close()
