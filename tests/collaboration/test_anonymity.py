"""Anonymity: what is stored, what an invitation keeps, and differencing attacks on results."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from tandem import Workspace
from tandem.collaboration.anonymity import GroupCounts, check_min_group, suppressed_groups
from tandem.collaboration.surveys import hash_token
from tandem.db.models import SurveyInvitation, SurveyResponse
from tandem.errors import InvalidValue
from tests.conftest import Tandem

SIZES = {"marketing": 9, "it": 8, "digital": 6, "hr": 2, "executive": 5}


def _rows(seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for fn, size in SIZES.items():
        for _ in range(size):
            answers: dict[str, object] = {
                key: rng.randint(1, 5)
                for key in ("right-people", "have-strategy", "trust-skills", "marketing-it")
            }
            if rng.random() < 0.25:  # skipped answers make n differ per question
                del answers["trust-skills"]
            answers["vision"] = rng.choice(["executive", "marketing", "it", "digital"])
            answers["works-with"] = rng.sample(["marketing", "it", "digital", "hr"], 2)
            rows.append({"function": fn, "seniority": rng.choice(["staff", "manager"]), **answers})
    return rows


def _csv(rows: list[dict[str, object]]) -> str:
    cols = [
        "function",
        "seniority",
        "right-people",
        "have-strategy",
        "trust-skills",
        "marketing-it",
        "vision",
        "works-with",
    ]
    lines = [",".join(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(";".join(v) if isinstance(v, list) else str(v))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_min_group_floor() -> None:
    assert check_min_group(3) == 3
    with pytest.raises(InvalidValue, match="at least 3"):
        check_min_group(2)


def test_a_lone_small_group_takes_the_next_smallest_with_it() -> None:
    groups = {"a": GroupCounts(10, [6]), "b": GroupCounts(6, [3]), "c": GroupCounts(2, [1])}
    assert suppressed_groups(groups, 5) == {"c": "small", "b": "complementary"}


def test_hidden_groups_that_all_agree_are_widened() -> None:
    # c (2) and b (6) all agree: their sum would tell that both people of c agree.
    groups = {
        "a": GroupCounts(10, [4]),
        "d": GroupCounts(7, [2]),
        "b": GroupCounts(6, [6]),
        "c": GroupCounts(2, [2]),
    }
    assert suppressed_groups(groups, 5) == {
        "c": "small",
        "b": "complementary",
        "d": "complementary",
    }


def test_no_small_group_nothing_hidden_and_tiny_total_hides_all() -> None:
    assert suppressed_groups({"a": GroupCounts(5, [1]), "b": GroupCounts(5, [2])}, 5) == {}
    assert suppressed_groups({"a": GroupCounts(3, [1]), "b": GroupCounts(1, [0])}, 5) == {
        "a": "small",
        "b": "small",
    }


def _possible(total: int, shown: int, hidden_ns: list[int], small: int) -> set[int]:
    """Every value the small hidden group's count can take, given what a reader sees."""
    residual = total - shown
    others = [n for i, n in enumerate(hidden_ns) if i != small]
    values = set()
    for k in range(hidden_ns[small] + 1):
        rest = residual - k
        if 0 <= rest <= sum(others):
            values.add(k)
    return values


def _attack(results: dict[str, object], small: str = "hr") -> int:
    """For every question and figure, try to recover the 2-person group's count by
    subtracting the shown groups from the company figure. Returns how many figures were tried."""
    tried = 0
    for q in results["questions"]:  # type: ignore[union-attr]
        overall = q["overall"]
        if not overall["n"]:
            continue  # nobody answered: nothing to recover
        groups = {g["group"]: g for g in q["groups"]}
        hr = groups[small]
        assert hr["n"] is None and hr["suppressed"], q["key"]
        shown = [g for g in groups.values() if not g["suppressed"]]
        hidden = [g for g in groups.values() if g["suppressed"]]
        assert len(hidden) >= 2, q["key"]
        hidden_n = overall["n"] - sum(g["n"] for g in shown)
        assert hidden_n >= 5, q["key"]
        if q["kind"] == "agreement":
            figures = [(overall["agree"]["k"], sum(g["agree"]["k"] for g in shown))]
        else:
            figures = [
                (o["count"], sum(g["options"][i]["count"] for g in shown))
                for i, o in enumerate(overall["options"])
                if 0 < o["count"] < overall["n"]
            ]
        for total, shown_k in figures:
            # the reader does not know how hidden_n splits: try every split with hr <= 4
            for hr_n in range(1, 5):
                values = _possible(total, shown_k, [hr_n, hidden_n - hr_n], 0)
                if values:
                    assert len(values) > 1, (q["key"], total, shown_k, hr_n)
            tried += 1
    return tried


