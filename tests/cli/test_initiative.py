"""`tandem initiative ...` end to end: add, list, show, update, KPIs, reports, findings."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Tandem


def test_initiative_lifecycle(tandem: Tandem, ws_path: Path) -> None:
    w = ("-w", ws_path)
    run = tandem(
        "initiative", "add", "app-relaunch", "-o", "marketing", "-o", "digital",
        "--customer-facing", "--status", "active", "--origin", "bottom-up",
        "--start", "2026-03-01", "-m", "Bo Berg=it", "--title", "App relaunch", *w,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "added initiative app-relaunch owned by marketing, digital" in run.stdout
    run = tandem("initiative", "kpi", "add", "app-relaunch", "rating", "--target", "4.5",
                 "--unit", "stars", "--name", "App rating", *w)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    for day, value in (("2026-04-01", "3.9"), ("2026-06-01", "4.2")):
        run = tandem("initiative", "report", "app-relaunch", "rating", value, "--date", day, *w)
        assert run.exit_code == 0, run.stderr
    assert "App rating: 4.2 stars (target ≥ 4.5 stars) 50% of the way" in run.stdout

    data = tandem("initiative", "show", "app-relaunch", "--json", *w).json()
    assert data["owners"] == ["marketing", "digital"]
    assert data["functions"] == ["marketing", "digital", "it"]
    assert data["members"] == [{"name": "Bo Berg", "function": "it", "role": "", "person": False}]
    kpi = data["kpis"][0]
    assert [h["value"] for h in kpi["history"]] == [3.9, 4.2]
    assert kpi["progress"]["baseline"] == 3.9 and kpi["progress"]["met"] is False
    assert [f["rule"] for f in data["findings"]] == ["initiative-without-marketing-and-it"]

    text = tandem("initiative", "show", "app-relaunch", *w).stdout
    assert "App relaunch" in text and "Bo Berg (it)" in text
    assert "App rating history: 2026-04-01 3.9, 2026-06-01 4.2" in text
    assert "IT is only in the team" in text and "Seed 002" in text

    run = tandem("initiative", "update", "app-relaunch", "-o", "marketing", "-o", "it",
                 "-o", "digital", "--status", "done", "--end", "2026-09-30", *w)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    listed = tandem("initiative", "list", "--json", *w).json()
    assert [(i["key"], i["status"], i["end"]) for i in listed] == [
        ("app-relaunch", "done", "2026-09-30")
    ]
    assert tandem("initiative", "findings", "--json", *w).json() == []
    table = tandem("initiative", "list", *w).stdout
    assert "app-relaunch" in table and "0/1" in table


def test_initiative_errors(tandem: Tandem, ws_path: Path) -> None:
    w = ("-w", ws_path)
    run = tandem("initiative", "add", "solo", "-o", "marketing", *w)
    assert run.exit_code == 1
    assert "at least 2 owning functions, got 1: marketing" in run.stderr
    run = tandem("initiative", "add", "x", "-o", "marketing", "-o", "it", "--start", "2026-13-01",
                 "--json", *w)  # fmt: skip
    assert run.exit_code == 1
    assert run.json()["field"] == "start" and "not a date" in run.json()["detail"]
    run = tandem("initiative", "add", "x", "-o", "marketing", "-o", "it", "--start",
                 "2026-05-01", "--end", "2026-04-01", *w)  # fmt: skip
    assert "before the start date" in run.stderr
    tandem("initiative", "add", "x", "-o", "marketing", "-o", "it", *w)
    run = tandem("initiative", "kpi", "add", "x", "loyal", "--target", "500", "--measure",
                 "segment:loyal", *w)  # fmt: skip
    assert run.exit_code == 1
    assert "no segment `loyal`" in run.stderr and "tandem segment create" in run.stderr
    run = tandem("initiative", "report", "x", "nope", "3", "--json", *w)
    assert run.exit_code == 1 and run.json()["error"] == "not_found"
    run = tandem("initiative", "show", "nope", *w)
    assert run.exit_code == 1 and "no initiative `nope` (known: x)" in run.stderr
    assert tandem("initiative", "remove", "x", *w).exit_code == 0
    assert tandem("initiative", "list", "--json", *w).json() == []


def test_help_has_examples(tandem: Tandem) -> None:
    for cmd in (("add",), ("list",), ("show",), ("update",), ("report",), ("kpi", "add")):
        run = tandem("initiative", *cmd, "--help")
        assert run.exit_code == 0
        assert "Example: tandem initiative" in run.stdout


def test_import(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "initiatives.yaml"
    path.write_text(
        "initiatives:\n"
        "  - key: app\n"
        "    owners: [marketing, it]\n"
        "    kpis:\n"
        "      - key: rating\n"
        "        target: 4.5\n"
        "        history: [{date: 2026-04-01, value: 3.9}]\n",
        encoding="utf-8",
    )
    run = tandem("initiative", "import", path, "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "imported 1 initiative: app" in run.stdout
    data = tandem("initiative", "show", "app", "--json", "-w", ws_path).json()
    assert data["kpis"][0]["history"] == [{"date": "2026-04-01", "value": 3.9, "note": ""}]
    path.write_text("initiatives:\n  - key: app\n    owners: [it]\n", encoding="utf-8")
    run = tandem("initiative", "import", path, "--json", "-w", ws_path)
    assert run.exit_code == 1
    assert run.json()["problems"][0]["line"] == 3
    assert "at least 2 owning functions" in run.json()["problems"][0]["message"]
