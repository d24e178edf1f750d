"""The survey service: create, invitations and the web form's submit, CSV import, results."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tandem import Workspace
from tandem.collaboration.stats import wilson
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound

HEADER = "function,seniority,right-people,marketing-it,digital-it,vision,works-with\n"


def _hand_wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(7, 20), (0, 12), (12, 12), (1, 3), (45, 120)])
def test_wilson_matches_the_formula_by_hand(k: int, n: int) -> None:
    share = wilson(k, n)
    low, high = _hand_wilson(k, n)
    assert share.share == pytest.approx(k / n)
    assert share.low == pytest.approx(max(low, 0.0), abs=1e-9)
    assert share.high == pytest.approx(min(high, 1.0), abs=1e-9)
    assert wilson(7, 20).to_dict() == {
        "k": 7,
        "n": 20,
        "share": 0.35,
        "ci_low": 0.1812,
        "ci_high": 0.5671,
    }


def test_create_validates_name_min_group_and_duplicates(workspace: Workspace) -> None:
    info = workspace.surveys.create("pulse", min_group=4)
    assert (info.status, info.min_group, len(info.questions)) == ("open", 4, 8)
    vision = next(q for q in info.questions if q["key"] == "vision")
    assert [o["key"] for o in vision["options"]][:3] == ["executive", "marketing", "it"]
    with pytest.raises(Conflict, match="already exists"):
        workspace.surveys.create("pulse")
    with pytest.raises(InvalidValue, match="at least 3"):
        workspace.surveys.create("other", min_group=2)
    with pytest.raises(InvalidValue, match="invalid survey name"):
        workspace.surveys.create("Bad Name")


def test_a_template_pair_must_name_functions_of_the_workspace(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "key: t\ntitle: T\nquestions:\n  - key: q\n    text: Sales and IT work well\n"
        "    kind: agreement\n    pair: [sales, it]\n"
    )
    with pytest.raises(InvalidInput, match="does not fit") as err:
        workspace.surveys.create("custom", str(path))
    assert "function `sales`" in err.value.problems[0].message
    assert workspace.surveys.all() == []


def test_form_and_submit_use_an_invitation_once(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    token, _other = workspace.surveys.invite("pulse", 2)
    form = workspace.surveys.form(token)
    assert form.survey == "pulse" and len(form.questions) == 8
    assert form.seniority == ["staff", "manager", "director", "executive"]
    workspace.surveys.submit(
        token, "marketing", "manager", {"right-people": 4, "works-with": ["it", "digital"]}
    )
    with pytest.raises(NotFound, match="used already"):
        workspace.surveys.form(token)
    with pytest.raises(NotFound, match="not valid"):
        workspace.surveys.submit(token, "marketing", None, {"right-people": 2})
    with pytest.raises(NotFound, match="not valid"):
        workspace.surveys.submit("made-up", "marketing", None, {"right-people": 2})
    assert workspace.surveys.show("pulse").respondents == 1


def test_invalid_answers_record_nothing_and_leave_the_invitation_usable(
    workspace: Workspace,
) -> None:
    workspace.surveys.create("pulse")
    (token,) = workspace.surveys.invite("pulse", 1)
    with pytest.raises(InvalidInput, match="nothing was recorded") as err:
        workspace.surveys.submit(
            token, "sales", "intern", {"right-people": 6, "vision": "ceo", "nope": 1}
        )
    fields = {p.field for p in err.value.problems}
    assert fields == {"function", "seniority", "right-people", "vision", "nope"}
    with pytest.raises(InvalidInput) as err:
        workspace.surveys.submit(token, "it", None, {})
    assert err.value.problems[0].message == "no question is answered"
    workspace.surveys.submit(token, "it", None, {"vision": "Executive (CEO)"})
    assert workspace.surveys.show("pulse").respondents == 1


def test_a_closed_survey_takes_no_answers(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    (token,) = workspace.surveys.invite("pulse", 1)
    workspace.surveys.close("pulse")
    with pytest.raises(Conflict, match="closed"):
        workspace.surveys.submit(token, "it", None, {"right-people": 3})
    with pytest.raises(Conflict, match="closed"):
        workspace.surveys.import_text("pulse", HEADER + "it,,3,,,,\n")
    with pytest.raises(Conflict, match="already closed"):
        workspace.surveys.close("pulse")


def test_import_is_all_or_nothing_with_row_and_column_errors(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    text = (
        HEADER
        + "marketing,staff,4,5,,executive,it;digital\n"
        + "sales,staff,4,5,,executive,it\n"
        + "it,boss,7,5,,executive,it\n"
        + "hr,,4,5,,ceo,it;payroll\n"
        + "it,manager,5,4,3,it,marketing\n"
    )
    with pytest.raises(InvalidInput, match="3 of 5 rows") as err:
        workspace.surveys.import_text("pulse", text, source="answers.csv")
    where = {(p.line, p.field) for p in err.value.problems}
    assert where == {
        (3, "function"),
        (4, "seniority"),
        (4, "right-people"),
        (5, "vision"),
        (5, "works-with"),
    }
    assert workspace.surveys.show("pulse").respondents == 0
    summary = workspace.surveys.import_text("pulse", text, skip_invalid=True)
    assert (summary.rows, summary.accepted, len(summary.rejected)) == (5, 2, 3)
    assert summary.accepted + len(summary.rejected) == summary.rows
    assert [p.line for p in summary.rejected] == [3, 4, 5]
    assert workspace.surveys.show("pulse").respondents == 2


def test_import_refuses_a_bad_header(workspace: Workspace, tmp_path: Path) -> None:
    workspace.surveys.create("pulse")
    with pytest.raises(InvalidInput, match="bad header") as err:
        workspace.surveys.import_text("pulse", "function,right_people\nit,4\n")
    assert "unknown column `right_people`" in err.value.problems[0].message
    with pytest.raises(InvalidValue, match="not found"):
        workspace.surveys.import_csv("pulse", tmp_path / "missing.csv")
    with pytest.raises(InvalidInput, match="no rows"):
        workspace.surveys.import_text("pulse", HEADER + "\n")
    with pytest.raises(InvalidInput, match="is empty"):
        workspace.surveys.import_text("pulse", "")
    with pytest.raises(InvalidInput, match="1 of 1 rows has problems"):
        workspace.surveys.import_text("pulse", HEADER + "it,,9,,,,\n")


def _import(ws: Workspace, rows: list[tuple[str, int, str]]) -> None:
    text = HEADER + "".join(f"{fn},staff,{score},,,{vision},\n" for fn, score, vision in rows)
    ws.surveys.import_text("pulse", text)


def test_results_share_interval_and_benchmark(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    # 20 respondents, 12 agree (4-5): 60%, Wilson 38.7%-78.1%, above Forrester's 21%.
    rows = [("marketing", 5 if i < 6 else 2, "executive") for i in range(10)]
    rows += [("it", 4 if i < 6 else 1, "it" if i < 5 else "marketing") for i in range(10)]
    _import(workspace, rows)
    results = workspace.surveys.results("pulse")
    q = results.question("right-people")
    assert q.overall.agree is not None
    assert (q.overall.agree.k, q.overall.n) == (12, 20)
    assert q.overall.agree.low == pytest.approx(0.3866, abs=1e-4)
    assert q.overall.agree.high == pytest.approx(0.7812, abs=1e-4)
    assert q.benchmark is not None and q.benchmark["percent"] == 21
    assert q.versus_benchmark == "above"
    vision = results.question("vision")
    options = {o["key"]: o for o in vision.overall.options or []}
    assert options["executive"]["count"] == 10 and options["executive"]["benchmark_percent"] == 30
    assert options["marketing"]["count"] == 5 and options["marketing"]["benchmark_percent"] == 27
    assert options["it"]["count"] == 5 and options["it"]["benchmark_percent"] == 13
    assert options["it"]["benchmark_role"] == "CIO"
    by = workspace.surveys.results("pulse", by="function").question("right-people")
    shares = {g.group: g.agree.share for g in by.groups if g.agree}
    assert shares == {"marketing": 0.6, "it": 0.6}


def test_results_below_and_level(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    _import(workspace, [("it", 4 if i < 2 else 2, "it") for i in range(40)])
    q = workspace.surveys.results("pulse").question("right-people")
    assert q.versus_benchmark == "below"  # 5%, interval 1.4%-16.5% < 21%


def test_network_interfaces(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    rows = []
    for i in range(6):
        works = "it;digital" if i < 4 else "digital"
        rows.append(f"marketing,staff,,{4 if i < 2 else 2},,,{works}\n")
        rows.append(f"it,staff,,{5 if i < 1 else 1},,,marketing{';hr' if i < 3 else ''}\n")
        works = [
            "marketing;it;hr",
            "marketing;it",
            "marketing;it",
            "marketing;it",
            "marketing",
            "pr",
        ][i]
        rows.append(f"digital,staff,,,{4 if i < 4 else 2},,{works}\n")
    rows.append("hr,staff,,,,,it;marketing;digital\n")
    workspace.surveys.import_text("pulse", HEADER + "".join(rows))
    evidence = workspace.surveys.works_with_evidence()
    # hr (1 respondent) is hidden, and so is the next-smallest group for that question
    results = workspace.surveys.results("pulse", by="function").question("works-with")
    shown = {g.group for g in results.groups if not g.suppressed}
    assert "hr" not in shown and len(shown) == 2
    assert all(a < b for a, b in evidence)
    expected: dict[tuple[str, str], int] = {}
    for g in results.groups:
        if g.suppressed or not g.options or g.group is None:
            continue
        for o in g.options:
            if o["count"] and o["key"] != g.group:
                pair = (min(g.group, o["key"]), max(g.group, o["key"]))
                expected[pair] = expected.get(pair, 0) + o["count"]
    assert evidence == expected and evidence
    assert sorted(workspace.surveys.works_with_counted()) == sorted(shown)
    ratings = {r.question: r for r in workspace.surveys.pair_ratings("pulse")}
    mi = ratings["marketing-it"]
    assert mi.pair == ("it", "marketing")
    assert mi.shares == {"it": pytest.approx(1 / 6), "marketing": pytest.approx(2 / 6)}
    assert mi.benchmark_percent == 17
    di = ratings["digital-it"]
    assert di.shares["it"] is None  # IT did not answer it
    assert workspace.surveys.works_with_evidence("pulse") == evidence


def test_no_survey_yet(workspace: Workspace) -> None:
    assert workspace.surveys.works_with_evidence() == {}
    assert workspace.surveys.pair_ratings() == []
    with pytest.raises(NotFound, match="no survey named x"):
        workspace.surveys.results("x")
    workspace.surveys.create("pulse")
    with pytest.raises(InvalidValue, match="cannot break results down"):
        workspace.surveys.results("pulse", by="team")


def test_unreadable_csv_is_refused_whole_even_with_skip_invalid(workspace: Workspace) -> None:
    import csv

    workspace.surveys.create("pulse")
    huge = "x" * (csv.field_size_limit() + 1)
    text = HEADER + "it,,4,,,,\n" + f'it,,"{huge}",,,,\n' + "hr,,4,,,,\n"
    with pytest.raises(InvalidInput, match="not valid CSV"):
        workspace.surveys.import_text("pulse", text, skip_invalid=True)
    assert workspace.surveys.show("pulse").respondents == 0


def test_one_token_answers_once_under_concurrent_submits(workspace: Workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tandem.errors import TandemError

    workspace.surveys.create("pulse")
    (token,) = workspace.surveys.invite("pulse", 1)

    def submit(score: int) -> str:
        try:
            workspace.surveys.submit(token, "it", None, {"right-people": score})
        except TandemError as exc:
            return type(exc).__name__
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(submit, [1, 2, 3, 4]))
    assert outcomes == ["NotFound", "NotFound", "NotFound", "ok"]
    assert workspace.surveys.show("pulse").respondents == 1


def test_the_template_example_of_the_docs_works(workspace: Workspace, tmp_path: Path) -> None:
    docs = Path(__file__).parents[2] / "docs" / "surveys.md"
    text = docs.read_text().split("## Your own template")[1].split("```yaml\n")[1]
    path = tmp_path / "team.yaml"
    path.write_text(text.split("```")[0])
    info = workspace.surveys.create("team", str(path))
    meetings = next(q for q in info.questions if q["key"] == "meetings")
    assert [o["key"] for o in meetings["options"]] == ["weekly", "monthly", "never"]
