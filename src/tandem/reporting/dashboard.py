"""What the dashboard and the board report show, gathered from a workspace's domain façades.

Each `*_section(ws)` returns a plain dataclass the templates render. A part of the platform that
is not in this workspace yet (no surveys, no channel data, no campaigns) gives a section with
`available=False` and a note saying what will appear and how to get there: never an error.
The pages and `tandem report` share these functions, so the report shows what the pages show.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tandem.ownership.benchmark import Benchmark
from tandem.ownership.findings import SEVERITY_ORDER, Finding
from tandem.ownership.model import OwnershipModel
from tandem.ownership.service import Matrix
from tandem.reporting import charts

if TYPE_CHECKING:
    from tandem.workspace import Workspace

log = logging.getLogger(__name__)


# -- ownership -------------------------------------------------------------------------------
@dataclass
class OwnershipSection:
    company: str
    model: OwnershipModel
    matrix: Matrix
    findings: list[Finding]
    benchmark: Benchmark
    benchmark_chart: str
    vision_chart: str

    @property
    def counts(self) -> dict[str, int]:
        out = {"high": 0, "medium": 0, "low": 0}
        for finding in self.findings:
            out[finding.severity] += 1
        return out

    @property
    def shared_capabilities(self) -> int:
        """Capabilities two or more functions own (R or A) together."""
        return sum(1 for cap in self.model.capabilities if len(cap.holders("RA")) >= 2)

    @property
    def unowned_capabilities(self) -> list[str]:
        return [cap.name for cap in self.model.capabilities if not cap.holders("RA")]


def ownership_section(ws: Workspace) -> OwnershipSection:
    model = ws.ownership.model()
    benchmark = ws.ownership.benchmark(model)
    company = model.company.name if model.company else ws.settings.name
    findings = sorted(ws.ownership.findings(model), key=lambda f: SEVERITY_ORDER[f.severity])
    return OwnershipSection(
        company=company,
        model=model,
        matrix=ws.ownership.matrix(model),
        findings=findings,
        benchmark=benchmark,
        benchmark_chart=charts.benchmark_chart(benchmark, company),
        vision_chart=charts.vision_chart(benchmark),
    )


def findings_only(ws: Workspace) -> list[Finding]:
    """The ownership findings, most severe first (the matrix page refreshes them after an edit)."""
    return sorted(ws.ownership.findings(), key=lambda f: SEVERITY_ORDER[f.severity])


# -- customers -------------------------------------------------------------------------------
@dataclass
class SourceRow:
    name: str
    kind: str
    owners: list[str]
    events: int | None


@dataclass
class CustomersSection:
    sources: list[SourceRow] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    total_events: int | None = None
    channel_chart: str | None = None
    hidden_sources: int = 0
    """Sources the viewer may not see (their data stays with the owning functions)."""
    lake_note: str | None = None

    @property
    def available(self) -> bool:
        return bool(self.sources)


_EVENT_CACHE: dict[tuple[str, Any], dict[str, int]] = {}
_EVENT_LOCK = threading.Lock()


def _events_version(ws: Workspace) -> int:
    """The version of the events table (its Delta commit number): the volume cache's key."""
    version: int = ws.lake.table("events").version()
    return version


def event_counts_by_source(ws: Workspace) -> dict[str, int] | None:
    """Events per source name from the lake (one Ibis aggregate, cached per Delta version);
    None when the workspace has no events table yet."""
    lake = getattr(ws, "lake", None)
    if lake is None or not hasattr(lake, "events"):
        return None
    version = _events_version(ws)
    if version == 0:  # the empty table as created: nothing was ingested yet
        return None
    key = (str(ws.lake_path), version)
    with _EVENT_LOCK:
        cached = _EVENT_CACHE.get(key)
    if cached is not None:
        return cached
    table = lake.events()
    grouped = table.group_by("source").aggregate(events=table.count())
    # Compiled by Ibis, run on the lake's DuckDB connection straight to Arrow (Ibis 12's own
    # `to_pyarrow` calls a DuckDB method DuckDB 2 deprecates).
    con = lake.con
    sql = con.compile(grouped)
    with lake._con_lock:  # one query at a time on the lake's DuckDB connection
        rows = con.con.sql(sql).to_arrow_table().to_pylist()
    counts = {str(row["source"]): int(row["events"]) for row in rows}
    with _EVENT_LOCK:
        for old in [k for k in _EVENT_CACHE if k[0] == key[0]]:
            del _EVENT_CACHE[old]
        _EVENT_CACHE[key] = counts
    return counts


