"""lake.erase: delete rows by key in one commit per table, and vacuum at once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from tandem.lake.derived import replace_table
from tandem.lake.erase import delete_rows, vacuum_now
from tandem.lake.schema import SCHEMAS
from tandem.lake.store import Lake


def links(rows: list[dict[str, object]]) -> pa.Table:
    schema = SCHEMAS["identity_links"]
    return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    replace_table(
        lake,
        "identity_links",
        links(
            [
                {"customer_id": "c1", "kind": "identifier", "id_value": "a@x"},
                {"customer_id": "c1", "kind": "match"},
                {"customer_id": "c2", "kind": "ignored", "id_value": "a@x"},
                {"customer_id": "c2", "kind": "identifier", "id_value": "b@x"},
                {"customer_id": "c3", "kind": "identifier", "id_value": "' OR 1=1 --"},
            ]
        ),
    )
    return lake


def remaining(lake: Lake) -> list[tuple[str, str | None]]:
    table = lake.table("identity_links").to_pyarrow_table()
    rows = zip(table["customer_id"].to_pylist(), table["id_value"].to_pylist(), strict=True)
    return sorted(rows, key=str)


def test_delete_by_alternative_keys_in_one_commit(lake: Lake) -> None:
    version = lake.table("identity_links").version()
    keys = pa.table({"customer_id": pa.array(["c1", None], pa.string()), "id_value": [None, "a@x"]})
    deleted = delete_rows(lake, "identity_links", keys, [["customer_id"], ["id_value"]])
    assert deleted == 3
    assert remaining(lake) == [("c2", "b@x"), ("c3", "' OR 1=1 --")]
    assert lake.table("identity_links").version() == version + 1


def test_values_are_data_not_sql(lake: Lake) -> None:
    keys = pa.table({"id_value": ["' OR 1=1 --"]})
    assert delete_rows(lake, "identity_links", keys) == 1
    assert len(remaining(lake)) == 4


def test_no_keys_no_commit_and_unknown_columns(lake: Lake) -> None:
    version = lake.table("identity_links").version()
    empty = pa.table({"customer_id": pa.array([], pa.string())})
    assert delete_rows(lake, "identity_links", empty) == 0
    assert lake.table("identity_links").version() == version
    with pytest.raises(ValueError, match="not a column"):
        delete_rows(lake, "identity_links", pa.table({"nope": ["x"]}))


def test_vacuum_removes_the_old_files(lake: Lake) -> None:
    delete_rows(lake, "identity_links", pa.table({"customer_id": ["c3"]}))
    folder = Path(lake.table_path("identity_links"))
    before = len(list(folder.glob("*.parquet")))
    removed = vacuum_now(lake, ["identity_links"])
    assert removed == 1 and len(list(folder.glob("*.parquet"))) == before - 1
    assert len(remaining(lake)) == 4
