"""`tandem ownership ...` end to end: import, show, export, assign, benchmark, findings."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Tandem

GOOD = """\
company:
  name: Harbour & Vine
  employees: 4200
functions:
  - key: executive
    kind: executive
  - key: marketing
    kind: marketing
  - key: it
    name: IT
    kind: it
  - key: hr
    kind: hr
capabilities:
  - key: digital-vision-strategy
    owners: {executive: A, marketing: C}
  - key: crm
    owners: {marketing: RA, it: ra}
  - key: social-media-marketing
    owners: {marketing: [R, A]}
  - key: web-design
    owners: {it: RA}
governance:
  - key: digital-team
    kind: digital_team
    reports_to: [marketing, it]
  - key: steering
    kind: steering_committee
    members: [executive, marketing, it]
"""

BAD = """\
functions:
  - key: marketing
    kind: marketing
  - key: it
    kind: it
capabilities:
  - key: crm
    owners: {marketing: RA, markting: C}
  - key: crm
    owners: {it: X}
"""


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_show_matrix(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    run = tandem("ownership", "import", write(tmp_path, GOOD), "-w", ws_path, "--json")
    assert run.exit_code == 0, run.stderr
    summary = run.json()
    assert summary["functions"] == 4
    assert summary["capabilities"] == 4
    assert summary["responsibilities"] == 10
    assert summary["governance_bodies"] == 2
    # replace mode: default functions and capabilities not in the file were removed
    assert "pr" in summary["removed"]["functions"]
    assert "web-strategy" in summary["removed"]["capabilities"]

    matrix = tandem("ownership", "show", "-w", ws_path, "--json").json()
    assert [f["key"] for f in matrix["functions"]] == ["executive", "marketing", "it", "hr"]
    roles = {row["key"]: row["roles"] for row in matrix["capabilities"]}
    assert roles["crm"] == {"marketing": "RA", "it": "RA"}
    assert roles["social-media-marketing"] == {"marketing": "RA"}
    assert roles["digital-vision-strategy"] == {"executive": "A", "marketing": "C"}

    table = tandem("ownership", "show", "-w", ws_path)
    assert table.exit_code == 0
    assert "Social media marketing" in table.stdout
    assert "executive" in table.stdout


def test_bad_file_reports_every_problem_with_line_and_changes_nothing(
    tandem: Tandem, ws_path: Path, tmp_path: Path
) -> None:
    before = tandem("ownership", "export", "-w", ws_path).stdout
    path = write(tmp_path, BAD)
    run = tandem("ownership", "import", path, "-w", ws_path)
    assert run.exit_code == 1
    err = run.stderr
    assert "nothing was changed" in err
    assert "Traceback" not in err
    # the role letter problem is found by schema validation first
    assert f"{path}, line 10: capabilities[1].owners.it" in err
    assert "`X` is not a RACI role" in err
    assert tandem("ownership", "export", "-w", ws_path).stdout == before


def test_reference_problems_are_all_reported(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path, BAD.replace("{it: X}", "{it: C}"))
    run = tandem("ownership", "import", path, "-w", ws_path)
    assert run.exit_code == 1
    assert f"{path}, line 8: capabilities[0].owners.markting: unknown function `markting`" in (
        run.stderr
    )
    assert f"{path}, line 9: capabilities[1].key: capabilitie `crm` is listed twice" not in (
        run.stderr
    )
    assert "line 9: capabilities[1].key" in run.stderr
    assert "listed twice" in run.stderr


def test_yaml_syntax_error_has_line(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "functions:\n  - key: a\n   kind: [oops\n")
    run = tandem("ownership", "import", path, "-w", ws_path)
    assert run.exit_code == 1
    assert "is not valid YAML" in run.stderr
    assert f"{path}, line " in run.stderr


def test_missing_file(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    run = tandem("ownership", "import", tmp_path / "nope.yaml", "-w", ws_path)
    assert run.exit_code == 1
    assert "not found" in run.stderr


def test_export_round_trip_through_a_file(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    tandem("ownership", "import", write(tmp_path, GOOD), "-w", ws_path)
    out = tmp_path / "exported.yaml"
    assert tandem("ownership", "export", "--out", out, "-w", ws_path).exit_code == 0
    first = out.read_text()
    assert tandem("ownership", "import", out, "-w", ws_path).exit_code == 0
    assert tandem("ownership", "export", "-w", ws_path).stdout == first


def test_merge_keeps_what_the_file_omits(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "capabilities:\n  - key: crm\n    owners: {marketing: A, it: R}\n")
    run = tandem("ownership", "import", path, "--merge", "-w", ws_path, "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["removed"] == {}
    matrix = tandem("ownership", "show", "-w", ws_path, "--json").json()
    assert len(matrix["capabilities"]) == 17
    crm = next(r for r in matrix["capabilities"] if r["key"] == "crm")
    assert crm["roles"] == {"marketing": "A", "it": "R"}


def test_assign_and_unassign(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("ownership", "assign", "web-design", "it", "ra", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "it now holds RA on web-design" in run.stdout
    assert (
        tandem("ownership", "assign", "web-design", "marketing", "A", "-w", ws_path).exit_code == 0
    )
    run = tandem("ownership", "unassign", "web-design", "it", "A", "-w", ws_path)
    assert "it now holds R on web-design" in run.stdout
    matrix = tandem("ownership", "show", "-w", ws_path, "--json").json()
    web = next(r for r in matrix["capabilities"] if r["key"] == "web-design")
    assert web["roles"] == {"marketing": "A", "it": "R"}


def test_assign_refuses_bad_input(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("ownership", "assign", "web-design", "it", "Z", "-w", ws_path)
    assert run.exit_code == 1
    assert "`Z` is not a RACI role" in run.stderr
    run = tandem("ownership", "assign", "web-design", "legal", "A", "-w", ws_path)
    assert run.exit_code == 1
    assert "no function `legal`" in run.stderr
    run = tandem("ownership", "assign", "telepathy", "it", "A", "-w", ws_path)
    assert run.exit_code == 1
    assert "no capability `telepathy`" in run.stderr


def test_benchmark_json_sets_company_beside_survey(
    tandem: Tandem, ws_path: Path, tmp_path: Path
) -> None:
    tandem("ownership", "import", write(tmp_path, GOOD), "-w", ws_path)
    data = tandem("ownership", "benchmark", "-w", ws_path, "--json").json()
    assert data["vision"]["survey"] == {"executive": 30, "marketing": 27, "it": 13}
    assert data["vision"]["setters"] == [
        {"function": "executive", "kind": "executive", "roles": "A"}
    ]
    rows = {r["capability"]: r for r in data["capabilities"]}
    smm = rows["social-media-marketing"]["sides"]
    assert smm["marketing"]["survey_percent"] == 80
    assert smm["marketing"]["roles"] == "RA"
    assert smm["marketing"]["responsible"] is True
    assert rows["web-design"]["sides"]["it"]["survey_percent"] == 29
    assert rows["web-design"]["sides"]["marketing"]["responsible"] is False
    org = {f["key"]: f for f in data["organisation"]}
    assert org["dedicated_digital_group"]["survey_percent"] == 86
    assert org["dedicated_digital_group"]["company"] is True
    # 4,200 employees: the 1,000-10,000 figure applies
    assert org["right_people_define_strategy"]["survey_percent"] == 15
    text = tandem("ownership", "benchmark", "-w", ws_path)
    assert "Forrester" in text.stdout
    assert "80%" in text.stdout


def test_findings_json_and_severity_filter(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    tandem("ownership", "import", write(tmp_path, GOOD), "-w", ws_path)
    findings = tandem("ownership", "findings", "-w", ws_path, "--json").json()
    rules = {f["rule"] for f in findings}
    assert "marketing-alone-accountable" in rules  # social media marketing
    assert "it-alone-accountable" in rules  # web design
    assert "no-executive-sponsor" not in rules
    assert "marketing-it-share-nothing" not in rules  # they share CRM
    assert "digital-team-single-line" not in rules
    marketing = next(f for f in findings if f["rule"] == "marketing-alone-accountable")
    assert marketing["capabilities"] == ["social-media-marketing"]
    assert marketing["citation"]["seed"] == "001"
    high = tandem("ownership", "findings", "-w", ws_path, "--json", "--severity", "high").json()
    assert all(f["severity"] == "high" for f in high)
    assert len(high) < len(findings)
    bad = tandem("ownership", "findings", "-w", ws_path, "--severity", "urgent")
    assert bad.exit_code == 1
    assert "unknown severity" in bad.stderr


def test_findings_on_a_file_without_importing(tandem: Tandem, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    run = tandem("ownership", "findings", "--file", path, "--json")
    assert run.exit_code == 0, run.stderr
    assert "marketing-alone-accountable" in {f["rule"] for f in run.json()}
    matrix = tandem("ownership", "show", "--file", path, "--json").json()
    assert len(matrix["capabilities"]) == 4


def test_company_profile(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "ownership",
        "company",
        "--employees",
        "1500",
        "--industry",
        "Retail",
        "-w",
        ws_path,
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["employees"] == 1500
    assert run.json()["industry"] == "Retail"
    bad = tandem("ownership", "company", "--employees", "0", "-w", ws_path)
    assert bad.exit_code == 1
    assert "employees must be at least 1" in bad.stderr


def test_errors_are_json_with_json(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path, BAD.replace("{it: X}", "{it: C}"))
    run = tandem("ownership", "import", path, "-w", ws_path, "--json")
    assert run.exit_code == 1
    error = run.json()
    assert error["error"] == "invalid_input"
    assert error["field"] == "capabilities[0].owners.markting"
    problems = error["problems"]
    assert {"message", "field", "line"} <= set(problems[0])
    assert [p["line"] for p in problems] == [8, 9]