def customers_section(ws: Workspace, *, visible: Any = None) -> CustomersSection:
    """Sources with owners and event volumes by channel.

    `visible(source_info) -> bool` restricts the section to the sources a user may see (the
    access policy); None shows all (the board report, run by someone with the workspace).
    """
    facade = getattr(ws, "sources", None)
    if facade is None:
        return CustomersSection(lake_note="channel sources arrive with the ingest issue")
    infos = list(facade.list())
    allowed = [s for s in infos if visible is None or visible(s)]
    section = CustomersSection(hidden_sources=len(infos) - len(allowed))
    counts = event_counts_by_source(ws)
    if counts is None:
        section.lake_note = (
            "no events stored yet: send them to /v1/track or load a file with `tandem ingest`"
        )
    by_kind: dict[str, int] = {}
    for info in allowed:
        events = counts.get(info.name, 0) if counts is not None else None
        section.sources.append(SourceRow(info.name, info.kind, list(info.owners), events))
        if events:
            by_kind[info.kind] = by_kind.get(info.kind, 0) + events
    if counts is not None:
        section.by_channel = sorted(by_kind.items(), key=lambda kv: -kv[1])
        section.total_events = sum(by_kind.values())
        if section.by_channel:
            section.channel_chart = charts.channel_chart(section.by_channel)
    return section


# -- segments --------------------------------------------------------------------------------
@dataclass
class SegmentRow:
    """One segment as the customers page shows it: sizes only, no member."""

    name: str
    description: str
    owners: list[str]
    size: int | None
    """The size at the latest evaluation; None when never evaluated."""
    as_of: datetime | None
    """The latest evaluation's reference time (the date the size describes)."""
    evaluated_at: datetime | None
    evaluations: int
    chart: str | None
    """The size at each evaluation's reference time (plotly figure JSON); None when never
    evaluated."""
    sizes_hidden: str | None = None
    """Why the viewer is not shown the sizes (a segment over personal traits)."""


@dataclass
class SegmentsSection:
    segments: list[SegmentRow] = field(default_factory=list)
    hidden: int = 0
    """Segments the viewer may not read."""

    @property
    def available(self) -> bool:
        return bool(self.segments)

    @property
    def charts(self) -> bool:
        return any(s.chart for s in self.segments)


def segments_section(ws: Workspace, *, user: Any = None) -> SegmentsSection:
    """Every segment with its owners, latest size and reference date and its size over time,
    from the metadata alone (the sizes each evaluation recorded: no lake read). The segments
    are loaded with their owners and evaluations at once (the segments module's own query, as
    `tandem segment list` uses: a fixed number of SELECTs, never one per segment).

    With `user`, the segments as they may see them (tandem.customers.segments.for_reader: the
    ones they may not read are counted in `hidden`); None shows all."""
    from tandem.customers.segments import for_reader

    if getattr(ws, "segments", None) is None:
        return SegmentsSection()
    infos = ws.segments.list(history=True)
    shown = [s for s in (for_reader(i, user) for i in infos) if s is not None]
    section = SegmentsSection(hidden=len(infos) - len(shown))
    for info in shown:
        latest = info.latest
        section.segments.append(
            SegmentRow(
                name=info.name,
                description=info.description,
                owners=list(info.owners),
                size=latest.size if latest else None,
                as_of=latest.as_of if latest else None,
                evaluated_at=latest.evaluated_at if latest else None,
                evaluations=len(info.history),
                chart=charts.segment_size_chart(info.name, info.history) if info.history else None,
                sizes_hidden=info.sizes_hidden,
            )
        )
    return section


# -- collaboration ---------------------------------------------------------------------------
@dataclass
class CollaborationSection:
    surveys: list[dict[str, Any]] = field(default_factory=list)
    """Per survey: name, respondents, rows (label, share, low, high, benchmark, suppressed)."""
    survey_charts: dict[str, str] = field(default_factory=dict)
    network_findings: list[dict[str, Any]] = field(default_factory=list)
    network_chart: str | None = None
    network_measures: dict[str, Any] = field(default_factory=dict)
    initiatives: list[dict[str, Any]] = field(default_factory=list)
    initiative_findings: list[dict[str, Any]] = field(default_factory=list)
    kpi_chart: str | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def has_surveys(self) -> bool:
        return bool(self.surveys)

    @property
    def has_network(self) -> bool:
        return self.network_chart is not None

    @property
    def has_initiatives(self) -> bool:
        return bool(self.initiatives)


