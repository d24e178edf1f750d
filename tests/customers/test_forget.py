"""tandem forget's domain: after an erasure the person's values are in no lake table's current
version, other people are untouched, and the erasure log holds no value."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pytest
from deltalake import write_deltalake
from sqlalchemy import select

from tandem.customers.forget import forget, plan_forget
from tandem.customers.profiles import build_profiles, get_profile
from tandem.db.models.identity import Erasure
from tandem.errors import NotFound
from tandem.lake.locks import Busy, exclusive
from tandem.lake.schema import ASSIGNMENTS, EXPOSURES, SCHEMAS, SEGMENT_MEMBERSHIPS
from tandem.workspace import Workspace
from tests.customers.profile_data import NOW, build_lake

ANN = ("ann@x.example", "crm:C1", "hv-1", "anon-1", "07970 231820", "+447970231820", "Leeds")


def occurrences(ws: Workspace, values: tuple[str, ...]) -> dict[str, int]:
    """How many cells of each lake table's current version contain one of `values`
    (case-insensitive), over every string column."""
    hits: dict[str, int] = {}
    for name in SCHEMAS:
        table = ws.lake.table(name).to_pyarrow_table()
        count = 0
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                lowered = pc.utf8_lower(column)
                for value in values:
                    count += int(pc.sum(pc.match_substring(lowered, value.lower())).as_py() or 0)
        hits[name] = count
    return hits


@pytest.fixture
def built(workspace: Workspace, tmp_path: Path) -> Workspace:
    build_lake(workspace, tmp_path)
    build_profiles(workspace, now=NOW, run=1)
    return workspace


def test_forget_erases_a_resolved_person_everywhere(built: Workspace) -> None:
    before = occurrences(built, ANN)
    assert before["events"] > 0 and before["quarantine"] > 0 and before["profiles"] > 0
    plan = plan_forget(built, "ANN@X.example")
    assert plan.summary() == {
        "identifier_type": "email",
        "resolved": True,
        "customers": 1,
        "events": 6,
        "quarantine": 1,
    }
    result = forget(built, plan)
    assert result.rows == {
        "events": 6,
        "quarantine": 1,
        "identities": 6,
        "customer_events": 6,
        "identity_links": 2,
        "profiles": 1,
        "customer_ids": 2,  # cus_a and cus_old, merged into it
        "segment_memberships": 0,
        "assignments": 0,
        "exposures": 0,
        "campaign_customer_lists": 0,
    }
    assert occurrences(built, ANN) == dict.fromkeys(SCHEMAS, 0)
    # everyone else is still there
    assert built.lake.events().count().to_pyarrow().as_py() == 12 - 6
    behaviour = built.lake.raw("customer_events").to_pyarrow()
    assert behaviour.num_rows == 12 - 6 and "cus_a" not in behaviour["customer_id"].to_pylist()
    assert get_profile(built.lake, "cus_b") is not None
    assert get_profile(built.lake, "cus_a") is None
    with built.session() as session:
        erasure = session.scalars(select(Erasure)).one()
        logged = json.dumps(
            [erasure.requested_by, erasure.identifier_type, erasure.customers, erasure.rows]
        )
    assert erasure.identifier_type == "email" and erasure.customers == 1
    assert erasure.rows["events"] == 6
    assert not any(v.lower() in logged.lower() for v in ANN)


def test_forget_finds_messages_stored_after_resolution(built: Workspace, tmp_path: Path) -> None:
    late = tmp_path / "late.ndjson"
    late.write_text(
        json.dumps(
            {
                "messageId": "late1",
                "type": "track",
                "event": "Product Viewed",
                "userId": "someone-new",
                "timestamp": "2026-06-20T00:00:00Z",
                "context": {"traits": {"email": "ann@x.example"}},
            }
        )
        + "\n"
    )
    from tandem.customers.ingest import ingest_file

    ingest_file(built.lake, late, source="web")
    result = forget(built, plan_forget(built, "hv-1"))
    assert result.rows["events"] == 7
    assert occurrences(built, ANN)["events"] == 0


def test_forget_before_any_resolution(workspace: Workspace, tmp_path: Path) -> None:
    build_lake(workspace, tmp_path)
    for name in ("identities", "identity_links", "customer_ids"):  # as if never resolved
        from tandem.lake.derived import replace_table

        replace_table(workspace.lake, name, SCHEMAS[name].empty_table())
    plan = plan_forget(workspace, "ann@x.example")
    # the crm record is found by its padded, upper-case email (" ANN@X.EXAMPLE ")
    assert (plan.resolved, plan.messages.num_rows) == (False, 6)
    assert plan.quarantine.num_rows == 1
    result = forget(workspace, plan, vacuum=True)
    assert result.rows["events"] == 6 and result.vacuumed_files and result.vacuumed_files > 0
    left = occurrences(workspace, ("ann@x.example", "hv-1", "anon-1"))
    assert left["events"] == 0 and left["quarantine"] == 0


def test_unknown_identifier_is_not_found(built: Workspace) -> None:
    with pytest.raises(NotFound, match="no customer, event or quarantined row carries that"):
        plan_forget(built, "nobody@nowhere.example")
    with built.session() as session:
        assert session.scalars(select(Erasure)).all() == []


def test_forget_erases_segment_memberships_assignments_and_exposures(built: Workspace) -> None:
    """Rows that know the person only by customer id, also by an id merged since (cus_old)."""
    at = NOW
    customers = ["cus_a", "cus_old", "cus_b"]
    rows = {
        SEGMENT_MEMBERSHIPS: {
            "segment": ["vip"] * 3,
            "evaluation": [1, 1, 1],
            "evaluated_at": [at] * 3,
            "customer_id": customers,
        },
        ASSIGNMENTS: {
            "campaign": ["spring"] * 3,
            "customer_id": customers,
            "arm": ["control", "offer", "offer"],
            "assigned_at": [at] * 3,
            "origin": ["hash"] * 3,
            "record_id": [None] * 3,
        },
        EXPOSURES: {
            "campaign": ["spring"] * 3,
            "customer_id": customers,
            "arm": ["control", "offer", "offer"],
            "kind": ["sent"] * 3,
            "exposed_at": [at] * 3,
            "source": [None] * 3,
            "message_id": [None] * 3,
        },
    }
    for name, data in rows.items():
        write_deltalake(built.lake.table(name), pa.table(data, schema=SCHEMAS[name]), mode="append")
    result = forget(built, plan_forget(built, "ann@x.example"))
    for name in rows:
        assert result.rows[name] == 2, name
        left = built.lake.table(name).to_pyarrow_table().column("customer_id").to_pylist()
        assert left == ["cus_b"], name


def test_forget_waits_for_no_resolution(built: Workspace) -> None:
    """An erasure while identity resolution runs is refused: the resolution would write the
    person back from the events it read before. Nothing is deleted."""
    plan = plan_forget(built, "ann@x.example")
    with exclusive(built.lake.path, "identity resolution"), pytest.raises(Busy) as caught:
        forget(built, plan)
    assert "already running" in caught.value.message
    assert built.lake.events().count().to_pyarrow().as_py() == 12
    assert forget(built, plan).rows["events"] == 6  # released: it runs


def test_forget_takes_the_person_off_campaign_customer_lists(built: Workspace) -> None:
    built.campaigns.create(
        {
            "name": "listed",
            "channel": "email",
            "owners": ["marketing"],
            "customers": ["cus_a", "cus_b"],
            "start": "2026-07-01T00:00:00Z",
            "end": "2026-08-01T00:00:00Z",
            "arms": [
                {"name": "control", "share": 0.5, "control": True},
                {"name": "offer", "share": 0.5},
            ],
            "metrics": [{"name": "bought", "kind": "conversion", "event": "Order Completed"}],
        }
    )
    result = forget(built, plan_forget(built, "ann@x.example"))
    assert result.rows["campaign_customer_lists"] == 1
    assert built.campaigns.get("listed").to_dict(customers=True)["customers"] == ["cus_b"]


def test_a_plan_made_before_a_resolution_is_made_again(built: Workspace) -> None:
    """The profiles changed between the plan and the erasure (a resolution ran): the erasure
    plans again under the lock, so it erases what the new profiles hold."""
    plan = plan_forget(built, "ann@x.example")
    build_profiles(built, now=NOW, run=2)
    assert plan.profiles_version < built.lake.table("profiles").version()
    result = forget(built, plan)
    assert (result.customers, result.rows["events"], result.rows["profiles"]) == (1, 6, 1)
    assert occurrences(built, ANN) == dict.fromkeys(SCHEMAS, 0)
