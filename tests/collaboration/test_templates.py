"""Survey templates: the built-in digital pulse, YAML errors with lines, benchmark references."""

from __future__ import annotations

import pytest

from tandem.collaboration.templates import (
    benchmark_of,
    built_in,
    load_template,
    parse_template,
)
from tandem.errors import InvalidInput, InvalidValue, NotFound


def test_digital_pulse_mirrors_the_forrester_questions() -> None:
    spec = built_in("digital-pulse")
    kinds = {q.key: q.kind for q in spec.questions}
    assert kinds == {
        "right-people": "agreement",
        "have-strategy": "agreement",
        "trust-skills": "agreement",
        "marketing-it": "agreement",
        "digital-it": "agreement",
        "marketing-digital": "agreement",
        "vision": "single_choice",
        "works-with": "multiple_choice",
    }
    pairs = {q.key: q.pair for q in spec.questions if q.pair}
    assert pairs == {
        "marketing-it": ["it", "marketing"],
        "digital-it": ["digital", "it"],
        "marketing-digital": ["digital", "marketing"],
    }
    bench = {q.key: q.benchmark for q in spec.questions}
    assert benchmark_of(bench["right-people"] or "")["percent"] == 21
    assert benchmark_of(bench["have-strategy"] or "")["percent"] == 74
    assert benchmark_of(bench["trust-skills"] or "")["percent"] == 15
    assert benchmark_of(bench["digital-it"] or "")["percent"] == 25
    assert benchmark_of(bench["marketing-digital"] or "")["percent"] == 30
    vision = benchmark_of(bench["vision"] or "")
    assert vision["by_kind"] == {"executive": 30, "marketing": 27, "it": 13}
    assert "Just 13 per cent said the CIO" in vision["quote"]


def test_template_errors_name_line_and_field() -> None:
    text = """key: mine
title: Mine
questions:
  - key: q1
    text: Fine
    kind: agreement
  - key: q2
    text: Bad kind
    kind: rating
  - key: q3
    text: A choice without options
    kind: single_choice
"""
    with pytest.raises(InvalidInput) as err:
        parse_template(text, source="mine.yaml")
    problems = {(p.field, p.line) for p in err.value.problems}
    assert ("questions[1].kind", 9) in problems
    assert any(f == "questions[2]" and line == 10 for f, line in problems)
    assert "options" in " ".join(p.message for p in err.value.problems)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("kind: agreement\n    benchmark: nope", "unknown benchmark `nope`"),
        ("kind: agreement\n    pair: [it, it]", "two different functions"),
        ("kind: single_choice\n    options: [a, b]\n    pair: [it, hr]", "only an agreement"),
        ("kind: single_choice\n    options: [Red, red]", "options repeat red"),
        ("kind: agreement\n    options: functions", "has no `options`"),
        ("kind: single_choice\n    options: [a]\n    evidence: works_with", "works_with"),
        ("kind: multiple_choice\n    options: functions\n    benchmark: vision_setter", "single"),
    ],
)
def test_incoherent_questions_are_refused(question: str, message: str) -> None:
    text = f"key: t\ntitle: T\nquestions:\n  - key: q\n    text: Q\n    {question}\n"
    with pytest.raises(InvalidInput) as err:
        parse_template(text)
    assert message in err.value.problems[0].message
    assert (err.value.problems[0].line or 0) >= 4


def test_repeated_and_reserved_question_keys() -> None:
    base = "key: t\ntitle: T\nquestions:\n"
    q = "  - key: {k}\n    text: Q\n    kind: agreement\n"
    with pytest.raises(InvalidInput, match="problem") as err:
        parse_template(base + q.format(k="a") + q.format(k="a"))
    assert "repeat: a" in err.value.problems[0].message
    with pytest.raises(InvalidInput) as err:
        parse_template(base + q.format(k="function"))
    assert "reserved" in err.value.problems[0].message


def test_options_as_labels_get_keys() -> None:
    spec = parse_template(
        "key: t\ntitle: T\nquestions:\n  - key: q\n    text: Q\n    kind: single_choice\n"
        "    options: [Weekly, Once a month, {key: never, label: Never}]\n"
    )
    assert spec.questions[0].options is not None


def test_load_template_by_key_or_file(tmp_path: object) -> None:
    assert load_template("digital-pulse").key == "digital-pulse"
    with pytest.raises(InvalidValue, match="unknown template `pulse`"):
        load_template("pulse")
    with pytest.raises(InvalidInput, match="not found"):
        load_template("missing.yaml")
    with pytest.raises(NotFound):
        built_in("nope")
