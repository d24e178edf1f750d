"""Identifiers: extracted from every message, normalised with libraries, invalid ones counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.customers import identifiers
from tandem.customers.ingest import ingest_file
from tandem.customers.mapping import Mapping
from tandem.workspace import Workspace
from tests.customers.identity_helpers import configured, identify, send, track


def ids_of(ws: Workspace) -> set[tuple[str, str, str]]:
    """(message_id, id_type, id_value) of every identifier."""
    table = identifiers.identifiers(ws.lake, ws.settings.identity).to_pyarrow()
    return set(
        zip(
            table["message_id"].to_pylist(),
            table["id_type"].to_pylist(),
            table["id_value"].to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07912 345678", "+447912345678"),
        ("+44 7912 345678", "+447912345678"),
        ("+44 (0)20 7946 0018", "+442079460018"),
        ("(020) 7946-0018", "+442079460018"),
        ("0044 7912 345678", "+447912345678"),
        ("12345", None),
        ("not a phone", None),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_normalise_phone(raw: str, expected: str | None) -> None:
    assert identifiers.normalise_phone(raw, "GB") == expected


RAW_PHONES = [
    "07912 345678",  # national fast path
    "+44.7912.345678",  # E.164 shape after separators
    "+10000000",  # E.164 shape: kept without asking phonenumbers
    "0044 (0)20 7946 0018",  # phonenumbers
    "(020) 7946-0018",
    "123456",  # no number of any region
    "07912\t345678",
]


def test_normalise_phone_gives_what_identity_resolution_stores(
    make_workspace: Callable[..., Workspace],
) -> None:
    """One definition of a normalised phone: the Python function (person records, profile
    look-ups) and `extract`'s SQL fast paths plus phonenumbers agree on every raw value."""
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**identify(f"u{n}", phone=raw), "messageId": f"p{n}"}
            for n, raw in enumerate(RAW_PHONES)
        ],
    )
    stored = {m: v for m, t, v in ids_of(ws) if t == "phone"}
    expected = {f"p{n}": identifiers.normalise_phone(raw, "GB") for n, raw in enumerate(RAW_PHONES)}
    assert stored == {m: v for m, v in expected.items() if v is not None}
    assert expected == {
        "p0": "+447912345678",
        "p1": "+447912345678",
        "p2": "+10000000",
        "p3": "+442079460018",
        "p4": "+442079460018",
        "p5": None,
        "p6": "+447912345678",
    }


def test_every_kind_of_identifier_is_extracted_and_normalised(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            {**identify("u1", "a1", email="  Ann.Lee@Example.COM "), "messageId": "m1"},
            {
                **track(anon="a2"),
                "messageId": "m2",
                "context": {
                    "device": {"id": "DEV-1"},
                    "traits": {"phone": "07912 345678", "handle": "@TheAnn"},
                },
            },
            {"type": "alias", "userId": "u1", "previousId": "a3", "messageId": "m3"},
            {
                **identify("u4", phone="+44 (0)20 7946 0018", handle="Bob"),
                "messageId": "m4",
                "context": {
                    "externalIds": [
                        {"id": "@Ann_L", "type": "twitter", "collection": "users"},
                        {"id": "hv-9", "type": "customer_id", "collection": "users"},
                        {"id": "L-77", "type": "loyalty_id", "collection": "users"},
                        {"id": "x-1", "type": "something", "collection": "users"},
                    ]
                },
            },
        ],
    )
    found = ids_of(ws)
    assert found == {
        ("m1", "user_id", "u1"),
        ("m1", "anonymous_id", "a1"),
        ("m1", "email", "ann.lee@example.com"),
        ("m2", "anonymous_id", "a2"),
        ("m2", "device_id", "DEV-1"),
        ("m2", "phone", "+447912345678"),
        ("m2", "handle", "theann"),
        ("m3", "user_id", "u1"),
        ("m3", "user_id", "a3"),
        ("m3", "anonymous_id", "a3"),
        ("m4", "user_id", "u4"),
        ("m4", "phone", "+442079460018"),
        ("m4", "handle", "bob"),
        ("m4", "handle", "ann_l"),
        ("m4", "user_id", "hv-9"),
        ("m4", "loyalty_id", "L-77"),
        ("m4", "other", "x-1"),
    }


def test_customer_id_stays_its_own_type_when_configured(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = configured(make_workspace, "[identity]\ncustomer_id_is_user_id = false\n")
    send(
        ws,
        "crm",
        [
            {
                **identify("crm:1"),
                "messageId": "c1",
                "context": {"externalIds": [{"id": "hv-9", "type": "customer_id"}]},
            }
        ],
    )
    assert ("c1", "customer_id", "hv-9") in ids_of(ws)


def test_invalid_values_are_counted_not_used(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    send(
        ws,
        "web",
        [
            identify("u1", email="no-at-sign.example"),
            identify("u2", email="two@@example.com"),
            identify("u3", email="a@b@example.com", phone="12"),
            identify("u4", email="ok@example.com", phone="07912 345678"),
            identify("u5", phone="+447912345678", handle="@"),
        ],
    )
    stats = identifiers.extract(ws.lake, ws.settings.identity)
    assert stats.invalid == {"email": 3, "phone": 1, "handle": 1}
    assert stats.messages == 5
    # 5 user ids + 1 email + 2 phones
    assert stats.identifiers == 8
    assert stats.phones_fast_path == 2 and stats.phones_parsed == 1
    values = {v for _, t, v in ids_of(ws) if t in ("email", "phone")}
    assert values == {"ok@example.com", "+447912345678"}


def test_default_region_decides_national_numbers(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, '[identity]\ndefault_region = "us"\n')
    assert ws.settings.identity.default_region == "US"
    send(ws, "web", [{**identify("u1", phone="(415) 555-2671"), "messageId": "p1"}])
    assert ("p1", "phone", "+14155552671") in ids_of(ws)


def test_mapped_records_report_their_record_id(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    ws = configured(make_workspace, "")
    csv = tmp_path / "crm.csv"
    csv.write_text("crm_id,email\nC1,a@example.com\nC2,\n", encoding="utf-8")
    mapping = Mapping.parse(
        "record_id: crm_id\nuser_id: 'x-{record_id}'\nidentifiers:\n"
        "  - column: email\n    type: email\n"
    )
    ingest_file(ws.lake, csv, source="crm", mapping=mapping)
    table = identifiers.identifiers(ws.lake, ws.settings.identity).to_pyarrow()
    rows = {(r["record_id"], r["id_type"], r["id_value"]) for r in table.to_pylist()}
    assert rows == {
        ("C1", "user_id", "x-C1"),
        ("C1", "email", "a@example.com"),
        ("C2", "user_id", "x-C2"),
    }
    assert set(table["source"].to_pylist()) == {"crm"}
