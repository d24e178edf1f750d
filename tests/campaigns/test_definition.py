"""Campaign definitions: the schema's rules, each error naming its field (and line in a file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tandem.campaigns.definition import (
    cumulative_shares,
    definition_from_text,
    parse_definition,
    read_definition,
)
from tandem.errors import InvalidInput
from tests.campaigns.campaign_data import definition

YAML = """\
name: spring-winback
description: Win back lapsed buyers
channel: email
owners: [marketing, it]
segment: lapsed-buyers
start: 2026-03-01T00:00:00Z
end: 2026-03-31T00:00:00Z
arms:
  - {name: control, share: 0.2, control: true}
  - {name: offer, share: 0.8}
metrics:
  - {name: purchased, kind: conversion, event: Order Completed, window_days: 14}
  - {name: orders, kind: count, event: Order Completed, covariate: {pre_period_days: 28}}
  - {name: revenue, kind: sum, event: Order Completed, property: revenue,
     covariate: {trait: monetary}}
exposures:
  - {kind: sent, event: Email Sent}
"""


def _problems(data: dict[str, Any]) -> dict[str | None, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(data)
    return {p.field: p.message for p in caught.value.problems}


def test_yaml_definition_is_parsed_with_defaults() -> None:
    d = definition_from_text(YAML, source="spring.yaml")
    assert d.name == "spring-winback" and d.segment == "lapsed-buyers" and d.customers is None
    assert d.effective_salt == "spring-winback"  # the salt defaults to the name
    assert d.control.name == "control" and [a.name for a in d.treatments] == ["offer"]
    assert d.metrics[0].window_days == 14 and d.metrics[1].window_days == 14  # default 14
    assert d.metrics[1].covariate is not None and d.metrics[1].covariate.pre_period_days == 28
    assert d.metrics[2].covariate is not None and d.metrics[2].covariate.trait == "monetary"
    assert d.start.tzinfo is not None and (d.end - d.start).days == 30
    assert d.to_dict()["salt"] == "spring-winback"


def test_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    bad = YAML.replace("share: 0.8}", "share: 0.7}").replace("kind: sum, event", "kind: sum, ev")
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_definition(path)
    problems = caught.value.problems
    assert any(p.field == "metrics[2].ev" and p.line == 14 for p in problems), problems
    # pydantic's own errors come first; the cross-field rules are checked on a valid shape
    path.write_text(YAML.replace("share: 0.8}", "share: 0.7}"), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_definition(path)
    (problem,) = caught.value.problems
    assert problem.field == "arms" and problem.line == 8
    assert "sum to 0.9" in problem.message


def test_shares_sum_to_one_within_a_tolerance() -> None:
    thirds = [
        {"name": "control", "share": 0.333333, "control": True},
        {"name": "a", "share": 0.333333},
        {"name": "b", "share": 0.333334},
    ]
    d = parse_definition(definition(arms=thirds))
    assert cumulative_shares(d.arms)[-1] == 1.0
    off = [dict(a) for a in thirds]
    off[2]["share"] = 0.3334
    assert "sum to 1" in _problems(definition(arms=off))["arms"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"arms": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}, "arms", "control"),
        (
            {
                "arms": [
                    {"name": "a", "share": 0.5, "control": True},
                    {"name": "b", "share": 0.5, "control": True},
                ]
            },
            "arms",
            "2 are",
        ),
        (
            {
                "arms": [
                    {"name": "a", "share": 0.5, "control": True},
                    {"name": "a", "share": 0.5},
                ]
            },
            "arms[1].name",
            "used twice",
        ),
        ({"name": "Spring Offer"}, "name", "pattern"),
        ({"end": "2026-02-01T00:00:00Z"}, "end", "after the start"),
        ({"end": "9999-12-31T00:00:00Z"}, "end", "between 1970 and 2200"),
        ({"start": "0001-01-01T00:00:00Z"}, "start", "between 1970 and 2200"),
        ({"channel": "fax"}, "channel", "email"),
        ({"segment": "lapsed"}, "segment", "one of them"),
        ({"customers": None}, "segment", "one of them"),
        ({"customers": ["cus_1", "cus_1"]}, "customers", "repeat: cus_1"),
        (
            {"metrics": [{"name": "m", "kind": "sum", "event": "Order Completed"}]},
            "metrics[0].property",
            "needs `property`",
        ),
        (
            {"metrics": [{"name": "m", "kind": "count", "event": "E", "property": "p"}]},
            "metrics[0]",
            "only a sum metric",
        ),
        (
            {"metrics": [{"name": "m", "kind": "median", "event": "E"}]},
            "metrics[0].kind",
            "conversion",
        ),
        (
            {"metrics": [{"name": "m", "kind": "count", "event": "E", "covariate": {}}]},
            "metrics[0].covariate",
            "one of them",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "m",
                        "kind": "count",
                        "event": "E",
                        "covariate": {"pre_period_days": 0},
                    }
                ]
            },
            "metrics[0].covariate.pre_period_days",
            "greater than 0",
        ),
        (
            {
                "metrics": [
                    {"name": "m", "kind": "count", "event": "E"},
                    {"name": "m", "kind": "conversion", "event": "E"},
                ]
            },
            "metrics[1].name",
            "used twice",
        ),
        (
            {"exposures": [{"kind": "sent", "event": "E"}, {"kind": "opened", "event": "E"}]},
            "exposures[1].event",
            "listed twice",
        ),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_invalid_definitions_name_the_field(change: dict[str, Any], field: str, words: str) -> None:
    problems = _problems(definition(**change))
    assert field in problems, problems
    assert words in problems[field]


def test_a_definition_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a campaign definition"):
        definition_from_text("- just\n- a list\n")
