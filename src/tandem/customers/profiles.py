"""Unified profiles: one row per resolved customer, built in the query engine.

`build_profiles` reads the deduplicated `events` joined to `identities` (the customer of every
message, written by identity resolution) and replaces the `profiles` table in one Delta commit:

- **golden traits**: every key of identify `traits` and `context.traits`; per key the value of the
  most trusted source (`profiles.source_priority`; by default sources of kind `crm` first, all
  others equal), then the most recent non-empty one. `trait_sources` says where each came from;
  `email`, `phone` (E.164), `first_name`, `last_name` are typed columns chosen the same way from
  the usual spellings (firstName / first_name / given_name, a full `name` split when there is
  no first or last name, ...).
- **identifiers**: type -> sorted distinct values, from identity resolution's identifiers.
- **behaviour**: messages by type and by channel (source), mapped records, first and last seen.
- **orders**: track events named in `profiles.order_events`; an order id sent twice counts once;
  revenue from `profiles.revenue_property`. RFM: recency in days (as of the run), frequency
  (orders), monetary (revenue), each scored 1-5 by quintile over the customers with orders
  (`1 + floor(5 * percent_rank)`: ties share a score; customers without orders have no score).
- **consent**: the latest statement of each `profiles.consent_traits` trait, and
  `marketing_opt_in`, the latest of all of them (consent follows the most recent statement, not
  source priority).

Everything runs as DuckDB SQL over the lake's Arrow datasets with bound parameters; Python only
sends the statements and hands the result to `replace_table`.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.dataset as pds  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from deltalake import WriterProperties
from deltalake.exceptions import DeltaError

from tandem.config import IdentitySettings
from tandem.customers import identifiers as ids
from tandem.customers.behaviour import derive_customer_events
from tandem.customers.identifiers import PHONE_SEPARATORS, normalise_phone
from tandem.customers.mapping import IDENTIFIER_TYPES as MAPPED_ID_TYPES
from tandem.errors import Conflict, InvalidValue, NotFound
from tandem.lake.derived import replace_table
from tandem.lake.schema import CUSTOMER_IDS, EVENTS, IDENTITIES, PROFILES, PROFILES_SCHEMA
from tandem.lake.store import LakeFailure

if TYPE_CHECKING:
    from tandem.config import ProfileSettings
    from tandem.lake.store import Lake
    from tandem.workspace import Workspace

FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress"),
    "phone": ("phone", "phonenumber", "mobile", "mobilephone"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "full_name": ("name", "fullname"),
}
"""Typed profile columns and the trait keys they are read from (lower case, without `_`/`-`)."""

CUSTOMER_ID_PREFIX = "cus_"
LOOKUP_ROW_GROUP = 512
"""Rows per Parquet row group of `profiles`: a lookup by id decodes one group."""
SOCIAL_TYPES = ("twitter", "facebook", "instagram", "linkedin", "tiktok", "social")

TRUE_WORDS = ("true", "yes", "y", "1", "on", "opt-in", "optin", "opted-in", "subscribed")
FALSE_WORDS = ("false", "no", "n", "0", "off", "opt-out", "optout", "opted-out", "unsubscribed")


@dataclass(frozen=True)
class ProfileStats:
    customers: int
    """Profiles written."""
    with_orders: int
    """Customers with at least one order."""
    revenue: float
    """Total revenue over all profiles."""
    seconds: float
    version: int
    """The `profiles` table version written."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per step (extract, messages, traits, ..., assemble, write)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def source_ranks(workspace: Workspace, settings: ProfileSettings) -> pa.Table:
    """(source, rank) for survivorship: lower wins. Listed sources in order, then the rest
    equal; with no list, sources of kind `crm` first."""
    known = {info.name: info.kind for info in workspace.sources.list()}
    if settings.source_priority:
        names = list(dict.fromkeys([*settings.source_priority, *sorted(known)]))
        listed = {name: i for i, name in enumerate(settings.source_priority)}
        ranks = [listed.get(name, len(listed)) for name in names]
    else:
        names = sorted(known)
        ranks = [0 if known[name] == "crm" else 1 for name in names]
    return pa.table({"source": pa.array(names, pa.string()), "rank": pa.array(ranks, pa.int64())})


