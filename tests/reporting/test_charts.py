from __future__ import annotations

import json

import pytest

from tandem.ownership.benchmark import compare
from tandem.reporting import charts
from tests.conftest import model_from_yaml

MODEL = """
version: 1
company: {name: Test Retail}
functions:
  - {key: executive, name: CEO office, kind: executive}
  - {key: marketing, name: Marketing, kind: marketing}
  - {key: it, name: IT, kind: it}
capabilities:
  - key: digital-vision-strategy
    name: Digital vision and strategy
    owners: {executive: A, marketing: C}
  - key: web-design
    name: Website design
    owners: {marketing: RA, it: C}
  - key: ecommerce-platform
    name: E-commerce platform
    owners: {it: RA}
"""


def test_the_benchmark_chart_sets_survey_shares_beside_the_company() -> None:
    benchmark = compare(model_from_yaml(MODEL))
    figure = json.loads(charts.benchmark_chart(benchmark, "Test Retail"))
    traces = {t["name"]: t for t in figure["data"]}
    survey = traces["Survey: marketing (CMO) responsible (% of firms)"]
    company = traces["Test Retail: marketing (CMO) responsible"]
    for cap in benchmark.capabilities:
        side = cap.sides["marketing"]
        if side.survey_percent is None:
            continue
        i = survey["x"].index(cap.name)
        assert survey["y"][i] == side.survey_percent
        assert company["marker"]["symbol"][i] == ("circle" if side.responsible else "x-thin-open")
    assert "template" not in figure["layout"]


def test_the_vision_chart_highlights_who_sets_it_here() -> None:
    benchmark = compare(model_from_yaml(MODEL))
    figure = json.loads(charts.vision_chart(benchmark))
    bars = figure["data"][0]
    ceo = bars["x"].index("CEO / executive")
    assert bars["y"][ceo] == benchmark.vision.survey["executive"]
    assert bars["marker"]["color"][ceo] == charts.COLOURS["company"]
    assert bars["marker"]["color"][bars["x"].index("IT (CIO)")] == charts.COLOURS["survey"]


def test_the_survey_chart_draws_wilson_intervals_and_marks_suppressed_questions() -> None:
    rows = [
        {"label": "Q1", "share": 0.5, "low": 0.3, "high": 0.7, "benchmark": 0.21},
        {"label": "Q2", "share": None, "low": None, "high": None, "suppressed": True},
    ]
    figure = json.loads(charts.survey_chart(rows))
    bars, bench, hidden = figure["data"]
    assert bars["x"] == ["Q1"] and bars["y"] == [50.0]
    assert bars["error_y"]["array"] == pytest.approx([20.0])
    assert bars["error_y"]["arrayminus"] == pytest.approx([20.0])
    assert bench["y"] == [21.0]
    assert hidden["x"] == ["Q2"] and hidden["text"] == ["suppressed"]


def test_the_network_is_drawn_the_same_way_every_time() -> None:
    nodes = [{"key": k, "name": k.upper(), "hub": k == "digital"} for k in ("a", "b", "digital")]
    nodes.append({"key": "hr", "name": "HR"})
    edges = [
        {"source": "a", "target": "digital", "weight": 2},
        {"source": "b", "target": "digital", "weight": 1},
    ]
    first = charts.network_chart(nodes, edges, "net")
    charts._network_chart.cache_clear()
    assert charts.network_chart(nodes, edges, "net") == first
    figure = json.loads(first)
    lines = [t for t in figure["data"] if t["mode"] == "lines"]
    assert len(lines) == 2
    assert lines[0]["line"]["width"] > lines[1]["line"]["width"]  # more evidence, wider
    points = figure["data"][-1]
    colours = dict(zip(points["text"], points["marker"]["color"], strict=True))
    assert colours["DIGITAL"] == charts.COLOURS["company"]  # the hub
    assert colours["HR"] == charts.COLOURS["missing"]  # isolated


def test_channel_and_kpi_charts_carry_their_numbers() -> None:
    channels = json.loads(charts.channel_chart([("web", 1200), ("app", 300)]))
    assert channels["data"][0]["x"] == ["web", "app"] and channels["data"][0]["y"] == [1200, 300]
    kpis = json.loads(charts.kpi_chart([{"label": "orders", "progress": 0.5}]))
    assert kpis["data"][0]["x"] == [50.0]
