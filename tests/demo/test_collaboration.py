"""The demo's collaboration data: answers, initiatives, KPIs, findings for visible reasons."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tandem import Workspace
from tandem.demo.collaboration import (
    AGREEING,
    INITIATIVES,
    RESPONDENTS,
    SURVEY,
    build_collaboration,
    survey_rows,
)
from tandem.demo.company import demo_ownership


@pytest.fixture
def demo(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The demo's ownership model and collaboration data (without the customer data)."""
    path = tmp_path / "ownership.yaml"
    path.write_text(yaml.safe_dump(demo_ownership(7), sort_keys=False), encoding="utf-8")
    workspace.ownership.import_file(path)
    summary = build_collaboration(workspace, seed=7)
    assert summary.respondents == 120
    assert summary.initiatives == [i.key for i in INITIATIVES]
    assert (summary.kpis, summary.reported_values) == (6, 11)
    assert Path(summary.responses_file).is_file()
    return workspace


def test_rows_are_deterministic_and_tuned() -> None:
    rows = survey_rows(7)
    assert rows == survey_rows(7) and rows != survey_rows(8)
    assert len(rows) == 120
    assert Counter(r["function"] for r in rows) == RESPONDENTS
    for question, by_function in AGREEING.items():
        for function, k in by_function.items():
            answers = [int(r[question]) for r in rows if r["function"] == function]
            assert sum(a >= 4 for a in answers) == k
    for r in rows:
        named = set(r["works-with"].split(";"))
        if r["function"] == "hr":
            assert "marketing" not in named and "digital" not in named
        if r["function"] == "marketing":
            assert "hr" not in named


@pytest.mark.parametrize("with_sources", [False, True])
def test_demo_network_findings_appear_for_their_reasons(
    demo: Workspace, with_sources: bool
) -> None:
    if with_sources:  # the demo's customer data sources, as `build_demo` registers them
        from tandem.demo.channels import SOURCES

        for spec in SOURCES:
            demo.sources.add(spec.name, kind=spec.kind, owners=list(spec.owners))
    report = demo.network.show()
    found = {(f.rule, f.title) for f in report.findings}
    assert found == {
        ("couple-rated-poorly", "Marketing and IT both rate their collaboration poorly"),
        ("couple-never-meets", "HR and marketing never meet"),
        ("hub-does-not-reach", "Digital team (CDO) does not reach 2 functions"),
    }
    poor = next(f for f in report.findings if f.rule == "couple-rated-poorly")
    assert "27% of Marketing (n=22) and 30% of IT (n=20)" in poor.why
    hub = next(f for f in report.findings if f.rule == "hub-does-not-reach")
    assert hub.functions == ("digital", "hr", "business-units")
    # marketing and IT meet (the finding is about how, not whether)
    assert report.weight("marketing", "it", "responsibilities") > 0
    assert report.weight("marketing", "it", "survey") > 0
    assert report.weight("marketing", "it", "initiatives") == 2.0  # click & collect, club app
    # HR and marketing: marketing is only informed of employer branding, which weighs nothing
    assert report.weight("hr", "marketing") == 0
    assert len(report.components) == 1  # nobody isolated
    digital = next(f for f in report.functions if f.key == "digital")
    assert digital.degree == 7


def test_small_groups_hidden_and_not_counted(demo: Workspace) -> None:
    results = demo.surveys.results(SURVEY, by="function")
    cells = {c.group: c for c in results.question("marketing-it").groups}
    assert cells["pr"].n is None and cells["pr"].suppressed
    assert cells["innovation"].n is None and cells["innovation"].suppressed  # differencing
    shown = {
        c.group
        for c in demo.surveys.results(SURVEY, by="function").question("works-with").groups
        if not c.suppressed
    }
    assert "pr" not in shown
    # the survey evidence counts only answers of groups the results show
    expected: Counter[tuple[str, str]] = Counter()
    for r in survey_rows(7):
        if r["function"] in shown:
            for other in r["works-with"].split(";"):
                expected[tuple(sorted((r["function"], other)))] += 1  # type: ignore[index]
    assert demo.surveys.works_with_evidence(SURVEY) == dict(sorted(expected.items()))
    assert demo.network.show(["survey"]).matrices["survey"] == {
        k: float(v) for k, v in expected.items()
    }


def test_demo_initiatives_and_kpis(demo: Workspace) -> None:
    rules = [(f.rule, f.title) for f in demo.initiatives.findings()]
    assert rules == [
        (
            "initiative-without-marketing-and-it",
            "Customer-facing initiative Harbour Club in the app is not owned by IT",
        )
    ]
    app = demo.initiatives.get("harbour-club-app")
    assert ("Mobile Lead", "it") in {(m.role, m.function) for m in app.members}
    kpis = {k.key: k for i in demo.initiatives.list() for k in i.kpis}
    assert kpis["ready-in-2h"].progress.current == 84
    assert kpis["ready-in-2h"].progress.share == pytest.approx((84 - 62) / (90 - 62))
    assert kpis["staff-briefed"].progress.met is True
    # survey KPIs read the pulse: 6 + 6 of 42 in marketing and IT, others at 35%
    mit = kpis["marketing-it-agree"].progress
    assert mit.current is not None and mit.current < 50 and mit.met is False
    assert [h[1] for h in kpis["app-members"].history] == [8200, 15400, 21900]
