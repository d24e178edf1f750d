"""Initiatives: joint owners, team, dates, status, KPIs with history, and their findings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tandem import Workspace
from tandem.collaboration.initiatives import InitiativeInfo, MemberSpec, evaluate
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound


def _add(ws: Workspace, key: str = "app", **kw: object) -> InitiativeInfo:
    fields: dict[str, object] = {"owners": ["marketing", "it"], **kw}
    return ws.initiatives.add(key, **fields)  # type: ignore[arg-type]


def test_add_and_read_back(workspace: Workspace) -> None:
    workspace.ownership.add_person("marketing", "Ana Silva", head=True)
    item = _add(
        workspace,
        title="App relaunch",
        goal="A faster app",
        customer_facing=True,
        status="active",
        origin="bottom-up",
        start=date(2026, 3, 1),
        end=date(2026, 9, 30),
        members=[MemberSpec("Ana Silva"), MemberSpec("Bo Berg", "hr", "trainer")],
    )
    got = workspace.initiatives.get("app")
    assert got == item
    assert got.owners == ("marketing", "it")
    assert got.functions == ("marketing", "it", "hr")
    assert [(m.name, m.function, m.role, m.in_ownership_model) for m in got.members] == [
        ("Ana Silva", "marketing", "", True),
        ("Bo Berg", "hr", "trainer", False),
    ]
    assert (got.status, got.origin, got.start, got.end) == (
        "active",
        "bottom-up",
        date(2026, 3, 1),
        date(2026, 9, 30),
    )
    assert got.to_dict()["functions"] == ["marketing", "it", "hr"]
    assert [i.key for i in workspace.initiatives.list(status="active")] == ["app"]
    assert workspace.initiatives.list(status="done") == []


@pytest.mark.parametrize(
    ("owners", "message"),
    [
        ([], "at least 2 owning functions, got 0"),
        (["marketing"], "at least 2 owning functions, got 1: marketing"),
        (["marketing", "marketing"], "at least 2 owning functions, got 1"),
        (["marketing", "nope"], "no function `nope`"),
    ],
)
def test_owners_must_be_two_real_functions(
    workspace: Workspace, owners: list[str], message: str
) -> None:
    with pytest.raises((InvalidValue, NotFound), match=message):
        workspace.initiatives.add("x", owners=owners)
    assert workspace.initiatives.list() == []


def test_bad_values_are_refused_and_nothing_is_written(workspace: Workspace) -> None:
    with pytest.raises(InvalidValue, match="before the start date") as info:
        _add(workspace, start=date(2026, 5, 1), end=date(2026, 4, 1))
    assert info.value.field == "end"
    with pytest.raises(InvalidValue, match="unknown status `late`"):
        _add(workspace, status="late")
    with pytest.raises(InvalidValue, match="unknown origin"):
        _add(workspace, origin="sideways")
    with pytest.raises(InvalidValue, match="invalid initiative key"):
        _add(workspace, "Not A Key")
    with pytest.raises(NotFound, match="Zed is not a person of the ownership model"):
        _add(workspace, members=[MemberSpec("Zed")])
    with pytest.raises(Conflict, match="listed twice"):
        _add(workspace, members=[MemberSpec("Zed", "it"), MemberSpec("Zed", "it")])
    assert workspace.initiatives.list() == []
    _add(workspace)
    with pytest.raises(Conflict, match="already exists"):
        _add(workspace)


def test_a_person_in_two_functions_needs_the_function(workspace: Workspace) -> None:
    workspace.ownership.add_person("marketing", "Sam Lee")
    workspace.ownership.add_person("it", "Sam Lee")
    with pytest.raises(InvalidValue, match="several functions"):
        _add(workspace, members=[MemberSpec("Sam Lee")])
    item = _add(workspace, members=[MemberSpec.parse("Sam Lee=it")])
    assert item.members[0].function == "it" and item.members[0].in_ownership_model


def test_update(workspace: Workspace) -> None:
    _add(workspace, start=date(2026, 1, 1), members=[MemberSpec("Bo", "hr")])
    item = workspace.initiatives.update(
        "app",
        owners=["it", "digital", "marketing"],
        status="done",
        end=date(2026, 6, 30),
        add_members=[MemberSpec("Cy", "pr")],
        remove_members=["Bo"],
    )
    assert item.owners == ("it", "digital", "marketing")
    assert (item.status, item.start, item.end) == ("done", date(2026, 1, 1), date(2026, 6, 30))
    assert [m.name for m in item.members] == ["Cy"]
    with pytest.raises(InvalidValue, match="before the start date"):
        workspace.initiatives.update("app", end=date(2025, 12, 31))
    with pytest.raises(InvalidValue, match="at least 2"):
        workspace.initiatives.update("app", owners=["it"], status="active")
    with pytest.raises(NotFound, match="Bo is not in the team"):
        workspace.initiatives.update("app", remove_members=["Bo"])
    assert workspace.initiatives.get("app") == item  # failed updates changed nothing
    with pytest.raises(NotFound, match=r"no initiative `nope` \(known: app\)"):
        workspace.initiatives.update("nope", status="active")


def test_manual_kpi_history_and_progress(workspace: Workspace) -> None:
    _add(workspace)
    kpi = workspace.initiatives.add_kpi("app", "rating", target=4.5, name="App rating")
    assert kpi.progress.current is None and kpi.progress.status == "no value yet"
    workspace.initiatives.report("app", "rating", 4.1, on=date(2026, 6, 1))
    workspace.initiatives.report("app", "rating", 3.9, on=date(2026, 4, 1), note="launch")
    kpi = workspace.initiatives.report("app", "rating", 4.5, on=date(2026, 8, 1))
    assert [(d.isoformat(), v) for d, v, _ in kpi.history] == [
        ("2026-04-01", 3.9),
        ("2026-06-01", 4.1),
        ("2026-08-01", 4.5),
    ]
    assert kpi.progress.current == 4.5 and kpi.progress.baseline == 3.9
    assert kpi.progress.met is True
    calls = workspace.initiatives.add_kpi(
        "app", "calls", target=100, direction="at_most", baseline=200, unit="calls/day"
    )
    assert calls.direction == "at_most"
    calls = workspace.initiatives.report("app", "calls", 150, on=date(2026, 5, 1))
    assert calls.progress.share == pytest.approx(0.5)
    assert [k.key for k in workspace.initiatives.get("app").kpis] == ["rating", "calls"]
    workspace.initiatives.remove_kpi("app", "calls")
    assert [k.key for k in workspace.initiatives.get("app").kpis] == ["rating"]


def test_kpi_errors(workspace: Workspace) -> None:
    _add(workspace)
    with pytest.raises(NotFound, match="no segment `loyal`"):
        workspace.initiatives.add_kpi("app", "loyal", target=1000, measure="segment:loyal")
    with pytest.raises(InvalidValue, match="unknown direction"):
        workspace.initiatives.add_kpi("app", "k", target=1, direction="around")
    with pytest.raises(InvalidValue, match="finite"):
        workspace.initiatives.add_kpi("app", "k", target=float("nan"))
    workspace.initiatives.add_kpi("app", "k", target=1)
    with pytest.raises(Conflict, match="already has a KPI `k`"):
        workspace.initiatives.add_kpi("app", "k", target=2)
    with pytest.raises(NotFound, match="has no KPI `nope`"):
        workspace.initiatives.report("app", "nope", 1)
    workspace.surveys.create("pulse", "digital-pulse")
    workspace.initiatives.add_kpi("app", "mit", target=50, measure="survey:pulse:marketing-it")
    with pytest.raises(InvalidValue, match="only manual KPIs take reported values"):
        workspace.initiatives.report("app", "mit", 40)


def test_survey_kpi_reads_the_survey(workspace: Workspace) -> None:
    _add(workspace)
    workspace.surveys.create("pulse", "digital-pulse")
    kpi = workspace.initiatives.add_kpi(
        "app", "mit", target=40, measure="survey:pulse:marketing-it"
    )
    assert kpi.progress.current is None
    assert "no answers yet" in kpi.progress.status
    rows = ["function,marketing-it", *["marketing,5"] * 3, *["it,2"] * 3]
    workspace.surveys.import_text("pulse", "\n".join(rows) + "\n")
    kpi = workspace.initiatives.get("app").kpis[0]
    assert kpi.progress.current == pytest.approx(50.0)
    assert kpi.progress.met is True


def test_remove_takes_team_and_kpis(workspace: Workspace) -> None:
    _add(workspace, members=[MemberSpec("Bo", "hr")])
    workspace.initiatives.add_kpi("app", "k", target=1)
    workspace.initiatives.report("app", "k", 0.5)
    workspace.initiatives.remove("app")
    assert workspace.initiatives.list() == []
    with pytest.raises(NotFound):
        workspace.initiatives.remove("app")


def test_removing_a_function_keeps_the_initiative_consistent(workspace: Workspace) -> None:
    _add(workspace, owners=["marketing", "it", "hr"], members=[MemberSpec("Bo", "pr")])
    workspace.ownership.remove_function("pr")
    workspace.ownership.remove_function("hr")
    item = workspace.initiatives.get("app")
    assert item.owners == ("marketing", "it") and item.members == ()


def test_customer_facing_without_it_is_a_finding(workspace: Workspace) -> None:
    _add(workspace, "loyalty", owners=["marketing", "digital"], customer_facing=True)
    _add(
        workspace,
        "chat",
        owners=["customer-service", "digital"],
        customer_facing=True,
        members=[MemberSpec("Ivo", "it")],
    )
    _add(workspace, "intranet", owners=["hr", "pr"])  # internal: fine without marketing and IT
    _add(workspace, "app", customer_facing=True)  # marketing and IT both own it
    found = {f.title: f for f in workspace.initiatives.findings()}
    assert set(found) == {
        "Customer-facing initiative loyalty is not owned by IT",
        "Customer-facing initiative chat is not owned by marketing and IT",
        "Every live initiative is top-down",
    }
    chat = found["Customer-facing initiative chat is not owned by marketing and IT"]
    assert chat.severity == "high"
    assert "IT is only in the team" in chat.why
    assert chat.citation.seed == "002"
    assert found["Customer-facing initiative loyalty is not owned by IT"].severity == "medium"


def test_finding_follows_function_kind_not_key(workspace: Workspace) -> None:
    workspace.ownership.rename_function("it", new_key="tech", name="Technology")
    _add(workspace, "app", owners=["marketing", "tech"], customer_facing=True)
    _add(workspace, "b", owners=["marketing", "tech"], origin="bottom-up")
    assert workspace.initiatives.findings() == []


def test_one_way_needs_two_live_initiatives() -> None:
    def item(key: str, origin: str, status: str = "active") -> InitiativeInfo:
        return InitiativeInfo(key, key, "", False, status, origin, None, None, ("marketing", "it"))

    kinds = {"marketing": "marketing", "it": "it"}
    assert evaluate([item("a", "top-down")], kinds) == []
    assert evaluate([item("a", "top-down"), item("b", "bottom-up")], kinds) == []
    one_way = evaluate(
        [item("a", "top-down"), item("b", "top-down", "proposed"), item("c", "bottom-up", "done")],
        kinds,
    )
    assert [f.rule for f in one_way] == ["initiatives-one-way"]
    assert "none comes bottom-up" in one_way[0].why


GOOD_FILE = """\
initiatives:
  - key: app
    title: App relaunch
    owners: [marketing, it]
    customer_facing: true
    status: active
    start: 2026-03-01
    team:
      - {name: Bo Berg, function: it, role: Mobile lead}
    kpis:
      - key: rating
        target: 4.5
        unit: stars
        history:
          - {date: 2026-06-01, value: 4.2, note: release 2}
          - {date: 2026-04-01, value: 3.9}
      - key: mit
        target: 50
        measure: survey:pulse:marketing-it
  - key: skills
    owners: [hr, it]
    origin: bottom-up
