"""Right to be forgotten: erase a person from every lake table, and log that it was done.

`plan_forget` finds what belongs to the person an identifier names, without changing anything:

- resolved (a `tandem resolve` ran): the customers whose profile holds the identifier (or the
  customer id given), all their messages (`identities`), and the person's identifier values:
  their profiles' identifiers plus the ids and identifier-like trait values in their messages
  (the raw forms, e.g. a phone as typed), minus identifiers resolution marked as shared by many
  people (a shop tablet's device id would otherwise take other customers' data with it);
- messages stored after the last resolution that carry one of those values (user id, anonymous
  id, previous id, or a JSON string value of traits/context) are added;
- nothing resolved yet: the messages carrying the identifier, then every message with their user
  ids or anonymous ids (an anonymous id seen with several user ids, a shared device, is not
  followed);
- quarantine rows whose raw text contains one of the person's values (values of at least 5
  characters, compared case-insensitively).

`forget` then deletes those rows from `events`, `quarantine`, `identities`, `customer_events`,
`identity_links`, `profiles` and `customer_ids` (one Delta commit per table that has rows to
delete; segment memberships, assignments and exposures too) and records an
`Erasure` in the metadata: the identifier's TYPE, the number of customers and of rows per table,
never a value. Deleted rows stay in older Delta versions until their files are vacuumed
(`vacuum=True` does it at once; otherwise `tandem lake compact --vacuum` after the retention).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import select

from tandem.customers.profiles import (
    FIELDS,
    Identifier,
    find_customers,
    optimise_for_lookups,
    parse_identifier,
    profiles_version,
    resolved,
)
from tandem.db.models.campaigns import Campaign
from tandem.db.models.identity import Erasure
from tandem.errors import NotFound
from tandem.lake.erase import delete_rows, vacuum_now
from tandem.lake.locks import exclusive
from tandem.lake.schema import (
    ASSIGNMENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_IDS,
    EVENTS,
    EXPOSURES,
    IDENTITIES,
    IDENTITY_LINKS,
    PROFILES,
    QUARANTINE,
    SEGMENT_MEMBERSHIPS,
)

if TYPE_CHECKING:
    from tandem.lake.store import Lake
    from tandem.workspace import Workspace

MIN_TEXT_MATCH = 5
"""Shorter values are not searched for inside quarantined raw text (too many false hits)."""
HOPS = 5
"""How many times profiles holding the person's values are followed to further profiles."""
TABLES = (
    EVENTS,
    QUARANTINE,
    IDENTITIES,
    CUSTOMER_EVENTS,
    IDENTITY_LINKS,
    PROFILES,
    CUSTOMER_IDS,
    SEGMENT_MEMBERSHIPS,
    ASSIGNMENTS,
    EXPOSURES,
)
BY_CUSTOMER = (SEGMENT_MEMBERSHIPS, ASSIGNMENTS, EXPOSURES)
"""Tables that know a customer only by customer id (also an id since merged into another)."""
CAMPAIGN_LISTS = "campaign_customer_lists"
"""Not a lake table: campaigns (metadata) whose explicit customer list held the person."""
_ID_KEYS = [k for f in ("email", "phone") for k in FIELDS[f]] + ["handle", "username"]


@dataclass
class ForgetPlan:
    """What an erasure will delete. Holds personal data: show counts, never log it."""

    identifier: Identifier
    resolved: bool
    customers: list[str]
    messages: pa.Table
    """(source, message_id) of every message to delete."""
    quarantine: pa.Table
    """(source, origin, raw) of every quarantined row to delete."""
    values: list[str] = field(repr=False, default_factory=list)
    """The person's identifier values (for identity_links rows)."""
    text: str = field(repr=False, default="")
    """What the person was named by (to plan again when a resolution ran since)."""
    profiles_version: int = 0
    """The profiles table's version the plan was made from."""

    @property
    def empty(self) -> bool:
        return not self.customers and not self.messages.num_rows and not self.quarantine.num_rows

    def summary(self) -> dict[str, Any]:
        return {
            "identifier_type": self.identifier.id_type,
            "resolved": self.resolved,
            "customers": len(self.customers),
            "events": self.messages.num_rows,
            "quarantine": self.quarantine.num_rows,
        }