def build_profiles(
    workspace: Workspace, *, now: datetime, run: int, extracted: bool = False
) -> ProfileStats:
    """Rebuild `profiles` from `events` + `identities`, one overwrite commit, and then the
    `customer_events` table (customers.behaviour), another. `run` is the
    resolution run that asked for it (kept in the stats of that run, not in the table).
    `extracted`: the caller (resolve) has just run `customers.identifiers.extract` on this
    thread's connection over the same events; its temporary tables are reused (saves the
    extraction, about a third of the work)."""
    del run  # the table holds the latest build only; the run's counts record its stats
    started = time.perf_counter()
    lake = workspace.lake
    settings = workspace.settings.profiles
    timings: dict[str, float] = {}
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    table = compute_profiles(
        lake,
        settings,
        source_ranks(workspace, settings),
        now=now,
        identity=workspace.settings.identity,
        extracted=extracted,
        timings=timings,
    )
    started_write = time.perf_counter()
    replace_table(lake, PROFILES, table)
    timings["write"] = round(time.perf_counter() - started_write, 3)
    started_write = time.perf_counter()
    optimise_for_lookups(lake)
    version = profiles_version(lake)
    timings["sort_for_lookups"] = round(time.perf_counter() - started_write, 3)
    # behaviour with its customer, for segments and campaigns: derived from the same identities
    _, seconds = derive_customer_events(lake)
    timings["customer_events"] = round(seconds, 3)
    with_orders = int(pc.sum(pc.greater(table.column("orders"), 0)).as_py() or 0)
    revenue = float(pc.sum(table.column("revenue")).as_py() or 0.0)
    _READER.forget(lake)
    return ProfileStats(
        customers=table.num_rows,
        with_orders=with_orders,
        revenue=round(revenue, 2),
        seconds=round(time.perf_counter() - started, 3),
        version=version,
        stages=timings,
    )


def compute_profiles(
    lake: Lake,
    settings: ProfileSettings,
    ranks: pa.Table,
    *,
    now: datetime,
    identity: IdentitySettings | None = None,
    extracted: bool = False,
    timings: dict[str, float] | None = None,
) -> pa.Table:
    """The profiles as an Arrow table in PROFILES_SCHEMA (sorted by customer_id). With
    `extracted`, the identifier extraction's temporary tables (customers.identifiers.extract)
    are on this thread's connection already, from the same events (resolve made them), and are
    used as they are; `timings` receives the seconds of each step."""
    identity = identity or IdentitySettings()

    if not extracted:
        started = time.perf_counter()
        ids.extract(lake, identity)  # every message's normalised identifiers (temp tables)
        if timings is not None:
            timings["extract"] = round(time.perf_counter() - started, 3)
    lake.raw(EVENTS)  # registers lake_events and lake_identities on this thread's connection
    lake.raw(IDENTITIES)
    db = lake.con.con
    db.register("_tp_ranks", ranks)
    temps = [
        "_tp_msg",
        "_tp_traits",
        "_tp_golden",
        "_tp_fields",
        "_tp_orders",
        "_tp_behaviour",
        "_tp_identifiers",
        "_tp_consent",
    ]
    if not extracted:
        temps += [ids.IDENTIFIERS, ids.MESSAGES]
    revenue_path = "$." + json.dumps(settings.revenue_property)
    order_path = "$." + json.dumps(settings.order_id_property)
    steps: list[tuple[str, str, list[Any]]] = [
        ("messages", _MESSAGES.format(messages=ids.MESSAGES), []),
        ("copies", _DEDUPE, []),
        ("traits", _TRAITS, []),
        ("golden", _GOLDEN, []),
        ("fields", _FIELDS, [_field_cases()]),
        ("orders", _ORDERS, [revenue_path, order_path, settings.order_events]),
        ("behaviour", _BEHAVIOUR, []),
        ("identifiers", _IDENTIFIERS.format(identifiers=ids.IDENTIFIERS), []),
        ("consent", _CONSENT, [settings.consent_traits, list(TRUE_WORDS), list(FALSE_WORDS)]),
    ]
    try:
        for name, sql, params in steps:
            started = time.perf_counter()
            if sql is _DEDUPE and not db.sql(_COPIES).fetchall()[0][0]:
                continue
            _run(db, sql, params)
            if timings is not None:
                timings[name] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        result = db.sql(_PROFILES, params=[now, now]).to_arrow_table()
        if timings is not None:
            timings["assemble"] = round(time.perf_counter() - started, 3)
    finally:
        for name in temps:
            db.execute(f"DROP TABLE IF EXISTS {name}")
        db.unregister("_tp_ranks")
    result = result.set_column(
        result.schema.get_field_index("phone"),
        "phone",
        e164_column(result["phone"], identity.default_region),
    )
    return result.select(PROFILES_SCHEMA.names).cast(PROFILES_SCHEMA)