def test_differencing_cannot_recover_the_small_group(
    workspace: Workspace, tandem: Tandem, tmp_path: Path
) -> None:
    workspace.surveys.create("pulse")
    workspace.surveys.import_text("pulse", _csv(_rows()))
    via_api = workspace.surveys.results("pulse", by="function").to_dict()
    assert _attack(via_api) >= 8
    run = tandem("survey", "results", "pulse", "--by", "function", "--json", "-w", workspace.root)
    assert run.exit_code == 0
    assert run.json() == json.loads(json.dumps(via_api))
    table = tandem("survey", "results", "pulse", "--by", "function", "-w", workspace.root)
    hr_column = [line for line in table.stdout.splitlines() if "right-people" in line]
    assert hr_column and "hidden" in hr_column[0]


def test_every_seed_resists_differencing(workspace: Workspace) -> None:
    for seed in range(5):
        name = f"pulse-{seed}"
        workspace.surveys.create(name)
        workspace.surveys.import_text(name, _csv(_rows(seed)))
        _attack(workspace.surveys.results(name, by="function").to_dict())


def test_a_response_stores_function_seniority_answers_and_a_random_id_only(
    workspace: Workspace,
) -> None:
    columns = {c["name"] for c in inspect(workspace.db.engine).get_columns("survey_responses")}
    assert columns == {"id", "survey_id", "function", "seniority", "answers"}
    invitation_columns = {
        c["name"] for c in inspect(workspace.db.engine).get_columns("survey_invitations")
    }
    assert invitation_columns == {"token_hash", "survey_id"}


def test_invitation_order_cannot_be_joined_to_response_order(workspace: Workspace) -> None:
    """The attack: the administrator knows who got which link (in the order issued) and reads
    the tables afterwards. Used links leave no row, so nothing orders them; responses come back
    in the order of their random ids, not in the order they arrived."""
    workspace.surveys.create("pulse")
    tokens = workspace.surveys.invite("pulse", 12)
    for i, token in enumerate(tokens[:10]):
        workspace.surveys.submit(token, "marketing", None, {"right-people": (i % 5) + 1})
    with workspace.session() as s:
        left = set(s.scalars(select(SurveyInvitation.token_hash)).all())
        ids = s.scalars(select(SurveyResponse.id)).all()
        scores = [a["right-people"] for a in s.scalars(select(SurveyResponse.answers)).all()]
    assert left == {hash_token(t) for t in tokens[10:]}
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert sorted(scores) == sorted((i % 5) + 1 for i in range(10))
    info = workspace.surveys.show("pulse")
    assert (info.invitations, info.invitations_used) == (12, 10)


def test_no_hidden_row_number_or_shared_transaction_id_links_the_tables(
    workspace: Workspace,
) -> None:
    """SQLite: the tables have no rowid (which would number responses in arrival order).
    PostgreSQL: no invitation row carries the transaction id (xmin) of a response."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    workspace.surveys.create("pulse")
    tokens = workspace.surveys.invite("pulse", 4)
    for token in tokens[:3]:
        workspace.surveys.submit(token, "it", "staff", {"have-strategy": 4})
    with workspace.db.engine.connect() as conn:
        if workspace.db.engine.dialect.name == "sqlite":
            for table in ("survey_responses", "survey_invitations"):
                with pytest.raises(OperationalError, match="rowid"):
                    conn.execute(text(f"SELECT rowid FROM {table}"))
        else:
            responses = {r[0] for r in conn.execute(text("SELECT xmin FROM survey_responses"))}
            invites = {r[0] for r in conn.execute(text("SELECT xmin FROM survey_invitations"))}
            assert len(responses) == 3
            assert not responses & invites


def test_differencing_by_seniority(workspace: Workspace, tandem: Tandem) -> None:
    rows = _rows(3)
    for row in rows[:2]:
        row["seniority"] = "director"
    workspace.surveys.create("pulse")
    workspace.surveys.import_text("pulse", _csv(rows))
    run = tandem("survey", "results", "pulse", "--by", "seniority", "--json", "-w", workspace.root)
    assert _attack(run.json(), small="director") >= 8


def test_respondent_counts_hide_the_small_group_and_its_complement(workspace: Workspace) -> None:
    workspace.surveys.create("pulse")
    workspace.surveys.import_text("pulse", _csv(_rows()))
    info = workspace.surveys.show("pulse")
    assert info.respondents == 30
    assert info.respondents_by_function == {
        "executive": None,  # 5, hidden with hr: 30 - 9 - 8 - 6 = 7 tells nothing about hr
        "marketing": 9,
        "it": 8,
        "digital": 6,
        "hr": None,
    }
