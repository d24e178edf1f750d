"""Identifiers: every id of every stored message, extracted and normalised in the query engine.

From each message of `lake.events()`:

==============  ==========================================================================
type            where it comes from
==============  ==========================================================================
user_id         `userId`; an `alias` message's `previousId` (also as anonymous_id); a mapped
                record's `customer_id` identifier (the shop account id other channels send
                as userId) unless `identity.customer_id_is_user_id` is false
anonymous_id    `anonymousId`; an `alias` message's `previousId`
email           `traits.email`, `context.traits.email`, externalIds of type email
phone           `traits.phone`, `context.traits.phone`, externalIds of type phone
handle          `traits.handle`, `context.traits.handle`, externalIds of type twitter,
                facebook, instagram, linkedin, tiktok, social
device_id       `context.device.id`, externalIds of type device_id
customer_id     externalIds of type customer_id (when not a user id)
loyalty_id      externalIds of type loyalty_id
other           externalIds of type other
==============  ==========================================================================

Normalisation: emails trimmed and lower-cased, valid only with exactly one `@` and text on both
sides; handles without a leading `@`, lower-cased; phones to E.164. A normalised phone has one
definition, `normalise_phone`: spaces, dots, dashes and slashes removed, then (1) a value already
in E.164 shape (`+` and 7-15 digits) is kept as it is; (2) a national number of
`identity.default_region` (its national prefix followed by a number matching the region's
general pattern, both from phonenumbers' metadata) becomes `+<country code><number>`; (3)
anything else is parsed by `phonenumbers.parse(value, default_region)` and kept only when
`is_valid_number`. Parsing costs ~0.1 ms a value, hence the fast paths (they check the shape, not
the number ranges `is_valid_number` knows). `extract` applies the same rules once per *distinct*
raw value, (1) and (2) in SQL and (3) with `phonenumbers`; person records for matching
(customers/matching.py) take these phones. Invalid values are not identifiers: they are counted.

The record id of a message is `context.tandem.recordId` (mapped records, see
customers/mapping.py), else its message id.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import phonenumbers
import pyarrow as pa  # type: ignore[import-untyped]

from tandem.config import IDENTIFIER_KINDS, IdentitySettings
from tandem.lake.derived import temp_table

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake

MESSAGES = "_tandem_messages"
"""Temporary DuckDB table: one row per message (mid, source, message_id, record_id, user_id,
type, timestamp)."""
IDENTIFIERS = "_tandem_identifiers"
"""Temporary DuckDB table: (mid, id_type, id_value, nid), distinct, normalised, valid only;
`nid` the node id of (id_type, id_value) in the identity graph: `nid >> 58` is the type's
1-based place in IDENTIFIER_KINDS."""

_HANDLE_TYPES = ("twitter", "facebook", "instagram", "linkedin", "tiktok", "social")
_E164 = r"^\+[1-9][0-9]{6,14}$"
PHONE_SEPARATORS = r"[\t\n\f\r .\-/]"
"""Characters removed from a phone before its fast paths (RE2's and Python's regular expressions
read this class alike). Not brackets: "+44 (0)20 ..." is left to phonenumbers."""


@dataclass
class IdentifierStats:
    messages: int = 0
    records: int = 0
    """Distinct (source, record_id)."""
    identifiers: int = 0
    """Valid identifier occurrences (distinct per message, type and value)."""
    invalid: dict[str, int] = field(default_factory=dict)
    """Invalid occurrences per type (an email without one @, a phone that is no number)."""
    phones_fast_path: int = 0
    """Distinct phones normalised in SQL (already E.164, or national numbers of the region)."""
    phones_parsed: int = 0
    """Distinct phones normalised by phonenumbers."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "records": self.records,
            "identifiers": self.identifiers,
            "invalid_identifiers": sum(self.invalid.values()),
            "invalid_by_type": dict(sorted(self.invalid.items())),
            "phones_fast_path": self.phones_fast_path,
            "phones_parsed": self.phones_parsed,
        }


