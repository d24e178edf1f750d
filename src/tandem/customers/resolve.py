"""`resolve`: the whole identity resolution, from stored events to customers and profiles.

Stages: identifiers (extract and normalise) -> matching (Splink, when enabled) -> graph
(shared identifiers, components, limits) -> ids (stable customer ids) -> write (identities,
identity_links, customer_ids: one overwrite commit each, after everything is computed, so a
failure part-way leaves the previous run's tables) -> profiles.

Each run is recorded as a `ResolutionRun` in the metadata store: `running`, then `done` with its
counts, or `failed` with the error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from tandem.customers import identifiers as ids_mod
from tandem.customers import identity
from tandem.db.models.identity import ResolutionRun
from tandem.lake.derived import replace_table, temp_table
from tandem.lake.locks import exclusive

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from tandem.customers.matching import MatchingOptions
    from tandem.lake import Lake
    from tandem.workspace import Workspace

STAGES = ("identifiers", "matching", "graph", "ids", "write", "profiles")
"""The stages in order; `progress(stage, done, total)` is called as each one starts and at
the end with done == total."""

Progress = Callable[[str, int, int], None]


@dataclass
class ResolveResult:
    run: int
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, **self.counts, "seconds": self.seconds}


def resolve(
    workspace: Workspace, *, progress: Progress | None = None, now: datetime | None = None
) -> ResolveResult:
    """Resolve every stored message to a customer and rebuild the profiles (see the module
    docstring). Returns the run's id and counts.

    Holds the lake's lock (tandem.lake.locks) for the whole run: an erasure, a segment
    evaluation or a campaign assignment meanwhile would be undone or would read a mix; one
    started while this runs is refused (409 busy), as is a second resolution."""
    with exclusive(workspace.lake.path, "identity resolution"):
        return _locked_resolve(workspace, progress=progress, now=now)


def _locked_resolve(
    workspace: Workspace, *, progress: Progress | None, now: datetime | None
) -> ResolveResult:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    settings = workspace.settings.identity
    options = settings.matching  # validated when the settings were read or assigned
    with workspace.session() as session:
        record = ResolutionRun(
            started_at=now,
            status="running",
            settings={**settings.model_dump(mode="json"), "matching": options.model_dump()},
        )
        session.add(record)
        session.flush()
        run_id = int(record.id)
    try:
        result = _resolve(workspace, run_id, options, progress or _quiet, now)
    except BaseException as exc:
        with workspace.session() as session:
            failed = session.get(ResolutionRun, run_id)
            if failed is not None:
                failed.status = "failed"
                failed.finished_at = datetime.now(UTC)
                failed.error = (getattr(exc, "message", None) or str(exc) or type(exc).__name__)[
                    :2000
                ]
        raise
    finally:
        _drop_temporaries(workspace)
    with workspace.session() as session:
        done = session.get(ResolutionRun, run_id)
        if done is not None:
            done.status = "done"
            done.finished_at = datetime.now(UTC)
            done.counts = result.to_dict()
    return result


def _quiet(stage: str, done: int, total: int) -> None:
    del stage, done, total


def _resolve(
    workspace: Workspace,
    run_id: int,
    options: MatchingOptions,
    progress: Progress,
    now: datetime,
) -> ResolveResult:
    lake = workspace.lake
    if workspace.settings.engine == "spark":  # the same SQL on Spark (docs/spark.md)
        from tandem.lake.spark import SparkLake, spark_session

        lake = cast("Lake", SparkLake(workspace.lake, spark_session()))
    settings = workspace.settings.identity
    con = lake.con.con
    result = ResolveResult(run=run_id)
    seconds = result.seconds
    total = len(STAGES)

    def stage(name: str) -> float:
        progress(name, STAGES.index(name), total)
        return time.perf_counter()

    started = stage("identifiers")
    extracted = ids_mod.extract(lake, settings)
    seconds["identifiers"] = time.perf_counter() - started

    started = stage("matching")
    edges, match_stats = _match(workspace, lake, options, extracted.messages)
    seconds["matching"] = time.perf_counter() - started

    started = stage("graph")
    graph = identity.build_graph(con, settings, edges)
    seconds["graph"] = time.perf_counter() - started

    started = stage("ids")
    id_stats, customer_ids = identity.assign_ids(lake, now=now, run_id=run_id)
    identities = identity.identities_table(con)
    links = identity.links_table(con)
    seconds["ids"] = time.perf_counter() - started

    started = stage("write")
    replace_table(lake, "identities", identities)
    replace_table(lake, "identity_links", links)
    replace_table(lake, "customer_ids", customer_ids)
    seconds["write"] = time.perf_counter() - started

    started = stage("profiles")
    from tandem.customers.profiles import build_profiles

    # on DuckDB the identifier extraction's temporaries are on this connection: reused
    on_duckdb = workspace.settings.engine == "duckdb"
    profiles = build_profiles(workspace, now=now, run=run_id, extracted=on_duckdb)
    seconds["profiles"] = time.perf_counter() - started
    progress("profiles", total, total)

    result.counts = {
        "records": extracted.records,
        "messages": extracted.messages,
        "identifiers": extracted.identifiers,
        "distinct_identifiers": graph.nodes,
        "invalid_identifiers": sum(extracted.invalid.values()),
        "invalid_by_type": dict(sorted(extracted.invalid.items())),
        "phones_fast_path": extracted.phones_fast_path,
        "phones_parsed": extracted.phones_parsed,
        "customers": graph.clusters,
        "merges_deterministic": graph.deterministic_merges,
        "merges_probabilistic": graph.probabilistic_merges,
        "shared_identifiers": graph.shared,
        "shared_by_type": graph.shared_by_type,
        "not_merging_identifiers": graph.not_merging,
        "limited_identifiers": graph.limited,
        "limit_violations": graph.limit_violations,
        "matches": graph.match_edges,
        "matches_dropped": graph.match_edges_dropped,
        "ids_new": id_stats.new,
        "ids_continued": id_stats.continued,
        "ids_merged": id_stats.merged,
        "ids_retired": id_stats.retired,
        "profiles": profiles.customers,
        "label_rounds": graph.rounds,
        "matching": match_stats,
    }
    for key in seconds:
        seconds[key] = round(seconds[key], 3)
    seconds["total"] = round(sum(seconds.values()), 3)
    return result


def _match(
    workspace: Workspace, lake: Lake, options: MatchingOptions, messages: int
) -> tuple[pa.Table | None, dict[str, Any]]:
    """Probabilistic edges between user ids (None when disabled or nothing to match), computed
    on the resolution's engine: person records and Splink on DuckDB, or both on Spark (Splink's
    Spark back-end) with `engine = "spark"`."""
    if not options.enabled:
        return None, {"enabled": False}
    if messages == 0:
        return None, {"enabled": True, "reason": "no messages"}
    import ibis  # type: ignore[import-untyped]

    from tandem.customers.matching import match_records, person_records

    # each user id's normalised emails and phones, from the resolution's identifiers
    ids_mod.run(
        lake.con.con,
        f"""
        CREATE OR REPLACE TEMP VIEW _tandem_person_ids AS
        SELECT m.user_id AS key, i.id_type, i.id_value
        FROM {ids_mod.IDENTIFIERS} i JOIN {ids_mod.MESSAGES} m USING (mid)
        WHERE m.user_id IS NOT NULL AND i.id_type IN ('email', 'phone')
        """,
    )
    if workspace.settings.engine == "spark":
        # the view is on Spark: an unbound table of that name, compiled into the records' SQL
        person_ids = ibis.table(
            {"key": "string", "id_type": "string", "id_value": "string"},
            name="_tandem_person_ids",
        )
    else:
        person_ids = temp_table(lake, "_tandem_person_ids")
    records = person_records(
        lake.events(), person_ids, default_region=workspace.settings.identity.default_region
    )
    result = match_records(lake.con, records, options)
    return result.edges, {"enabled": True, **_plain(result.stats)}


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    """The matching stats as JSON-able values."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, float):
            out[key] = round(value, 6)
        elif isinstance(value, (int, str, bool)) or value is None:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _plain(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [v if isinstance(v, (int, float, str, bool)) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _drop_temporaries(workspace: Workspace) -> None:
    """Drop the run's temporary tables from this thread's DuckDB connection."""
    if workspace.settings.engine == "spark":
        from tandem.lake.spark import drop_temporaries

        drop_temporaries()
    con = workspace.lake.con.con
    rows = ids_mod.run(
        con,
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = 'temp' "
        "AND regexp_matches(table_name, '^_(tandem|cc|tl|ti)_')",
    )
    for name, kind in rows:
        what = "VIEW" if str(kind).upper() == "VIEW" else "TABLE"
        ids_mod.run(con, f'DROP {what} IF EXISTS "{name}"')