@dataclass(frozen=True)
class ForgetResult:
    identifier_type: str
    customers: int
    rows: dict[str, int]
    """Rows deleted per lake table, and `campaign_customer_lists`: campaigns whose explicit
    customer list the person was taken off."""
    vacuumed_files: int | None
    """Data files removed by `vacuum=True` (None: not vacuumed)."""
    erasure_id: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan_forget(workspace: Workspace, text: str) -> ForgetPlan:
    """Find everything that belongs to the person `text` names (an identifier or a customer
    id). NotFound when nothing in the lake carries it."""
    lake = workspace.lake
    region = workspace.settings.identity.default_region
    if resolved(lake):
        found = find_customers(lake, text, region=region)
        ident, customers = found.identifier, found.customer_ids
    else:
        ident, customers = parse_identifier(text, region=region), []
    db = lake.con.con
    for name in (EVENTS, IDENTITIES, IDENTITY_LINKS, PROFILES, QUARANTINE):
        lake.raw(name)  # registers lake_<name> (every physical row) on this thread's connection
    try:
        db.register("_tf_customers", _customers_table(customers))
        if customers:
            values = _profile_values(db)
            db.execute(f"CREATE OR REPLACE TEMP TABLE _tf_msg AS {_RESOLVED_SELECT}")
        else:
            values = list(ident.values)
            db.register("_tf_values", _values_table(values))
            db.execute(_SEED_MESSAGES)
            db.unregister("_tf_values")
        values = sorted(set(values) | set(ident.values) | _message_values(db))
        shared = set(
            db.sql(f"SELECT DISTINCT id_value FROM lake_{IDENTITY_LINKS} WHERE kind = 'ignored'")
            .to_arrow_table()
            .column("id_value")
            .to_pylist()
        )
        usable = [v for v in values if v not in shared or v in ident.values]
        db.register("_tf_values", _values_table(usable))
        for _ in range(HOPS if customers else 0):
            # other profiles holding one of the person's identifiers (resolution ran before
            # some data arrived, or a rule kept them apart)
            more = sorted(set(_profiles_holding(db, usable)) - set(customers))
            if not more:
                break
            customers = [*customers, *more]
            db.unregister("_tf_customers")
            db.register("_tf_customers", _customers_table(more))
            db.execute(f"INSERT INTO _tf_msg {_RESOLVED_SELECT}")
            extra = (set(_profile_values(db)) | _message_values(db)) - shared
            usable = sorted(set(usable) | extra)
            db.unregister("_tf_values")
            db.register("_tf_values", _values_table(usable))
        db.execute(_CARRYING_MESSAGES)
        messages = db.sql(
            "SELECT DISTINCT source, message_id FROM _tf_msg ORDER BY ALL"
        ).to_arrow_table()
        quarantine = db.sql(_QUARANTINE, params=[MIN_TEXT_MATCH]).to_arrow_table()
    finally:
        for name in ("_tf_customers", "_tf_values"):
            db.unregister(name)
        db.execute("DROP TABLE IF EXISTS _tf_msg")
    plan = ForgetPlan(
        ident,
        bool(customers),
        customers,
        messages,
        quarantine,
        usable,
        text=text,
        profiles_version=profiles_version(lake),
    )
    if plan.empty:
        raise NotFound(
            f"no customer, event or quarantined row carries that {ident.id_type}",
            detail="nothing to forget (check the spelling; `tandem profile show` finds people)",
        )
    return plan


def forget(
    workspace: Workspace,
    plan: ForgetPlan,
    *,
    requested_by: str = "cli",
    vacuum: bool = False,
) -> ForgetResult:
    """Delete what `plan` found from every lake table and log the erasure (no values).

    Holds the lake's lock (tandem.lake.locks): an identity resolution running meanwhile would
    write the person's identities and profile back from the events it read before."""
    with exclusive(workspace.lake.path, "an erasure"):
        if plan.text and profiles_version(workspace.lake) != plan.profiles_version:
            # a resolution finished between the plan and now: its customers may differ
            plan = plan_forget(workspace, plan.text)
        return _forget(workspace, plan, requested_by=requested_by, vacuum=vacuum)


