"""The demo's channel data: deterministic, realistic, resolvable, with its traps where it says."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import phonenumbers
import pytest

from tandem.customers.spec import normalise_messages
from tandem.demo.channels import (
    SOURCES,
    TRAPS,
    ChannelData,
    build_channels,
    generate_channels,
    load_people,
    load_traps,
    load_truth,
)
from tandem.demo.people import (
    generate_population,
    is_valid_phone,
    name_typo,
    phone_formats,
    swap_postcode_digits,
)
from tandem.errors import InvalidValue
from tandem.workspace import Workspace
from tests.conftest import Tandem

AS_OF = date(2026, 11, 23)
PEOPLE = 400
SEED = 11


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> ChannelData:
    root = tmp_path_factory.mktemp("channels")
    return generate_channels(root, customers=PEOPLE, seed=SEED, as_of=AS_OF)


# -- reading the files back ------------------------------------------------------------------
def messages(data: ChannelData, source: str) -> list[dict[str, Any]]:
    path = data.source(source).path
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rows(data: ChannelData, source: str) -> list[dict[str, str]]:
    with data.source(source).path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def person_of(data: ChannelData) -> dict[tuple[str, str], str]:
    identities, _ = load_truth(data.directory.parent)
    return {
        (s, r): p
        for s, r, p in zip(
            identities["source"].to_pylist(),
            identities["record_id"].to_pylist(),
            identities["person_id"].to_pylist(),
            strict=True,
        )
    }


def e164(text: str) -> str:
    number = phonenumbers.parse(text, "GB")
    assert phonenumbers.is_valid_number(number), text
    assert phonenumbers.region_code_for_number(number) == "GB", text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- determinism -----------------------------------------------------------------------------
def test_same_seed_same_files_and_truth(tmp_path: Path, data: ChannelData) -> None:
    again = generate_channels(tmp_path / "a", customers=PEOPLE, seed=SEED, as_of=AS_OF)
    assert digest(tmp_path / "a") == digest(data.directory.parent)
    assert again.truth == data.truth
    other = generate_channels(tmp_path / "b", customers=PEOPLE, seed=SEED + 1, as_of=AS_OF)
    assert digest(tmp_path / "b")["channels/crm.csv"] != digest(tmp_path / "a")["channels/crm.csv"]
    assert other.truth["sources"] != data.truth["sources"]


def test_files_and_truth_layout(data: ChannelData) -> None:
    root = data.directory.parent
    assert sorted(p.name for p in data.directory.iterdir()) == sorted(
        [s.file for s in SOURCES] + [s.mapping for s in SOURCES if s.mapping]
    )
    assert sorted(p.name for p in (root / ".demo-truth").iterdir()) == [
        "README.txt",
        "identities.parquet",
        "people.parquet",
        "traps.parquet",
        "truth.json",
    ]
    identities, summary = load_truth(root)
    assert identities.column_names == ["source", "record_id", "person_id", "kind"]
    assert summary["people"] == PEOPLE
    assert summary["people_with_records"] == PEOPLE
    assert len(set(identities["person_id"].to_pylist())) == PEOPLE
    pairs = list(
        zip(identities["source"].to_pylist(), identities["record_id"].to_pylist(), strict=True)
    )
    assert len(pairs) == len(set(pairs)), "a record id appears twice in one source"
    assert {s: summary["sources"][s]["expected_accepted"] for s in summary["sources"]} == dict(
        Counter(identities["source"].to_pylist())
    )


def test_load_truth_outside_a_demo(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="no demo ground truth"):
        load_truth(tmp_path)


def test_negative_customers_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="cannot be negative"):
        generate_channels(tmp_path, customers=-1, seed=1, as_of=AS_OF)


# -- the counts an import must give ----------------------------------------------------------
@pytest.mark.parametrize("source", [s.name for s in SOURCES if s.format == "ndjson"])
def test_spec_accepts_exactly_what_the_truth_predicts(data: ChannelData, source: str) -> None:
    """The Segment spec validator (the import's) rejects the planted bad rows and nothing else;
    the re-sent rows repeat a messageId already in the file."""
    written = messages(data, source)
    expected = data.truth["sources"][source]
    assert len(written) == expected["rows_written"] == data.source(source).rows
    parsed = normalise_messages(
        written,
        source=source,
        received_at=datetime(2026, 11, 23, tzinfo=UTC),
        origin="file",
        index_base=1,
        deterministic_ids=True,
    )
    assert len(parsed.rejections) == expected["expected_rejected"]
    reasons = Counter(r.reason.split(" ")[0] for r in parsed.rejections)
    if expected["expected_rejected"]:
        assert reasons["userId"] >= 1 and reasons["timestamp"] >= 1
    ids = parsed.events["message_id"].to_pylist()
    assert len(ids) - len(set(ids)) == expected["expected_duplicates"]
    assert len(set(ids)) == expected["expected_accepted"]
    assert set(ids) == {r for s, r in person_of(data) if s == source}


def test_bad_rows_and_duplicates_are_planted_in_the_event_streams(data: ChannelData) -> None:
    for source in ("web", "app", "email"):
        expected = data.truth["sources"][source]
        assert expected["expected_rejected"] >= 2
        assert expected["expected_duplicates"] >= 2
    assert data.truth["expected"]["rows_written"] == (
        data.truth["expected"]["accepted"]
        + data.truth["expected"]["rejected"]
        + data.truth["expected"]["duplicates"]
    )


# -- behaviour -------------------------------------------------------------------------------
def test_customer_types_differ_in_season_basket_and_email(data: ChannelData) -> None:
    who = person_of(data)
    people = {p["person_id"]: p for p in load_people(data.directory.parent).to_pylist()}
    assert len(people) == PEOPLE
    orders: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    for source in ("web", "app"):
        for m in messages(data, source):
            if m.get("event") == "Order Completed" and (source, m["messageId"]) in who:
                persona = people[who[(source, m["messageId"])]]["persona"]
                orders[persona].append((int(m["timestamp"][5:7]), m["properties"]["revenue"]))
    spring = {3, 4, 5, 6}
    winter = {10, 11, 12}

    def share(persona: str, months: set[int]) -> float:
        return sum(1 for month, _ in orders[persona] if month in months) / len(orders[persona])

    assert share("gardener", spring) > 0.45 > share("home-maker", spring)
    assert share("home-maker", winter) > share("gardener", winter)
    basket = {p: sum(r for _, r in o) / len(o) for p, o in orders.items()}
    assert basket["bargain-hunter"] < basket["gardener"] < basket["home-maker"]
    opens: Counter[str] = Counter()
    for m in messages(data, "email"):
        if m.get("event") == "Email Opened" and ("email", m["messageId"]) in who:
            opens[people[who[("email", m["messageId"])]]["persona"]] += 1
    subscribers: Counter[str] = Counter(
        people[who[("email", m["messageId"])]]["persona"]
        for m in messages(data, "email")
        if m["type"] == "identify" and ("email", m["messageId"]) in who
    )
    rate = {p: opens[p] / subscribers[p] for p in subscribers}
    assert rate["bargain-hunter"] > rate["gardener"] > rate["occasional"]


def test_email_clicks_bring_people_to_the_web_shop(data: ChannelData) -> None:
    who = person_of(data)
    clicked: set[tuple[str, str]] = {
        (who[("email", m["messageId"])], m["properties"]["campaign_id"])
        for m in messages(data, "email")
        if m.get("event") == "Email Clicked" and ("email", m["messageId"]) in who
    }
    landed = {
        (who[("web", m["messageId"])], m["context"]["campaign"]["content"])
        for m in messages(data, "web")
        if m["type"] == "page" and "campaign" in m["context"] and ("web", m["messageId"]) in who
    }
    assert landed, "no web visit from an email campaign"
    assert landed <= clicked, "a campaign visit without the person's click"
    assert all(
        m["context"]["campaign"]["medium"] == "email"
        for m in messages(data, "web")
        if "campaign" in m.get("context", {})
    )


# -- phones ----------------------------------------------------------------------------------
def test_phone_formats_all_parse_to_one_number() -> None:
    for nsn in ("7912345678", "2079460958", "1174960123", "2920180123"):
        assert is_valid_phone(nsn)
        formats = phone_formats(nsn)
        assert {e164(text) for text in formats.values()} == {f"+44{nsn}"}
    assert phone_formats("2079460958")["international"] == "+44 20 7946 0958"
    assert phone_formats("2079460958")["national"] == "020 7946 0958"
    assert phone_formats("2079460958")["compact"] == "02079460958"


def test_a_large_population_has_distinct_valid_gb_phones() -> None:
    people = generate_population(20_000, np.random.default_rng(5), as_of=AS_OF)
    assert len(set(people.phone)) == 20_000
    assert all(e164(f"0{nsn}") == f"+44{nsn}" for nsn in people.phone)
    assert len({e.lower() for e in people.email}) == 20_000
    assert len({h.lower() for h in people.handle}) == 20_000


def test_every_phone_in_every_channel_is_valid_gb_and_agrees(data: ChannelData) -> None:
    who = person_of(data)
    by_person: defaultdict[str, set[str]] = defaultdict(set)
    formats: Counter[str] = Counter()
    for row in rows(data, "crm") + rows(data, "service"):
        if row.get("phone"):
            source = "crm" if "crm_id" in row else "service"
            record = row.get("crm_id") or row["ticket_id"]
            by_person[who[(source, record)]].add(e164(row["phone"]))
            formats[_shape(row["phone"])] += 1
    for source in ("web", "app"):
        for m in messages(data, source):
            phone = (m.get("traits") or {}).get("phone")
            if phone and m["messageId"] in {r for s, r in who if s == source}:
                by_person[who[(source, m["messageId"])]].add(e164(phone))
                formats[_shape(phone)] += 1
    assert by_person, "no phones at all"
    assert all(len(numbers) == 1 for numbers in by_person.values())
    assert {"national", "international", "compact", "e164"} <= set(formats)


def _shape(text: str) -> str:
    if text.startswith("+44 "):
        return "international"
    if text.startswith("+44"):
        return "e164"
    return "national" if " " in text else "compact"


# -- traps -----------------------------------------------------------------------------------
def test_trap_counts_in_truth_match_the_trap_table(data: ChannelData) -> None:
    traps = load_traps(data.directory.parent).to_pylist()
    summary = data.truth["traps"]
    assert set(summary) == set(TRAPS)
    for name, counts in summary.items():
        mine = [t for t in traps if t["trap"] == name]
        assert counts["people"] == len({t["person_id"] for t in mine}), name
        assert counts["groups"] == len({t["group"] for t in mine}), name
        assert counts["records"] == len(
            {(t["source"], t["record_id"]) for t in mine if t["record_id"]}
        )
    # Every trap is planted, and in the proportions the docs state.
    assert all(summary[name]["people"] > 0 for name in TRAPS), {
        n: c["people"] for n, c in summary.items()
    }
    assert summary["shop_tablet"]["groups"] == 2
    assert summary["shop_tablet"]["people"] >= 16
    assert summary["family_email"]["groups"] == round(PEOPLE * 0.006)
    assert summary["crm_duplicate"]["records"] == 2 * summary["crm_duplicate"]["people"]


def test_family_emails_are_shared_by_different_people(data: ChannelData) -> None:
    who = person_of(data)
    by_email: defaultdict[str, set[str]] = defaultdict(set)
    for row in rows(data, "crm"):
        by_email[row["email"].lower()].add(who[("crm", row["crm_id"])])
    traps = [
        t for t in load_traps(data.directory.parent).to_pylist() if t["trap"] == "family_email"
    ]
    families = {t["group"] for t in traps}
    for address in families:
        assert 3 <= len(by_email[address]) <= 5
    shared = {e for e, people in by_email.items() if len(people) > 1 and e}
    assert shared == families, "only the planted family emails are shared in the CRM"


def test_shop_tablets_are_used_by_many_customers(data: ChannelData) -> None:
    who = person_of(data)
    users: defaultdict[str, set[str]] = defaultdict(set)
    people: defaultdict[str, set[str]] = defaultdict(set)
    for m in messages(data, "app"):
        device = m.get("context", {}).get("device", {}).get("id")
        if device and m.get("userId") and ("app", m["messageId"]) in who:
            users[device].add(m["userId"])
            people[device].add(who[("app", m["messageId"])])
    tablets = {
        t["group"]
        for t in load_traps(data.directory.parent).to_pylist()
        if t["trap"] == "shop_tablet"
    }
    for device in tablets:
        assert len(users[device]) >= 8
        assert len(people[device]) == len(users[device])
    assert all(len(people[d]) == 1 for d in people if d not in tablets)


def test_crm_typos_duplicates_and_swapped_postcodes(data: ChannelData) -> None:
    crm = {r["crm_id"]: r for r in rows(data, "crm")}
    traps = load_traps(data.directory.parent).to_pylist()
    for t in traps:
        if t["trap"] == "crm_name_typo":
            row = crm[t["record_id"]]
            assert f"{row['first_name']} {row['last_name']}" != t["group"]
            assert row["email"], "a typo record still has its email"
        elif t["trap"] == "crm_postcode_swap":
            row = crm[t["record_id"]]
            assert row["postcode"] != t["group"]
            assert sorted(row["postcode"]) == sorted(t["group"])
    twins: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    for t in traps:
        if t["trap"] == "crm_duplicate":
            twins[t["person_id"]].append(crm[t["record_id"]])
    assert twins
    for first, second in twins.values():
        assert first["email"] and first["phone"]
        assert not second["email"] and not second["phone"] and not second["account_id"]
        assert first["date_of_birth"] == second["date_of_birth"]
        assert first["street"] == second["street"]
        assert first["first_name"] != second["first_name"]


def test_typo_helpers() -> None:
    assert swap_postcode_digits("SE15 5NG") == "SE51 5NG"
    assert swap_postcode_digits("BS16 2AB") == "BS61 2AB"
    assert {name_typo("Charlotte", k) for k in range(30)} - {"Charlotte"}
    for name in ("Charlotte", "Leo", "Ava", "Ng"):
        assert all(name_typo(name, k) != name for k in range(30)), name
        assert len({name_typo(name, k) for k in range(30)}) >= 2, name


def test_anonymous_visitors_log_in_later(data: ChannelData) -> None:
    who = person_of(data)
    web = [m for m in messages(data, "web") if ("web", m["messageId"]) in who]
    first_seen: dict[str, str] = {}
    for m in web:
        if "anonymousId" in m:
            first_seen.setdefault(m["anonymousId"], m["timestamp"])
    logins = [m for m in web if m["type"] == "identify"]
    assert logins
    for m in logins:
        assert m["userId"].startswith("hv-") and m["anonymousId"]
        assert first_seen[m["anonymousId"]] < m["timestamp"], "no anonymous visit before login"
        assert "@" in m["traits"]["email"]


def test_social_leads_and_two_emails(data: ChannelData) -> None:
    who = person_of(data)
    emails_elsewhere: defaultdict[str, set[str]] = defaultdict(set)
    for m in messages(data, "email"):
        if m["type"] == "identify" and ("email", m["messageId"]) in who:
            emails_elsewhere[who[("email", m["messageId"])]].add(m["traits"]["email"])
    for r in rows(data, "crm"):
        emails_elsewhere[who[("crm", r["crm_id"])]].add(r["email"])
    leads = [
        m for m in messages(data, "social") if m["type"] == "identify" and "email" in m["traits"]
    ]
    assert leads
    for m in leads:
        assert m["traits"]["handle"].startswith("@")
        assert m["traits"]["email"] in emails_elsewhere[who[("social", m["messageId"])]]
    account_email = {
        m["userId"]: m["traits"]["email"] for m in messages(data, "web") if m["type"] == "identify"
    }
    traps = load_traps(data.directory.parent).to_pylist()
    crm = {r["crm_id"]: r for r in rows(data, "crm")}
    two = [t for t in traps if t["trap"] == "two_emails"]
    assert two
    for t in two:
        row = crm[t["record_id"]]
        assert row["account_id"] == t["group"]
        if row["account_id"] in account_email:
            assert account_email[row["account_id"]] != row["email"]


# -- the truth is resolvable, and the traps would over-merge ---------------------------------
def identifiers(data: ChannelData) -> Iterator[tuple[tuple[str, str], str]]:
    """(record, identifier) pairs, normalised as identity resolution would."""
    who = person_of(data)
    for spec in SOURCES:
        if spec.format == "csv":
            for row in rows(data, spec.name):
                record = (spec.name, row.get("crm_id") or row["ticket_id"])
                yield record, f"record:{record}"
                if row.get("account_id"):
                    yield record, f"user:{row['account_id']}"
                if row.get("email"):
                    yield record, f"email:{row['email'].strip().lower()}"
                if row.get("phone"):
                    yield record, f"phone:{e164(row['phone'])}"
                if row.get("handle"):
                    yield record, f"handle:{row['handle'].lstrip('@').lower()}"
            continue
        for m in messages(data, spec.name):
            record = (spec.name, m["messageId"])
            if record not in who:
                continue
            yield record, f"record:{record}"
            if m.get("userId"):
                yield record, f"user:{m['userId']}"
            if m.get("anonymousId"):
                yield record, f"anon:{m['anonymousId']}"
            device = m.get("context", {}).get("device", {}).get("id")
            if device:
                yield record, f"device:{device}"
            traits = {**m.get("context", {}).get("traits", {}), **m.get("traits", {})}
            if traits.get("email"):
                yield record, f"email:{traits['email'].strip().lower()}"
            if traits.get("phone"):
                yield record, f"phone:{e164(traits['phone'])}"
            if traits.get("handle"):
                yield record, f"handle:{traits['handle'].lstrip('@').lower()}"


def components(pairs: list[tuple[tuple[str, str], str]], skip: set[str]) -> dict[Any, Any]:
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for record, ident in pairs:
        find(record)
        if ident not in skip:
            parent[find(record)] = find(ident)
    return {record: find(record) for record, _ in pairs}


def test_deterministic_links_recover_every_person_but_the_planted_twins(data: ChannelData) -> None:
    who = person_of(data)
    pairs = list(identifiers(data))
    assert {r for r, _ in pairs} == set(who)
    traps = load_traps(data.directory.parent).to_pylist()
    tablets = {t["group"] for t in traps if t["trap"] == "shop_tablet"}
    tablet_installs = {
        m["anonymousId"]
        for m in messages(data, "app")
        if m.get("context", {}).get("device", {}).get("id") in tablets
    }
    shared = (
        {f"email:{t['group']}" for t in traps if t["trap"] == "family_email"}
        | {f"device:{d}" for d in tablets}
        | {f"anon:{a}" for a in tablet_installs}
    )
    clusters = components(pairs, shared)
    people_per_cluster: defaultdict[Any, set[str]] = defaultdict(set)
    clusters_per_person: defaultdict[str, set[Any]] = defaultdict(set)
    for record, cluster in clusters.items():
        people_per_cluster[cluster].add(who[record])
        clusters_per_person[who[record]].add(cluster)
    assert all(len(p) == 1 for p in people_per_cluster.values()), "a deterministic over-merge"
    split = {p for p, c in clusters_per_person.items() if len(c) > 1}
    twins = {t["person_id"] for t in traps if t["trap"] == "crm_duplicate"}
    assert split == twins, "only the CRM twins need a probabilistic match"
    assert all(len(clusters_per_person[p]) == 2 for p in twins)
    # Without the shared-identifier rule, the tablets and the family emails over-merge.
    naive = components(pairs, set())
    merged: defaultdict[Any, set[str]] = defaultdict(set)
    for record, cluster in naive.items():
        merged[cluster].add(who[record])
    assert max(len(p) for p in merged.values()) >= 8


# -- the real import -------------------------------------------------------------------------
def test_build_channels_ingests_what_the_truth_predicts(workspace: Workspace) -> None:
    summary = build_channels(workspace, customers=250, seed=5, as_of=AS_OF)
    _, truth = load_truth(workspace.root)
    assert summary.people == 250
    assert [s.name for s in summary.sources] == [s.name for s in SOURCES]
    for result in summary.sources:
        expected = truth["sources"][result.name]
        assert result.rows == expected["rows_written"]
        assert result.accepted == expected["expected_accepted"], result.name
        assert result.rejected == expected["expected_rejected"], result.name
        assert result.duplicates == expected["expected_duplicates"], result.name
        assert result.accepted + result.rejected + result.duplicates == result.rows
    assert summary.rejected > 0 and summary.duplicates > 0
    # The sources exist with their owners, and the lake holds exactly the truth's records.
    owners = {s.name: set(s.owners) for s in workspace.sources.list()}
    assert owners == {s.name: set(s.owners) for s in SOURCES}
    events = workspace.lake.events()
    by_source = events.group_by("source").aggregate(n=events.count()).to_pyarrow().to_pylist()
    counts = {row["source"]: row["n"] for row in by_source}
    assert counts == {s: truth["sources"][s]["expected_accepted"] for s in truth["sources"]}
    assert workspace.lake.quarantine().count().to_pyarrow().as_py() == truth["expected"]["rejected"]
    # Every stored event is a truth record and vice versa (mapped records by their record id).
    identities, _ = load_truth(workspace.root)
    truth_ids = set(
        zip(identities["source"].to_pylist(), identities["record_id"].to_pylist(), strict=True)
    )
    stored = events.select("source", "message_id", "user_id").to_pyarrow().to_pylist()
    keys = {
        (
            e["source"],
            e["user_id"].split(":", 1)[1] if e["source"] in ("crm", "service") else e["message_id"],
        )
        for e in stored
    }
    assert keys == truth_ids
    # A blank CRM or service cell is left out of the traits, not stored as "".
    mapped = events.filter(events.source.isin(["crm", "service"])).traits.to_pyarrow()
    assert not [t for t in mapped.to_pylist() if '":""' in t]
    lines = summary.lines()
    assert lines[0].startswith("customers: 250 people across 7 sources")
    assert f"{summary.rejected:,} rejected" in lines[1]


def test_demo_command_builds_channels_end_to_end(tandem: Tandem, tmp_path: Path) -> None:
    run = tandem("demo", "--dir", tmp_path / "d", "--customers", "200", "--seed", "3", "--no-serve")
    assert run.exit_code == 0, run.stderr
    assert "customers: 200 people across 7 sources" in run.stdout
    _, truth = load_truth(tmp_path / "d")
    expected = truth["expected"]
    assert (
        f"events: {expected['rows_written']:,} rows read, {expected['accepted']:,} accepted, "
        f"{expected['rejected']:,} rejected (quarantined), {expected['duplicates']:,} duplicates"
    ) in run.stdout
    counted = tandem("events", "count", "--json", "-w", tmp_path / "d")
    assert counted.exit_code == 0, counted.stderr
    assert "crm" in counted.stdout and "ideas" in counted.stdout
    again = tandem(
        "ingest",
        tmp_path / "d" / "channels" / "crm.csv",
        "--source",
        "crm",
        "--mapping",
        tmp_path / "d" / "channels" / "crm.mapping.yaml",
        "--json",
        "-w",
        tmp_path / "d",
    )
    assert again.exit_code == 0, again.stderr
    result = again.json()
    assert result["accepted"] == 0
    assert result["duplicates"] == truth["sources"]["crm"]["rows_written"]