def e164_column(phones: pa.ChunkedArray, region: str) -> pa.Array:
    """Phone numbers in E.164 (null when not a valid number). Values already in E.164 are
    kept as they are; the others are parsed by `phonenumbers`, once per distinct value."""
    phones = pc.utf8_trim_whitespace(phones.combine_chunks())
    # the same separators as identity resolution's fast path: brackets go to phonenumbers
    compact = pc.replace_substring_regex(phones, PHONE_SEPARATORS, "")
    ready = pc.match_substring_regex(compact, r"^\+[1-9][0-9]{6,14}$")
    pending = pc.unique(pc.filter(phones, pc.invert(pc.fill_null(ready, False))))
    pending = pending.drop_null().to_pylist()
    mapped = pa.array([normalise_phone(v, region) for v in pending], pa.string())
    looked_up = pc.take(mapped, pc.index_in(phones, pa.array(pending, pa.string())))
    return pc.if_else(pc.fill_null(ready, False), compact, looked_up)


def _run(db: Any, sql: str, params: Sequence[Any] | None = None) -> None:
    db.execute(sql, list(params or []))


def _field_cases() -> list[dict[str, Any]]:
    return [{"field": f, "keys": list(keys)} for f, keys in FIELDS.items()]


# -- the SQL --------------------------------------------------------------------------------
# One row per stored message of a resolved customer (deduplicated as `lake.events()` does: the
# first ingested copy), with only what profiles read; `mid` keys the message's identifiers.
_MESSAGES = """
CREATE OR REPLACE TEMP TABLE _tp_msg AS
SELECT mm.mid, i.customer_id, e.source, e.message_id, i.record_id, e.type, e."timestamp",
       e.ingested_at, e.traits,
       CASE WHEN contains(e.context, '"traits"')
            THEN json_extract(e.context, '$.traits')::VARCHAR END AS context_traits
FROM lake_events AS e
JOIN lake_identities AS i ON i.source = e.source AND i.message_id = e.message_id
LEFT JOIN {messages} AS mm ON mm.source = e.source AND mm.message_id = e.message_id
"""
# Physical copies of a message (stored twice before a compaction): keep the first ingested.
_COPIES = "SELECT count(*) > count(DISTINCT (source, message_id)) FROM _tp_msg"
_DEDUPE = """
CREATE OR REPLACE TEMP TABLE _tp_msg AS
SELECT * FROM _tp_msg
QUALIFY row_number() OVER (PARTITION BY source, message_id ORDER BY ingested_at, mid) = 1
"""

# Every non-empty trait value (identify traits and context.traits), with its source's rank.
_TRAITS = """
CREATE OR REPLACE TEMP TABLE _tp_traits AS
WITH occurrences AS (
    SELECT customer_id, source, message_id, "timestamp", traits AS obj FROM _tp_msg
    WHERE traits IS NOT NULL AND traits <> '{}'
    UNION ALL
    SELECT customer_id, source, message_id, "timestamp", context_traits FROM _tp_msg
    WHERE context_traits IS NOT NULL AND starts_with(context_traits, '{')
      AND context_traits <> '{}'
),
-- the same object sent again and again (context.traits on every message of a session) is
-- read once: its latest occurrence (then smallest message id) is all survivorship can pick
objects AS (
    SELECT customer_id, source, obj, max("timestamp") AS "timestamp",
           arg_min(message_id, struct_pack(t := -epoch_us("timestamp"), m := message_id))
               AS message_id
    FROM occurrences GROUP BY customer_id, source, obj
),
pairs AS (
    SELECT customer_id, source, message_id, "timestamp", key,
           json_extract(obj, '$.' || to_json(key)::VARCHAR) AS value
    FROM (SELECT *, unnest(json_keys(obj)) AS key FROM objects)
),
typed AS (SELECT *, json_type(value) AS jtype FROM pairs)
SELECT p.customer_id, p.source, p.message_id, p."timestamp", p.key, p.value,
       coalesce(r.rank, 1000000) AS rank
FROM typed AS p LEFT JOIN _tp_ranks AS r ON r.source = p.source
WHERE p.key <> ''
  AND p.jtype <> 'NULL'
  AND NOT (p.jtype = 'VARCHAR' AND trim(p.value ->> '$') = '')
  AND NOT (p.jtype = 'ARRAY' AND json_array_length(p.value) = 0)
  AND NOT (p.jtype = 'OBJECT' AND p.value::VARCHAR = '{}')
"""

