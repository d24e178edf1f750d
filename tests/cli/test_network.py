"""`tandem network show` end to end: matrices, measures, findings, JSON and errors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Tandem


def test_network_show_on_the_default_catalogue(tandem: Tandem, ws_path: Path) -> None:
    w = ("-w", ws_path)
    tandem("ownership", "assign", "crm", "marketing", "A", *w)
    tandem("ownership", "assign", "crm", "it", "R", *w)
    tandem("ownership", "assign", "crm", "digital", "C", *w)
    tandem("initiative", "add", "hr-app", "-o", "hr", "-o", "digital", *w)
    run = tandem("network", "show", "--json", *w)
    assert run.exit_code == 0, run.stderr
    data = run.json()
    assert data["evidence"] == ["survey", "responsibilities", "sources", "initiatives"]
    assert data["role_weights"] == {"R": 1.0, "A": 1.0, "C": 0.5, "I": 0.0}
    assert data["matrices"]["responsibilities"]["marketing"]["it"] == 1.0
    assert data["matrices"]["responsibilities"]["it"]["digital"] == 0.5
    assert data["matrices"]["initiatives"]["hr"]["digital"] == 1.0
    assert data["combined"]["digital"]["hr"] == 1.0
    pairs = {tuple(p["functions"]): p for p in data["pairs"]}
    assert pairs[("it", "marketing")]["reasons"] == ["CRM (it R, marketing A)"]
    assert pairs[("it", "marketing")]["by_kind"] == {"responsibilities": 1.0}
    assert pairs[("digital", "hr")]["reasons"] == ["initiative hr-app"]
    digital = next(f for f in data["functions"] if f["key"] == "digital")
    assert digital["degree"] == 3 and digital["betweenness"] > 0
    assert data["hubs"] == ["digital"]
    assert data["components"][0] == ["marketing", "it", "digital", "hr"]
    rules = [f["rule"] for f in data["findings"]]
    assert rules.count("couple-never-meets") == 2  # HR-marketing and HR-IT
    assert "hub-does-not-reach" in rules

    text = tandem("network", "show", "-e", "responsibilities", *w).stdout
    assert "Combined" in text and "co-owned customer data sources" not in text
    assert "HR and IT never meet" in text and "Seed 004" in text
    assert "betweenness" in text
    assert "hub digital: works with 2 of 8 functions, betweenness 0.000" in text


def test_network_errors(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("network", "show", "-e", "segments", "-w", ws_path)
    assert run.exit_code == 1
    assert "unknown evidence kind `segments`" in run.stderr
    run = tandem("network", "show", "--threshold", "150", "--json", "-w", ws_path)
    assert run.exit_code == 1 and run.json()["field"] == "threshold"
    run = tandem("network", "show", "--survey", "nope", "-w", ws_path)
    assert run.exit_code == 1 and "no survey named nope" in run.stderr