"""


def test_import_adds_and_replaces(workspace: Workspace, tmp_path: Path) -> None:
    workspace.surveys.create("pulse", "digital-pulse")
    _add(workspace, "app", owners=["digital", "pr"], members=[MemberSpec("Old", "pr")])
    _add(workspace, "kept")
    path = tmp_path / "initiatives.yaml"
    path.write_text(GOOD_FILE, encoding="utf-8")
    assert workspace.initiatives.import_file(path) == ["app", "skills"]
    app = workspace.initiatives.get("app")
    assert app.owners == ("marketing", "it") and app.title == "App relaunch"
    assert [(m.name, m.role) for m in app.members] == [("Bo Berg", "Mobile lead")]
    rating = app.kpis[0]
    assert [(d.isoformat(), v, n) for d, v, n in rating.history] == [
        ("2026-04-01", 3.9, ""),
        ("2026-06-01", 4.2, "release 2"),
    ]
    assert app.kpis[1].measure == "survey:pulse:marketing-it"
    assert [i.key for i in workspace.initiatives.list()] == ["kept", "app", "skills"]
    # importing again gives the same result, not duplicates
    workspace.initiatives.import_file(path)
    assert workspace.initiatives.get("app") == app


def test_import_is_all_or_nothing_with_lines(workspace: Workspace, tmp_path: Path) -> None:
    bad = GOOD_FILE.replace("owners: [hr, it]", "owners: [hr]").replace(
        "measure: survey:pulse:marketing-it", "measure: segment:loyal"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"\(2 problems\); nothing was changed") as info:
        workspace.initiatives.import_file(path)
    assert [(p.line, p.field) for p in info.value.problems] == [
        (19, "initiatives[0].kpis[1].measure"),
        (21, "initiatives[1].owners"),
    ]
    assert info.value.problems[0].message == "no segment `loyal`"
    assert workspace.initiatives.list() == []
    path.write_text(GOOD_FILE.replace("status: active", "status: late"), encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        workspace.initiatives.import_file(path)
    assert info.value.problems[0].message.startswith("unknown status `late`")
