"""Segments on a small, fully known lake: every operator, behaviour windows and property
filters, nesting, history, validation errors, export, the KPI measure.

The lake is tests/customers/profile_data.py's (four customers, orders) plus a few events added
here; at NOW (2026-07-01) the customers are:

    customer  orders  revenue  recency  city   sources   Order Completed (revenue)
    cus_a     2       150.5    30       Leeds  crm, web  03-02 (100), 03-02 (100), 06-01 ("50.5")
    cus_b     1       20.0     141      -      web       02-10 (20)
    cus_c     0       0.0      -        -      web       -
    cus_d     2       510.0    61       -      crm, web  2025-12-01 (500), 05-01 (10)

    Email Opened: cus_b 06-20 (spring), 06-25 (summer); cus_c 03-01 (spring);
                  cus_d 07-05 (after NOW)
    Product Viewed: cus_a 06-29 (price 5, vip true); cus_c 06-30 (price "19.99", tags [sale, new])
    cus_c's golden traits (an identify): interests [wine, cheese], age 41
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as SASession

from tandem.collaboration.kpis import check_readable, parse_measure
from tandem.customers.forget import forget, plan_forget
from tandem.customers.ingest import ingest_file
from tandem.customers.profiles import NotResolved, build_profiles
from tandem.customers.segments import compile_members, read_definition
from tandem.db.models import Segment
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound
from tandem.lake.derived import replace_table
from tandem.lake.locks import Busy, exclusive
from tandem.lake.store import LakeFailure
from tandem.workspace import Workspace
from tests.customers import profile_data
from tests.customers.profile_data import NOW, build_lake

EXTRA = [
    ("e1", "hv-2", None, "Email Opened", "2026-06-20T00:00:00Z", {"campaign": "spring", "n": 1}),
    ("e2", "hv-2", None, "Email Opened", "2026-06-25T00:00:00Z", {"campaign": "summer"}),
    ("e3", None, "anon-3", "Email Opened", "2026-03-01T00:00:00Z", {"campaign": "spring"}),
    ("e4", "hv-4", None, "Email Opened", "2026-07-05T00:00:00Z", {"campaign": "summer"}),
    ("e5", "hv-1", None, "Product Viewed", "2026-06-29T00:00:00Z", {"price": 5, "vip": True}),
    ("e6", None, "anon-3", "Product Viewed", "2026-06-30T00:00:00Z",
     {"price": "19.99", "tags": ["sale", "new"]}),
]  # fmt: skip
EXTRA_CUSTOMER = {"e1": "cus_b", "e2": "cus_b", "e3": "cus_c", "e4": "cus_d", "e5": "cus_a",
                  "e6": "cus_c", "e7": "cus_c"}  # fmt: skip


def build_segment_lake(ws: Workspace, tmp: Path) -> Workspace:
    """profile_data's lake, the EXTRA events, identities for all, profiles at NOW."""
    build_lake(ws, tmp)
    lines = []
    for mid, user, anon, event, ts, props in EXTRA:
        m: dict[str, Any] = {"messageId": mid, "type": "track", "event": event, "timestamp": ts}
        m["properties"] = props
        if user:
            m["userId"] = user
        if anon:
            m["anonymousId"] = anon
        lines.append(json.dumps(m))
    lines.append(
        json.dumps(
            {"messageId": "e7", "type": "identify", "timestamp": "2026-06-30T00:00:00Z",
             "anonymousId": "anon-3", "traits": {"interests": ["wine", "cheese"], "age": 41}}
        )
    )  # fmt: skip
    path = tmp / "extra.ndjson"
    path.write_text("\n".join(lines) + "\n")
    ingest_file(ws.lake, path, source="web")
    identities = ws.lake.raw("identities").to_pyarrow()
    extra = pa.table(
        {
            "source": ["web"] * len(EXTRA_CUSTOMER),
            "message_id": list(EXTRA_CUSTOMER),
            "record_id": list(EXTRA_CUSTOMER),
            "customer_id": list(EXTRA_CUSTOMER.values()),
        }
    )
    replace_table(
        ws.lake, "identities", pa.concat_tables([identities, extra.cast(identities.schema)])
    )
    build_profiles(ws, now=NOW, run=1)
    return ws


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    return build_segment_lake(workspace, tmp_path)


