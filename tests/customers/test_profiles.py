"""build_profiles on a small, fully known lake: survivorship, identifiers, behaviour, orders,
RFM, consent; lookups by id and identifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pytest

from tandem.customers.profiles import (
    Ambiguous,
    NotResolved,
    build_profiles,
    find_customers,
    get_profile,
    parse_identifier,
    profile_view,
)
from tandem.errors import InvalidValue, NotFound
from tandem.workspace import Workspace
from tests.customers.profile_data import NOW, build_lake


@pytest.fixture
def built(workspace: Workspace, tmp_path: Path) -> Workspace:
    build_lake(workspace, tmp_path)
    stats = build_profiles(workspace, now=NOW, run=1)
    assert (stats.customers, stats.with_orders, stats.revenue) == (4, 3, 680.5)
    return workspace


def profile(ws: Workspace, customer_id: str) -> dict[str, Any]:
    found = get_profile(ws.lake, customer_id)
    assert found is not None
    return found


def test_golden_traits_follow_source_priority_then_recency(built: Workspace) -> None:
    a = profile(built, "cus_a")
    # crm (kind crm) beats the newer web value; web's city is the only one
    assert a["first_name"] == "Ann" and a["last_name"] == "Lee"
    assert a["traits"]["firstName"] == "Ann"
    assert a["trait_sources"]["firstName"] == "crm"
    assert a["traits"]["city"] == "Leeds" and a["trait_sources"]["city"] == "web"
    assert a["email"] == "ann@x.example"  # the crm value, trimmed and lower-cased
    assert a["phone"] == "+447970231820"  # E.164
    b = profile(built, "cus_b")
    assert (b["first_name"], b["last_name"]) == ("Bob", "Stone")  # split from `name`
    assert b["phone"] == "+447826298616"
    d = profile(built, "cus_d")
    assert d["first_name"] is None and d["last_name"] == "Dee"  # an empty value never wins
    assert "firstName" not in d["traits"]


def test_source_priority_setting_changes_the_winner(built: Workspace) -> None:
    built.settings.profiles.source_priority = ["web"]
    build_profiles(built, now=NOW, run=2)
    a = profile(built, "cus_a")
    assert a["traits"]["firstName"] == "Annie" and a["trait_sources"]["firstName"] == "web"
    assert a["first_name"] == "Annie"


def test_identifiers_and_behaviour(built: Workspace) -> None:
    a = profile(built, "cus_a")
    assert a["identifiers"] == {
        "anonymous_id": ["anon-1"],
        "email": ["ann@x.example"],
        "phone": ["+447970231820"],
        "user_id": ["crm:C1", "hv-1"],
    }
    assert a["events"] == 6 and a["records"] == 1
    assert a["events_by_type"] == {"identify": 2, "page": 1, "track": 3}
    assert a["events_by_channel"] == {"crm": 1, "web": 5}
    assert a["sources"] == ["crm", "web"]
    assert a["first_seen"].isoformat() == "2026-01-01T00:00:00+00:00"
    assert a["last_seen"].isoformat() == "2026-06-01T00:00:00+00:00"
    c = profile(built, "cus_c")
    assert c["identifiers"] == {"anonymous_id": ["anon-3"]} and c["traits"] == {}


def test_orders_and_rfm(built: Workspace) -> None:
    a, b, c, d = (profile(built, f"cus_{x}") for x in "abcd")
    assert (a["orders"], a["revenue"]) == (2, 150.5)  # O1 sent twice counts once
    assert a["first_order_at"].isoformat() == "2026-03-02T10:00:00+00:00"
    assert (a["recency_days"], a["frequency"], a["monetary"]) == (30, 2, 150.5)
    assert (b["orders"], b["revenue"], b["recency_days"]) == (1, 20.0, 141)
    assert (d["orders"], d["revenue"], d["recency_days"]) == (2, 510.0, 61)
    # quintiles over the three customers with orders; ties share the lower score
    assert (a["r_score"], a["f_score"], a["m_score"], a["rfm"]) == (5, 3, 3, "533")
    assert d["rfm"] == "335" and b["rfm"] == "111"
    assert (c["orders"], c["revenue"], c["recency_days"], c["rfm"]) == (0, 0.0, None, None)
    assert c["r_score"] is None


def test_order_settings(built: Workspace) -> None:
    built.settings.profiles.order_events = ["Nothing"]
    stats = build_profiles(built, now=NOW, run=2)
    assert (stats.with_orders, stats.revenue) == (0, 0.0)
    built.settings.profiles.order_events = ["Order Completed"]
    built.settings.profiles.order_id_property = "none"  # every message is its own order
    assert build_profiles(built, now=NOW, run=3).revenue == 780.5


def test_consent_is_the_latest_statement(built: Workspace) -> None:
    a = profile(built, "cus_a")
    assert a["marketing_opt_in"] is False  # crm said yes in January, the web no in March
    assert a["consent"]["marketingOptIn"]["given"] is False
    assert a["consent"]["marketingOptIn"]["source"] == "web"
    d = profile(built, "cus_d")
    assert d["marketing_opt_in"] is True and d["consent"]["subscribed"]["given"] is True
    assert profile(built, "cus_b")["marketing_opt_in"] is None


def test_parse_identifier() -> None:
    assert parse_identifier(" Jo@X.example ").id_type == "email"
    assert parse_identifier("Jo@X.example").values == ("Jo@X.example", "jo@x.example")
    phone = parse_identifier("07970 231820")
    assert phone.id_type == "phone" and "+447970231820" in phone.values
    assert parse_identifier("@Ann").values == ("@Ann", "ann")
    assert parse_identifier("crm:C1") == parse_identifier("crm:C1")
    assert parse_identifier("crm:C1").id_type == "user_id"
    assert parse_identifier("email:A@B.example").values == ("A@B.example", "a@b.example")
    assert parse_identifier("cus_123").id_type == "customer_id"
    with pytest.raises(InvalidValue, match="empty"):
        parse_identifier("  ")


def test_find_customers(built: Workspace) -> None:
    lake = built.lake
    assert find_customers(lake, "ANN@x.example").customer_ids == ["cus_a"]
    assert find_customers(lake, "+44 7970 231820").customer_ids == ["cus_a"]
    assert find_customers(lake, "hv-4").customer_ids == ["cus_d"]
    assert find_customers(lake, "cus_b").customer_ids == ["cus_b"]
    merged = find_customers(lake, "cus_old")
    assert (merged.customer_ids, merged.merged_from) == (["cus_a"], "cus_old")
    assert find_customers(lake, "nobody@x.example").customer_ids == []
    # a substring of an identifier is not a match
    assert find_customers(lake, "hv-").customer_ids == []


def test_profile_view_explains_and_fails_clearly(built: Workspace, workspace: Workspace) -> None:
    view = profile_view(built, "hv-1")
    assert view["customer_id"] == "cus_a" and view["profile"]["first_name"] == "Ann"
    explained = view["explanation"]
    assert ["crm", "C1"] in explained["records"] and explained["merged_ids"] == ["cus_old"]
    shared = [link for link in explained["links"] if link["kind"] == "identifier"]
    assert {(x["id_type"], x["id_value"], x["records"]) for x in shared} == {
        ("email", "ann@x.example", 2),
        ("anonymous_id", "anon-1", 2),
    }
    d = profile_view(built, "cus_d")["explanation"]["links"]
    assert d[0]["kind"] == "match" and d[0]["match_weight"] == 12.5
    assert profile_view(built, "cus_old")["merged_from"] == "cus_old"
    with pytest.raises(NotFound, match="no customer has that email"):
        profile_view(built, "zed@x.example")


def test_ambiguous_identifier(built: Workspace) -> None:
    # a second customer holding the same email (written by hand as a resolution might)
    from tests.customers.profile_data import CUSTOMER_OF, write_resolution

    CUSTOMER_OF["w1"] = "cus_e"
    try:
        write_resolution(built)
        build_profiles(built, now=NOW, run=2)
    finally:
        CUSTOMER_OF["w1"] = "cus_a"
    with pytest.raises(Ambiguous, match="belongs to 2 customers: cus_a, cus_e"):
        profile_view(built, "ann@x.example")


def test_nothing_resolved(make_workspace: Any) -> None:
    ws = make_workspace("empty")
    with pytest.raises(NotResolved, match="no profiles yet"):
        profile_view(ws, "cus_a")


def test_physical_copies_count_once(built: Workspace) -> None:
    """A message stored twice (before a compaction removes the copy) is one message."""
    from datetime import timedelta

    from deltalake import write_deltalake

    lake = built.lake
    table = lake.table("events").to_pyarrow_table()
    copy = table.filter(pc.is_in(table["message_id"], pa.array(["w1", "w4"])))
    later = pc.add(copy["ingested_at"], pa.scalar(timedelta(hours=1)))
    copy = copy.set_column(copy.schema.get_field_index("ingested_at"), "ingested_at", later)
    write_deltalake(lake.table_path("events"), copy, mode="append", partition_by=["source"])
    assert lake.raw("events").count().to_pyarrow().as_py() == 14
    build_profiles(built, now=NOW, run=2)
    a = profile(built, "cus_a")
    assert (a["events"], a["orders"], a["revenue"]) == (6, 2, 150.5)
    assert a["events_by_type"] == {"identify": 2, "page": 1, "track": 3}


def test_lookups_after_an_erasure_rewrote_the_table(built: Workspace) -> None:
    """An erasure's merge rewrites `profiles`; lookups by id still work (and stay sorted)."""
    from tandem.customers.forget import forget, plan_forget

    forget(built, plan_forget(built, "cus_b"))
    assert get_profile(built.lake, "cus_b") is None
    assert profile(built, "cus_d")["rfm"] == "335"
    files = built.lake.table("profiles").file_uris()
    assert len(files) == 1
    import pyarrow.parquet as pq

    ids = pq.read_table(files[0].removeprefix("file://"), columns=["customer_id"])
    assert ids["customer_id"].to_pylist() == ["cus_a", "cus_c", "cus_d"]


