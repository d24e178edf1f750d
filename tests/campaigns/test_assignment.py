"""Assignment: the documented hash rule computed by the engine equals a plain hashlib
computation; arms follow their shares; campaigns split independently; assignment is stable;
imports accept or reject every row with a reason."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from scipy import stats

from tandem import Workspace
from tandem.campaigns.assignment import arm_of, hash_arms, unit_value
from tandem.campaigns.definition import ArmSpec
from tandem.errors import InvalidValue
from tests.campaigns import campaign_data as cd

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]

ARMS = [
    ArmSpec(name="control", share=0.2, control=True),
    ArmSpec(name="email", share=0.5),
    ArmSpec(name="sms", share=0.3),
]
CUSTOMERS = [f"cus_{i:06d}" for i in range(20_000)]


def _engine_arms(salt: str, arms: list[ArmSpec], ids: list[str] = CUSTOMERS) -> dict[str, str]:
    con = ibis.duckdb.connect()
    target = ibis.memtable(pa.table({"customer_id": ids}))
    rows = con.to_pyarrow(hash_arms(target, salt, arms)).to_pylist()
    return {r["customer_id"]: r["arm"] for r in rows}


def _by_hand(salt: str, customer_id: str) -> str:
    """The rule as docs/campaigns.md writes it, with hashlib only."""
    digest = hashlib.sha256((salt + ":" + customer_id).encode("utf-8")).hexdigest()
    u = int(digest[:13], 16) / 2**52
    if u < 0.2:
        return "control"
    if u < 0.2 + 0.5:
        return "email"
    return "sms"


def test_engine_arms_equal_the_documented_rule() -> None:
    engine = _engine_arms("spring", ARMS)
    assert len(engine) == len(CUSTOMERS)
    assert all(engine[c] == _by_hand("spring", c) for c in CUSTOMERS)
    assert all(engine[c] == arm_of("spring", c, ARMS) for c in CUSTOMERS[:2000])
    u = unit_value("spring", "cus_000001")
    assert (
        0 <= u < 1 and u == int(hashlib.sha256(b"spring:cus_000001").hexdigest()[:13], 16) / 2**52
    )


def test_arm_shares_pass_a_chi_square_test() -> None:
    counts = Counter(_engine_arms("spring", ARMS).values())
    observed = [counts["control"], counts["email"], counts["sms"]]
    expected = [a.share * len(CUSTOMERS) for a in ARMS]
    assert sum(observed) == len(CUSTOMERS)
    assert stats.chisquare(observed, expected).pvalue > 0.001
    # each arm within 3% (absolute share) of its target
    assert all(
        abs(o / len(CUSTOMERS) - a.share) < 0.03 for o, a in zip(observed, ARMS, strict=True)
    )


def test_two_salts_split_independently() -> None:
    two = [ArmSpec(name="control", share=0.5, control=True), ArmSpec(name="offer", share=0.5)]
    a = _engine_arms("spring", two)
    b = _engine_arms("summer", two)
    table = Counter((a[c], b[c]) for c in CUSTOMERS)
    observed = [[table[("control", "control")], table[("control", "offer")]],
                [table[("offer", "control")], table[("offer", "offer")]]]  # fmt: skip
    assert stats.chi2_contingency(observed).pvalue > 0.001
    same = sum(a[c] == b[c] for c in CUSTOMERS) / len(CUSTOMERS)
    assert 0.47 < same < 0.53  # independent halves agree about half the time
    assert _engine_arms("spring", two) == a  # reproducible


@pytest.fixture
def built(workspace: Workspace, tmp_path: Path) -> Workspace:
    cd.build(workspace, tmp_path)
    return workspace


def _assignments(ws: Workspace, name: str = "spring") -> dict[str, tuple[str, str, str]]:
    rows = ws.lake.con.to_pyarrow(ws.campaigns.assignments(name)).to_pylist()
    return {r["customer_id"]: (r["arm"], r["assigned_at"].isoformat(), r["origin"]) for r in rows}


def test_assign_writes_the_rule_once_and_keeps_assignments(built: Workspace) -> None:
    built.campaigns.create(cd.definition())
    first = built.campaigns.assign("spring", at=cd.T)
    assert first.target == 6 and first.total == 6 and sum(first.added.values()) == 6
    stored = _assignments(built)
    two = [ArmSpec(name="control", share=0.5, control=True), ArmSpec(name="offer", share=0.5)]
    assert {c: a for c, (a, _, _) in stored.items()} == {
        c: arm_of("spring", c, two) for c in cd.ARMS
    }
    assert {o for _, _, o in stored.values()} == {"hash"}
    version = built.lake.table("assignments").version()
    again = built.campaigns.assign("spring", at=cd.NOW)
    assert again.total == 6 and sum(again.added.values()) == 0
    assert _assignments(built) == stored  # same arm, same assigned_at
    assert built.lake.table("assignments").version() == version  # nothing written


def test_a_growing_segment_adds_new_members_only(built: Workspace, tmp_path: Path) -> None:
    built.segments.create(
        {
            "name": "buyers",
            "owners": ["marketing"],
            "where": {"trait": "orders", "op": ">=", "value": 1},
        }
    )
    built.campaigns.create(cd.definition(customers=None, segment="buyers"))
    first = built.campaigns.assign("spring", at=cd.T)  # evaluates the never-evaluated segment
    buyers = {"cus_1", "cus_3", "cus_4", "cus_5", "cus_6"}
    before = _assignments(built)
    assert set(before) == buyers and first.target == 5
    # cus_2 buys later: the segment grows
    later = [*cd.MESSAGES, cd._order("o10", "u2", 20 * cd.DAY, 5)]
    cd.build(built, tmp_path, later)
    grown = built.campaigns.assign("spring", at=cd.NOW, evaluate=True)
    after = _assignments(built)
    assert grown.target == 6 and sum(grown.added.values()) == 1
    assert {c: after[c] for c in before} == before
    assert after["cus_2"][1] == cd.NOW.isoformat()


def _import(ws: Workspace, tmp: Path, text: str, name: str = "holdout.csv") -> dict[int, str]:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    summary = ws.campaigns.import_assignments("spring", path, at=cd.T)
    assert summary.accepted + summary.rejected == summary.rows
    return {r.row: r.reason for r in summary.rejections}


def test_import_by_customer_id_rejects_with_reasons(built: Workspace, tmp_path: Path) -> None:
    built.campaigns.create(cd.definition())
    rejected = _import(
        built,
        tmp_path,
        "customer_id,arm\n"
        "cus_1,control\n"  # 1 accepted
        "cus_2,offer\n"  # 2 accepted
        "cus_2,offer\n"  # 3 accepted again (same arm): written once
        "cus_3,control\n"  # 4 conflicting with row 5
        "cus_3,offer\n"  # 5
        "cus_9,offer\n"  # 6 unknown customer
        "cus_4,holdout\n"  # 7 unknown arm
        ",offer\n",  # 8 no customer
    )
    assert set(rejected) == {4, 5, 6, 7, 8}
    assert "different arms" in rejected[4] and "different arms" in rejected[5]
    assert "unknown customer" in rejected[6]
    assert "unknown arm `holdout`" in rejected[7]
    assert "no customer_id" in rejected[8]
    stored = _assignments(built)
    assert stored == {
        "cus_1": ("control", cd.T.isoformat(), "import"),
        "cus_2": ("offer", cd.T.isoformat(), "import"),
    }
    # a second import cannot move a customer to another arm; the same arm is accepted
    again = _import(built, tmp_path, "customer_id,arm\ncus_1,offer\ncus_2,offer\n")
    assert set(again) == {1} and "already assigned to arm `control`" in again[1]
    assert _assignments(built) == stored


def test_import_by_email_and_record_id(built: Workspace, tmp_path: Path) -> None:
    built.campaigns.create(cd.definition())
    assert _import(
        built, tmp_path, "email,arm\nP1@X.example,control\nnobody@x.example,offer\n"
    ) == {2: "unknown customer (email)"}
    assert _import(built, tmp_path, "record_id,arm\no4,offer\n", "r.csv") == {}
    stored = _assignments(built)
    assert stored["cus_1"][0] == "control" and stored["cus_3"][0] == "offer"
    rows = built.lake.con.to_pyarrow(built.campaigns.assignments("spring")).to_pylist()
    assert {r["customer_id"]: r["record_id"] for r in rows} == {
        "cus_1": "P1@X.example",
        "cus_3": "o4",
    }


def test_import_from_parquet_and_bad_files(built: Workspace, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    built.campaigns.create(cd.definition())
    path = tmp_path / "arms.parquet"
    pq.write_table(pa.table({"Customer_ID": ["cus_5", "cus_6"], "arm": ["offer", "control"]}), path)
    summary = built.campaigns.import_assignments("spring", path)
    assert (summary.accepted, summary.written, summary.id_column) == (2, 2, "customer_id")
    (tmp_path / "x.csv").write_text("who,arm\ncus_1,offer\n", encoding="utf-8")
    with pytest.raises(InvalidValue, match="no customer column"):
        built.campaigns.import_assignments("spring", tmp_path / "x.csv")
    (tmp_path / "y.csv").write_text("customer_id,group\ncus_1,offer\n", encoding="utf-8")
    with pytest.raises(InvalidValue, match="no `arm` column"):
        built.campaigns.import_assignments("spring", tmp_path / "y.csv")
    pq.write_table(pa.table({"customer_id": [["cus_1"]], "arm": ["offer"]}), tmp_path / "l.parquet")
    with pytest.raises(InvalidValue, match=r"holds list<.*>, not text or numbers"):
        built.campaigns.import_assignments("spring", tmp_path / "l.parquet")
    (tmp_path / "z.xlsx").write_text("?", encoding="utf-8")
    with pytest.raises(InvalidValue, match="unknown file type"):
        built.campaigns.import_assignments("spring", tmp_path / "z.xlsx")


def test_a_forgotten_customer_is_not_assigned_again(built: Workspace) -> None:
    from tandem.customers.forget import forget, plan_forget

    built.campaigns.create(cd.definition())
    built.campaigns.assign("spring", at=cd.T)
    forget(built, plan_forget(built, "p2@x.example"))
    assert "cus_2" not in _assignments(built)  # erased with the person's data
    again = built.campaigns.assign("spring", at=cd.NOW)
    assert again.target == 5 and sum(again.added.values()) == 0
    assert "cus_2" not in _assignments(built)


def test_import_follows_merged_customer_ids(built: Workspace, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tandem.lake.derived import replace_table

    created = datetime(2026, 2, 1, tzinfo=UTC)
    replace_table(
        built.lake,
        "customer_ids",
        pa.table(
            {
                "customer_id": ["cus_1", "cus_old", "cus_older"],
                "created_at": [created] * 3,
                "run": [1, 1, 1],
                "merged_into": [None, "cus_1", "cus_old"],  # older -> old -> cus_1
                "merged_at": [None, created, created],
            }
        ),
    )
    built.campaigns.create(cd.definition())
    rejected = _import(built, tmp_path, "customer_id,arm\ncus_older,offer\ncus_gone,offer\n")
    assert rejected == {2: "unknown customer (customer_id)"}
    rows = built.lake.con.to_pyarrow(built.campaigns.assignments("spring")).to_pylist()
    assert [(r["customer_id"], r["arm"], r["record_id"]) for r in rows] == [
        ("cus_1", "offer", "cus_older")
    ]