def P(name: str, op: str, value: Any = None) -> dict[str, Any]:
    """A property filter."""
    return {"property": name, "op": op} | ({} if value is None else {"value": value})


def definition(where: dict[str, Any], name: str = "s", **extra: Any) -> dict[str, Any]:
    return {"name": name, "owners": ["marketing"], "where": where, **extra}


def members(ws: Workspace, where: dict[str, Any], as_of: datetime = NOW) -> set[str]:
    """The customers a definition selects: validated and compiled as `evaluate` does."""
    parsed, know = ws.segments.validate(definition(where))
    table = compile_members(ws, parsed, as_of=as_of, know=know).to_pyarrow()
    return set(table.column("customer_id").to_pylist())


TRAIT_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"trait": "orders", "op": "=", "value": 2}, {"cus_a", "cus_d"}),
    ({"trait": "orders", "op": "!=", "value": 2}, {"cus_b", "cus_c"}),
    ({"trait": "orders", "op": "<", "value": 1}, {"cus_c"}),
    ({"trait": "orders", "op": "<=", "value": 1}, {"cus_b", "cus_c"}),
    ({"trait": "revenue", "op": ">", "value": 150.5}, {"cus_d"}),
    ({"trait": "revenue", "op": ">=", "value": 150.5}, {"cus_a", "cus_d"}),
    ({"trait": "orders", "op": "in", "value": [0, 1]}, {"cus_b", "cus_c"}),
    ({"trait": "recency_days", "op": "exists"}, {"cus_a", "cus_b", "cus_d"}),
    ({"not": {"trait": "recency_days", "op": "exists"}}, {"cus_c"}),
    ({"trait": "recency_days", "op": ">", "value": 60}, {"cus_b", "cus_d"}),
    ({"trait": "last_name", "op": "contains", "value": "ee"}, {"cus_a", "cus_d"}),
    ({"trait": "last_name", "op": "in", "value": ["Stone", "Dee"]}, {"cus_b", "cus_d"}),
    ({"trait": "sources", "op": "contains", "value": "crm"}, {"cus_a", "cus_d"}),
    ({"trait": "marketing_opt_in", "op": "=", "value": True}, {"cus_d"}),
    ({"trait": "last_order_at", "op": ">=", "value": "2026-05-01"}, {"cus_a", "cus_d"}),
    # golden traits from the profiles' traits JSON
    ({"trait": "city", "op": "=", "value": "Leeds"}, {"cus_a"}),
    ({"trait": "city", "op": "exists"}, {"cus_a"}),
    ({"not": {"trait": "city", "op": "=", "value": "Leeds"}}, {"cus_b", "cus_c", "cus_d"}),
    ({"trait": "city", "op": "!=", "value": "Leeds"}, set()),  # != needs a value
    ({"trait": "subscribed", "op": "=", "value": "1"}, {"cus_d"}),
    ({"trait": "name", "op": "contains", "value": "Bob"}, {"cus_b"}),
    # a golden trait holding a list, and one holding numbers
    ({"trait": "interests", "op": "contains", "value": "wine"}, {"cus_c"}),
    ({"trait": "interests", "op": "contains", "value": "win"}, set()),
    ({"trait": "age", "op": ">", "value": 40}, {"cus_c"}),
    ({"trait": "age", "op": "in", "value": [41, 42]}, {"cus_c"}),
]


def test_trait_operators(ws: Workspace) -> None:
    for where, expected in TRAIT_CASES:
        assert members(ws, where) == expected, where


