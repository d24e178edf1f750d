"""Charts as plotly figure JSON: Python builds the figure, the vendored plotly.js draws it.

Every function takes plain data (the domain's dicts and dataclasses) and returns the figure as a
JSON string (`{"data": [...], "layout": {...}}`), ready for a `data-figure` attribute or the
standalone report. Building a validated plotly figure costs milliseconds, so figures are cached
on their input (the same input always gives the same JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped,unused-ignore]

from tandem.ownership.benchmark import KIND_LABEL, Benchmark

COLOURS = {
    "survey": "#98a2b3",
    "marketing": "#1f6f8b",
    "it": "#6941c6",
    "executive": "#b54708",
    "company": "#067647",
    "missing": "#b42318",
}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 50, "r": 20, "t": 50, "b": 60},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.25},
        **extra,
    }


def _wrap(label: str, width: int = 24) -> str:
    """A long axis label broken over lines (plotly breaks lines at <br>)."""
    import textwrap

    return "<br>".join(textwrap.wrap(label, width)) or label


def _to_json(fig: go.Figure) -> str:
    text: str = fig.to_json(pretty=False, engine="json")
    # Drop the default template (tens of kilobytes per chart): our layout styles the chart.
    data = json.loads(text)
    data["layout"].pop("template", None)
    return json.dumps(data, separators=(",", ":"))


def warm_up() -> None:
    """Build one throw-away figure of each kind used, so plotly's lazily loaded validators are
    ready before the first page asks for a chart (it takes a second or more on a slow machine)."""
    fig = go.Figure([go.Bar(x=["a"], y=[1], error_y={"array": [0.1]}), go.Scatter(x=[1], y=[1])])
    fig.update_layout(_layout("warm-up", barmode="group"))
    _to_json(fig)


# -- ownership benchmark -------------------------------------------------------------------
def benchmark_chart(benchmark: Benchmark, company: str = "This company") -> str:
    """Per capability: share of surveyed firms where marketing / IT is responsible, with the
    company's own marketing / IT responsibility marked beside it."""
    rows = []
    for cap in benchmark.capabilities:
        for kind in ("marketing", "it"):
            side = cap.sides.get(kind)
            if side is None or side.survey_percent is None:
                continue
            rows.append((cap.name, kind, side.survey_percent, side.responsible, cap.in_catalogue))
    return _benchmark_chart(tuple(rows), company)


@lru_cache(maxsize=64)
def _benchmark_chart(rows: tuple[tuple[str, str, int, bool, bool], ...], company: str) -> str:
    fig = go.Figure()
    for kind in ("marketing", "it"):
        mine = [r for r in rows if r[1] == kind]
        if not mine:
            continue
        label = KIND_LABEL[kind]
        fig.add_trace(
            go.Bar(
                name=f"Survey: {label} responsible (% of firms)",
                x=[r[0] for r in mine],
                y=[r[2] for r in mine],
                offsetgroup=kind,
                marker={"color": COLOURS[kind], "opacity": 0.45},
                hovertemplate="%{x}<br>%{y}% of firms<extra>" + label + "</extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                name=f"{company}: {label} responsible",
                x=[r[0] for r in mine],
                y=[r[2] for r in mine],
                mode="markers",
                marker={
                    "symbol": ["circle" if r[3] else "x-thin-open" for r in mine],
                    "size": 13,
                    "color": COLOURS[kind],
                    "line": {"width": 2, "color": COLOURS[kind]},
                },
                text=[
                    ("responsible here" if r[3] else "not responsible here")
                    if r[4]
                    else "not in the catalogue"
                    for r in mine
                ],
                hovertemplate="%{x}<br>" + label + ": %{text}<extra></extra>",
                offsetgroup=kind,
            )
        )
    fig.update_layout(
        _layout(
            "Who is responsible: the survey (bars) and this company (dot: yes, cross: no)",
            barmode="group",
            scattermode="group",
            yaxis={"title": {"text": "% of firms surveyed"}, "range": [0, 100]},
            xaxis={"tickangle": -30, "automargin": True},
            legend={"orientation": "h", "y": -0.55},
            margin={"l": 50, "r": 20, "t": 50, "b": 150},
            height=460,
        )
    )
    return _to_json(fig)


def vision_chart(benchmark: Benchmark) -> str:
    """Who sets the digital vision: the survey's shares, the company's setter highlighted."""
    setters = tuple(sorted({s["kind"] for s in benchmark.vision.setters}))
    survey = tuple(sorted(benchmark.vision.survey.items()))
    return _vision_chart(survey, setters)