def run(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute `sql` with bound `params` on a raw DuckDB connection (or a Spark lake's
    `tandem.lake.spark.SparkConnection`) and fetch every row: DuckDB 2 keeps a connection busy
    until a result is consumed. Identity resolution and matching run their SQL through it."""
    rows: list[tuple[Any, ...]] = con.execute(sql, params or []).fetchall()
    return rows


def _events_sql(lake: Lake) -> str:
    import ibis

    return str(ibis.to_sql(lake.events(), dialect="duckdb"))


def _normalised(kind: str, expr: str) -> str:
    """SQL normalising `expr` as identifier type `kind` (NULL when invalid); phones apart."""
    if kind == "email":
        return (
            f"CASE WHEN regexp_full_match(lower(trim({expr})), '[^@\\s]+@[^@\\s]+') "
            f"THEN lower(trim({expr})) END"
        )
    if kind == "handle":
        return f"nullif(lower(ltrim(trim({expr}), '@')), '')"
    return f"nullif(trim({expr}), '')"


def _branches(where: str, *, phones: bool) -> str:
    """SQL: (mid, t, v) for the identifiers of the messages matching `where`, from the
    message's own fields (not externalIds), normalised (NULL when invalid); phones (from
    traits and context) only when `phones`, through the `_tandem_phones` map."""
    m = f"(SELECT * FROM {MESSAGES} WHERE {where})"
    email_t, email_c = _normalised("email", "t[1]"), _normalised("email", "c[1]")
    handle_t, handle_c = _normalised("handle", "t[3]"), _normalised("handle", "c[3]")
    parts = [
        f"SELECT mid, 'user_id' AS t, user_id AS v FROM {m} WHERE user_id IS NOT NULL",
        f"SELECT mid, 'anonymous_id', anonymous_id FROM {m} WHERE anonymous_id IS NOT NULL",
        f"SELECT mid, 'user_id', previous_id FROM {m} "
        "WHERE previous_id IS NOT NULL AND previous_id IS DISTINCT FROM user_id",
        f"SELECT mid, 'anonymous_id', previous_id FROM {m} "
        "WHERE previous_id IS NOT NULL AND previous_id IS DISTINCT FROM anonymous_id",
        f"SELECT mid, 'email', {email_t} FROM {m} WHERE t[1] IS NOT NULL",
        f"SELECT mid, 'email', {email_c} FROM {m} WHERE c[1] IS NOT NULL "
        f"AND (t[1] IS NULL OR ({email_t}) IS DISTINCT FROM ({email_c}))",
        f"SELECT mid, 'handle', {handle_t} FROM {m} WHERE t[3] IS NOT NULL",
        f"SELECT mid, 'handle', {handle_c} FROM {m} WHERE c[3] IS NOT NULL "
        f"AND (t[3] IS NULL OR ({handle_t}) IS DISTINCT FROM ({handle_c}))",
        f"SELECT mid, 'device_id', {_normalised('device_id', 'c[4]')} FROM {m} "
        "WHERE c[4] IS NOT NULL",
    ]
    if phones:
        parts += [
            f"SELECT x.mid, 'phone', p.v FROM {m} x JOIN _tandem_phones p ON p.raw = x.t[2]",
            f"SELECT x.mid, 'phone', p.v FROM {m} x JOIN _tandem_phones p ON p.raw = x.c[2]",
        ]
    return "\nUNION ALL\n".join(parts)


def extract(lake: Lake, settings: IdentitySettings) -> IdentifierStats:
    """Build the temporary tables MESSAGES and IDENTIFIERS on `lake.con` (this thread's DuckDB
    connection) from the deduplicated events; returns the counts."""
    con = lake.con.con
    stats = IdentifierStats()
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE {MESSAGES} AS
        SELECT
            CAST(row_number() OVER () AS BIGINT) AS mid,
            source, message_id,
            nullif(trim(c[5]), '') AS mapped_record,
            coalesce(nullif(trim(c[5]), ''), message_id) AS record_id,
            nullif(trim(user_id), '') AS user_id,
            nullif(trim(anonymous_id), '') AS anonymous_id,
            CASE WHEN type = 'alias' THEN nullif(trim(previous_id), '') END AS previous_id,
            type, timestamp, t, c, x
        FROM (
            SELECT source, message_id, user_id, anonymous_id, previous_id, type, timestamp,
                   json_extract_string(traits, ['$.email', '$.phone', '$.handle']) AS t,
                   json_extract_string(context, ['$.traits.email', '$.traits.phone',
                                                 '$.traits.handle', '$.device.id',
                                                 '$.tandem.recordId']) AS c,
                   CASE WHEN contains(context, 'externalIds')
                        THEN json_extract(context, '$.externalIds') END AS x
            FROM ({_events_sql(lake)})
        )
        """,
    )
    params = [list(_HANDLE_TYPES), settings.customer_id_is_user_id]
    # The externalIds entries of mapped records, typed.
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_ext AS
        SELECT mid, CASE WHEN list_contains(?::VARCHAR[], e.type) THEN 'handle'
                         WHEN e.type = 'customer_id' AND ? THEN 'user_id'
                         WHEN e.type IN ('email', 'phone', 'device_id', 'customer_id',
                                         'loyalty_id') THEN e.type
                         ELSE 'other' END AS t,
               e.id AS raw
        FROM (
            SELECT mid, unnest(from_json(x, '[{{"id": "VARCHAR", "type": "VARCHAR"}}]')) AS e
            FROM {MESSAGES} WHERE x IS NOT NULL
        ) WHERE e.id IS NOT NULL
        """,
        params,
    )
    # Phones: the distinct raw values, by the SQL fast paths, then phonenumbers.
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_phones AS
        SELECT raw, regexp_replace(raw, '{PHONE_SEPARATORS}', '', 'g') AS v
        FROM (
            SELECT t[2] AS raw FROM {MESSAGES} WHERE t[2] IS NOT NULL
            UNION SELECT c[2] FROM {MESSAGES} WHERE c[2] IS NOT NULL
            UNION SELECT raw FROM _tandem_ext WHERE t = 'phone'
        )
        """,
    )
    national, calling_code = _national_pattern(settings.default_region)
    run(
        con,
        f"""
        UPDATE _tandem_phones SET v = CASE
            WHEN regexp_full_match(v, '{_E164}') THEN v
            WHEN ? IS NOT NULL AND regexp_full_match(v, ?)
                THEN '+' || ? || substr(v, ? + 1)
            END
        """,
        [national, national or "", calling_code, len(_national_prefix(settings.default_region))],
    )
    slow = con.sql("SELECT raw FROM _tandem_phones WHERE v IS NULL").to_arrow_table()
    raws = slow.column("raw").to_pylist()
    # rule (3) of normalise_phone: the fast paths (1) and (2) ran in SQL above
    normalised = [_e164(raw, settings.default_region) for raw in raws]
    con.register("_tandem_parsed_phones", pa.table({"raw": raws, "e164": normalised}))
    fast = run(con, "SELECT count(*) FROM _tandem_phones")[0][0]
    stats.phones_parsed = len(raws)
    stats.phones_fast_path = int(fast) - len(raws)
    run(
        con,
        """
        UPDATE _tandem_phones SET v = s.e164 FROM _tandem_parsed_phones s
        WHERE _tandem_phones.v IS NULL AND _tandem_phones.raw = s.raw
        """,
    )
    con.unregister("_tandem_parsed_phones")
    # One row per (message, type, value), normalised; invalid values as NULL (counted, then
    # deleted). Rows that may repeat within a message (a mapped record's identifiers are also
    # in its traits; a phone in traits and context) go through DISTINCT; the others (the bulk)
    # are unique by construction and skip it. Node id: the type's number (its place in
    # IDENTIFIER_KINDS) in bits 58-62 and a 58-bit hash of the value below.
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE {IDENTIFIERS} AS
        SELECT mid, t AS id_type, v AS id_value,
               CAST((CAST(list_position(?::VARCHAR[], t) AS UBIGINT) << 58) | (hash(v) >> 6)
                    AS BIGINT) AS nid
        FROM (
            {_branches("x IS NULL", phones=False)}
            UNION ALL
            SELECT DISTINCT mid, t, v FROM (
                {_branches("x IS NOT NULL", phones=True)}
                UNION ALL
                SELECT r.mid, 'phone', p.v FROM (
                    SELECT mid, t[2] AS raw FROM {MESSAGES} WHERE t[2] IS NOT NULL AND x IS NULL
                    UNION ALL
                    SELECT mid, c[2] FROM {MESSAGES} WHERE c[2] IS NOT NULL AND x IS NULL
                ) r JOIN _tandem_phones p USING (raw)
                UNION ALL
                SELECT e.mid, e.t,
                    CASE e.t WHEN 'email' THEN {_normalised("email", "e.raw")}
                             WHEN 'handle' THEN {_normalised("handle", "e.raw")}
                             WHEN 'phone' THEN p.v
                             ELSE {_normalised("other", "e.raw")} END
                FROM _tandem_ext e LEFT JOIN _tandem_phones p ON e.t = 'phone' AND p.raw = e.raw
            )
        )
        """,
        [list(IDENTIFIER_KINDS)],
    )
    for t, n in run(
        con, f"SELECT id_type, count(*) FROM {IDENTIFIERS} WHERE id_value IS NULL GROUP BY 1"
    ):
        stats.invalid[str(t)] = int(n)
    if stats.invalid:
        run(con, f"DELETE FROM {IDENTIFIERS} WHERE id_value IS NULL")
    for name in ("_tandem_ext", "_tandem_phones"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    row = run(
        con,
        f"""
        SELECT (SELECT count(*) FROM {MESSAGES}),
               (SELECT count(*) FILTER (WHERE mapped_record IS NULL)
                       + count(DISTINCT (source, record_id))
                             FILTER (WHERE mapped_record IS NOT NULL)
                FROM {MESSAGES}),
               (SELECT count(*) FROM {IDENTIFIERS})
        """,
    )[0]
    stats.messages, stats.records, stats.identifiers = (int(v) for v in row)
    return stats


def identifiers(lake: Lake, settings: IdentitySettings) -> ir.Table:
    """Every identifier of every stored message as an Ibis table: source, message_id,
    record_id, id_type, id_value, timestamp (normalised, valid only)."""
    extract(lake, settings)
    con = lake.con
    run(
        con.con,
        f"""
        CREATE OR REPLACE TEMP VIEW _tandem_identifier_view AS
        SELECT m.source, m.message_id, m.record_id, i.id_type, i.id_value, m.timestamp
        FROM {IDENTIFIERS} i JOIN {MESSAGES} m USING (mid)
        """,
    )
    return temp_table(lake, "_tandem_identifier_view")


def _national_prefix(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return str(metadata.national_prefix or "") if metadata is not None else ""


def _national_pattern(region: str) -> tuple[str | None, str]:
    """A regular expression for `region`'s national numbers written with the national prefix
    (phonenumbers' own metadata: the prefix and the region's general number pattern), and the
    region's calling code. None when the region has no national prefix."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = str(phonenumbers.country_code_for_region(region))
    prefix = _national_prefix(region)
    if metadata is None or not prefix or metadata.general_desc is None:
        return None, code
    pattern = metadata.general_desc.national_number_pattern
    if not pattern:
        return None, code
    return f"{prefix}(?:{pattern})", code


def normalise_phone(raw: str, region: str) -> str | None:
    """`raw` in E.164, or None when it is not a phone number: the one definition of a normalised
    phone (see the module's docstring), the value `extract` gives the same raw value."""
    compact = _SEPARATORS.sub("", raw)
    if _E164_SHAPE.fullmatch(compact):
        return compact
    national, code, prefix_length = _fast_path(region)
    if national is not None and national.fullmatch(compact):
        return f"+{code}{compact[prefix_length:]}"
    return _e164(raw, region)


_SEPARATORS = re.compile(PHONE_SEPARATORS)
_E164_SHAPE = re.compile(_E164.strip("^$"), re.ASCII)


@functools.lru_cache(maxsize=32)
def _fast_path(region: str) -> tuple[re.Pattern[str] | None, str, int]:
    """`region`'s national number pattern (compiled), calling code and national prefix length."""
    national, code = _national_pattern(region)
    pattern = re.compile(national, re.ASCII) if national is not None else None
    return pattern, code, len(_national_prefix(region))


def _e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
