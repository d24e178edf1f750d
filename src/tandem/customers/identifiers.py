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
sides; handles without a leading `@`, lower-cased; phones to E.164. Phones are normalised once per
*distinct* raw value, spaces, dots, dashes and slashes removed, by two SQL fast paths
and then `phonenumbers`: (1) a value already in E.164 shape (`+` and 7-15 digits) is kept as it
is; (2) a national number of `identity.default_region` (its national prefix followed by a number
matching the region's general pattern, both from phonenumbers' metadata) becomes `+<country
code><number>`; (3) anything else is parsed by `phonenumbers.parse(value, default_region)` and
kept only when `is_valid_number`. Parsing costs ~0.1 ms a value, hence the fast paths (they
check the shape, not the number ranges `is_valid_number` knows). Invalid values are not
identifiers: they are counted.

The record id of a message is `context.tandem.recordId` (mapped records, see
customers/mapping.py), else its message id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import phonenumbers
import pyarrow as pa  # type: ignore[import-untyped]

from tandem.config import IdentitySettings
from tandem.lake.derived import temp_table

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake

MESSAGES = "_tandem_messages"
"""Temporary DuckDB table: one row per message (mid, source, message_id, record_id, user_id,
type, timestamp)."""
IDENTIFIERS = "_tandem_identifiers"
"""Temporary DuckDB table: (mid, id_type, id_value), distinct, normalised, valid only."""

_HANDLE_TYPES = ("twitter", "facebook", "instagram", "linkedin", "tiktok", "social")
_E164 = r"^\+[1-9][0-9]{6,14}$"
_PHONE_SEPARATORS = r"[\s.\-/]"  # not brackets: "+44 (0)20 ..." is left to phonenumbers


@dataclass
class IdentifierStats:
    messages: int = 0
    records: int = 0
    """Distinct (source, record_id)."""
    identifiers: int = 0
    """Valid identifier occurrences (distinct per message, type and value)."""
    distinct_identifiers: int = 0
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
            "distinct_identifiers": self.distinct_identifiers,
            "invalid_identifiers": sum(self.invalid.values()),
            "invalid_by_type": dict(sorted(self.invalid.items())),
            "phones_fast_path": self.phones_fast_path,
            "phones_parsed": self.phones_parsed,
        }


