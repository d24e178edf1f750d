"""customer_events: every stored event with its customer, each message once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from deltalake import write_deltalake

from tandem.customers.behaviour import customer_events, derive_customer_events
from tandem.customers.profiles import build_profiles
from tandem.lake.derived import is_stale, replace_table
from tandem.lake.schema import CUSTOMER_EVENTS_SCHEMA
from tandem.workspace import Workspace
from tests.customers.identity_helpers import send, track
from tests.customers.profile_data import CUSTOMER_OF, build_lake


def _store_copy(ws: Workspace, message_id: str, ingested: datetime, **changes: str) -> None:
    """A physical copy of a stored message, as two processes storing it at once leave."""
    raw = ws.lake.raw("events").to_pyarrow()
    copy = raw.filter(pc.equal(raw["message_id"], message_id))
    later = pa.array([ingested], copy.schema.field("ingested_at").type)
    copy = copy.set_column(copy.schema.get_field_index("ingested_at"), "ingested_at", later)
    for column, value in changes.items():
        i = copy.schema.get_field_index(column)
        copy = copy.set_column(i, column, pa.array([value], copy.schema.field(column).type))
    write_deltalake(ws.lake.table("events"), copy, mode="append")


def test_every_resolved_message_once_with_its_customer(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    send(workspace, "web", [track("hv-9")])  # stored after the resolution: no customer yet
    table = customer_events(workspace.lake).to_pyarrow()
    got = dict(zip(table["message_id"].to_pylist(), table["customer_id"].to_pylist(), strict=True))
    assert got == CUSTOMER_OF
    assert table.num_rows == 12
    assert {"record_id", "event", "properties", "timestamp", "type"} <= set(table.column_names)
    c1 = table.filter(pc.equal(table["message_id"], "c1"))
    assert c1["record_id"].to_pylist() == ["C1"] and c1["source"].to_pylist() == ["crm"]


def test_a_copy_counts_once_and_the_first_ingested_wins(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    # w4 is stored again later, with another event name: the first copy is the message
    _store_copy(workspace, "w4", datetime(2030, 1, 1, tzinfo=UTC), event="Changed")
    # w7 is stored again EARLIER than its stored copy (a clock or a race): that one wins
    _store_copy(workspace, "w7", datetime(2000, 1, 1, tzinfo=UTC), event="Earlier")
    assert workspace.lake.raw("events").count().to_pyarrow().as_py() == 14
    events = customer_events(workspace.lake)
    assert events.count().to_pyarrow().as_py() == 12
    by_id = {r["message_id"]: r for r in events.to_pyarrow().to_pylist()}
    assert by_id["w4"]["event"] == "Order Completed"
    assert by_id["w7"]["event"] == "Earlier"
    # a filter on the result sees the same single copy
    orders = events.filter(events.event == "Order Completed")
    counts = orders.group_by("customer_id").aggregate(n=orders.count()).to_pyarrow().to_pylist()
    assert sorted((r["customer_id"], r["n"]) for r in counts) == [("cus_a", 3), ("cus_d", 2)]
    # and agrees with the lake's own deduplicated view
    assert (
        events.count().to_pyarrow().as_py()
        == workspace.lake.events()
        .filter(workspace.lake.events().message_id.isin(list(CUSTOMER_OF)))
        .count()
        .to_pyarrow()
        .as_py()
    )


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    rows = table.select(sorted(table.column_names)).to_pylist()
    return sorted(tuple(str(v) for v in r.values()) for r in rows)


def test_the_derived_table_holds_the_same_rows_sorted_by_event_and_customer(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    _store_copy(workspace, "w4", datetime(2030, 1, 1, tzinfo=UTC), event="Changed")
    assert workspace.lake.table("customer_events").version() == 0  # never written: joined
    joined = customer_events(workspace.lake).to_pyarrow()
    rows, seconds = derive_customer_events(workspace.lake)
    assert rows == 12 and seconds >= 0
    assert workspace.lake.table("customer_events").version() > 0
    stored = workspace.lake.table("customer_events").to_pyarrow_table()
    assert stored.schema == CUSTOMER_EVENTS_SCHEMA
    assert _rows(stored) == _rows(joined.select(stored.column_names).cast(stored.schema))
    assert _rows(customer_events(workspace.lake).to_pyarrow()) == _rows(stored)
    keys = list(zip(stored["event"].to_pylist(), stored["customer_id"].to_pylist(), strict=True))
    assert keys == sorted(keys, key=lambda k: (k[0] is None, k[0] or "", k[1]))


def test_the_derived_table_is_what_the_last_derivation_saw(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    derive_customer_events(workspace.lake)
    # a copy stored EARLIER than the stored one changes the message only once derived again
    _store_copy(workspace, "w7", datetime(2000, 1, 1, tzinfo=UTC), event="Earlier")
    send(workspace, "web", [track("hv-9")])  # no identity: never included

    def w7() -> str:
        events = customer_events(workspace.lake)
        return str(events.filter(events.message_id == "w7").event.to_pyarrow()[0])

    assert w7() == "Order Completed"
    derive_customer_events(workspace.lake)
    assert w7() == "Earlier"
    assert customer_events(workspace.lake).count().to_pyarrow().as_py() == 12


def test_building_profiles_derives_the_customer_events(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    stats = build_profiles(workspace, now=datetime(2026, 7, 1, tzinfo=UTC), run=1)
    assert "customer_events" in stats.stages
    stored = workspace.lake.table("customer_events").to_pyarrow_table()
    got = dict(
        zip(stored["message_id"].to_pylist(), stored["customer_id"].to_pylist(), strict=True)
    )
    assert got == CUSTOMER_OF


def test_an_exact_copy_counts_once(workspace: Workspace, tmp_path: Path) -> None:
    build_lake(workspace, tmp_path)
    raw = workspace.lake.raw("events").to_pyarrow()
    w4 = raw.filter(pc.equal(raw["message_id"], "w4"))
    write_deltalake(workspace.lake.table("events"), w4, mode="append")  # the same ingested_at
    assert workspace.lake.raw("events").count().to_pyarrow().as_py() == 13
    joined = customer_events(workspace.lake).to_pyarrow()  # never derived: computed
    assert joined.num_rows == 12 and joined["message_id"].to_pylist().count("w4") == 1
    rows, _ = derive_customer_events(workspace.lake)
    assert rows == 12


def test_behaviour_is_computed_after_identities_are_rewritten_until_derived_again(
    workspace: Workspace, tmp_path: Path
) -> None:
    build_lake(workspace, tmp_path)
    derive_customer_events(workspace.lake)
    assert not is_stale(workspace.lake, "customer_events")
    # identities rewritten (a resolution that then failed before deriving behaviour): w4 now
    # belongs to someone else, and behaviour must follow the identities, not the old table
    identities = workspace.lake.raw("identities").to_pyarrow()
    moved = pc.if_else(
        pc.equal(identities["message_id"], "w4"), "cus_new", identities["customer_id"]
    )
    replace_table(workspace.lake, "identities", identities.set_column(3, "customer_id", moved))
    assert is_stale(workspace.lake, "customer_events")

    def owner_of_w4() -> str:
        events = customer_events(workspace.lake)
        return str(events.filter(events.message_id == "w4").customer_id.to_pyarrow()[0])

    assert owner_of_w4() == "cus_new"
    derive_customer_events(workspace.lake)
    assert not is_stale(workspace.lake, "customer_events")
    stored = workspace.lake.raw("customer_events")
    assert stored.filter(stored.message_id == "w4").customer_id.to_pyarrow()[0].as_py() == "cus_new"
    assert owner_of_w4() == "cus_new"