BEHAVIOUR_CASES: list[tuple[dict[str, Any], set[str]]] = [
        ({"event": "Order Completed"}, {"cus_a", "cus_b", "cus_d"}),
        ({"event": "Order Completed", "at_least": 3}, {"cus_a"}),
        ({"event": "Order Completed", "at_least": 2}, {"cus_a", "cus_d"}),
        # windows end at NOW: since 2026-05-02 only cus_a's 06-01 order; since 04-30 also cus_d's
        ({"event": "Order Completed", "in_last_days": 60}, {"cus_a"}),
        ({"event": "Order Completed", "in_last_days": 62}, {"cus_a", "cus_d"}),
        ({"event": "Order Completed", "at_least": 2, "in_last_days": 365}, {"cus_a", "cus_d"}),
        ({"event": "Order Completed", "at_least": 2, "in_last_days": 200}, {"cus_a"}),
        # property filters, typed by the value given ("50.5" is a number when compared to one)
        (
            {"event": "Order Completed", "where": [P("revenue", ">", 60)]},
            {"cus_a", "cus_d"},
        ),
        (
            {"event": "Order Completed", "at_least": 2,
             "where": [P("revenue", ">", 60)]},
            {"cus_a"},
        ),
        (
            {"event": "Order Completed", "where": [P("revenue", "=", 50.5)]},
            {"cus_a"},
        ),
        (
            {"event": "Order Completed",
             "where": [P("revenue", "in", [10, 20])]},
            {"cus_b", "cus_d"},
        ),
        (
            {"event": "Order Completed",
             "where": [P("currency", "=", "GBP"),
                       P("revenue", "<", 15)]},
            {"cus_d"},
        ),
        (
            {"event": "Email Opened", "where": [P("campaign", "=", "spring")]},
            {"cus_b", "cus_c"},
        ),
        (
            {"event": "Email Opened", "in_last_days": 30,
             "where": [P("campaign", "=", "spring")]},
            {"cus_b"},
        ),
        (
            {"event": "Email Opened", "where": [P("campaign", "!=", "spring")]},
            {"cus_b"},  # cus_d's summer open is after NOW
        ),
        (
            {"event": "Product Viewed", "where": [P("price", "<", 10)]},
            {"cus_a"},
        ),
        (
            {"event": "Product Viewed", "where": [P("price", ">=", 19.99)]},
            {"cus_c"},
        ),
        (
            {"event": "Product Viewed", "where": [P("vip", "=", True)]},
            {"cus_a"},
        ),
        (
            {"event": "Product Viewed", "where": [P("vip", "exists")]},
            {"cus_a"},
        ),
        (
            {"event": "Product Viewed", "where": [P("tags", "contains", "sale")]},
            {"cus_c"},
        ),
        # a list holds items: "ale" is in no item of [sale, new]; text contains "spr"
        ({"event": "Product Viewed", "where": [P("tags", "contains", "ale")]}, set()),
        (
            {"event": "Email Opened", "where": [P("campaign", "contains", "spr")]},
            {"cus_b", "cus_c"},
        ),
        ({"not": {"event": "Order Completed"}}, {"cus_c"}),
]  # fmt: skip


def test_behaviour_conditions(ws: Workspace) -> None:
    for where, expected in BEHAVIOUR_CASES:
        assert members(ws, where) == expected, where


def test_evaluate_stores_what_preview_counts(ws: Workspace) -> None:
    for where, expected in (TRAIT_CASES + BEHAVIOUR_CASES)[::5]:
        assert ws.segments.preview(definition(where), as_of=NOW) == len(expected), where
        ws.segments.create(definition(where, name="probe"), as_of=NOW)
        stored = ws.segments.members("probe").to_pyarrow().column("customer_id").to_pylist()
        assert sorted(stored) == sorted(expected), where
        ws.segments.delete("probe")


def test_as_of_moves_the_window_and_excludes_later_events(ws: Workspace) -> None:
    opened = {"event": "Email Opened"}
    assert members(ws, opened) == {"cus_b", "cus_c"}
    assert members(ws, opened, as_of=datetime(2026, 7, 10, tzinfo=UTC)) == {
        "cus_b",
        "cus_c",
        "cus_d",
    }
    assert members(ws, opened, as_of=datetime(2026, 6, 1, tzinfo=UTC)) == {"cus_c"}
    recent = {"event": "Email Opened", "in_last_days": 7}
    assert members(ws, recent, as_of=datetime(2026, 7, 10, tzinfo=UTC)) == {"cus_d"}