COLLABORATION_TTL = 30.0
"""Seconds a computed collaboration section is reused while the metadata looks unchanged (a
change made in place, such as closing a survey, shows after at most this long)."""
_COLLABORATION_CACHE: dict[str, tuple[tuple[Any, ...], float, CollaborationSection]] = {}
_COLLABORATION_LOCK = threading.Lock()


def metadata_fingerprint(ws: Workspace) -> tuple[Any, ...]:
    """Row count and highest id of every metadata table, in one query: it changes whenever a
    row is added or removed (a RACI edit, a survey answer, a KPI value, a new initiative)."""
    from sqlalchemy import Integer, func, literal, select, union_all

    from tandem.db.models import Base

    parts = []
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        top = (
            func.max(keys[0])
            if len(keys) == 1 and isinstance(keys[0].type, Integer)
            else literal(None)
        )
        parts.append(
            select(
                literal(table.name).label("t"), func.count().label("n"), top.label("top")
            ).select_from(table)
        )
    with ws.session() as s:
        rows = s.execute(union_all(*parts)).all()
    return tuple(sorted((str(t), int(n), top) for t, n, top in rows))


def collaboration_section(ws: Workspace) -> CollaborationSection:
    """Surveys, the couples network and initiatives (computing them takes a second on the demo
    company: results, intervals and network measures), reused while the metadata is unchanged
    and for at most COLLABORATION_TTL seconds."""
    key = str(ws.root)
    fingerprint = metadata_fingerprint(ws)
    now = time.monotonic()
    with _COLLABORATION_LOCK:
        cached = _COLLABORATION_CACHE.get(key)
    if cached is not None and cached[0] == fingerprint and now - cached[1] < COLLABORATION_TTL:
        return cached[2]
    section = compute_collaboration_section(ws)
    with _COLLABORATION_LOCK:
        _COLLABORATION_CACHE[key] = (fingerprint, now, section)
    return section


def forget(ws: Workspace) -> None:
    """Drop the cached collaboration section of `ws` (after an edit made through the pages; a
    row replaced in place can keep the fingerprint, e.g. on SQLite, which reuses a freed id)."""
    with _COLLABORATION_LOCK:
        _COLLABORATION_CACHE.pop(str(ws.root), None)


def compute_collaboration_section(ws: Workspace) -> CollaborationSection:
    """Surveys, the couples network and initiatives, each shown when its module is there."""
    section = CollaborationSection()
    for part, loader in (
        ("surveys", _load_surveys),
        ("network", _load_network),
        ("initiatives", _load_initiatives),
    ):
        try:
            loader(ws, section)
        except Exception as exc:  # a part still being built must not break the page
            log.warning("collaboration %s could not be shown: %s", part, exc)
            section.notes[part] = f"could not be read: {exc}"
    return section


def _load_surveys(ws: Workspace, section: CollaborationSection) -> None:
    facade = getattr(ws, "surveys", None)
    if facade is None:
        return
    names = {f.key: f.name for f in ws.ownership.model().functions}
    for survey in facade.all():
        results = facade.results(survey.name, by="function")
        entry = survey_entry(results, names)
        section.surveys.append(entry)
        if entry["rows"]:
            section.survey_charts[survey.name] = charts.survey_chart(
                entry["rows"], f"{results.title}: share agreeing"
            )