def test_demo_company_profiles_add_up(make_workspace: Any) -> None:
    """The whole `resolve` on the demo's channels: every stored message is in exactly one
    profile, revenue is the demo's distinct orders' revenue, and RFM covers the buyers."""
    from datetime import date

    from tandem.customers.resolve import resolve
    from tandem.demo.channels import build_channels

    ws = make_workspace("demo")
    build_channels(ws, customers=150, seed=5, as_of=date(2026, 11, 23))
    ws.settings.identity.matching = {"enabled": False}
    result = resolve(ws, now=NOW)
    lake = ws.lake
    profiles = lake.table("profiles").to_pyarrow_table()
    assert profiles.num_rows == result.counts["customers"] > 100
    events = lake.events()
    assert pc.sum(profiles["events"]).as_py() == events.count().to_pyarrow().as_py()
    orders = events.filter(events.event == "Order Completed").to_pyarrow()
    order_ids = [json.loads(p)["order_id"] for p in orders["properties"].to_pylist()]
    revenue = {
        json.loads(p)["order_id"]: json.loads(p)["revenue"]
        for p in orders["properties"].to_pylist()
    }
    assert pc.sum(profiles["orders"]).as_py() == len(set(order_ids))
    assert round(pc.sum(profiles["revenue"]).as_py(), 2) == round(sum(revenue.values()), 2)
    buyers = profiles.filter(pc.greater(profiles["orders"], 0))
    assert buyers.num_rows > 0 and buyers["rfm"].null_count == 0
    assert profiles.filter(pc.equal(profiles["orders"], 0))["rfm"].null_count == (
        profiles.num_rows - buyers.num_rows
    )
    scores = set(buyers["r_score"].to_pylist()) | set(buyers["m_score"].to_pylist())
    assert scores <= {1, 2, 3, 4, 5} and {1, 5} <= scores
    # every customer with a CRM record has the CRM's first name (source priority)
    with_crm = [
        json.loads(row["trait_sources"])
        for row in profiles.select(["sources", "trait_sources"]).to_pylist()
        if "crm" in row["sources"]
    ]
    assert len(with_crm) > 50
    assert all(sources["firstName"] == "crm" for sources in with_crm)