def test_nesting(ws: Workspace) -> None:
    lapsed = {
        "all": [
            {"trait": "orders", "op": ">=", "value": 1},
            {"not": {"event": "Email Opened", "in_last_days": 365}},
            {
                "any": [
                    {"event": "Order Completed", "at_least": 2, "in_last_days": 365,
                     "where": [P("revenue", ">", 50)]},
                    {"trait": "recency_days", "op": ">", "value": 60},
                ]
            },
        ]
    }  # fmt: skip
    # cus_b opened an email; cus_c has no orders; cus_a has 2 orders over 50, cus_d recency 61
    assert members(ws, lapsed) == {"cus_a", "cus_d"}
    assert members(ws, {"not": lapsed}) == {"cus_b", "cus_c"}
    both = {"all": [{"event": "Order Completed"}, {"event": "Email Opened"}]}
    assert members(ws, both) == {"cus_b"}
    either = {"any": [{"event": "Product Viewed"}, {"event": "Email Opened"}]}
    assert members(ws, either) == {"cus_a", "cus_b", "cus_c"}


def test_a_message_stored_twice_counts_once(ws: Workspace) -> None:
    """A physical copy (two processes storing one message at once) is not a second event."""
    raw = ws.lake.raw("events").to_pyarrow()
    copy = raw.filter(pc.equal(raw["message_id"], "w10"))
    later = pa.array([datetime(2030, 1, 1, tzinfo=UTC)], copy.schema.field("ingested_at").type)
    copy = copy.set_column(copy.schema.get_field_index("ingested_at"), "ingested_at", later)
    write_deltalake(ws.lake.table("events"), copy, mode="append")
    assert ws.lake.raw("events").count().to_pyarrow().as_py() == raw.num_rows + 1
    # cus_d: w9 and w10 (stored twice) are 2 orders, not 3
    assert members(ws, {"event": "Order Completed", "at_least": 3}) == {"cus_a"}
    assert members(ws, {"event": "Order Completed", "at_least": 2}) == {"cus_a", "cus_d"}


def test_history_of_evaluations(ws: Workspace) -> None:
    info = ws.segments.create(definition({"event": "Email Opened"}, name="openers"), as_of=NOW)
    assert info.size == 2 and info.latest is not None and info.latest.evaluation == 1
    second = ws.segments.evaluate("openers", as_of=datetime(2026, 7, 10, tzinfo=UTC))
    assert (second.evaluation, second.size) == (2, 3)
    shown = ws.segments.get("openers")
    assert [(e.evaluation, e.size) for e in shown.history] == [(1, 2), (2, 3)]
    assert shown.history[0].as_of == NOW
    first = ws.segments.members("openers", 1).to_pyarrow().column("customer_id").to_pylist()
    latest = ws.segments.members("openers").to_pyarrow().column("customer_id").to_pylist()
    assert sorted(first) == ["cus_b", "cus_c"] and sorted(latest) == ["cus_b", "cus_c", "cus_d"]
    with pytest.raises(NotFound, match="no evaluation 3"):
        ws.segments.members("openers", 3)
    listed = ws.segments.list()
    assert [(s.name, s.size) for s in listed] == [("openers", 3)]
    assert info.to_dict()["definition"]["where"] == {"event": "Email Opened", "at_least": 1,
                                                      "where": []}  # fmt: skip
    # the KPI measure segment:NAME is the latest size
    assert check_readable(ws, parse_measure("segment:openers")) == 3.0
    # deleting removes the definition, its history and its stored members
    assert ws.segments.delete("openers") == 5
    with pytest.raises(NotFound, match="no segment `openers`"):
        ws.segments.get("openers")
    memberships = ws.lake.raw("segment_memberships")
    assert memberships.count().to_pyarrow().as_py() == 0


def _stored(ws: Workspace, name: str) -> list[str]:
    rows = ws.lake.raw("segment_memberships").to_pyarrow()
    return sorted(
        c
        for c, s in zip(rows["customer_id"].to_pylist(), rows["segment"].to_pylist(), strict=True)
        if s == name
    )