# Survivorship per (customer, trait key): source rank, then the most recent.
_GOLDEN = """
CREATE OR REPLACE TEMP TABLE _tp_golden AS
SELECT customer_id,
       -- JSON objects with their keys in order (json_group_object's order is arbitrary)
       to_json(map_from_entries(list(struct_pack(k := key, v := pick.value) ORDER BY key)))
           ::VARCHAR AS traits,
       to_json(map_from_entries(list(struct_pack(k := key, v := pick.source) ORDER BY key)))
           ::VARCHAR AS trait_sources
FROM (
    SELECT customer_id, key,
           arg_min(struct_pack(value := value, source := source),
                   struct_pack(r := rank, t := -epoch_us("timestamp"), s := source,
                               m := message_id)) AS pick
    FROM _tp_traits GROUP BY customer_id, key
)
GROUP BY customer_id
"""

# The typed columns, by the same rule over all spellings of each field.
_FIELDS = """
CREATE OR REPLACE TEMP TABLE _tp_fields AS
WITH spellings AS (
    SELECT f.field, unnest(f.keys) AS norm FROM (SELECT unnest($1, recursive := true)) AS f
),
candidates AS (
    SELECT t.customer_id, s.field, trim(t.value ->> '$') AS text, t.rank, t."timestamp",
           t.source, t.message_id
    FROM _tp_traits AS t
    JOIN spellings AS s ON s.norm = replace(replace(lower(t.key), '_', ''), '-', '')
    WHERE json_type(t.value) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE')
),
chosen AS (
    SELECT customer_id, field,
           arg_min(text, struct_pack(r := rank, t := -epoch_us("timestamp"), s := source,
                                     m := message_id)) AS text
    FROM candidates GROUP BY customer_id, field
)
PIVOT chosen ON field IN ('email', 'phone', 'first_name', 'last_name', 'full_name')
USING any_value(text) GROUP BY customer_id
"""

# Orders: the order events of resolved customers, one row per distinct order (order id, else
# the message), with its value.
_ORDERS = """
CREATE OR REPLACE TEMP TABLE _tp_orders AS
SELECT customer_id,
       count(*) AS orders,
       coalesce(sum(revenue::DECIMAL(38, 6)), 0)::DOUBLE AS revenue,
       min("timestamp") AS first_order_at,
       max("timestamp") AS last_order_at
FROM (
    SELECT i.customer_id, e."timestamp",
           -- a value that is not a finite amount below 10^18 (inf, 1e999, NaN) counts as none:
           -- one bad event must not break every profile (nor overflow the exact sum)
           CASE WHEN abs(TRY_CAST(json_extract_string(e.properties, $1) AS DOUBLE)) < 1e18
                THEN TRY_CAST(json_extract_string(e.properties, $1) AS DOUBLE) END AS revenue,
           coalesce(json_extract_string(e.properties, $2), e.message_id) AS order_key
    FROM lake_events AS e
    JOIN lake_identities AS i ON i.source = e.source AND i.message_id = e.message_id
    WHERE e.type = 'track' AND list_contains($3, e.event)
    QUALIFY row_number() OVER (
        PARTITION BY i.customer_id, order_key ORDER BY e."timestamp", e.message_id
    ) = 1
)
GROUP BY customer_id
"""

# Behaviour: messages by type and channel, mapped records, first and last seen.
_BEHAVIOUR = """
CREATE OR REPLACE TEMP TABLE _tp_behaviour AS
WITH counts AS (
    SELECT customer_id, type, source, count(*) AS n,
           min("timestamp") AS first_seen, max("timestamp") AS last_seen
    FROM _tp_msg GROUP BY ALL
),
records AS (
    SELECT customer_id, count(DISTINCT (source, record_id)) AS records
    FROM _tp_msg WHERE record_id <> message_id GROUP BY customer_id
),
by_source AS (
    SELECT customer_id, source, sum(n) AS n, min(first_seen) AS first_seen,
           max(last_seen) AS last_seen
    FROM counts GROUP BY ALL
),
by_type AS (
    SELECT customer_id,
           to_json(map_from_entries(list(struct_pack(k := type, v := n) ORDER BY type)))
               ::VARCHAR AS events_by_type
    FROM (SELECT customer_id, type, sum(n)::BIGINT AS n FROM counts GROUP BY ALL)
    GROUP BY customer_id
)
SELECT s.customer_id, s.events, coalesce(r.records, 0)::BIGINT AS records, s.first_seen,
       s.last_seen, s.sources, s.events_by_channel, t.events_by_type
FROM (
    SELECT customer_id, sum(n)::BIGINT AS events,
           min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           list(source ORDER BY source) AS sources,
           to_json(map_from_entries(list(struct_pack(k := source, v := n::BIGINT)
               ORDER BY source)))::VARCHAR AS events_by_channel
    FROM by_source GROUP BY customer_id
) AS s
JOIN by_type AS t USING (customer_id)
LEFT JOIN records AS r USING (customer_id)
"""