def test_profile_settings_in_tandem_toml(workspace: Workspace) -> None:
    from tandem.errors import InvalidConfig

    config = workspace.root / "tandem.toml"
    text = config.read_text()
    settings = '[profiles]\nsource_priority = ["web"]\nrevenue_property = "total"\n'
    config.write_text(text + "\n" + settings)
    opened = Workspace.open(workspace.root)
    try:
        assert opened.settings.profiles.source_priority == ["web"]
        assert opened.settings.profiles.revenue_property == "total"
        assert opened.settings.profiles.order_events == ["Order Completed"]
    finally:
        opened.close()
    config.write_text(text + "\n[profiles]\norder_events = []\nrevenu_property = 'x'\n")
    with pytest.raises(InvalidConfig) as caught:
        Workspace.open(workspace.root)
    fields = {p.field for p in caught.value.problems}
    assert {"profiles.order_events", "profiles.revenu_property"} <= fields


def test_e164_and_source_ranks(workspace: Workspace) -> None:
    from tandem.config import ProfileSettings
    from tandem.customers.profiles import e164_column, source_ranks

    phones = pa.chunked_array([["07970 231820", "+44 7970 231820", None, "12", "0044 7970 231820"]])
    assert e164_column(phones, "GB").to_pylist() == [
        "+447970231820",
        "+447970231820",
        None,
        None,
        "+447970231820",
    ]
    # brackets go to phonenumbers, as in identity resolution ("(0)" is a trunk prefix)
    assert e164_column(pa.chunked_array([["+44 (0)20 7946 0000"]]), "GB").to_pylist() == [
        "+442079460000"
    ]
    workspace.sources.add("shop", kind="web", owners=["marketing"])
    workspace.sources.add("crm", kind="crm", owners=["marketing"])
    ranks = source_ranks(workspace, ProfileSettings())
    assert dict(zip(ranks["source"].to_pylist(), ranks["rank"].to_pylist(), strict=True)) == {
        "crm": 0,
        "shop": 1,
    }
    ranks = source_ranks(workspace, ProfileSettings(source_priority=["shop", "gone"]))
    assert dict(zip(ranks["source"].to_pylist(), ranks["rank"].to_pylist(), strict=True)) == {
        "shop": 0,
        "gone": 1,
        "crm": 2,
    }