def test_a_failing_lake_delete_leaves_the_segment_and_its_members(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.segments.create(definition({"event": "Email Opened"}, name="openers"), as_of=NOW)
    assert _stored(ws, "openers") == ["cus_b", "cus_c"]

    def failing(self: DeltaTable, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise DeltaError("Generic DeltaTable error: the disk is full")

    monkeypatch.setattr(DeltaTable, "delete", failing)
    with pytest.raises(LakeFailure, match="could not delete the members of segment openers"):
        ws.segments.delete("openers")
    monkeypatch.undo()
    # both stores as they were: the definition, its history and its members
    kept = ws.segments.get("openers")
    assert kept.latest is not None and (kept.latest.evaluation, kept.size) == (1, 2)
    assert [e.evaluation for e in kept.history] == [1]
    assert _stored(ws, "openers") == ["cus_b", "cus_c"]
    shown = ws.segments.members("openers").to_pyarrow().column("customer_id").to_pylist()
    assert sorted(shown) == ["cus_b", "cus_c"]
    # another job holding the lake's lock: refused before anything is deleted
    with exclusive(ws.lake.path, "identity resolution"), pytest.raises(Busy):
        ws.segments.delete("openers")
    assert ws.segments.get("openers").size == 2 and _stored(ws, "openers") == ["cus_b", "cus_c"]
    # deleting again completes
    assert ws.segments.delete("openers") == 2
    assert _stored(ws, "openers") == []
    with pytest.raises(NotFound):
        ws.segments.get("openers")


def test_a_failing_metadata_delete_leaves_the_members(ws: Workspace) -> None:
    """The database refusing the delete (an injected failure on deleting the row) comes before
    the lake is touched; a commit failing after the lake delete leaves a segment without
    members, which deleting again removes."""
    ws.segments.create(definition({"event": "Email Opened"}, name="openers"), as_of=NOW)

    def refuse(*_: Any) -> None:
        raise RuntimeError("the database refused the delete")

    sa_event.listen(Segment, "before_delete", refuse)
    try:
        with pytest.raises(RuntimeError, match="refused"):
            ws.segments.delete("openers")
    finally:
        sa_event.remove(Segment, "before_delete", refuse)
    assert ws.segments.get("openers").size == 2
    assert _stored(ws, "openers") == ["cus_b", "cus_c"]

    def mark(session: SASession, _: Any) -> None:
        if any(isinstance(row, Segment) for row in session.deleted):
            session.info["segment_deleted"] = True

    def refuse_commit(session: SASession) -> None:
        if session.info.get("segment_deleted"):
            refuse()

    sa_event.listen(SASession, "after_flush", mark)
    sa_event.listen(SASession, "before_commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="refused"):
            ws.segments.delete("openers")
    finally:
        sa_event.remove(SASession, "after_flush", mark)
        sa_event.remove(SASession, "before_commit", refuse_commit)
    assert ws.segments.get("openers").size == 2  # the window the docstring names
    assert _stored(ws, "openers") == []
    assert ws.segments.delete("openers") == 0
    with pytest.raises(NotFound):
        ws.segments.get("openers")


def test_an_empty_segment_and_one_never_evaluated(ws: Workspace) -> None:
    info = ws.segments.create(definition({"trait": "orders", "op": ">", "value": 99}, name="none"))
    assert info.size == 0
    assert ws.segments.members("none").count().to_pyarrow().as_py() == 0
    ws.segments.create(definition({"event": "Order Completed"}, name="later"), evaluate=False)
    with pytest.raises(NotFound, match="has not been evaluated yet"):
        ws.segments.members("later")
    assert check_readable(ws, parse_measure("segment:later")) is None  # no value yet


def test_export_writes_members_with_traits(ws: Workspace, tmp_path: Path) -> None:
    ws.segments.create(definition({"trait": "orders", "op": ">=", "value": 1}, name="buyers"))
    out = tmp_path / "buyers.csv"
    rows = ws.segments.export("buyers", out, ["email", "city", "orders", "sources"])
    assert rows == 3
    with out.open(newline="") as f:
        got = list(csv.DictReader(f))
    assert [r["customer_id"] for r in got] == ["cus_a", "cus_b", "cus_d"]
    assert got[0] == {"customer_id": "cus_a", "email": "ann@x.example", "city": "Leeds",
                      "orders": "2", "sources": '["crm","web"]'}  # fmt: skip
    assert got[1]["city"] == ""
    with pytest.raises(InvalidValue, match="no trait `citty` is known; did you mean `city`"):
        ws.segments.export("buyers", out, ["citty"])
    with pytest.raises(InvalidValue, match=r"use a \.csv file"):
        ws.segments.export("buyers", tmp_path / "b.xlsx")
    assert not list(tmp_path.glob(".*.tmp"))


def problems(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str | None, str]]:
    return [(p.field, p.message) for p in exc.value.problems]


def test_unknown_names_are_refused_with_suggestions(ws: Workspace) -> None:
    where = {
        "all": [
            {"trait": "orders", "op": ">=", "value": 1},
            {"trait": "citty", "op": "=", "value": "Leeds"},
            {"not": {"event": "Order Complted", "at_least": 1}},
        ]
    }
    with pytest.raises(InvalidInput) as info:
        ws.segments.create(definition(where))
    assert problems(info) == [
        ("where.all[1].trait", "no trait `citty` is known; did you mean `city`?"),
        ("where.all[2].not.event",
         "no event `Order Complted` is known; did you mean `Order Completed`?"),
    ]  # fmt: skip
    assert info.value.to_dict()["field"] == "where.all[1].trait"
    assert ws.segments.list() == []  # nothing saved


TYPE_CASES = [
        ({"trait": "city", "op": "<", "value": 3}, "where.value",
         "`<` is a numeric comparison but trait `city` holds text values"),
        ({"trait": "age", "op": "=", "value": "41"}, "where.value",
         "trait `age` holds number values; the value given is text"),
        ({"trait": "interests", "op": "=", "value": "wine"}, "where.value",
         "trait `interests` holds lists: use `contains` or `exists`"),
        ({"trait": "orders", "op": "=", "value": "two"}, "where.value",
         "trait `orders` holds number values; the value given is text"),
        ({"trait": "marketing_opt_in", "op": ">", "value": 1}, "where.value",
         "`>` is a numeric comparison but trait `marketing_opt_in` holds boolean values"),
        ({"trait": "orders", "op": "in", "value": [1, "a"]}, "where.value",
         "the values of `in` must all be of one kind"),
        ({"trait": "sources", "op": "=", "value": "web"}, "where.value",
         "trait `sources` is a list: use `contains` with a text value, or `exists`"),
        ({"trait": "first_seen", "op": "<", "value": "last week"}, "where.value",
         "trait `first_seen` holds times: compare it with an ISO date or time such as "
         "2026-01-31 (got 'last week')"),
        ({"event": "Order Completed", "where": [P("revenue", ">", "x")]},
         "where.where[0].value", "`>` is a numeric comparison: give a number"),
]  # fmt: skip


def test_type_checks(ws: Workspace) -> None:
    for where, field, message in TYPE_CASES:
        with pytest.raises(InvalidInput) as info:
            ws.segments.preview(definition(where))
        assert problems(info) == [(field, message)], where


STRUCTURE_CASES: list[tuple[dict[str, Any], str | None, str]] = [
        (definition({"trait": "orders", "op": "exists", "value": 1}), "where",
         "`exists` takes no value"),
        (definition({"trait": "orders", "op": "in", "value": 1}), "where",
         "`in` takes a list of values (value: [a, b])"),
        (definition({"trait": "orders", "op": ">"}), "where", "`>` needs a value"),
        (definition({"trait": "orders", "op": "~", "value": 1}), "where.op",
         "Input should be '=', '!=', '<', '<=', '>', '>=', 'in', 'contains' or 'exists'"),
        (definition({"foo": 1}), "where",
         "a condition is a mapping with one of: trait, event, all, any, not"),
        (definition({"all": [{"event": "Order Completed", "at_least": 0}]}),
         "where.all[0].at_least", "Input should be greater than or equal to 1"),
        (definition({"event": "Order Completed", "colour": "red"}), "where.colour",
         "unknown field `colour`"),
        (definition({"event": "Order Completed"}, name="Bad Name!"), None,
         "`name` must be a slug: lower-case letters, digits, `-` and `_`, starting with a letter "
         "or digit, at most 64 characters (got 'Bad Name!')"),
        ({"name": "x", "where": {"event": "Order Completed"}}, None,
         "missing required field `owners`"),
        (definition({"trait": "orders", "op": ">", "value": 2**70}), "where.value",
         "a whole number must lie within ±9,223,372,036,854,775,807"),
        (definition({"trait": "revenue", "op": ">", "value": float("inf")}), "where.value",
         "a number must be finite"),
        (definition({"trait": "city", "op": "=", "value": {"a": 1}}), "where.value",
         "a value is text, a number or true/false (got dict)"),
        (definition({"trait": "city", "op": "in", "value": []}), "where.value",
         "a list of values holds 1 to 1000 values"),
]  # fmt: skip


def test_structure_errors(ws: Workspace) -> None:
    for data, field, message in STRUCTURE_CASES:
        with pytest.raises(InvalidInput) as info:
            ws.segments.create(data)
        assert problems(info) == [(field, message)], data
    assert ws.segments.list() == []


def test_owners_and_names_are_checked(ws: Workspace) -> None:
    with pytest.raises(NotFound, match="no function `sales-ops`"):
        ws.segments.create({**definition({"event": "Order Completed"}), "owners": ["sales-ops"]})
    ws.segments.create(definition({"event": "Order Completed"}, name="buyers"), evaluate=False)
    with pytest.raises(Conflict, match="a segment named `buyers` already exists"):
        ws.segments.create(definition({"event": "Order Completed"}, name="buyers"))
    with pytest.raises(NotFound, match=r"no segment `nope` \(known: buyers\)"):
        ws.segments.evaluate("nope")


def test_a_yaml_file_reports_lines(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "seg.yaml"
    path.write_text(
        "name: lapsed\n"
        "owners: [marketing]\n"
        "where:\n"
        "  all:\n"
        "    - {trait: orders, op: '>=', value: 1}\n"
        "    - not: {event: Order Complted, in_last_days: 365}\n"
    )
    loaded = read_definition(path)
    with pytest.raises(InvalidInput) as info:
        ws.segments.create(loaded)
    (problem,) = info.value.problems
    assert (problem.field, problem.line) == ("where.all[1].not.event", 6)
    assert str(path) in info.value.message
    # an unquoted YAML date is a date for a time trait
    path.write_text(
        "name: recent\nowners: [marketing]\n"
        "where: {trait: last_order_at, op: '>=', value: 2026-05-01}\n"
    )
    assert ws.segments.preview(read_definition(path)) == 2  # cus_a (06-01), cus_d (05-01)
    path.write_text("name: lapsed\nowners: [marketing]\nwhere:\n  trait: orders\n  op: '=>'\n")
    with pytest.raises(InvalidInput) as bad:
        read_definition(path)
    assert [(p.field, p.line) for p in bad.value.problems] == [("where.op", 5)]


def test_profile_data_is_as_the_docstring_says(ws: Workspace) -> None:
    rows = {r["customer_id"]: r for r in ws.lake.raw("profiles").to_pyarrow().to_pylist()}
    assert {c: (r["orders"], r["revenue"], r["recency_days"]) for c, r in rows.items()} == {
        "cus_a": (2, 150.5, 30),
        "cus_b": (1, 20.0, 141),
        "cus_c": (0, 0.0, None),
        "cus_d": (2, 510.0, 61),
    }
    assert profile_data.NOW == NOW


def test_nothing_resolved_yet(make_workspace: Any) -> None:
    empty = make_workspace("empty")
    with pytest.raises(NotResolved, match="there are no customers yet"):
        empty.segments.preview(definition({"event": "Order Completed"}))
    assert empty.segments.list() == []


def test_forget_erases_memberships_and_waits_for_evaluations(ws: Workspace) -> None:
    ws.segments.create(definition({"trait": "orders", "op": ">=", "value": 1}, name="buyers"))
    ws.segments.evaluate("buyers")
    # an evaluation does not run while an erasure holds the lake (it would store the person
    # back after the erasure)
    with exclusive(ws.lake.path, "an erasure"), pytest.raises(Busy):
        ws.segments.evaluate("buyers")
    forget(ws, plan_forget(ws, "b@y.example"))  # cus_b
    for evaluation in (1, 2):
        ids = ws.segments.members("buyers", evaluation).to_pyarrow()["customer_id"].to_pylist()
        assert sorted(ids) == ["cus_a", "cus_d"]
    assert ws.segments.evaluate("buyers").size == 2
