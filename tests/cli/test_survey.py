"""`tandem survey ...` end to end: create, invite, import, show, results, close, errors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Tandem


def test_survey_commands_end_to_end(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    w = ("-w", str(ws_path))
    assert "digital-pulse" in tandem("survey", "templates").stdout
    created = tandem("survey", "create", "pulse", "--min-group", "3", *w, "--json")
    assert created.exit_code == 0 and created.json()["min_group"] == 3
    links = tmp_path / "links.txt"
    run = tandem(
        "survey", "invite", "pulse", "-n", "3", "--base-url", "https://t.example/", "-o", links, *w
    )
    assert run.exit_code == 0
    lines = links.read_text().split()
    assert len(lines) == 3 and all(x.startswith("https://t.example/s/") for x in lines)
    csv = tmp_path / "a.csv"
    csv.write_text(
        "function,right-people,vision\n"
        + "".join(f"{fn},{s},executive\n" for fn in ("it", "marketing") for s in (4, 5, 2))
        + "sales,4,executive\n"
    )
    bad = tandem("survey", "import", "pulse", csv, *w)
    assert bad.exit_code == 1
    assert "line 8" in bad.stderr and "unknown function `sales`" in bad.stderr
    ok = tandem("survey", "import", "pulse", csv, "--skip-invalid", *w, "--json")
    assert ok.json() == {
        "survey": "pulse",
        "rows": 7,
        "accepted": 6,
        "rejected": 1,
        "problems": ok.json()["problems"],
    }
    results = tandem("survey", "results", "pulse", *w, "--json").json()
    q = results["questions"][0]
    assert q["overall"]["agree"]["k"] == 4 and q["overall"]["n"] == 6
    table = tandem("survey", "results", "pulse", "--by", "function", *w)
    assert "67%" in table.stdout and "21%" in table.stdout
    shown = tandem("survey", "show", "pulse", *w, "--json").json()
    assert shown["respondents_by_function"] == {"marketing": 3, "it": 3}
    assert (shown["invitations"], shown["invitations_used"]) == (3, 0)
    assert tandem("survey", "close", "pulse", *w).exit_code == 0
    listed = tandem("survey", "list", *w, "--json").json()
    assert [(s["name"], s["status"], s["respondents"]) for s in listed] == [("pulse", "closed", 6)]


def test_survey_errors_are_clear(tandem: Tandem, ws_path: Path) -> None:
    w = ("-w", str(ws_path))
    missing = tandem("survey", "results", "nope", *w, "--json")
    assert missing.exit_code == 1 and missing.json()["error"] == "not_found"
    low = tandem("survey", "create", "p", "--min-group", "2", *w)
    assert low.exit_code == 1 and "at least 3" in low.stderr
    by = tandem("survey", "create", "p", *w)
    assert by.exit_code == 0
    wrong = tandem("survey", "results", "p", "--by", "team", *w)
    assert wrong.exit_code == 1 and "cannot break results down by `team`" in wrong.stderr


def test_invite_to_an_unwritable_file_stores_no_invitation(
    tandem: Tandem, ws_path: Path, tmp_path: Path
) -> None:
    w = ("-w", str(ws_path))
    assert tandem("survey", "create", "pulse", *w).exit_code == 0
    run = tandem("survey", "invite", "pulse", "-n", "2", "-o", tmp_path / "no" / "links.txt", *w)
    assert run.exit_code == 1 and "cannot write" in run.stderr and "Traceback" not in run.stderr
    assert tandem("survey", "show", "pulse", *w, "--json").json()["invitations"] == 0
    unknown = tandem("survey", "invite", "nope", "-n", "2", "-o", tmp_path / "links.txt", *w)
    assert unknown.exit_code == 1 and not (tmp_path / "links.txt").exists()