def test_lookups_from_many_threads(built: Workspace) -> None:
    """The server reads profiles from its worker threads: one shared index per version."""
    import threading

    wrong: list[str] = []

    def work() -> None:
        for customer_id in ["cus_a", "cus_b", "cus_c", "cus_d"] * 10:
            found = get_profile(built.lake, customer_id)
            if found is None or found["customer_id"] != customer_id:
                wrong.append(customer_id)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_an_absurd_order_amount_counts_as_none(built: Workspace, tmp_path: Path) -> None:
    """An order whose revenue is not a finite amount below 10^18 ("1e999", 1e20) is an order
    without revenue: one bad event neither breaks the profiles nor distorts a customer's sum."""
    from tandem.customers.ingest import ingest_file
    from tandem.lake.derived import replace_table
    from tests.customers.profile_data import _order

    bad = [
        _order("o-inf", "hv-1", "2026-06-01T10:00:00Z", "O-INF", "1e999"),
        _order("o-big", "hv-1", "2026-06-02T10:00:00Z", "O-BIG", 1e20),
    ]
    path = tmp_path / "bad-orders.ndjson"
    path.write_text("".join(json.dumps(m) + "\n" for m in bad))
    assert ingest_file(built.lake, path, source="web").accepted == 2
    identities = built.lake.table("identities").to_pyarrow_table()
    extra = pa.table(
        {
            "source": ["web", "web"],
            "message_id": ["o-inf", "o-big"],
            "record_id": ["o-inf", "o-big"],
            "customer_id": ["cus_a", "cus_a"],
        },
        schema=identities.schema,
    )
    replace_table(built.lake, "identities", pa.concat_tables([identities, extra]))
    stats = build_profiles(built, now=NOW, run=2)
    a = profile(built, "cus_a")
    assert (a["orders"], a["revenue"]) == (4, 150.5)
    assert stats.revenue == 680.5
