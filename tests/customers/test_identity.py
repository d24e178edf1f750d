"""The identity graph: components, shared identifiers, limits, matches, stable ids, explain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from tandem.customers import identifiers, identity
from tandem.customers.resolve import resolve
from tandem.errors import NotFound
from tandem.workspace import Workspace
from tests.customers.identity_helpers import configured, customers_of, identify, send, track

T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 2, tzinfo=UTC)
T3 = datetime(2026, 11, 3, tzinfo=UTC)


# -- components ---------------------------------------------------------------------------------
def test_components_label_every_node_with_its_smallest_id() -> None:
    con = duckdb.connect()
    # a long path written backwards, a star, a triangle with a self-loop, a duplicate edge
    path = [(i + 1, i) for i in range(100, 160)]
    edges = [*path, (7, 1), (7, 2), (7, 3), (20, 21), (21, 22), (22, 20), (20, 20), (7, 1)]
    con.register("e", pa.table({"a": [a for a, _ in edges], "b": [b for _, b in edges]}))
    con.execute("CREATE TEMP TABLE edges AS SELECT CAST(a AS BIGINT) a, CAST(b AS BIGINT) b FROM e")
    rounds = identity.components(con, "edges", "labels")
    labels = dict(con.execute("SELECT nid, label FROM labels").fetchall())
    assert {n: labels[n] for n in (1, 2, 3, 7)} == {1: 1, 2: 1, 3: 1, 7: 1}
    assert {labels[n] for n in range(100, 161)} == {100}
    assert {labels[n] for n in (20, 21, 22)} == {20}
    assert len(labels) == 4 + 61 + 3
    assert rounds >= 1


def test_components_of_no_edges_is_empty() -> None:
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE edges (a BIGINT, b BIGINT)")
    assert identity.components(con, "edges", "labels") == 0
    assert con.execute("SELECT count(*) FROM labels").fetchall() == [(0,)]


# -- deterministic stitching --------------------------------------------------------------------
def test_anonymous_browsing_login_and_alias_join_one_customer(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**track(anon="a1"), "messageId": "w1"},
            {**identify("u1", "a1", email="ann@example.com"), "messageId": "w2"},
            {**track(anon="a2"), "messageId": "w3"},  # a second browser ...
            {"type": "alias", "userId": "u1", "previousId": "a2", "messageId": "w4"},
            {**track(anon="a9"), "messageId": "w5"},  # somebody else
        ],
    )
    send(ws, "email", [{**track("sub_1", context={"traits": {"email": "ANN@example.com "}})}])
    result = resolve(ws, now=T1)
    ids = customers_of(ws)
    assert len({ids["w1"], ids["w2"], ids["w3"], ids["w4"]}) == 1
    assert ids["w5"] != ids["w1"]
    assert result.counts["customers"] == 2
    assert result.counts["records"] == 6
    # 6 messages into 2 customers: 4 unions by identifiers, none by matching
    assert result.counts["merges_deterministic"] == 4
    assert result.counts["merges_probabilistic"] == 0
    assert set(customers_of(ws).values()) == {ids["w1"], ids["w5"]}


def test_shared_identifier_is_kept_but_does_not_merge(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "")
    # a family email on three CRM records; a person's email on two sources only
    send(
        ws,
        "crm",
        [
            {**identify(f"crm:{i}", email="family@example.com"), "messageId": f"c{i}"}
            for i in range(3)
        ]
        + [{**identify("crm:9", email="solo@example.com"), "messageId": "c9"}],
    )
    send(ws, "web", [{**identify("u9", email="Solo@example.com"), "messageId": "w9"}])
    result = resolve(ws, now=T1)
    ids = customers_of(ws)
    assert len({ids["c0"], ids["c1"], ids["c2"]}) == 3
    assert ids["c9"] == ids["w9"]
    assert result.counts["shared_identifiers"] == 1
    assert result.counts["shared_by_type"] == {"email": 1}
    links = ws.lake.raw("identity_links").to_pyarrow().to_pylist()
    family = [x for x in links if x["id_value"] == "family@example.com"]
    assert len(family) == 3
    assert {(x["kind"], x["reason"], x["records"]) for x in family} == {("ignored", "shared", 1)}


def test_shared_counts_user_ids_per_namespace_and_skips_contact_sources(
    make_workspace: Callable[..., Workspace],
) -> None:
    messages = {
        # web and app send the same shop accounts: one namespace; the device is used by 3
        "web": [{**identify("hv-1"), "context": {"device": {"id": "TAB"}}, "messageId": "w1"}],
        "app": [
            {**track("hv-2"), "context": {"device": {"id": "TAB"}}, "messageId": "p2"},
            {**track("hv-3"), "context": {"device": {"id": "TAB"}}, "messageId": "p3"},
            {**track("hv-1"), "messageId": "p1"},
        ],
        # one person writing four tickets from one address
        "service": [
            {**identify(f"service:SR-{i}", email="writer@example.com"), "messageId": f"s{i}"}
            for i in range(4)
        ],
    }
    plain = configured(make_workspace, "", name="plain")
    contacts = configured(
        make_workspace, '[identity.sources.service]\nrecords = "contacts"\n', name="contacts"
    )
    for ws in (plain, contacts):
        for source, batch in messages.items():
            send(ws, source, batch)
        resolve(ws, now=T1)
    for ws in (plain, contacts):
        ids = customers_of(ws)
        assert len({ids["w1"], ids["p2"], ids["p3"]}) == 3, "the shop tablet joined customers"
        assert ids["w1"] == ids["p1"]
    assert len({customers_of(plain)[f"s{i}"] for i in range(4)}) == 4
    assert len({customers_of(contacts)[f"s{i}"] for i in range(4)}) == 1


def test_types_that_never_merge(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "[identity.types.email]\nmerge = false\n")
    send(
        ws,
        "web",
        [{**identify(f"u{i}", email="x@example.com"), "messageId": f"m{i}"} for i in (1, 2)],
    )
    result = resolve(ws, now=T1)
    ids = customers_of(ws)
    assert ids["m1"] != ids["m2"]
    assert result.counts["not_merging_identifiers"] == 1
    reasons = {
        x["reason"]
        for x in ws.lake.raw("identity_links").to_pyarrow().to_pylist()
        if x["id_type"] == "email"
    }
    assert reasons == {"not merging"}


# -- limits per profile -------------------------------------------------------------------------
def test_a_limit_drops_the_weaker_links_that_break_it(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(
        make_workspace,
        "[identity.types.user_id]\nmax_per_profile = 1\n[identity.types.phone]\nshared_above = 5\n",
    )
    send(
        ws,
        "web",
        [
            # u1 and u2 each have their own email; they share a phone (lower priority)
            {**identify("u1", email="a@example.com", phone="+447700900001"), "messageId": "m1"},
            {**identify("u2", email="b@example.com", phone="+447700900001"), "messageId": "m2"},
            {**track("u1"), "messageId": "m3"},
            {**identify(None, "anon-a", email="a@example.com"), "messageId": "m4"},
        ],
    )
    result = resolve(ws, now=T1)
    ids = customers_of(ws)
    assert ids["m1"] == ids["m3"] == ids["m4"]
    assert ids["m2"] != ids["m1"]
    assert result.counts["customers"] == 2
    assert result.counts["limit_violations"] == 1
    assert result.counts["limited_identifiers"] == 1
    links = ws.lake.raw("identity_links").to_pyarrow().to_pylist()
    phone = {(x["kind"], x["reason"]) for x in links if x["id_type"] == "phone"}
    assert phone == {("ignored", "limit")}
    emails = {(x["id_value"], x["kind"]) for x in links if x["id_type"] == "email"}
    assert emails == {("a@example.com", "identifier"), ("b@example.com", "identifier")}


def identify_anon(email: str, anon: str, mid: str) -> dict[str, object]:
    return {"type": "identify", "anonymousId": anon, "traits": {"email": email}, "messageId": mid}


def test_max_emails_per_profile(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "[identity.types.email]\nmax_per_profile = 2\n")
    send(
        ws,
        "web",
        [{**identify("u1", email=f"e{i}@example.com"), "messageId": f"m{i}"} for i in range(3)]
        + [identify_anon("e0@example.com", "anon-0", "x0")],
    )
    resolve(ws, now=T1)
    ids = customers_of(ws)
    # every message of u1 stays with u1 (its anchor); the emails no longer link anything
    assert ids["m0"] == ids["m1"] == ids["m2"]
    assert ids["x0"] != ids["m0"]


# -- probabilistic edges ------------------------------------------------------------------------
def test_match_edges_join_user_ids_and_respect_limits(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "[identity.types.phone]\nmax_per_profile = 1\n")
    send(
        ws,
        "crm",
        [
            {**identify("crm:1", phone="+447700900001"), "messageId": "c1"},
            {**identify("crm:2"), "messageId": "c2"},
            {**identify("crm:3", phone="+447700900003"), "messageId": "c3"},
            {**identify("crm:4", phone="+447700900004"), "messageId": "c4"},
        ],
    )
    identifiers.extract(ws.lake, ws.settings.identity)
    con = ws.lake.con.con
    matches = pa.table(
        {
            "left_key": ["crm:1", "crm:3", "crm:1", "crm:1"],
            "right_key": ["crm:2", "crm:4", "crm:404", "crm:1"],
            "match_weight": [12.5, 11.0, 9.0, 20.0],
            "match_probability": [0.9998, 0.9995, 0.998, 0.99999],
        }
    )
    stats = identity.build_graph(con, ws.settings.identity, matches)
    assert stats.match_edges == 2  # crm:404 is unknown; a self-match is no edge
    assert stats.match_edges_dropped == 1  # crm:3 ~ crm:4 would hold two phones
    assert stats.probabilistic_merges == 1
    assert stats.clusters == 3
    assignment = dict(
        con.execute(
            "SELECT m.message_id, a.cluster FROM _tandem_assign a JOIN _tandem_messages m "
            "USING (mid)"
        ).fetchall()
    )
    assert assignment["c1"] == assignment["c2"]
    assert assignment["c3"] != assignment["c4"]


# -- stable ids ---------------------------------------------------------------------------------
def test_ids_continue_merge_into_the_oldest_split_and_are_deterministic(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "")
    send(ws, "web", [{**identify("u2", email="two@example.com"), "messageId": "a"}])
    first = resolve(ws, now=T1)
    assert (first.counts["ids_new"], first.counts["ids_continued"]) == (1, 0)
    id_u2 = customers_of(ws)["a"]
    assert id_u2.startswith("cus_") and len(id_u2) == 20

    send(ws, "web", [{**identify("u1", email="one@example.com"), "messageId": "b"}])
    second = resolve(ws, now=T2)
    assert (second.counts["ids_new"], second.counts["ids_continued"]) == (1, 1)
    ids = customers_of(ws)
    assert ids["a"] == id_u2
    id_u1 = ids["b"]

    # u1 and u2 turn out to be one person: the older id (u2's, from the first run) survives
    send(ws, "email", [{**track("sub_7", context={"traits": {"email": "two@example.com"}})}])
    send(ws, "app", [{**identify("u1", email="two@example.com"), "messageId": "c"}])
    third = resolve(ws, now=T3)
    assert third.counts["ids_merged"] == 1 and third.counts["ids_new"] == 0
    ids = customers_of(ws)
    assert set(ids.values()) == {id_u2}
    rows = {r["customer_id"]: r for r in ws.lake.raw("customer_ids").to_pyarrow().to_pylist()}
    assert rows[id_u1]["merged_into"] == id_u2
    assert rows[id_u1]["merged_at"] == T3
    assert rows[id_u2]["merged_into"] is None and rows[id_u2]["run"] == first.run
    with pytest.raises(NotFound, match=f"{id_u1} was merged into {id_u2}"):
        identity.explain(ws.lake, id_u1)
    explained = identity.explain(ws.lake, id_u2)
    assert explained.merged_ids == [id_u1]
    assert sorted(explained.records) == sorted(
        ("web" if m in ("a", "b") else "app" if m == "c" else "email", m) for m in ids
    )

    # the same data resolved from scratch gives the same ids
    again = configured(make_workspace, "", name="again")
    send(again, "web", [{**identify("u2", email="two@example.com"), "messageId": "a"}])
    resolve(again, now=T1)
    assert customers_of(again)["a"] == id_u2


def test_a_split_keeps_the_id_on_the_larger_part(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**identify("u1", email="shared@example.com"), "messageId": "a1"},
            {**track("u1"), "messageId": "a2"},
            {**track("u1"), "messageId": "a3"},
            {**identify("u2", email="shared@example.com"), "messageId": "b1"},
        ],
    )
    resolve(ws, now=T1)
    before = customers_of(ws)
    assert len(set(before.values())) == 1
    old = before["a1"]
    # a third account uses the address: it is shared now, and the cluster splits
    send(ws, "web", [{**identify("u3", email="shared@example.com"), "messageId": "c1"}])
    result = resolve(ws, now=T2)
    after = customers_of(ws)
    assert after["a1"] == after["a2"] == after["a3"] == old
    assert after["b1"] not in (old, after["c1"])
    assert result.counts["ids_continued"] == 1 and result.counts["ids_new"] == 2


# -- explain ------------------------------------------------------------------------------------
def test_explain_lists_records_and_links(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**identify("u1", "anon-1", email="ann@example.com"), "messageId": "m1"},
            {**track(anon="anon-1"), "messageId": "m2"},
        ],
    )
    resolve(ws, now=T1)
    cid = customers_of(ws)["m1"]
    explained = identity.explain(ws.lake, cid)
    assert explained.customer_id == cid
    assert explained.records == [("web", "m1"), ("web", "m2")]
    assert explained.merged_ids == []
    assert explained.run is not None
    by_value = {x.id_value: x for x in explained.links}
    assert by_value["anon-1"].records == 2 and by_value["anon-1"].kind == "identifier"
    assert by_value["ann@example.com"].describe() == "email ann@example.com on 1 record"
    assert by_value["anon-1"].describe() == "anonymous_id anon-1 on 2 records"
    with pytest.raises(NotFound, match="no customer cus_nobody"):
        identity.explain(ws.lake, "cus_nobody")


def test_two_identifiers_hashed_to_one_node_id_are_told_apart(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**identify("u1", email="one@example.com"), "messageId": "m1"},
            {**identify("u2", email="two@example.com"), "messageId": "m2"},
        ],
    )
    identifiers.extract(ws.lake, ws.settings.identity)
    con = ws.lake.con.con
    # force a collision: both emails get the same node id
    con.execute(
        "UPDATE _tandem_identifiers SET nid = (CAST(3 AS BIGINT) << 58) | 5 WHERE id_type = 'email'"
    ).fetchall()
    stats = identity.build_graph(con, ws.settings.identity)
    assert stats.nodes == 4
    assert stats.clusters == 2
    nids = con.execute(
        "SELECT count(DISTINCT nid) FROM _tandem_identifiers WHERE id_type = 'email'"
    ).fetchall()
    assert nids == [(2,)]


def test_links_describe_themselves() -> None:
    match = identity.Link(
        kind="match",
        records=2,
        left_source="crm",
        left_record_id="C1",
        right_source="web",
        right_record_id="m9",
        match_weight=14.3957,
        match_probability=0.99995361,
    )
    assert match.describe() == (
        "probabilistic match crm:C1 ~ web:m9 (weight 14.40, probability 0.999954)"
    )
    dropped = identity.Link(**{**match.__dict__, "kind": "ignored", "reason": "limit"})
    assert dropped.describe().endswith("not used: it would break a limit per profile")
    shared = identity.Link(
        kind="ignored", id_type="email", id_value="f@x.io", records=3, reason="shared"
    )
    assert shared.describe() == (
        "email f@x.io on 3 records, not used: shared (seen with more user ids than its "
        "type's shared_above)"
    )


def test_merge_chains_are_followed(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    day = [datetime(2026, 11, d, tzinfo=UTC) for d in range(1, 6)]
    for n, user in enumerate(("u3", "u2", "u1")):  # C oldest, then B, then A
        send(ws, "web", [{**identify(user), "messageId": f"m-{user}"}])
        resolve(ws, now=day[n])
    ids = customers_of(ws)
    c, b, a = ids["m-u3"], ids["m-u2"], ids["m-u1"]
    send(ws, "app", [{**identify("u1", email="ab@example.com")}])
    send(ws, "app", [{**identify("u2", email="ab@example.com")}])
    resolve(ws, now=day[3])  # A merges into B
    send(ws, "app", [{**identify("u3", email="bc@example.com")}])
    send(ws, "app", [{**identify("u2", email="bc@example.com")}])
    resolve(ws, now=day[4])  # B merges into C
    assert set(customers_of(ws).values()) == {c}
    with pytest.raises(NotFound, match=f"{a} was merged into {c}"):
        identity.explain(ws.lake, a)
    with pytest.raises(NotFound, match=f"{b} was merged into {c}"):
        identity.explain(ws.lake, b)
    assert identity.explain(ws.lake, c).merged_ids == sorted([a, b])
