"""KPI measures: parsing, progress against a target, and reading survey agreement."""

from __future__ import annotations

from datetime import date

import pytest

from tandem import Workspace
from tandem.collaboration.kpis import (
    Measure,
    Progress,
    check_readable,
    manual_progress,
    parse_measure,
    read_measure,
)
from tandem.errors import InvalidValue, NotFound


def test_parse_measures() -> None:
    assert parse_measure("manual") == Measure("manual")
    assert parse_measure(" survey:pulse:marketing-it ") == Measure(
        "survey", ("pulse", "marketing-it")
    )
    assert parse_measure("segment:loyal").parts == ("loyal",)
    assert parse_measure("campaign:spring:revenue").text == "campaign:spring:revenue"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown KPI measure"),
        ("footfall", "unknown KPI measure"),
        ("survey:pulse", "does not read survey:NAME:QUESTION"),
        ("survey:pulse:", "does not read survey:NAME:QUESTION"),
        ("manual:x", "does not read manual"),
        ("segment:a:b", "does not read segment:NAME"),
    ],
)
def test_bad_measures_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message) as info:
        parse_measure(text)
    assert info.value.field == "measure"


def test_a_campaign_measure_names_the_missing_campaign(workspace: Workspace) -> None:
    # tests/campaigns/test_results.py reads a real campaign's lift
    with pytest.raises(NotFound, match=r"no campaign `spring`"):
        check_readable(workspace, parse_measure("campaign:spring:revenue"))


def test_a_segment_measure_names_the_missing_segment(workspace: Workspace) -> None:
    # readable with only kpis imported: the segment reader is found (tests/customers/
    # test_segments.py reads a real segment's size)
    with pytest.raises(NotFound, match=r"no segment `loyal`"):
        check_readable(workspace, parse_measure("segment:loyal"))


def test_progress_at_least_and_at_most() -> None:
    up = Progress(60.0, date(2026, 5, 1), 80.0, "at_least", 40.0)
    assert up.met is False
    assert up.share == pytest.approx(0.5)
    assert up.status == "50% of the way"
    down = Progress(12.0, date(2026, 5, 1), 10.0, "at_most", 20.0)
    assert down.met is False
    assert down.share == pytest.approx(0.8)
    assert Progress(9.0, None, 10.0, "at_most", 20.0).met is True
    assert Progress(9.0, None, 10.0, "at_most", 20.0).status == "met"
    # moving away from the target is 0%, not negative
    assert Progress(30.0, None, 80.0, "at_least", 40.0).share == 0.0
    assert Progress(None, None, 80.0, "at_least", None).status == "no value yet"


def test_manual_progress_takes_the_first_value_as_baseline() -> None:
    history = [(date(2026, 1, 1), 2.0), (date(2026, 2, 1), 3.0), (date(2026, 3, 1), 4.0)]
    p = manual_progress(6.0, "at_least", None, history)
    assert (p.current, p.as_of, p.baseline) == (4.0, date(2026, 3, 1), 2.0)
    assert p.share == pytest.approx(0.5)
    explicit = manual_progress(6.0, "at_least", 0.0, history)
    assert explicit.share == pytest.approx(4 / 6)
    single = manual_progress(6.0, "at_least", None, history[:1])
    assert single.baseline is None and single.share is None and single.status == "not met"


def test_survey_measure_reads_the_share_agreeing(workspace: Workspace) -> None:
    workspace.surveys.create("pulse", "digital-pulse")
    measure = parse_measure("survey:pulse:marketing-it")
    # no answers yet: the KPI may be set up, its value is simply not there
    assert check_readable(workspace, measure) is None
    rows = ["function,marketing-it"]
    rows += ["marketing,4"] * 3 + ["marketing,2"] * 3 + ["it,5"] * 2 + ["it,1"] * 4
    workspace.surveys.import_text("pulse", "\n".join(rows) + "\n")
    assert read_measure(workspace, measure) == pytest.approx(5 / 12 * 100, abs=0.01)


def test_survey_measure_refuses_unknown_and_non_agreement_questions(
    workspace: Workspace,
) -> None:
    workspace.surveys.create("pulse", "digital-pulse")
    with pytest.raises(NotFound, match="no question `nope`"):
        check_readable(workspace, parse_measure("survey:pulse:nope"))
    with pytest.raises(InvalidValue, match="needs an agreement question"):
        check_readable(workspace, parse_measure("survey:pulse:vision"))
    with pytest.raises(NotFound, match="no survey named other"):
        check_readable(workspace, parse_measure("survey:other:marketing-it"))