@lru_cache(maxsize=64)
def _vision_chart(survey: tuple[tuple[str, int], ...], setters: tuple[str, ...]) -> str:
    kinds = [k for k in ("executive", "marketing", "it") if k in dict(survey)]
    values = dict(survey)
    fig = go.Figure(
        go.Bar(
            x=[KIND_LABEL[k] for k in kinds],
            y=[values[k] for k in kinds],
            marker={
                "color": [COLOURS["company"] if k in setters else COLOURS["survey"] for k in kinds]
            },
            text=[f"{values[k]}%" + (" · sets it here" if k in setters else "") for k in kinds],
            textposition="outside",
            hovertemplate="%{x}: %{y}% of firms<extra></extra>",
            name="Survey",
        )
    )
    fig.update_layout(
        _layout(
            "Who sets the digital vision (% of firms; green: this company)",
            yaxis={"title": {"text": "% of firms"}, "range": [0, 100]},
            showlegend=False,
        )
    )
    return _to_json(fig)


# -- collaboration ---------------------------------------------------------------------------
def survey_chart(rows: Sequence[dict[str, Any]], title: str = "Share agreeing") -> str:
    """Agreement per question with its Wilson 95% interval and the benchmark figure.

    Each row: `label`, `share` (0-1 or None when suppressed), `low`, `high`, `benchmark`
    (0-1 or None), `suppressed` (bool).
    """
    key = json.dumps(list(rows), sort_keys=True, default=str)
    return _survey_chart(key, title)


