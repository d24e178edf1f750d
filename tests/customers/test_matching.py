"""Probabilistic matching: person records built in the engine, Splink 5 trained without labels,
the corroboration rule, clear outcomes for inputs too small to train on, and the demo's truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import pyarrow as pa
import pytest
from pydantic import ValidationError

from tandem.customers.identifiers import normalise_phone
from tandem.customers.ingest import ingest_file
from tandem.customers.matching import (
    EDGE_SCHEMA,
    FIELDS,
    MatchingOptions,
    MatchingUnavailable,
    match_records,
    person_records,
)
from tandem.demo.channels import build_channels, load_traps, load_truth
from tandem.errors import InvalidConfig, InvalidValue
from tandem.workspace import Workspace

AS_OF = date(2026, 11, 23)


def ingest_messages(ws: Workspace, messages: list[dict[str, Any]], source: str = "web") -> None:
    path = ws.root / f"{source}.ndjson"
    for n, message in enumerate(messages):
        message.setdefault("messageId", f"{source}-{n}")
        message.setdefault("timestamp", f"2026-01-{n + 1:02d}T10:00:00Z")
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    result = ingest_file(ws.lake, path, source=source)
    assert result.accepted == len(messages)


def records_by_key(ws: Workspace, table: Any) -> dict[str, dict[str, Any]]:
    rows = ws.lake.con.to_pyarrow(table).to_pylist()
    return {row["key"]: row for row in rows}


def identify(user_id: str | None, traits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "identify", "traits": traits, **extra}
    if user_id is not None:
        message["userId"] = user_id
    else:
        message["anonymousId"] = "anon-1"
    return message


# -- person records ----------------------------------------------------------------------------
def test_person_records_normalise_each_field_in_the_engine(workspace: Workspace) -> None:
    ingest_messages(
        workspace,
        [
            identify(
                "u1",
                {
                    "firstName": " Zoë ",
                    "lastName": "O'Brien-Smith",
                    "birthday": "19151111",
                    "street": "1  High St",
                    "city": "London",
                    "postalCode": "sw1a 1aa",
                    "phone": "07970 231820",
                    "email": " Zoe@Example.COM ",
                },
            ),
            # later: a new first name, an empty street (the older street stays)
            identify("u1", {"firstName": "Zoey", "street": ""}),
            identify(
                "u2",
                {
                    "name": "Dr Ann  de Vere",
                    "dateOfBirth": "03/04/1980",
                    "address": {"street": "2 Low Rd", "city": "Leeds", "postalCode": "LS1 4AP"},
                    "phone": "+44 113 496 0000",
                },
            ),
            identify("u3", {"name": "Siobhan C.", "email": "siobhan@example.com"}),
            identify(
                "u4",
                {
                    "given_name": "Georgia",
                    "surname": "Dasilva",
                    "street_number": "29",
                    "address_1": "Trumble Street",
                    "suburb": "Bayswater North",
                    "postcode": "3858",
                    "date_of_birth": "1959-12-26T00:00:00Z",
                },
            ),
            identify("u5", {"lastName": "Nobody", "birthday": "1980-02-31"}),
            {"type": "identify", "userId": "u7"},  # no traits at all
            # not person records: a track with traits, an identify without a user id
            {"type": "track", "userId": "u6", "event": "Signed Up", "properties": {}},
            identify(None, {"firstName": "Anonymous", "lastName": "Person"}),
        ],
    )
    records = person_records(workspace.lake.events())
    assert records.columns == ("key", "source", *FIELDS)
    rows = records_by_key(workspace, records)
    assert set(rows) == {"u1", "u2", "u3", "u4", "u5", "u7"}
    assert all(rows["u7"][f] is None for f in FIELDS)
    assert rows["u1"] == {
        "key": "u1",
        "source": "web",
        "first_name": "zoey",
        "last_name": "o'brien-smith",
        "full_name": "zoey o'brien-smith",
        "birth_date": "1915-11-11",
        "street": "1 high st",
        "city": "london",
        "postcode": "SW1A1AA",
        "phone": "+447970231820",
        "email": "zoe@example.com",
    }
    u2 = rows["u2"]
    assert (u2["first_name"], u2["last_name"], u2["full_name"]) == ("ann", "vere", "ann de vere")
    assert u2["birth_date"] == "1980-04-03"  # day first
    assert (u2["street"], u2["city"], u2["postcode"]) == ("2 low rd", "leeds", "LS14AP")
    assert u2["phone"] == "+441134960000"
    # "C." is an initial, not a last name
    assert (rows["u3"]["first_name"], rows["u3"]["last_name"]) == ("siobhan", None)
    assert rows["u3"]["full_name"] == "siobhan c"
    u4 = rows["u4"]
    assert (u4["first_name"], u4["last_name"], u4["birth_date"]) == (
        "georgia",
        "dasilva",
        "1959-12-26",
    )
    assert (u4["street"], u4["city"], u4["postcode"]) == (
        "29 trumble street",
        "bayswater north",
        "3858",
    )
    assert rows["u5"]["birth_date"] is None  # 31 February is no date


def test_person_records_normalise_phones_as_identity_resolution_does(
    workspace: Workspace,
) -> None:
    raws = ["0044 (0)20 7946 0018", "123456", "+1 415 555 2671", "07912.345.678"]
    ingest_messages(
        workspace,
        [identify(f"u{n}", {"lastName": "Shaw", "phone": raw}) for n, raw in enumerate(raws)],
    )
    rows = records_by_key(workspace, person_records(workspace.lake.events()))
    phones = [rows[f"u{n}"]["phone"] for n in range(len(raws))]
    assert phones == [normalise_phone(raw, "GB") for raw in raws]
    assert phones == ["+442079460018", None, "+14155552671", "+447912345678"]
    rows = records_by_key(workspace, person_records(workspace.lake.events(), default_region="us"))
    assert rows["u1"]["phone"] is None
    assert rows["u2"]["phone"] == normalise_phone("+1 415 555 2671", "US")


def test_person_records_take_emails_and_phones_from_identifiers(workspace: Workspace) -> None:
    ingest_messages(
        workspace,
        [identify("u1", {"lastName": "Shaw", "phone": "0113 496 0000", "email": "A@b.example"})],
    )
    identifiers = ibis.memtable(
        {
            "key": ["u1", "u1"],
            "id_type": ["phone", "email"],
            "id_value": ["+441134960000", "a@b.example"],
        }
    )
    rows = records_by_key(workspace, person_records(workspace.lake.events(), identifiers))
    assert (rows["u1"]["phone"], rows["u1"]["email"]) == ("+441134960000", "a@b.example")
    # a phone identity resolution did not accept is no phone for matching either
    no_phone = identifiers.filter(identifiers.id_type != "phone")
    rows = records_by_key(workspace, person_records(workspace.lake.events(), no_phone))
    assert (rows["u1"]["phone"], rows["u1"]["email"]) == (None, "a@b.example")
    with pytest.raises(InvalidValue, match="unknown region 'XX'"):
        person_records(workspace.lake.events(), default_region="XX")


# -- options -----------------------------------------------------------------------------------
def test_options_have_principled_defaults_and_clear_errors() -> None:
    options = MatchingOptions()
    assert options.enabled and options.threshold == 0.95 and options.require_corroboration
    assert ["first_name", "last_name"] in options.blocking_rules
    with pytest.raises(ValidationError, match="rule 2 names unknown field 'surname'"):
        MatchingOptions(blocking_rules=[["email"], ["surname"]])
    with pytest.raises(ValidationError, match="rule 1 is empty"):
        MatchingOptions(training_rules=[[]])
    with pytest.raises(ValidationError, match="less than 1"):
        MatchingOptions(threshold=1.5)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        MatchingOptions.model_validate({"treshold": 0.9})


def test_matching_options_from_tandem_toml_name_the_key(workspace: Workspace) -> None:
    path = workspace.root / "tandem.toml"
    text = path.read_text()
    path.write_text(text + "\n[identity.matching]\nthreshold = 0.99\nseed = 7\n")
    reopened = Workspace.open(workspace.root)
    try:
        options = reopened.settings.identity.matching
        assert isinstance(options, MatchingOptions)
        assert (options.threshold, options.seed, options.enabled) == (0.99, 7, True)
        # set in code, they are checked too
        reopened.settings.identity.matching = {"enabled": False}  # type: ignore[assignment]
        assert reopened.settings.identity.matching == MatchingOptions(enabled=False)
        with pytest.raises(ValidationError, match="threshold"):
            reopened.settings.identity.matching = {"threshold": 3}  # type: ignore[assignment]
    finally:
        reopened.close()
    # checked when the settings are read, not when a resolution runs
    path.write_text(text + '\n[identity.matching]\nblocking_rules = [["shoe_size"]]\n')
    with pytest.raises(InvalidConfig, match="invalid settings") as caught:
        Workspace.open(workspace.root)
    assert "unknown field 'shoe_size'" in caught.value.problems[0].message
    assert caught.value.problems[0].field == "identity.matching.blocking_rules"


# -- small and refused inputs ------------------------------------------------------------------
def table(rows: list[dict[str, Any]]) -> Any:
    columns = {name: [row.get(name) for row in rows] for name in ("key", "source", *FIELDS)}
    return ibis.memtable(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}))


PERSON = {"source": "crm", "first_name": "ann", "last_name": "lee", "birth_date": "1980-01-02"}


@pytest.mark.parametrize("count", [0, 1, 2])
def test_too_few_records_give_no_edges_and_a_reason(workspace: Workspace, count: int) -> None:
    rows = [{**PERSON, "key": f"crm:{n}"} for n in range(count)]
    result = match_records(workspace.lake.con, table(rows), MatchingOptions())
    assert result.edges.num_rows == 0
    assert result.edges.schema == EDGE_SCHEMA
    assert result.stats["reason"] == f"{count} comparable record(s): too few to train a model"
    assert result.stats["records"] == count


def test_records_too_thin_to_compare_are_left_out_and_counted(workspace: Workspace) -> None:
    rows = [
        {**PERSON, "key": "crm:1"},
        {"key": "mail:1", "source": "mail", "first_name": "ann", "email": "ann@x.example"},
        {"key": "mail:2", "source": "mail", "email": "bo@x.example"},
    ]
    result = match_records(workspace.lake.con, table(rows), MatchingOptions())
    assert (result.stats["records"], result.stats["compared_records"]) == (3, 1)
    assert result.stats["left_out"] == 2
    assert result.edges.num_rows == 0


def test_a_model_that_cannot_be_trained_says_why(workspace: Workspace) -> None:
    # every record differs from every other: no prior rule finds a single match
    rows = [
        {
            "key": f"k{n}",
            "source": "crm",
            "first_name": f"name{n}",
            "last_name": f"sur{n}x",
            "birth_date": f"19{50 + n}-01-01",
        }
        for n in range(6)
    ]
    result = match_records(workspace.lake.con, table(rows), MatchingOptions())
    assert result.edges.num_rows == 0
    assert result.stats["reason"] == "no two records agree on a prior rule: nothing to match"
    # without a birth date no prior rule (names and birth date, email, phone) applies
    rows = [{k: v for k, v in row.items() if k != "birth_date"} for row in rows]
    result = match_records(workspace.lake.con, table(rows), MatchingOptions())
    assert result.stats["reason"] == "no prior rule applies to the fields present"


def test_disabled_matching_and_other_engines(workspace: Workspace) -> None:
    records = table([{**PERSON, "key": "a"}, {**PERSON, "key": "b"}])
    result = match_records(workspace.lake.con, records, MatchingOptions(enabled=False))
    assert (result.edges.num_rows, result.stats["reason"]) == (0, "matching is disabled")
    with pytest.raises(MatchingUnavailable, match="sqlite back-end is not wired") as caught:
        match_records(workspace.lake.con, records, MatchingOptions(), engine="sqlite")
    assert caught.value.field == "engine"
    assert "enabled = false" in (caught.value.detail or "")


def test_one_row_per_key_is_required(workspace: Workspace) -> None:
    records = table([{**PERSON, "key": "a"}, {**PERSON, "key": "a"}, {**PERSON, "key": "b"}])
    with pytest.raises(ValueError, match="one row per key"):
        match_records(workspace.lake.con, records, MatchingOptions())


def test_no_temporary_table_is_left_behind(workspace: Workspace) -> None:
    con = workspace.lake.con

    def tables() -> set[str]:
        return {
            row[0] for row in con.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }

    before = tables()
    rows = [{**PERSON, "key": f"k{n}", "first_name": f"a{n}"} for n in range(6)]
    result = match_records(con, table(rows), MatchingOptions())
    assert "steps" in result.stats  # it trained and predicted
    assert tables() == before


# -- the demo company's truth ------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ws = Workspace.init(tmp_path_factory.mktemp("demo") / "ws", company="Harbour & Vine")
    build_channels(ws, customers=250, seed=5, as_of=AS_OF)
    yield ws
    ws.close()


def person_of_user_ids(ws: Workspace) -> dict[str, str]:
    """The true person behind each user id (records: `<source>:<record id>`)."""
    truth, _ = load_truth(ws.root)
    events = ws.lake.events()
    pairs = ws.lake.con.to_pyarrow(
        events.filter(events.user_id.notnull()).select("source", "message_id", "user_id")
    )
    who = {(r["source"], r["record_id"]): r["person_id"] for r in truth.to_pylist()}
    out = {}
    for row in pairs.to_pylist():
        person = who.get((row["source"], row["message_id"]))
        if person is not None:
            out[row["user_id"]] = person
    for (source, record_id), person in who.items():
        if source in ("crm", "service"):
            out[f"{source}:{record_id}"] = person
    return out


def test_the_demo_twins_are_matched_and_no_two_people_are(demo: Workspace) -> None:
    con = demo.lake.con
    run: Callable[[], Any] = lambda: match_records(  # noqa: E731
        con, person_records(demo.lake.events()), MatchingOptions()
    )
    result = run()
    edges = result.edges.to_pylist()
    person = person_of_user_ids(demo)
    assert edges, result.stats
    assert all(person[e["left_key"]] == person[e["right_key"]] for e in edges)
    assert all(e["left_key"] < e["right_key"] for e in edges)
    assert all(e["match_probability"] >= 0.95 for e in edges)
    found = {(e["left_key"], e["right_key"]) for e in edges}
    traps = load_traps(demo.root).to_pylist()
    twins: dict[str, list[str]] = {}
    for trap in traps:
        if trap["trap"] == "crm_duplicate":
            twins.setdefault(trap["person_id"], []).append(f"crm:{trap['record_id']}")
    assert twins
    assert all(tuple(sorted(pair)) in found for pair in twins.values())
    stats = result.stats
    assert stats["pairs"] == len(edges)
    assert stats["pairs_compared"] > stats["pairs_above_threshold"] >= stats["pairs"]
    assert stats["trained_on"] == [["first_name", "last_name"], ["birth_date"]]
    assert set(stats["fields"]) == {f for f in FIELDS if f != "full_name"}
    assert stats["not_corroborated"] > 0  # households and namesakes the model alone would join
    # seeded: the same edges on a second run, the same weights but for float summation order
    again = run().edges
    assert again.select(["left_key", "right_key"]).equals(
        result.edges.select(["left_key", "right_key"])
    )
    assert again["match_weight"].to_pylist() == pytest.approx(
        result.edges["match_weight"].to_pylist(), abs=1e-6
    )


def test_without_corroboration_households_and_namesakes_merge(demo: Workspace) -> None:
    """The corroboration rule is what keeps the demo's families apart (the model alone, which
    treats a shared address and a shared family email as independent evidence, joins them)."""
    records = person_records(demo.lake.events())
    loose = match_records(demo.lake.con, records, MatchingOptions(require_corroboration=False))
    person = person_of_user_ids(demo)
    wrong = [e for e in loose.edges.to_pylist() if person[e["left_key"]] != person[e["right_key"]]]
    assert wrong
    assert loose.stats["not_corroborated"] == 0


def test_a_training_pass_that_fails_is_skipped_and_the_model_restored(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On a 1,000-customer demo the EM pass on the name drives an m probability to zero, which
    Splink 5 rejects after it has set aside the name comparison: Tandem goes on from the model as
    it was before that pass (name comparison included), and still joins no two people."""
    ws = Workspace.init(tmp_path_factory.mktemp("demo1000") / "ws", company="Harbour & Vine")
    try:
        build_channels(ws, customers=1000, seed=5, as_of=AS_OF)
        result = match_records(ws.lake.con, person_records(ws.lake.events()), MatchingOptions())
        stats = result.stats
        assert [s["rule"] for s in stats["training_skipped"]] == [["first_name", "last_name"]]
        assert "m_probability" in stats["training_skipped"][0]["reason"]
        assert stats["trained_on"] == [["birth_date"]]
        assert "first_name_last_name" in stats["parameters"]
        person = person_of_user_ids(ws)
        edges = result.edges.to_pylist()
        assert edges
        # among them a father and son of one name, address and family email, born 25 years
        # apart: the corroboration rule keeps them apart
        assert all(person[e["left_key"]] == person[e["right_key"]] for e in edges)
        found = {(e["left_key"], e["right_key"]) for e in edges}
        twins: dict[str, list[str]] = {}
        for trap in load_traps(ws.root).to_pylist():
            if trap["trap"] == "crm_duplicate":
                twins.setdefault(trap["person_id"], []).append(f"crm:{trap['record_id']}")
        assert twins and all(tuple(sorted(p)) in found for p in twins.values())
    finally:
        ws.close()
