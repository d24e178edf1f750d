"""Column mappings: CRM-style records become identify messages with traits and externalIds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.customers.ingest import ingest_file
from tandem.customers.mapping import Mapping
from tandem.errors import InvalidInput
from tandem.lake import Lake

MAPPING = """\
record_id: customer_no
timestamp: updated_at
traits:
  first_name: First Name
  last_name: Last Name
identifiers:
  - column: E-mail
    type: email
  - column: Mobile
    type: phone
  - column: Twitter
    type: twitter
"""

CSV = """\
customer_no,First Name,Last Name,E-mail,Mobile,Twitter,updated_at,ignored
1001,Ann,Lee,ann@example.com,07700 900123,@ann,2025-06-01T09:00:00Z,x
1002,Bob,"O'Neil",,+44 7700 900456,,2025-06-02,y
,No,Id,noid@example.com,,,,z
"""


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake(tmp_path / "lake")
    yield lake
    lake.close()


def stored(lake: Lake) -> dict[str, dict[str, Any]]:
    rows = lake.events().to_pyarrow().to_pylist()
    return {r["user_id"]: r for r in rows}


def test_csv_records_become_identify_messages(tmp_path: Path, lake: Lake) -> None:
    (tmp_path / "crm.csv").write_text(CSV)
    mapping = Mapping.parse(MAPPING, source="crm-map.yaml")
    result = ingest_file(lake, tmp_path / "crm.csv", source="crm", mapping=mapping)
    assert (result.rows, result.accepted, result.rejected) == (3, 2, 1)
    events = stored(lake)
    ann = events["crm:1001"]
    assert ann["type"] == "identify"
    assert json.loads(ann["traits"]) == {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@example.com",
        "phone": "07700 900123",
        "twitter": "@ann",
    }
    assert json.loads(ann["context"]) == {
        "externalIds": [
            {"id": "ann@example.com", "type": "email", "collection": "users", "encoding": "none"},
            {"id": "07700 900123", "type": "phone", "collection": "users", "encoding": "none"},
            {"id": "@ann", "type": "twitter", "collection": "users", "encoding": "none"},
        ],
        "tandem": {"recordId": "1001"},
    }
    assert ann["timestamp"].isoformat() == "2025-06-01T09:00:00+00:00"
    bob = events["crm:1002"]
    assert json.loads(bob["traits"]) == {
        "first_name": "Bob",
        "last_name": "O'Neil",
        "phone": "+44 7700 900456",
    }
    assert [x["type"] for x in json.loads(bob["context"])["externalIds"]] == ["phone"]
    reasons = [r["reason"] for r in lake.quarantine().to_pyarrow().to_pylist()]
    assert reasons == ["userId or anonymousId is required"]
    again = ingest_file(lake, tmp_path / "crm.csv", source="crm", mapping=mapping)
    assert (again.accepted, again.duplicates) == (0, 2)  # idempotent


def test_user_id_template_and_list_of_traits(tmp_path: Path, lake: Lake) -> None:
    (tmp_path / "loyalty.csv").write_text("card,tier,points\n000123,gold,1200\n")
    mapping = Mapping.parse('record_id: card\nuser_id: "card-{record_id}"\ntraits: [tier, points]')
    ingest_file(lake, tmp_path / "loyalty.csv", source="loyalty", mapping=mapping)
    card = stored(lake)["card-000123"]
    assert json.loads(card["traits"]) == {"tier": "gold", "points": "1200"}


def test_parquet_and_ndjson_records(tmp_path: Path, lake: Lake) -> None:
    mapping = Mapping.parse(
        "record_id: id\ntraits:\n  name: name\nidentifiers:\n  - {column: mail, type: email}\n"
    )
    pq.write_table(
        pa.table({"id": [7, 8], "name": ["Ann", "Bob"], "mail": ["a@x.io", None]}),
        tmp_path / "people.parquet",
    )
    (tmp_path / "people.ndjson").write_text(
        json.dumps({"id": 9, "name": "Cy", "mail": "c@x.io"}) + "\n"
    )
    ingest_file(lake, tmp_path / "people.parquet", source="shop", mapping=mapping)
    ingest_file(lake, tmp_path / "people.ndjson", source="shop", mapping=mapping)
    events = stored(lake)
    assert sorted(events) == ["shop:7", "shop:8", "shop:9"]
    assert json.loads(events["shop:8"]["traits"]) == {"name": "Bob"}
    assert json.loads(events["shop:9"]["traits"]) == {"name": "Cy", "email": "c@x.io"}


def test_a_mapped_column_missing_from_the_file_is_an_error_before_writing(
    tmp_path: Path, lake: Lake
) -> None:
    (tmp_path / "crm.csv").write_text("customer_no,First Name\n1,Ann\n")
    mapping = Mapping.parse(MAPPING, source="crm-map.yaml")
    with pytest.raises(InvalidInput) as caught:
        ingest_file(lake, tmp_path / "crm.csv", source="crm", mapping=mapping)
    error = caught.value
    assert "missing from the CSV header" in error.message
    found = {(p.field, p.line) for p in error.problems}
    assert ("timestamp", 2) in found
    assert ("identifiers.0.column", 7) in found
    assert "`Last Name`" in " ".join(p.message for p in error.problems)
    assert lake.events().to_pyarrow().num_rows == 0


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("traits: {a: b}\n", "missing required field `record_id`", None),
        ("record_id: id\nidentifiers:\n  - column: x\n    type: fax\n", "unknown identifier", 4),
        ("record_id: id\nuser_id: '{source}'\n", "must contain {record_id}", 2),
        ("record_id: id\nuser_id: '{who}:{record_id}'\n", "unknown placeholder {who}", 2),
        ("record_id: id\ncolour: red\n", "unknown field `colour`", 2),
        ("record_id: [1\n", "", None),
    ],
)
def test_bad_mappings_name_the_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        Mapping.parse(text, source="map.yaml")
    problems = caught.value.problems
    assert problems
    assert any(message in p.message for p in problems)
    if line is not None:
        assert problems[0].line == line


def test_a_mapping_is_refused_for_the_json_format(tmp_path: Path, lake: Lake) -> None:
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(InvalidInput, match="not to the json format"):
        ingest_file(lake, tmp_path / "x.json", source="crm", mapping=Mapping.parse("record_id: a"))


def test_read_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "map.yaml").write_text(MAPPING)
    mapping = Mapping.read(tmp_path / "map.yaml")
    assert [c for c, _ in mapping.columns()][:3] == ["customer_no", "updated_at", "First Name"]
    with pytest.raises(InvalidInput, match="mapping file not found"):
        Mapping.read(tmp_path / "nope.yaml")
