"""Assignment into arms: the deterministic hash rule, computed by the query engine, and imported
assignments (randomised elsewhere).

The rule, so any tool can reproduce it (docs/campaigns.md shows it in Python and SQL):

1. `h` = SHA-256 of the UTF-8 text `salt + ":" + customer_id`, in lowercase hex;
2. `u` = the integer of the first 13 hex digits of `h` (52 bits) divided by 2^52: a number in
   [0, 1), exact in a double;
3. the arm is the first arm, in the order the definition lists them, whose cumulative share
   (the running sum of shares; the last is exactly 1) is greater than `u`.

A campaign's salt defaults to its name, so two campaigns split the same customers independently,
and a customer's arm never changes while the salt and arms stay the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa  # type: ignore[import-untyped]

from tandem.campaigns.definition import ArmSpec, cumulative_shares, time_problem
from tandem.errors import InvalidInput, InvalidValue, Problem, TandemError
from tandem.times import parse_time

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake
    from tandem.workspace import Workspace

HASH_DIGITS: Final = 13
HASH_SCALE: Final = float(2 ** (4 * HASH_DIGITS))  # 2^52
ID_COLUMNS: Final[tuple[str, ...]] = (
    "customer_id",
    "record_id",
    "identifier",
    "email",
    "phone",
    "user_id",
)
"""The columns an imported file may name its customers by, in order of preference."""


def unit_value(salt: str, customer_id: str) -> float:
    """`u` of the rule for one customer, in Python (the engine computes the same)."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()
    return int(digest[:HASH_DIGITS], 16) / HASH_SCALE


def arm_of(salt: str, customer_id: str, arms: list[ArmSpec]) -> str:
    """The arm of one customer by the rule, in Python (for checks and other tools)."""
    u = unit_value(salt, customer_id)
    for arm, border in zip(arms, cumulative_shares(arms), strict=True):
        if u < border:
            return arm.name
    return arms[-1].name  # unreachable: the last border is 1 > u


def hash_arms(target: ir.Table, salt: str, arms: list[ArmSpec]) -> ir.Table:
    """`target` (a customer_id column) with `u` and `arm` by the rule, as engine expressions."""
    import ibis

    key = ibis.literal(f"{salt}:") + target.customer_id
    digits = key.hexdigest("sha256").substr(0, HASH_DIGITS)
    with_u = target.mutate(
        _u=(ibis.literal("0x") + digits).cast("uint64").cast("float64") / HASH_SCALE
    )
    borders = cumulative_shares(arms)
    cases = [(with_u._u < b, a.name) for a, b in zip(arms[:-1], borders[:-1], strict=True)]
    arm = ibis.cases(*cases, else_=arms[-1].name) if cases else ibis.literal(arms[-1].name)
    return with_u.mutate(arm=arm).drop("_u")


@dataclass(frozen=True)
class AssignmentSummary:
    """The outcome of `Campaigns.assign`: per arm, the customers now assigned and those added."""

    campaign: str
    assigned_at: datetime
    counts: dict[str, int]
    added: dict[str, int]
    target: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "assigned_at": self.assigned_at.isoformat(),
            "target": self.target,
            "total": self.total,
            "added": sum(self.added.values()),
            "arms": [
                {"arm": arm, "customers": n, "added": self.added.get(arm, 0)}
                for arm, n in self.counts.items()
            ],
        }