def _forget(
    workspace: Workspace, plan: ForgetPlan, *, requested_by: str, vacuum: bool
) -> ForgetResult:
    lake = workspace.lake
    rows = {name: 0 for name in TABLES}
    rows[EVENTS] = delete_rows(lake, EVENTS, plan.messages, [["source", "message_id"]])
    rows[QUARANTINE] = delete_rows(lake, QUARANTINE, plan.quarantine, [["source", "origin", "raw"]])
    customers = pa.array(plan.customers, pa.string())
    if _has_rows(lake, IDENTITIES):
        keys = pa.concat_tables(
            [
                pa.table(
                    {
                        "customer_id": customers,
                        "source": pa.nulls(len(customers), pa.string()),
                        "message_id": pa.nulls(len(customers), pa.string()),
                    }
                ),
                pa.table(
                    {
                        "customer_id": pa.nulls(plan.messages.num_rows, pa.string()),
                        "source": plan.messages["source"],
                        "message_id": plan.messages["message_id"],
                    }
                ),
            ]
        )
        for name in (IDENTITIES, CUSTOMER_EVENTS):  # the person's messages, with their customer
            if _has_rows(lake, name):
                rows[name] = delete_rows(
                    lake, name, keys, [["customer_id"], ["source", "message_id"]]
                )
    if _has_rows(lake, IDENTITY_LINKS):
        values = pa.array(plan.values, pa.string())
        keys = pa.table(
            {
                "customer_id": pa.concat_arrays([customers, pa.nulls(len(values), pa.string())]),
                "id_value": pa.concat_arrays([pa.nulls(len(customers), pa.string()), values]),
            }
        )
        rows[IDENTITY_LINKS] = delete_rows(
            lake, IDENTITY_LINKS, keys, [["customer_id"], ["id_value"]]
        )
    every_id = pa.table({"customer_id": pa.array([], pa.string())})
    if plan.customers:
        # segment memberships, assignments and exposures written before a merge name the
        # customer by an id merged since: found before customer_ids forgets the merges
        every_id = pa.table({"customer_id": pa.array(_with_merged_ids(lake, plan.customers))})
        for name in BY_CUSTOMER:
            if _has_rows(lake, name):
                rows[name] = delete_rows(lake, name, every_id)
        rows[PROFILES] = delete_rows(lake, PROFILES, pa.table({"customer_id": customers}))
        if rows[PROFILES]:
            optimise_for_lookups(lake)  # the merge rewrote it in one big row group
        rows[CUSTOMER_IDS] = delete_rows(
            lake,
            CUSTOMER_IDS,
            pa.table({"customer_id": customers, "merged_into": customers}),
            [["customer_id"], ["merged_into"]],
        )
    vacuumed = vacuum_now(lake, [n for n, c in rows.items() if c]) if vacuum else None
    with workspace.session() as session:
        # a campaign aimed at an explicit list of customers keeps their ids in its definition
        gone = set(every_id.column("customer_id").to_pylist())
        lists = 0
        if gone:
            for campaign in session.scalars(
                select(Campaign).where(Campaign.customers.is_not(None))
            ):
                kept = [c for c in campaign.customers or [] if c not in gone]
                if len(kept) != len(campaign.customers or []):
                    campaign.customers = kept
                    lists += 1
        rows[CAMPAIGN_LISTS] = lists
        erasure = Erasure(
            erased_at=datetime.now(UTC),
            requested_by=requested_by,
            identifier_type=plan.identifier.id_type,
            customers=len(plan.customers),
            rows=rows,
        )
        session.add(erasure)
        session.flush()
        erasure_id = int(erasure.id)
    return ForgetResult(plan.identifier.id_type, len(plan.customers), rows, vacuumed, erasure_id)


def _with_merged_ids(lake: Lake, customers: list[str]) -> list[str]:
    """`customers` and every id merged into one of them, at any depth."""
    if not _has_rows(lake, CUSTOMER_IDS):
        return sorted(customers)
    lake.raw(CUSTOMER_IDS)
    db = lake.con.con
    found, frontier = set(customers), list(customers)
    while frontier:
        rows = db.execute(
            f"SELECT DISTINCT customer_id FROM lake_{CUSTOMER_IDS} "
            "WHERE list_contains(?, merged_into)",
            [frontier],
        ).fetchall()
        frontier = [r[0] for r in rows if r[0] not in found]
        found.update(frontier)
    return sorted(found)


def _has_rows(lake: Lake, name: str) -> bool:
    return bool(int(lake.table(name).version()) > 0)


def _values_table(values: list[str]) -> pa.Table:
    """The values with `needle`, the lower-case value to look for in JSON text, and `pattern`,
    a regular expression for it as a whole JSON string (spaces inside the quotes allowed)."""
    lowered = [v.lower() for v in values]
    return pa.table(
        {
            "value": pa.array(values, pa.string()),
            "needle": pa.array(lowered, pa.string()),
            "pattern": pa.array(
                [
                    r'"\s*' + re.escape(json.dumps(v, ensure_ascii=False)[1:-1]) + r'\s*"'
                    for v in lowered
                ],
                pa.string(),
            ),
        }
    )


def _customers_table(customers: list[str]) -> pa.Table:
    return pa.table({"customer_id": pa.array(customers, pa.string())})