# Identifiers: type -> sorted distinct values, per customer.
_IDENTIFIERS = """
CREATE OR REPLACE TEMP TABLE _tp_identifiers AS
SELECT customer_id,
       to_json(map_from_entries(list(struct_pack(k := id_type, v := ids) ORDER BY id_type)))
           ::VARCHAR AS identifiers
FROM (
    SELECT customer_id, id_type, list(id_value ORDER BY id_value) AS ids
    FROM (SELECT DISTINCT m.customer_id, i.id_type, i.id_value
          FROM {identifiers} AS i JOIN _tp_msg AS m USING (mid))
    GROUP BY ALL
)
GROUP BY customer_id
"""

# Consent: the latest statement of each consent trait, and of all of them.
_CONSENT = """
CREATE OR REPLACE TEMP TABLE _tp_consent AS
WITH consent_values AS (
    SELECT customer_id, key, source, "timestamp",
           CASE WHEN lower(trim(value ->> '$')) IN (SELECT unnest($2)) THEN true
                WHEN lower(trim(value ->> '$')) IN (SELECT unnest($3)) THEN false END AS given
    FROM _tp_traits WHERE list_contains($1, key)
),
consent_latest AS (
    SELECT * FROM consent_values WHERE given IS NOT NULL
    QUALIFY row_number() OVER (
        -- at the same instant, a refusal wins over a consent (then the source name decides)
        PARTITION BY customer_id, key ORDER BY "timestamp" DESC, given ASC, source
    ) = 1
)
SELECT customer_id,
       to_json(map_from_entries(list(struct_pack(
           k := key,
           v := struct_pack(given := given, source := source, at := strftime(
               timezone('UTC', "timestamp"), '%Y-%m-%dT%H:%M:%S.%fZ'))
       ) ORDER BY key)))::VARCHAR AS consent,
       arg_max(given, struct_pack(t := "timestamp", refused := NOT given)) AS marketing_opt_in
FROM consent_latest GROUP BY customer_id
"""

_PROFILES = """
WITH scored AS (
    SELECT customer_id, orders, revenue, first_order_at, last_order_at, recency_days,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY recency_days DESC)))::BIGINT
               AS r_score,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY orders)))::BIGINT AS f_score,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY revenue)))::BIGINT AS m_score
    FROM (
        SELECT *, floor((epoch($1::TIMESTAMPTZ) - epoch(last_order_at)) / 86400)::BIGINT
                      AS recency_days
        FROM _tp_orders
    )
)
SELECT b.customer_id,
       lower(f.email) AS email,
       f.phone AS phone,
       coalesce(f.first_name,
                CASE WHEN f.last_name IS NULL OR position(' ' IN f.full_name) > 0
                     THEN split_part(f.full_name, ' ', 1) END) AS first_name,
       coalesce(f.last_name,
                CASE WHEN position(' ' IN f.full_name) > 0
                     THEN trim(substr(f.full_name, position(' ' IN f.full_name) + 1)) END)
           AS last_name,
       g.traits, g.trait_sources, ident.identifiers, b.sources,
       b.records, b.events, b.events_by_type, b.events_by_channel, b.first_seen, b.last_seen,
       coalesce(s.orders, 0) AS orders, coalesce(s.revenue, 0.0) AS revenue,
       s.first_order_at, s.last_order_at, s.recency_days,
       coalesce(s.orders, 0) AS frequency, coalesce(s.revenue, 0.0) AS monetary,
       s.r_score, s.f_score, s.m_score,
       CASE WHEN s.r_score IS NOT NULL THEN s.r_score::VARCHAR || s.f_score::VARCHAR
            || s.m_score::VARCHAR END AS rfm,
       k.marketing_opt_in, k.consent,
       $2::TIMESTAMPTZ AS updated_at
FROM _tp_behaviour AS b
LEFT JOIN _tp_golden AS g USING (customer_id)
LEFT JOIN _tp_fields AS f USING (customer_id)
LEFT JOIN _tp_identifiers AS ident USING (customer_id)
LEFT JOIN scored AS s USING (customer_id)
LEFT JOIN _tp_consent AS k USING (customer_id)
ORDER BY b.customer_id
"""


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RowGroup:
    low: str
    high: str
    file: pq.ParquetFile
    index: int