@lru_cache(maxsize=64)
def _survey_chart(key: str, title: str) -> str:
    rows: list[dict[str, Any]] = json.loads(key)
    shown = [r for r in rows if not r.get("suppressed") and r.get("share") is not None]
    hidden = [r for r in rows if r.get("suppressed") or r.get("share") is None]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name="Share agreeing (95% Wilson interval)",
            x=[_wrap(r["label"]) for r in shown],
            y=[100 * r["share"] for r in shown],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [100 * (r["high"] - r["share"]) for r in shown],
                "arrayminus": [100 * (r["share"] - r["low"]) for r in shown],
                "color": "#344054",
            },
            marker={"color": COLOURS["marketing"]},
            hovertemplate="%{x}<br>%{y:.0f}% agree<extra></extra>",
        )
    )
    bench = [r for r in rows if r.get("benchmark") is not None]
    if bench:
        fig.add_trace(
            go.Scatter(
                name="Forrester 2014",
                x=[_wrap(r["label"]) for r in bench],
                y=[100 * r["benchmark"] for r in bench],
                mode="markers",
                marker={"symbol": "diamond", "size": 12, "color": COLOURS["executive"]},
                hovertemplate="%{x}<br>survey: %{y:.0f}%<extra></extra>",
            )
        )
    if hidden:
        fig.add_trace(
            go.Scatter(
                name="Suppressed (too few respondents)",
                x=[_wrap(r["label"]) for r in hidden],
                y=[2 for _ in hidden],
                mode="markers+text",
                text=["suppressed" for _ in hidden],
                textposition="top center",
                marker={"symbol": "square-open", "size": 10, "color": COLOURS["survey"]},
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        _layout(
            title,
            yaxis={"title": {"text": "% agreeing"}, "range": [0, 100]},
            xaxis={"tickangle": 0, "automargin": True},
            legend={"orientation": "h", "y": -0.45},
            height=440,
        )
    )
    return _to_json(fig)


def network_chart(
    nodes: Sequence[dict[str, Any]], edges: Sequence[dict[str, Any]], title: str
) -> str:
    """The couples network: functions as nodes, evidence of working together as edges.

    Nodes: `key`, `name`, optional `hub` (bool). Edges: `source`, `target`, `weight`.
    The layout is networkx's spring layout with a fixed seed, so the same network is always
    drawn the same way.
    """
    key = json.dumps([list(nodes), list(edges)], sort_keys=True, default=str)
    return _network_chart(key, title)


@lru_cache(maxsize=32)
def _network_chart(key: str, title: str) -> str:
    import networkx as nx  # type: ignore[import-untyped,unused-ignore]

    nodes, edges = json.loads(key)
    graph: Any = nx.Graph()
    for node in nodes:
        graph.add_node(node["key"])
    for edge in edges:
        if edge["source"] in graph and edge["target"] in graph:
            graph.add_edge(edge["source"], edge["target"], weight=float(edge.get("weight", 1)))
    pos = nx.spring_layout(graph, seed=7, weight="weight") if len(graph) else {}
    fig = go.Figure()
    top = max((float(e.get("weight", 1)) for e in edges), default=1.0) or 1.0
    for edge in edges:
        a, b = edge["source"], edge["target"]
        if a not in pos or b not in pos:
            continue
        weight = float(edge.get("weight", 1))
        fig.add_trace(
            go.Scatter(
                x=[pos[a][0], pos[b][0]],
                y=[pos[a][1], pos[b][1]],
                mode="lines",
                line={"width": 1 + 5 * weight / top, "color": "#98a2b3"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    names = {n["key"]: n.get("name", n["key"]) for n in nodes}
    degree = dict(graph.degree())
    fig.add_trace(
        go.Scatter(
            x=[pos[n["key"]][0] for n in nodes],
            y=[pos[n["key"]][1] for n in nodes],
            mode="markers+text",
            text=[names[n["key"]] for n in nodes],
            textposition="top center",
            marker={
                "size": [14 + 3 * degree.get(n["key"], 0) for n in nodes],
                "color": [
                    COLOURS["company"]
                    if n.get("hub")
                    else (COLOURS["missing"] if degree.get(n["key"], 0) == 0 else COLOURS["it"])
                    for n in nodes
                ],
            },
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )
    hidden_axis = {"visible": False, "showgrid": False, "zeroline": False}
    fig.update_layout(_layout(title, xaxis=hidden_axis, yaxis=hidden_axis, height=420))
    return _to_json(fig)


# -- customers -------------------------------------------------------------------------------
def channel_chart(counts: Sequence[tuple[str, int]], title: str = "Events by channel") -> str:
    """Event volumes per channel (source kind)."""
    return _channel_chart(tuple((str(k), int(v)) for k, v in counts), title)


@lru_cache(maxsize=64)
def _channel_chart(counts: tuple[tuple[str, int], ...], title: str) -> str:
    fig = go.Figure(
        go.Bar(
            x=[c for c, _ in counts],
            y=[n for _, n in counts],
            marker={"color": COLOURS["marketing"]},
            hovertemplate="%{x}: %{y:,} events<extra></extra>",
        )
    )
    fig.update_layout(_layout(title, yaxis={"title": {"text": "events"}}, showlegend=False))
    return _to_json(fig)


def kpi_chart(rows: Sequence[dict[str, Any]], title: str = "Initiatives: KPI progress") -> str:
    """Progress of each KPI from its baseline to its target; rows: `label`, `progress` (0-1)."""
    key = json.dumps(list(rows), sort_keys=True, default=str)
    return _kpi_chart(key, title)


@lru_cache(maxsize=32)
def _kpi_chart(key: str, title: str) -> str:
    rows: list[dict[str, Any]] = json.loads(key)
    fig = go.Figure(
        go.Bar(
            y=[_wrap(r["label"], 40) for r in rows],
            x=[100 * float(r["progress"]) for r in rows],
            orientation="h",
            marker={
                "color": [
                    COLOURS["company"] if float(r["progress"]) >= 1 else COLOURS["marketing"]
                    for r in rows
                ]
            },
            hovertemplate="%{y}: %{x:.0f}% of the way<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(
            title,
            xaxis={"title": {"text": "% of the way from baseline to target"}, "range": [0, 100]},
            yaxis={"automargin": True},
            margin={"l": 20, "r": 20, "t": 50, "b": 50},
            showlegend=False,
        )
    )
    return _to_json(fig)


def lift_chart(rows: Sequence[dict[str, Any]], title: str = "Lift against control") -> str:
    """Lifts with their intervals; rows: `label`, `lift`, `low`, `high` (fractions: 0.1 is
    +10%), `significant`. A bar per row with its interval as an error bar, around 0."""
    key = json.dumps(list(rows), sort_keys=True, default=str)
    return _lift_chart(key, title)


@lru_cache(maxsize=64)
def _lift_chart(key: str, title: str) -> str:
    rows: list[dict[str, Any]] = json.loads(key)
    lift = [100 * float(r["lift"]) for r in rows]
    fig = go.Figure(
        go.Bar(
            x=[_wrap(str(r["label"]), 20) for r in rows],
            y=lift,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [100 * float(r["high"]) - v for r, v in zip(rows, lift, strict=True)],
                "arrayminus": [v - 100 * float(r["low"]) for r, v in zip(rows, lift, strict=True)],
            },
            marker={
                "color": [
                    COLOURS["company"] if r["significant"] else COLOURS["survey"] for r in rows
                ]
            },
            hovertemplate="%{x}: %{y:+.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(
            title,
            yaxis={"title": {"text": "% lift against control"}, "zeroline": True},
            showlegend=False,
        )
    )
    return _to_json(fig)


def segment_size_chart(name: str, history: Any) -> str:
    """A segment's size over time: one point per evaluation at its reference time (`as_of`,
    else when it ran), in time order, joined by a line; `history`: SegmentEvaluation-like items
    (`evaluation`, `evaluated_at`, `as_of`, `size`)."""
    points = tuple(
        sorted(
            (
                e.as_of.isoformat(),
                int(e.size),
                int(e.evaluation),
                e.evaluated_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
            for e in history
        )
    )
    return _segment_size_chart(name, points)


@lru_cache(maxsize=128)
def _segment_size_chart(name: str, points: tuple[tuple[str, int, int, str], ...]) -> str:
    fig = go.Figure(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            customdata=[[p[2], p[3]] for p in points],
            mode="lines+markers",
            line={"color": COLOURS["marketing"]},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} customers"
            "<br>evaluation %{customdata[0]}, run %{customdata[1]}<extra></extra>",
            name=name,
        )
    )
    layout = _layout(  # the dashboard's chart style, compact
        "",
        height=150,
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        showlegend=False,
        xaxis={"type": "date", "tickformat": "%Y-%m-%d", "nticks": 4},
        yaxis={"rangemode": "tozero", "tickformat": ",d", "nticks": 4},
    )
    layout.pop("title")
    fig.update_layout(layout)
    return _to_json(fig)