@dataclass(frozen=True)
class Rejection:
    row: int
    """1-based data row of the file (the header is not counted)."""
    value: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of `Campaigns.import_assignments`: every row accepted or rejected."""

    campaign: str
    rows: int
    accepted: int
    written: int
    """Accepted rows that added a new assignment (the others repeat an existing one)."""
    id_column: str
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "written": self.written,
            "id_column": self.id_column,
            "rejections": [r.to_dict() for r in self.rejections],
        }


def read_import_file(path: Path) -> tuple[pa.Table, str]:
    """The rows of an assignments file (CSV or Parquet) as strings: (table with `_row`, the id
    column, `arm`), and the name of the id column used."""
    import duckdb

    if not path.is_file():
        raise InvalidValue(f"file not found: {path}", field="FILE")
    suffix = path.suffix.lower()
    con = duckdb.connect()
    try:
        if suffix == ".parquet":
            rel = con.read_parquet(str(path))
        elif suffix in (".csv", ".txt", ".tsv"):
            rel = con.read_csv(str(path), all_varchar=True, header=True)
        else:
            raise InvalidValue(
                f"{path.name}: unknown file type `{suffix or '(none)'}`",
                field="FILE",
                detail="give a .csv file (with a header line) or a .parquet file",
            )
        table = rel.to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as {suffix.lstrip('.')}",
            [Problem(str(exc).splitlines()[0])],
            source=str(path),
        ) from None
    finally:
        con.close()
    return rows_table(table, source=path.name)


def rows_table(table: pa.Table, *, source: str) -> tuple[pa.Table, str]:
    """Pick the id column and `arm` of uploaded rows; every value as a string, `_row` 1-based."""
    names = {n.strip().lower(): n for n in table.column_names}
    if "arm" not in names:
        raise InvalidValue(
            f"{source} has no `arm` column (columns: {', '.join(table.column_names) or 'none'})",
            field="arm",
            detail="give a header with `arm` and one of: " + ", ".join(ID_COLUMNS),
        )
    id_column = next((c for c in ID_COLUMNS if c in names), None)
    if id_column is None:
        raise InvalidValue(
            f"{source} has no customer column (columns: {', '.join(table.column_names)})",
            field="customer_id",
            detail="name the customers in one of: " + ", ".join(ID_COLUMNS),
        )

    def text(name: str) -> pa.Array:
        column = table[names[name]]
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            try:
                column = column.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InvalidValue(
                    f"{source}: column `{names[name]}` holds {column.type}, not text or numbers",
                    field=name,
                ) from None
        return column

    columns = {
        "_row": pa.array(range(1, table.num_rows + 1), pa.int64()),
        "value": text(id_column),
        "arm": text("arm"),
    }
    if "assigned_at" in names:
        columns["assigned_at"] = text("assigned_at")
    return pa.table(columns), id_column


def _moment(value: str | None) -> datetime | str | None:
    """An `assigned_at` cell: a UTC datetime, None when empty, or the text when not a time."""
    if value is None or not value.strip():
        return None
    moment = parse_time(value)
    return value if moment is None else moment


def _candidates(ws: Workspace, values: list[str], id_column: str) -> pa.Table:
    """(value, customer_id) for every customer each distinct `value` names, by the engine."""
    import ibis

    from tandem.customers.profiles import parse_identifier
    from tandem.lake.schema import IDENTITIES

    lake = ws.lake
    con = lake.con
    if id_column == "customer_id":
        return _current_customers(lake, values)
    if id_column == "record_id":
        given = ibis.memtable(pa.table({"value": pa.array(values, pa.string())}))
        ids = lake.raw(IDENTITIES)
        found = (
            given.join(ids, given.value == ids.record_id).select("value", "customer_id").distinct()
        )
        return con.to_pyarrow(found)
    # an identifier (email, phone, user id, ...): its stored forms, looked up in every
    # profile's identifiers (JSON {type: [values]}) in one engine join
    region = ws.settings.identity.default_region
    pairs: list[tuple[str, str, str | None]] = []
    for value in values:
        forced = None if id_column == "identifier" else id_column
        try:
            ident = parse_identifier(f"{forced}:{value}" if forced else value, region=region)
        except TandemError:
            continue
        for form in ident.values:
            pairs.append((value, form, ident.id_type if forced or ident.id_type else None))
    given = ibis.memtable(
        pa.table(
            {
                "value": pa.array([p[0] for p in pairs], pa.string()),
                "form": pa.array([p[1] for p in pairs], pa.string()),
                "id_type": pa.array([p[2] for p in pairs], pa.string()),
            }
        )
    )
    exploded = _profile_identifiers(lake)
    found = (
        given.join(
            exploded,
            [given.form == exploded.id_value, given.id_type == exploded.stored_type],
        )
        .select("value", "customer_id")
        .distinct()
    )
    return con.to_pyarrow(found)


MERGE_HOPS: Final = 20
"""How many merges a customer id given in a file is followed through (a chain is rarely longer
than a few: ids are never reused)."""


def _current_customers(lake: Lake, values: list[str]) -> pa.Table:
    """(value, customer_id) for customer ids: an id with a profile names itself; an id merged
    into another since (customer_ids.merged_into) names the customer it was merged into, as
    `tandem profile show` follows it."""
    import ibis

    from tandem.lake.schema import CUSTOMER_IDS, PROFILES

    con = lake.con
    profiles = lake.raw(PROFILES).select(_pcid="customer_id")
    merges = lake.raw(CUSTOMER_IDS)
    merges = merges.filter(merges.merged_into.notnull()).select(
        _from="customer_id", _to="merged_into"
    )
    found: list[pa.Table] = []
    pending = pa.table(
        {"value": pa.array(values, pa.string()), "at": pa.array(values, pa.string())}
    )
    for _ in range(MERGE_HOPS):
        if not pending.num_rows:
            break
        given = ibis.memtable(pending)
        here = given.join(profiles, given.at == profiles._pcid).select(
            "value", customer_id=given.at
        )
        found.append(con.to_pyarrow(here))
        moved = given.join(merges, given.at == merges._from).select("value", at=merges._to)
        pending = con.to_pyarrow(moved)
    schema = pa.schema([("value", pa.string()), ("customer_id", pa.string())])
    return pa.concat_tables([t.cast(schema) for t in found]) if found else schema.empty_table()


def _profile_identifiers(lake: Lake) -> ir.Table:
    """(customer_id, stored_type, id_value) of every identifier in the profiles."""
    from tandem.lake.schema import PROFILES

    profiles = lake.raw(PROFILES).select("customer_id", "identifiers")
    parsed = profiles.mutate(
        _ids=profiles.identifiers.cast("json").cast("map<string, array<string>>")
    )
    keys = parsed.mutate(stored_type=parsed._ids.keys()).unnest("stored_type")
    values = keys.mutate(id_value=keys._ids[keys.stored_type]).unnest("id_value")
    return values.select("customer_id", "stored_type", "id_value")


def resolve_rows(
    ws: Workspace,
    rows: pa.Table,
    id_column: str,
    arms: list[str],
    existing: pa.Table,
    when: datetime,
) -> tuple[pa.Table, list[Rejection], int]:
    """Decide every imported row: (new assignments: customer_id, arm, record_id, assigned_at),
    rejections with reasons, the number of rows accepted (accepted + rejected = rows). A row's
    `assigned_at` (when the file has the column and the cell is set) wins over `when`."""
    values = rows["value"].to_pylist()
    moments = (
        [_moment(v) for v in rows["assigned_at"].to_pylist()]
        if "assigned_at" in rows.column_names
        else [None] * rows.num_rows
    )
    wanted_arms = rows["arm"].to_pylist()
    cleaned = [v.strip() if isinstance(v, str) else None for v in values]
    distinct = sorted({v for v in cleaned if v})
    found = (
        _candidates(ws, distinct, id_column)
        if distinct
        else pa.table(
            {"value": pa.array([], pa.string()), "customer_id": pa.array([], pa.string())}
        )
    )
    named: dict[str, set[str]] = {}
    for value, cid in zip(
        found["value"].to_pylist(), found["customer_id"].to_pylist(), strict=True
    ):
        named.setdefault(value, set()).add(cid)
    have = dict(zip(existing["customer_id"].to_pylist(), existing["arm"].to_pylist(), strict=True))
    known_arms = set(arms)
    rejections: list[Rejection] = []
    decided: list[tuple[int, str, str, str, datetime]] = []  # row, value, customer, arm, at
    rows_of = zip(rows["_row"].to_pylist(), cleaned, wanted_arms, moments, strict=True)
    for row, value, arm, moment in rows_of:
        arm = arm.strip() if isinstance(arm, str) else arm
        if not value:
            rejections.append(Rejection(row, value, f"no {id_column}"))
            continue
        if isinstance(moment, str):
            rejections.append(
                Rejection(row, value, f"assigned_at `{moment}` is not a date and time")
            )
            continue
        if moment is not None and (problem := time_problem(moment)):
            rejections.append(Rejection(row, value, f"assigned_at {problem}"))
            continue
        if arm not in known_arms:
            rejections.append(
                Rejection(row, value, f"unknown arm `{arm}` (arms: {', '.join(arms)})")
            )
            continue
        customers = named.get(value, set())
        if not customers:
            rejections.append(Rejection(row, value, f"unknown customer ({id_column})"))
            continue
        if len(customers) > 1:
            rejections.append(
                Rejection(
                    row,
                    value,
                    f"ambiguous: {len(customers)} customers have this {id_column} "
                    f"({', '.join(sorted(customers)[:3])})",
                )
            )
            continue
        decided.append((row, value, next(iter(customers)), arm, moment or when))
    arms_of: dict[str, set[str]] = {}
    for _, _, cid, arm, _ in decided:
        arms_of.setdefault(cid, set()).add(arm)
    new: dict[str, tuple[str, str | None, datetime]] = {}
    accepted = 0
    for row, value, cid, arm, at in decided:
        if len(arms_of[cid]) > 1:
            rejections.append(
                Rejection(
                    row,
                    value,
                    f"customer {cid} appears with different arms "
                    f"({', '.join(sorted(arms_of[cid]))})",
                )
            )
            continue
        if cid in have and have[cid] != arm:
            rejections.append(
                Rejection(row, value, f"customer {cid} is already assigned to arm `{have[cid]}`")
            )
            continue
        accepted += 1
        if cid not in have and cid not in new:
            new[cid] = (arm, None if value == cid else value, at)
    rejections.sort(key=lambda r: r.row)
    table = pa.table(
        {
            "customer_id": pa.array(list(new), pa.string()),
            "arm": pa.array([a for a, _, _ in new.values()], pa.string()),
            "record_id": pa.array([r for _, r, _ in new.values()], pa.string()),
            "assigned_at": pa.array([t for _, _, t in new.values()], pa.timestamp("us", "UTC")),
        }
    )
    return table, rejections, accepted