class _ProfileIndex:
    """One version of `profiles` opened for point lookups: every Parquet row group with the
    min/max customer id of its statistics, sorted, so a lookup reads the one group that can hold
    the id (the table is written sorted by customer id in small groups)."""

    def __init__(self, table: Any) -> None:
        self.dataset: pds.Dataset = table.to_pyarrow_dataset()
        self._lock = threading.Lock()
        self._identifiers: pa.Table | None = None
        groups: list[_RowGroup] = []
        self.complete = True
        for uri in table.file_uris():
            file = pq.ParquetFile(uri.removeprefix("file://"))
            column = file.schema_arrow.get_field_index("customer_id")
            for i in range(file.metadata.num_row_groups):
                stats = file.metadata.row_group(i).column(column).statistics
                if stats is None or not stats.has_min_max:
                    self.complete = False
                    continue
                groups.append(_RowGroup(str(stats.min), str(stats.max), file, i))
        self.groups = sorted(groups, key=lambda g: g.low)
        self.lows = [g.low for g in self.groups]

    def holding(self, db: Any, needles: list[str]) -> list[dict[str, Any]]:
        """(customer_id, identifiers) of the profiles whose identifiers JSON contains one of
        `needles` (substrings: the caller checks exactly), searched by DuckDB (`db`, this
        thread's connection). The two columns are read once per version, on the first such
        lookup, and kept in memory (about 120 bytes per profile)."""
        if not needles:
            return []
        with self._lock:
            if self._identifiers is None:
                self._identifiers = self.dataset.to_table(columns=["customer_id", "identifiers"])
            table = self._identifiers
        where = " OR ".join("contains(identifiers, ?)" for _ in needles)
        db.register("_tandem_profile_identifiers", table)
        try:
            found: list[dict[str, Any]] = (
                db.sql(
                    "SELECT customer_id, identifiers FROM _tandem_profile_identifiers "
                    f"WHERE {where} ORDER BY customer_id",
                    params=needles,
                )
                .to_arrow_table()
                .to_pylist()
            )
        finally:
            db.unregister("_tandem_profile_identifiers")
        return found

    def lookup(self, customer_id: str) -> list[dict[str, Any]]:
        if not self.complete:
            rows: list[dict[str, Any]] = _select(
                self.dataset, "customer_id", customer_id
            ).to_pylist()
            return rows
        found: list[dict[str, Any]] = []
        candidates = self.groups[: bisect.bisect_right(self.lows, customer_id)]
        for group in (g for g in candidates if g.high >= customer_id):
            with self._lock:  # one Parquet reader per file, shared by the server's threads
                table = group.file.read_row_group(group.index, use_threads=False)
            ids = table.column("customer_id").cast(pa.string())
            found.extend(table.filter(pc.equal(ids, customer_id)).to_pylist())
        return found