def _profiles_holding(db: Any, values: list[str]) -> list[str]:
    """Customers whose profile lists one of `values` among its identifiers or trait values."""
    rows = db.sql(
        f"SELECT DISTINCT p.customer_id, p.identifiers, p.traits FROM lake_{PROFILES} AS p "
        "JOIN _tf_values AS v "
        "ON contains(lower(p.identifiers), v.needle) OR contains(lower(p.traits), v.needle)"
    ).to_arrow_table()
    wanted = {v.lower() for v in values}
    found = []
    for row in rows.to_pylist():  # the few candidates: check exactly
        held = [v for ids in json.loads(row["identifiers"] or "{}").values() for v in ids]
        held += [v for v in json.loads(row["traits"] or "{}").values() if isinstance(v, str)]
        if wanted.intersection(str(v).lower() for v in held):
            found.append(row["customer_id"])
    return found


def _profile_values(db: Any) -> list[str]:
    rows = (
        db.sql(
            f"SELECT p.identifiers FROM lake_{PROFILES} AS p JOIN _tf_customers USING (customer_id)"
        )
        .to_arrow_table()
        .column("identifiers")
        .to_pylist()
    )
    values: list[str] = []
    for text in rows:  # one JSON object per erased profile
        for ids in json.loads(text or "{}").values():
            values.extend(str(v) for v in ids)
    return values


def _message_values(db: Any) -> set[str]:
    """Ids and identifier-like trait values (as stored) of the messages found so far."""
    table = db.sql(_MESSAGE_VALUES, params=[_ID_KEYS]).to_arrow_table()
    return {v for v in table.column("value").to_pylist() if v}


# -- the SQL (values are bound or registered Arrow tables, never SQL text) -------------------
_RESOLVED_SELECT = f"""
SELECT i.source, i.message_id FROM lake_{IDENTITIES} AS i JOIN _tf_customers USING (customer_id)
"""

# Nothing resolved: messages carrying a value, then those sharing their user / anonymous ids.
_SEED_MESSAGES = """
CREATE OR REPLACE TEMP TABLE _tf_msg AS
WITH seed AS (
    SELECT DISTINCT e.source, e.message_id, e.user_id, e.anonymous_id
    FROM lake_events AS e JOIN _tf_values AS v
      ON e.user_id = v.value OR e.anonymous_id = v.value OR e.previous_id = v.value
      OR (contains(lower(e.traits), v.needle) AND regexp_matches(lower(e.traits), v.pattern))
      OR (contains(lower(e.context), v.needle) AND regexp_matches(lower(e.context), v.pattern))
),
shared_anonymous AS (
    SELECT anonymous_id FROM lake_events WHERE anonymous_id IS NOT NULL
    GROUP BY anonymous_id HAVING count(DISTINCT user_id) > 1
),
ids AS (
    SELECT user_id AS id FROM seed WHERE user_id IS NOT NULL
    UNION SELECT anonymous_id FROM seed
    WHERE anonymous_id IS NOT NULL AND anonymous_id NOT IN (SELECT * FROM shared_anonymous)
)
SELECT source, message_id FROM seed
UNION
SELECT e.source, e.message_id FROM lake_events AS e
WHERE e.user_id IN (SELECT id FROM ids) OR e.anonymous_id IN (SELECT id FROM ids)
"""

_MESSAGE_VALUES = """
WITH m AS (
    SELECT e.user_id, e.anonymous_id, e.previous_id, e.traits, e.context
    FROM lake_events AS e JOIN _tf_msg USING (source, message_id)
)
SELECT user_id AS value FROM m UNION SELECT anonymous_id FROM m
UNION SELECT previous_id FROM m
UNION SELECT j.value ->> '$' FROM m, json_each(m.traits) AS j
      WHERE m.traits IS NOT NULL AND j.type = 'VARCHAR'
        AND list_contains($1, replace(replace(lower(j.key), '_', ''), '-', ''))
UNION SELECT x.value ->> '$.id' FROM m, json_each(json_extract(m.context, '$.externalIds')) AS x
      WHERE json_type(json_extract(m.context, '$.externalIds')) = 'ARRAY'
UNION SELECT json_extract_string(m.context, '$.device.id') FROM m
"""

# Messages that carry one of the person's values (e.g. stored after the last resolution).
_CARRYING_MESSAGES = """
INSERT INTO _tf_msg
SELECT DISTINCT e.source, e.message_id
FROM lake_events AS e
JOIN _tf_values AS v
  ON e.user_id = v.value OR e.anonymous_id = v.value OR e.previous_id = v.value
  OR contains(lower(e.traits), v.needle) OR contains(lower(e.context), v.needle)
"""

_QUARANTINE = f"""
SELECT DISTINCT q.source, q.origin, q.raw
FROM lake_{QUARANTINE} AS q JOIN _tf_values AS v
  ON length(v.value) >= $1 AND contains(lower(q.raw), lower(v.value))
ORDER BY ALL
"""