def survey_entry(results: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A survey's results as the pages show them: one row per agreement question (company-wide
    share with its Wilson interval, the Forrester figure) and the same per function, with the
    cells hidden for anonymity marked as such."""
    rows: list[dict[str, Any]] = []
    groups: list[str] = []
    by_group: dict[str, list[dict[str, Any]]] = {}
    for question in results.questions:
        if question.kind != "agreement":
            continue
        overall = question.overall
        agree = overall.agree
        bench = (question.benchmark or {}).get("percent")
        rows.append(
            {
                "label": question.text,
                "key": question.key,
                "n": overall.n,
                "share": agree.share if agree is not None and not overall.suppressed else None,
                "low": agree.low if agree is not None and not overall.suppressed else None,
                "high": agree.high if agree is not None and not overall.suppressed else None,
                "benchmark": bench / 100 if isinstance(bench, int | float) else None,
                "suppressed": bool(overall.suppressed) or agree is None,
                "reason": overall.suppressed,
            }
        )
        for cell in question.groups:
            group = str(cell.group)
            if group not in by_group:
                groups.append(group)
                by_group[group] = []
            by_group[group].append(
                {
                    "share": cell.agree.share if cell.agree and not cell.suppressed else None,
                    "n": cell.n,
                    "suppressed": cell.suppressed,
                }
            )
    return {
        "name": results.survey,
        "title": results.title,
        "respondents": results.respondents,
        "min_group": results.min_group,
        "rows": rows,
        "groups": [{"name": (names or {}).get(g, g), "cells": by_group[g]} for g in groups],
    }


def _load_network(ws: Workspace, section: CollaborationSection) -> None:
    facade = getattr(ws, "network", None)
    if facade is None:
        return
    report = facade.show()
    hubs = set(report.hubs)
    nodes = [{"key": f.key, "name": f.name, "hub": f.key in hubs} for f in report.functions]
    edges = [
        {"source": a, "target": b, "weight": float(w)}
        for (a, b), w in sorted(report.combined.items())
        if w > 0
    ]
    section.network_findings = [f.to_dict() for f in report.findings]
    section.network_measures = {
        "components": len(report.components),
        "evidence": list(report.evidence),
        "functions": [f.to_dict() for f in report.functions],
    }
    section.network_chart = charts.network_chart(
        nodes, edges, "The couples network (line width: evidence of working together)"
    )


def _load_initiatives(ws: Workspace, section: CollaborationSection) -> None:
    facade = getattr(ws, "initiatives", None)
    if facade is None:
        return
    items = facade.list()
    kpis = []
    for item in items:
        data = item.to_dict()
        section.initiatives.append(data)
        for kpi in data["kpis"]:
            share = kpi["progress"].get("share")
            if share is not None:
                kpis.append({"label": f"{data['title']}: {kpi['name']}", "progress": share})
    section.initiative_findings = [f.to_dict() for f in facade.findings(items)]
    if kpis:
        section.kpi_chart = charts.kpi_chart(kpis, "Initiatives: share of the way to each target")


# -- campaigns -------------------------------------------------------------------------------
@dataclass
class CampaignsSection:
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    """Per campaign: name, description, channel, owners, target, arms, start, end, status,
    assigned (per arm), exposures, verdict, results (one row per metric and treatment arm:
    means, absolute and relative lift with their intervals, p-value, CUPED lift, chance to
    beat control, significant) and chart (relative lift with its interval per metric)."""

    @property
    def available(self) -> bool:
        return bool(self.campaigns)

    @property
    def charts(self) -> bool:
        """Whether any campaign has a chart (the page then loads plotly.js)."""
        return any(c.get("chart") for c in self.campaigns)


def _campaign_status(d: Any, assigned: int, now: datetime) -> str:
    if assigned == 0:
        return "not assigned yet"
    if now < d.start:
        return "scheduled"
    return "running" if now < d.end else "ended"


def confidence_label(alpha: float) -> str:
    """The confidence level of intervals computed at `alpha`, as a percentage ("95%")."""
    return f"{round((1 - alpha) * 100, 6):g}%"


def _comparison_row(metric: Any, arm: str, c: Any) -> dict[str, Any]:
    """One metric and treatment arm. The verdict (`significant`, `direction`) rests on the CUPED
    estimate when CUPED applies (a covariate with a defined adjusted lift), else on the plain
    one; `chart_*` is the relative lift and interval of that same estimate, so the chart shows
    what the verdict is based on."""
    a, r = c.absolute, c.relative
    cuped = c.cuped_absolute if c.cuped_absolute is not None and c.cuped_absolute.defined else None
    best = cuped or a
    significant = bool(best.defined and best.p_value is not None and best.p_value < c.alpha)
    basis = c.cuped_relative if cuped is not None else r
    charted = basis is not None and basis.defined
    return {
        "metric": metric.metric,
        "kind": metric.kind,
        "arm": arm,
        "control_n": c.control_n,
        "treatment_n": c.treatment_n,
        "control_mean": c.control_mean,
        "treatment_mean": c.treatment_mean,
        "absolute": a.estimate,
        "absolute_low": a.ci_low,
        "absolute_high": a.ci_high,
        "relative": r.estimate if r.defined else None,
        "relative_low": r.ci_low if r.defined else None,
        "relative_high": r.ci_high if r.defined else None,
        "p_value": a.p_value,
        "cuped": None
        if cuped is None
        else {
            "estimate": cuped.estimate,
            "low": cuped.ci_low,
            "high": cuped.ci_high,
            "p_value": cuped.p_value,
        },
        "chance_to_beat_control": c.chance_to_beat_control,
        "significant": significant,
        "direction": (1 if best.estimate > 0 else -1) if significant else 0,
        "reason": a.reason,
        "cuped_used": cuped is not None,
        "chart_relative": basis.estimate if charted else None,
        "chart_low": basis.ci_low if charted else None,
        "chart_high": basis.ci_high if charted else None,
    }


def _verdict(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no results yet"
    up = sorted({r["metric"] for r in rows if r["direction"] > 0})
    down = sorted({r["metric"] for r in rows if r["direction"] < 0})
    if not up and not down:
        return "no significant effect"
    parts = []
    if up:
        parts.append(f"raised {', '.join(up)}")
    if down:
        parts.append(f"lowered {', '.join(down)}")
    return "worked: " + "; ".join(parts) if up and not down else "; ".join(parts)


def campaign_entry(
    ws: Workspace,
    info: Any,
    *,
    results: bool = True,
    now: datetime | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """One campaign for the campaigns page: its definition, status and (with `results`) its
    results at significance level `alpha` (`confidence`: the intervals' level, "95%"), computed
    by the engine (about a third of a second per campaign). The chart draws, per metric and
    arm, the relative lift the verdict rests on (CUPED-adjusted when CUPED applies, marked so)
    and its title names the level and the estimate."""
    d = info.definition
    counts = ws.campaigns.assignment_counts(d)
    assigned = sum(counts.values())
    total_share = sum(a.share for a in d.arms) or 1.0
    entry: dict[str, Any] = {
        "name": d.name,
        "description": d.description,
        "channel": d.channel,
        "owners": list(d.owners),
        "target": f"segment {d.segment}"
        if d.segment is not None
        else f"{len(d.customers or []):,} listed customers",
        "arms": [
            {
                "name": a.name,
                "share": a.share / total_share,
                "control": a.control,
                "assigned": counts.get(a.name, 0),
            }
            for a in d.arms
        ],
        "start": d.start.isoformat(),
        "end": d.end.isoformat(),
        "status": _campaign_status(d, assigned, now or datetime.now(UTC)),
        "assigned": assigned,
        "results": [],
        "srm": None,
        "exposures": {},
        "chart": None,
        "confidence": confidence_label(alpha),
    }
    if assigned == 0 or not results:
        entry["verdict"] = "no results yet" if assigned == 0 else ""
        return entry
    from tandem.errors import TandemError

    try:
        found = ws.campaigns.results(d.name, alpha=alpha)
    except TandemError as exc:  # e.g. a metric's data the statistics cannot use
        entry["verdict"] = f"no results: {exc.message}"
        return entry
    rows = [_comparison_row(m, arm, c) for m in found.metrics for arm, c in m.comparisons.items()]
    entry["results"] = rows
    entry["srm"] = found.srm.to_dict()
    entry["exposures"] = found.exposures
    entry["verdict"] = _verdict(rows)
    entry["confidence"] = confidence_label(found.alpha)
    charted = [r for r in rows if r["chart_relative"] is not None]
    if charted:
        adjusted = {r["cuped_used"] for r in charted}
        mixed = len(adjusted) == 2
        estimate = (
            "CUPED-adjusted where marked"
            if mixed
            else "CUPED-adjusted"
            if adjusted == {True}
            else "unadjusted"
        )

        def label(r: dict[str, Any]) -> str:
            text = r["metric"] if len(found.treatments) == 1 else f"{r['metric']} ({r['arm']})"
            return text + (" (CUPED)" if mixed and r["cuped_used"] else "")

        entry["chart"] = charts.lift_chart(
            [
                {
                    "label": label(r),
                    "lift": r["chart_relative"],
                    "low": r["chart_low"],
                    "high": r["chart_high"],
                    "significant": r["significant"],
                }
                for r in charted
            ],
            f"{d.name}: relative lift against {found.control} "
            f"({entry['confidence']} interval, {estimate})",
        )
    return entry


def campaigns_section(ws: Workspace, *, results: bool = True) -> CampaignsSection:
    """Every campaign with its owners, target, arms, status and (with `results`) results: lift
    per metric with its interval, and a chart."""
    facade = getattr(ws, "campaigns", None)
    if facade is None:
        return CampaignsSection()
    return CampaignsSection(
        campaigns=[campaign_entry(ws, info, results=results) for info in facade.list()]
    )


# -- the whole overview ----------------------------------------------------------------------
@dataclass
class Overview:
    ownership: OwnershipSection
    collaboration: CollaborationSection
    customers: CustomersSection
    campaigns: CampaignsSection


def overview(ws: Workspace, *, visible_source: Any = None) -> Overview:
    return Overview(
        ownership=ownership_section(ws),
        collaboration=collaboration_section(ws),
        customers=customers_section(ws, visible=visible_source),
        campaigns=campaigns_section(ws, results=False),
    )