class _ProfileReader:
    """Point lookups in `profiles`: the table's current version is opened once (per lake) and
    reopened only when a new version is committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, tuple[int, _ProfileIndex]] = {}

    def index(self, lake: Lake) -> _ProfileIndex:
        table = lake.table(PROFILES)
        version = int(table.version())
        with self._lock:
            cached = self._indexes.get(lake.path)
            if cached is not None and cached[0] == version:
                return cached[1]
        index = _ProfileIndex(table)
        with self._lock:
            self._indexes[lake.path] = (version, index)
        return index

    def forget(self, lake: Lake) -> None:
        with self._lock:
            self._indexes.pop(lake.path, None)


_READER = _ProfileReader()


def profiles_version(lake: Lake) -> int:
    return int(lake.table(PROFILES).version())


def get_profile(lake: Lake, customer_id: str) -> dict[str, Any] | None:
    """The profile of `customer_id` as a dict (JSON columns parsed), or None. The table is
    sorted by customer id in small row groups (`optimise_for_lookups`): one group is read."""
    rows = _READER.index(lake).lookup(customer_id)
    if not rows:
        return None
    return _decode(rows[0])


def _select(dataset: pds.Dataset, column: str, value: str, **options: Any) -> pa.Table:
    """The rows of `dataset` whose `column` is `value`, by row-group statistics. Files that a
    Delta merge (an erasure) rewrote store strings as string_view, which a string literal does
    not compare with: those are compared through a cast (a scan, until the next rebuild)."""
    try:
        return dataset.to_table(filter=pds.field(column) == value, **options)
    except pa.ArrowNotImplementedError:
        return dataset.to_table(filter=pds.field(column).cast(pa.string()) == value, **options)


def optimise_for_lookups(lake: Lake) -> None:
    """Rewrite `profiles` sorted by customer id in row groups of LOOKUP_ROW_GROUP rows (a
    data-neutral Delta commit), so a lookup by id reads one small row group."""
    table = lake.table(PROFILES)
    if not table.file_uris():
        return
    properties = WriterProperties(max_row_group_size=LOOKUP_ROW_GROUP, compression="SNAPPY")
    try:
        table.optimize.z_order(["customer_id"], writer_properties=properties)
    except (DeltaError, OSError) as exc:
        raise LakeFailure(f"could not sort the {PROFILES} table for lookups: {exc}") from None
    table.update_incremental()
    _READER.forget(lake)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in (
        "traits",
        "trait_sources",
        "identifiers",
        "events_by_type",
        "events_by_channel",
        "consent",
    ):
        value = row.get(key)
        row[key] = json.loads(value) if value else {}
    return row


# -- finding a customer -----------------------------------------------------------------------
ID_TYPES = (
    "customer_id",
    "user_id",
    "anonymous_id",
    "email",
    "phone",
    "device_id",
    "handle",
    "record",
    *(t for t in MAPPED_ID_TYPES if t not in ("email", "phone", "device_id", "customer_id")),
)
"""Prefixes understood in `TYPE:VALUE` (anything else with a colon is a value, e.g. the user
id `crm:C123`)."""


@dataclass(frozen=True)
class Identifier:
    """What a user typed to name a person: its type (guessed unless given as `type:value`) and
    the values it may be stored as (as typed, normalised)."""

    id_type: str
    values: tuple[str, ...]


def parse_identifier(text: str, *, region: str = "GB") -> Identifier:
    """`crm:C1`, `jo@x.example`, `+44 7700 900123`, `@jo`, `email:JO@X.EXAMPLE` -> the type and
    the candidate stored values. Empty text is an InvalidValue."""
    raw = text.strip()
    if not raw:
        raise InvalidValue(
            "the identifier is empty",
            field="IDENTIFIER",
            detail="give an email, a phone number, a user id or a customer id",
        )
    id_type: str | None = None
    value = raw
    prefix, sep, rest = raw.partition(":")
    if sep and prefix.lower() in ID_TYPES and rest.strip():
        id_type, value = prefix.lower(), rest.strip()
    values = [value]
    if id_type in (None, "email") and "@" in value[1:]:
        id_type = id_type or "email"
        values.append(value.lower())
    if id_type in (None, "phone") and _looks_like_phone(value):
        e164 = normalise_phone(value, region)
        if e164 is not None:
            id_type = id_type or "phone"
            values.append(e164)
    if value.startswith("@") and len(value) > 1:
        id_type = id_type or "handle"
        values.append(value[1:].lower())
    elif id_type in ("handle", *SOCIAL_TYPES):
        values.append(value.lower())
    if id_type is None:
        id_type = "customer_id" if value.startswith(CUSTOMER_ID_PREFIX) else "user_id"
    return Identifier(id_type, tuple(dict.fromkeys(values)))


def _looks_like_phone(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 6 and all(ch.isdigit() or ch in "+-(). " for ch in value)


@dataclass(frozen=True)
class Found:
    """The customers an identifier names. `merged_from` is set when a merged-away customer id
    was given (the id it was merged into is in `customer_ids`)."""

    identifier: Identifier
    customer_ids: list[str]
    merged_from: str | None = None
    profile: dict[str, Any] | None = None
    """The profile, when a customer id found it directly (saves reading it again)."""


def resolved(lake: Lake) -> bool:
    """Whether identities were resolved (the profiles table has a version with data)."""
    return profiles_version(lake) > 0


def find_customers(lake: Lake, text: str, *, region: str = "GB") -> Found:
    """The customers `text` names: a customer id (a merged-away id leads to the id it was
    merged into), or an identifier in some profile's identifiers. Empty list: none."""
    ident = parse_identifier(text, region=region)
    if ident.id_type == "customer_id":
        direct = get_profile(lake, ident.values[0])
        if direct is not None:
            return Found(ident, [ident.values[0]], None, direct)
        target, merged_from = _customer_id(lake, ident.values[0])
        if target is not None:
            return Found(ident, [target], merged_from)
        return Found(ident, [])
    needles = [json.dumps(v, ensure_ascii=False) for v in ident.values]
    rows = _READER.index(lake).holding(lake.con.con, needles)
    wanted = set(ident.values)
    found = []
    for row in rows:  # the few candidate profiles: check the values exactly
        identifiers = json.loads(row["identifiers"] or "{}")
        types = [ident.id_type] if ident.id_type in identifiers else list(identifiers)
        if any(wanted.intersection(identifiers.get(t, [])) for t in types):
            found.append(row["customer_id"])
    return Found(ident, found)


def _customer_id(lake: Lake, value: str) -> tuple[str | None, str | None]:
    """(current id, the merged-away id given) for a customer id without a profile of its
    own, following merges."""
    ids = lake.table(CUSTOMER_IDS).to_pyarrow_dataset()
    current, merged_from = value, None
    for _ in range(100):  # a chain of merges; ids are never reused, so it ends
        rows = _select(
            ids, "customer_id", current, columns=["customer_id", "merged_into"]
        ).to_pylist()
        if not rows:
            return None, None
        into = rows[0]["merged_into"]
        if not into:
            return current, merged_from
        merged_from = merged_from or value
        current = into
    return current, merged_from