def run(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute `sql` with bound `params` on a raw DuckDB connection and fetch every row (an
    unfetched result blocks the connection)."""
    rows: list[tuple[Any, ...]] = con.execute(sql, params or []).fetchall()
    return rows


def _events_sql(lake: Lake) -> str:
    import ibis

    return str(ibis.to_sql(lake.events(), dialect="duckdb"))


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
            coalesce(nullif(trim(json_extract_string(context, '$.tandem.recordId')), ''),
                     message_id) AS record_id,
            nullif(trim(user_id), '') AS user_id,
            nullif(trim(anonymous_id), '') AS anonymous_id,
            nullif(trim(previous_id), '') AS previous_id,
            type, timestamp, traits, context
        FROM ({_events_sql(lake)})
        """,
    )
    # Raw identifiers, one row per (message, type, raw value); types still as found.
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_raw_ids AS
        WITH m AS (
            SELECT mid, user_id, anonymous_id, previous_id, type,
                   json_extract_string(traits, ['$.email', '$.phone', '$.handle']) AS t,
                   json_extract_string(context, ['$.traits.email', '$.traits.phone',
                                                 '$.traits.handle', '$.device.id']) AS c,
                   CASE WHEN contains(context, 'externalIds')
                        THEN json_extract(context, '$.externalIds') END AS x
            FROM {MESSAGES}
        ),
        ext AS (
            SELECT mid, unnest(from_json(x, '[{{"id": "VARCHAR", "type": "VARCHAR"}}]')) AS e
            FROM m WHERE x IS NOT NULL
        )
        SELECT mid, 'user_id' AS t, user_id AS v FROM m WHERE user_id IS NOT NULL
        UNION ALL SELECT mid, 'anonymous_id', anonymous_id FROM m WHERE anonymous_id IS NOT NULL
        UNION ALL SELECT mid, 'user_id', previous_id FROM m
            WHERE type = 'alias' AND previous_id IS NOT NULL
        UNION ALL SELECT mid, 'anonymous_id', previous_id FROM m
            WHERE type = 'alias' AND previous_id IS NOT NULL
        UNION ALL SELECT mid, 'email', t[1] FROM m WHERE t[1] IS NOT NULL
        UNION ALL SELECT mid, 'phone', t[2] FROM m WHERE t[2] IS NOT NULL
        UNION ALL SELECT mid, 'handle', t[3] FROM m WHERE t[3] IS NOT NULL
        UNION ALL SELECT mid, 'email', c[1] FROM m WHERE c[1] IS NOT NULL
        UNION ALL SELECT mid, 'phone', c[2] FROM m WHERE c[2] IS NOT NULL
        UNION ALL SELECT mid, 'handle', c[3] FROM m WHERE c[3] IS NOT NULL
        UNION ALL SELECT mid, 'device_id', c[4] FROM m WHERE c[4] IS NOT NULL
        UNION ALL SELECT mid,
            CASE WHEN list_contains(?::VARCHAR[], e.type) THEN 'handle'
                 WHEN e.type = 'customer_id' AND ? THEN 'user_id'
                 WHEN e.type IN ('email', 'phone', 'device_id', 'customer_id', 'loyalty_id')
                     THEN e.type
                 ELSE 'other' END,
            e.id
        FROM ext WHERE e.id IS NOT NULL
        """,
        [list(_HANDLE_TYPES), settings.customer_id_is_user_id],
    )
    # Phones: E.164 by the SQL fast path, the other distinct raw values by phonenumbers.
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_phones AS
        SELECT raw, regexp_replace(raw, '{_PHONE_SEPARATORS}', '', 'g') AS compact
        FROM (SELECT DISTINCT v AS raw FROM _tandem_raw_ids WHERE t = 'phone')
        """,
    )
    national, calling_code = _national_pattern(settings.default_region)
    run(
        con,
        f"""
        UPDATE _tandem_phones SET compact = CASE
            WHEN regexp_full_match(compact, '{_E164}') THEN compact
            WHEN ? IS NOT NULL AND regexp_full_match(compact, ?)
                THEN '+' || ? || substr(compact, ? + 1)
            END
        """,
        [national, national or "", calling_code, len(_national_prefix(settings.default_region))],
    )
    slow = con.sql("SELECT raw FROM _tandem_phones WHERE compact IS NULL").to_arrow_table()
    raws = slow.column("raw").to_pylist()
    normalised = [_e164(raw, settings.default_region) for raw in raws]
    con.register("_tandem_parsed_phones", pa.table({"raw": raws, "e164": normalised}))
    fast = run(con, "SELECT count(*) FROM _tandem_phones")[0][0]
    stats.phones_parsed = len(raws)
    stats.phones_fast_path = int(fast) - len(raws)
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_phone_map AS
        SELECT p.raw, coalesce(p.compact, s.e164) AS v
        FROM _tandem_phones p LEFT JOIN _tandem_parsed_phones s USING (raw)
        """,
    )
    con.unregister("_tandem_parsed_phones")
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_norm_ids AS
        SELECT r.mid, r.t,
            CASE r.t
                WHEN 'email' THEN CASE WHEN regexp_full_match(lower(trim(r.v)),
                                                              '[^@\\s]+@[^@\\s]+')
                                       THEN lower(trim(r.v)) END
                WHEN 'phone' THEN p.v
                WHEN 'handle' THEN nullif(lower(ltrim(trim(r.v), '@')), '')
                ELSE nullif(trim(r.v), '')
            END AS v
        FROM _tandem_raw_ids r LEFT JOIN _tandem_phone_map p ON r.t = 'phone' AND p.raw = r.v
        """,
    )
    for t, n in run(con, "SELECT t, count(*) FROM _tandem_norm_ids WHERE v IS NULL GROUP BY t"):
        stats.invalid[str(t)] = int(n)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE {IDENTIFIERS} AS
        SELECT DISTINCT mid, t AS id_type, v AS id_value FROM _tandem_norm_ids WHERE v IS NOT NULL
        """,
    )
    for name in ("_tandem_raw_ids", "_tandem_norm_ids", "_tandem_phones", "_tandem_phone_map"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    row = run(
        con,
        f"""
        SELECT (SELECT count(*) FROM {MESSAGES}),
               (SELECT count(*) FROM (SELECT DISTINCT source, record_id FROM {MESSAGES})),
               (SELECT count(*) FROM {IDENTIFIERS}),
               (SELECT count(*) FROM (SELECT DISTINCT id_type, id_value FROM {IDENTIFIERS}))
        """,
    )[0]
    stats.messages, stats.records, stats.identifiers, stats.distinct_identifiers = (
        int(v) for v in row
    )
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
    """`raw` in E.164, or None when it is not a valid phone number."""
    return _e164(raw, region)


def _e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
