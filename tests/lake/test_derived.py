from __future__ import annotations

from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from tandem.lake import Lake
from tandem.lake.derived import replace_table


def rows(customer: str, n: int) -> pa.Table:
    return pa.table(
        {
            "source": ["web"] * n,
            "message_id": [f"m{i}" for i in range(n)],
            "record_id": [f"m{i}" for i in range(n)],
            "customer_id": [customer] * n,
        }
    )


def test_replace_table_overwrites_in_one_commit_each(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    first = replace_table(lake, "identities", rows("cus_a", 3))
    second = replace_table(lake, "identities", rows("cus_b", 2))
    assert second == first + 1
    table = lake.raw("identities").to_pyarrow()
    assert table.num_rows == 2
    assert set(table.column("customer_id").to_pylist()) == {"cus_b"}
    # the previous run is still readable by version (time travel)
    assert lake.table("identities").version() == second
    lake.close()


def test_replace_table_refuses_event_tables(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with pytest.raises(ValueError, match="not a derived table"):
        replace_table(lake, "events", rows("x", 1))
    lake.close()