# -- the profile of one customer with the reasons behind it --------------------------------
class NotResolved(NotFound):
    """No resolution has run yet: there are no profiles to show."""

    error = "not_resolved"


class Ambiguous(Conflict):
    """An identifier belongs to several customers (`customer_ids`: those the caller may see)."""

    error = "ambiguous_identifier"

    def __init__(self, message: str, *, customer_ids: list[str], detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.customer_ids = customer_ids


def profile_view(
    workspace: Workspace,
    text: str,
    *,
    explain: bool = True,
    readable_sources: Collection[str] | None = None,
) -> dict[str, Any]:
    """Everything `tandem profile show` and `GET /api/customers/{id}` show about the customer
    `text` names: the profile (JSON columns parsed) and the explanation of its merges.

    `readable_sources` (None: all) limits the answer to the profiles whose sources are all in it,
    the caller's view: a profile the caller may not see is "not found", exactly as a customer
    that does not exist, so a lookup never tells who is a customer to someone who may not know.
    """
    lake = workspace.lake
    if not resolved(lake):
        raise NotResolved("there are no profiles yet", detail="run `tandem resolve` to build them")
    found = find_customers(lake, text, region=workspace.settings.identity.default_region)
    kind = found.identifier.id_type.replace("_", " ")
    candidates: list[tuple[str, dict[str, Any] | None]] = [
        (customer_id, found.profile if len(found.customer_ids) == 1 else None)
        for customer_id in found.customer_ids
    ]
    if readable_sources is not None:
        allowed = set(readable_sources)
        visible: list[tuple[str, dict[str, Any] | None]] = []
        for customer_id, profile in candidates:
            profile = profile or get_profile(lake, customer_id)
            if profile is not None and set(profile["sources"] or ()) <= allowed:
                visible.append((customer_id, profile))
        candidates = visible
    if not candidates:
        raise NotFound(
            f"no customer has that {kind}",
            detail="search by customer id, email, phone, user id or TYPE:VALUE",
        )
    if len(candidates) > 1:
        shown = ", ".join(customer_id for customer_id, _ in candidates[:10])
        raise Ambiguous(
            f"that {kind} belongs to {len(candidates)} customers: {shown}",
            detail="show one of them by its customer id",
            customer_ids=[customer_id for customer_id, _ in candidates],
        )
    customer_id, profile = candidates[0]
    profile = profile or get_profile(lake, customer_id)
    if profile is None:  # removed between the lookup and now (an erasure)
        raise NotFound(f"customer {customer_id} has no profile")
    return {
        "customer_id": customer_id,
        "merged_from": found.merged_from,
        "profile": profile,
        "explanation": explanation(lake, customer_id) if explain else None,
    }


def explanation(lake: Lake, customer_id: str) -> dict[str, Any]:
    """Why the customer's records belong together (identity resolution's `explain`): records,
    links (shared identifiers, probabilistic matches, ignored shared identifiers), merged ids."""
    from tandem.customers import identity

    explained = identity.explain(lake, customer_id)
    links = [{**asdict(link), "why": link.describe()} for link in explained.links]
    return {
        "records": [list(r) for r in explained.records],
        "links": links,
        "merged_ids": list(explained.merged_ids),
    }


SUMMARY_COLUMNS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "sources",
    "events",
    "orders",
    "revenue",
    "rfm",
    "last_seen",
)


def list_profiles(
    lake: Lake,
    *,
    readable_sources: list[str] | None = None,
    customer_ids: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page of profile summaries) ordered by customer id: only profiles whose
    sources are all in `readable_sources` (None: all), and among `customer_ids` if given."""
    lake.raw(PROFILES)
    where, params = ["TRUE"], []
    if readable_sources is not None:
        where.append("list_has_all(?::VARCHAR[], sources)")
        params.append(readable_sources)
    if customer_ids is not None:
        where.append("list_contains(?::VARCHAR[], customer_id)")
        params.append(customer_ids)
    condition = " AND ".join(where)
    db = lake.con.con
    total = db.sql(
        f"SELECT count(*) AS n FROM lake_{PROFILES} WHERE {condition}", params=params
    ).to_arrow_table()
    rows = db.sql(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM lake_{PROFILES} WHERE {condition} "
        "ORDER BY customer_id LIMIT ? OFFSET ?",
        params=[*params, limit, offset],
    ).to_arrow_table()
    return int(total.column("n")[0].as_py()), rows.to_pylist()
