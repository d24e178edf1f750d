"""Probabilistic matching: person records that share no identifier but describe the same person.

A CRM row typed in again at a till, a service ticket with a typo in the name: deterministic
stitching (shared email, phone, user id ...) cannot join them. Here a Fellegi-Sunter model from
Splink 5 compares *person records* (one per user id: names, birth date, address, postcode, phone,
email) and returns the pairs whose match probability reaches a threshold. Those pairs become
edges of the same identity graph as the shared identifiers.

1. `person_records(events)` builds the records in the query engine: the latest non-empty value of
   each field over a user id's `identify` messages, normalised (names lower-case without accents
   or punctuation, a full `name` split when first/last are missing, birth dates to ISO
   ``YYYY-MM-DD`` from common formats, postcodes upper-case without spaces, phones to E.164 as
   identity resolution normalises them (customers/identifiers.py), emails lower-case).
2. `match_records(con, records, options)` trains the model without labels and predicts:

   - the prior (probability that two random records match) from deterministic rules (same name
     and birth date, same email, same phone) and an assumed recall of those rules;
   - the u probabilities (how often non-matching records agree by chance) from seeded random
     pairs;
   - the m probabilities (how often matching records agree) by expectation maximisation on pairs
     blocked on the birth date and, separately, on the full name (each pass trains the
     comparisons it did not block on);
   - predictions on the pairs that share at least one blocking rule's columns.

   Fields nobody filled in are not compared. Records with neither a last name nor a birth date
   are too thin to match and are left out (counted in the stats). Runs on the workspace's DuckDB
   connection (Splink's DuckDB back-end), or with `engine = "spark"` on Spark: the records are
   the same query translated to Spark SQL, and Splink runs on its Spark back-end.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
from phonenumbers import country_code_for_region

# the options live with the other settings: tandem.toml is validated when it is read
from tandem.config import MatchingOptions as MatchingOptions
from tandem.config import Rule
from tandem.customers.identifiers import normalise_phone, run
from tandem.customers.jsontext import json_extract_strings
from tandem.errors import InvalidValue, TandemError
from tandem.lake.store import quiet_ibis

# -- person records -----------------------------------------------------------------------------
FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "birth_date",
    "street",
    "city",
    "postcode",
    "phone",
    "email",
)
"""The fields of a person record, besides `key` and `source`."""

TRAIT_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstName", "first_name", "firstname", "givenName", "given_name", "forename"),
    "last_name": ("lastName", "last_name", "lastname", "surname", "familyName", "family_name"),
    "name": ("name", "fullName", "full_name"),
    "birth_date": (
        "birthday",
        "dateOfBirth",
        "date_of_birth",
        "birthDate",
        "birth_date",
        "dob",
    ),
    "house_number": ("streetNumber", "street_number", "houseNumber", "house_number"),
    "street": (
        "street",
        "address.street",
        "address",
        "address1",
        "address_1",
        "addressLine1",
        "address_line_1",
    ),
    "city": ("city", "address.city", "town", "suburb", "locality"),
    "postcode": (
        "postalCode",
        "address.postalCode",
        "postal_code",
        "postcode",
        "zip",
        "zipCode",
        "zip_code",
    ),
    "phone": ("phone", "mobile", "phoneNumber", "phone_number"),
    "email": ("email",),
}
"""Trait names read for each field, in order of preference (`address.street` is the `street` key
of Segment's `address` object; a string `address` is a street)."""

BIRTH_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d-%m-%Y",
)
"""Birth date formats understood, tried in this order (day before month: ``03/04/1980`` is the
3rd of April). A timestamp (``1980-04-03T00:00:00Z``) counts by its date."""

_TITLES = r"^(mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev)\.?\s+"


@ibis.udf.scalar.builtin(name="strip_accents")  # type: ignore[untyped-decorator]
def _strip_accents(text: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the text without diacritics (é -> e)."""


@ibis.udf.scalar.builtin(name="try_strptime")  # type: ignore[untyped-decorator]
def _try_strptime(text: str, formats: list[str]) -> datetime.datetime:  # type: ignore[empty-body]
    """DuckDB: the first format that parses the text, else NULL."""


def _blank_to_null(value: ir.StringValue) -> ir.StringValue:
    text = value.strip()
    return text.nullif("")


def _name(value: ir.StringValue) -> ir.StringValue:
    """lower-case, accents folded, letters kept (and inner spaces, hyphens, apostrophes)."""
    text = _strip_accents(value.lower())
    text = text.re_replace(r"[^a-z' -]+", " ").re_replace(r"\s+", " ")
    return _blank_to_null(text.re_replace(r"^[' -]+|[' -]+$", ""))


def _phone_or_none(raw: str | None, region: str) -> str | None:
    """`raw` normalised as identity resolution normalises phones
    (`tandem.customers.identifiers.normalise_phone`), None when it is no phone number."""
    return None if raw is None else normalise_phone(raw, region)


@ibis.udf.scalar.python(null_handling="special")  # type: ignore[untyped-decorator]
def _tandem_phone_e164(raw: str, region: str) -> str:
    """DuckDB: `_phone_or_none` as a Python function (on Spark, the same one: see
    `person_records`)."""
    return _phone_or_none(raw, region)  # type: ignore[return-value]


def _birth_date(value: ir.StringValue) -> ir.StringValue:
    text = value.strip()
    text = ibis.ifelse(text.re_search(r"^\d{4}-\d{2}-\d{2}[T ]"), text.substr(0, 10), text)
    parsed = _try_strptime(text, ibis.literal(list(BIRTH_DATE_FORMATS), type="array<string>"))
    return parsed.strftime("%Y-%m-%d")


def person_records(
    events: ir.Table,
    identifiers: ir.Table | None = None,
    *,
    default_region: str = "GB",
) -> ir.Table:
    """One row per user id of `identify` messages in `events`, with `key` (the user id),
    `source` (of its latest identify) and the fields of `FIELDS`, each the latest non-empty value
    and normalised. An expression; nothing runs until it is executed. Every user id with an
    identify message has a row, even one too thin to match (no last name, no birth date):
    `match_records` leaves those out and counts them (`left_out`).

    A phone is normalised by identity resolution's one definition
    (`tandem.customers.identifiers.normalise_phone`). `identifiers`, when given, is a table
    (`key`, `id_type`, `id_value`) of the identifiers `customers.identifiers` extracted and
    normalised: a record's phone is then its user id's phone identifier (none when identity
    resolution found no valid phone), and its `email` values replace the ones normalised here.
    Without it, the latest phone trait is normalised by `normalise_phone` with `default_region`
    (a Python function the engine calls: a DuckDB UDF, or a Spark Python UDF registered by
    `tandem.lake.spark.python_function`).
    """
    from tandem.lake import spark

    spark.python_function("_tandem_phone_e164", _phone_or_none)
    region = default_region.upper()
    if not country_code_for_region(region):
        raise InvalidValue(
            f"unknown region {default_region!r} for phone numbers; use an ISO 3166 code such as GB",
            field="identity.default_region",
        )
    paths: list[str] = []
    where: dict[str, list[int]] = {}
    for name, traits in TRAIT_NAMES.items():
        where[name] = []
        for trait in traits:
            where[name].append(len(paths))
            paths.append("$." + trait)
    messages = events.filter((events.type == "identify") & events.user_id.notnull())
    values = json_extract_strings(messages.traits, ibis.literal(paths, type="array<string>"))
    messages = messages.select(
        key=messages.user_id, source=messages.source, timestamp=messages.timestamp, v=values
    )

    def raw(name: str) -> ir.StringValue:
        candidates = []
        for i in where[name]:
            text = _blank_to_null(messages.v[i])
            if paths[i] == "$.address":  # Segment's address is an object; a string is a street
                text = ibis.ifelse(text.startswith("{"), ibis.null(str), text)
            candidates.append(text)
        return ibis.coalesce(*candidates) if len(candidates) > 1 else candidates[0]

    street = raw("street")
    number = raw("house_number")
    street = ibis.ifelse(
        number.notnull() & street.notnull() & ~street.startswith(number),
        number + " " + street,
        street,
    )
    fields: dict[str, ir.StringValue] = {
        "first_name": _name(raw("first_name")),
        "last_name": _name(raw("last_name")),
        "name": _name(_strip_accents(raw("name").lower()).re_replace(_TITLES, "")),
        "birth_date": _birth_date(raw("birth_date")),
        "street": _blank_to_null(street.lower().re_replace(r"\s+", " ")),
        "city": _name(raw("city")),
        "postcode": _blank_to_null(raw("postcode").upper().re_replace(r"[^0-9A-Z]", "")),
        "phone": _tandem_phone_e164(raw("phone"), region),
        "email": _blank_to_null(raw("email").lower()),
    }
    if identifiers is not None:
        del fields["phone"]  # the identifiers' phones (see _with_identifiers)
    messages = messages.mutate(**fields)
    latest = {
        name: messages[name].argmax(messages.timestamp, where=messages[name].notnull())
        for name in fields
    }
    records = messages.group_by("key").aggregate(
        source=messages.source.argmax(messages.timestamp), **latest
    )
    if identifiers is not None:
        records = _with_identifiers(records, identifiers)
    # A full name fills in first and last names when both are missing ("Dr Ann de Vere": ann,
    # vere); a one-letter "last name" ("Siobhan C.") is an initial, not a name.
    parts = records.name.split(" ")
    only_name = records.first_name.isnull() & records.last_name.isnull() & records.name.notnull()
    first = ibis.ifelse(only_name, parts[0], records.first_name)
    last = ibis.ifelse(only_name & (parts.length() > 1), parts[-1], records.last_name)
    last = ibis.ifelse(last.length() > 1, last, ibis.null(str))
    full = ibis.coalesce(
        records.name, _blank_to_null(ibis.coalesce(first, "") + " " + ibis.coalesce(last, ""))
    )
    return records.select(
        key=records.key,
        source=records.source,
        first_name=first,
        last_name=last,
        full_name=full,
        birth_date=records.birth_date,
        street=records.street,
        city=records.city,
        postcode=records.postcode,
        phone=records.phone,
        email=records.email,
    )


def _with_identifiers(records: ir.Table, identifiers: ir.Table) -> ir.Table:
    missing = {"key", "id_type", "id_value"} - set(identifiers.columns)
    if missing:
        raise ValueError(f"identifiers need the columns key, id_type, id_value; {missing} missing")
    chosen = {}
    for kind in ("email", "phone"):
        rows = identifiers.filter(identifiers.id_type == kind)
        chosen[kind] = rows.group_by(key=rows.key.cast("string")).aggregate(
            value=rows.id_value.cast("string").min()
        )
    email, phone = chosen["email"], chosen["phone"]
    joined = records.left_join(email, records.key == email.key).left_join(
        phone, records.key == phone.key
    )
    columns = {c: joined[c] for c in records.columns}
    columns["email"] = ibis.coalesce(joined["value"], joined["email"])
    columns["phone"] = joined["value_right"]
    return joined.select(**columns)


# -- matching -------------------------------------------------------------------------------------
EDGE_SCHEMA = pa.schema(
    [
        pa.field("left_key", pa.string(), nullable=False),
        pa.field("right_key", pa.string(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        pa.field("match_probability", pa.float64(), nullable=False),
    ]
)


@dataclass
class MatchResult:
    """Pairs of records at or above the threshold (`left_key` < `right_key`), and how the model
    was trained."""

    edges: pa.Table
    stats: dict[str, Any] = field(default_factory=dict)


class MatchingUnavailable(TandemError):
    """Probabilistic matching cannot run with this configuration."""

    error = "matching_unavailable"


_tables = count()


def match_records(
    con: Any,
    records: ir.Table,
    options: MatchingOptions | None = None,
    *,
    engine: str | None = None,
) -> MatchResult:
    """Pairs of `records` (see `person_records`) that describe the same person, by a
    Fellegi-Sunter model trained on the records themselves (no labels).

    `con` is the connection `records` is computed on: the lake's Ibis DuckDB connection (Splink
    runs on its DuckDB, the records are not copied out of the engine), or a Spark lake's
    connection (`tandem.lake.spark.SparkLake.con`: the records are computed on Spark by the
    translated SQL and Splink runs on its Spark back-end). `engine` (default: `con`'s back-end)
    must be ``duckdb`` or ``spark``. Returns no edges, with `stats["reason"]`, when there is
    nothing to match or the model cannot be trained.
    """
    options = options or MatchingOptions()
    started = time.perf_counter()
    backend = engine or getattr(con, "name", "unknown")
    backend = "spark" if backend == "pyspark" else backend
    if backend not in ("duckdb", "spark"):
        raise MatchingUnavailable(
            f"probabilistic matching runs on DuckDB or Spark; Splink's {backend} back-end is "
            "not wired into Tandem",
            detail="set [identity.matching] enabled = false in tandem.toml to resolve without it, "
            'or engine = "duckdb"',
            field="engine",
        )
    stats: dict[str, Any] = {"threshold": options.threshold, "engine": backend}
    if not options.enabled:
        return _empty(stats, "matching is disabled", started)
    missing = {"key", *FIELDS} - set(records.columns)
    if missing:
        raise ValueError(f"records lack the columns {sorted(missing)}")
    sql = con.con  # the raw DuckDB connection, or the SparkConnection
    name = f"_tandem_match_records_{next(_tables)}"
    everything = records.select(
        unique_id=records.key.cast("string"), **{f: records[f].cast("string") for f in FIELDS}
    )
    try:
        # the records are materialised once, in the engine (no copy out)
        if backend == "duckdb":
            _materialise(con, name + "_all", everything)
        else:  # the same query, as DuckDB SQL translated to Spark by the connection
            run(
                sql,
                f'CREATE OR REPLACE TEMP TABLE "{name}_all" AS '
                + str(ibis.to_sql(everything, dialect="duckdb")),
            )
        total = int(run(sql, f'SELECT count(*) FROM "{name}_all"')[0][0])
        run(
            sql,
            f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT *, '
            "first_name || ' ' || last_name AS first_and_last "
            f'FROM "{name}_all" '
            "WHERE last_name IS NOT NULL OR birth_date IS NOT NULL",
        )
        run(sql, f'DROP TABLE "{name}_all"')
        stats["steps"] = {"records": round(time.perf_counter() - started, 3)}
        return _match(sql, name, total, options, stats, started)
    finally:
        run(sql, f'DROP TABLE IF EXISTS "{name}_all"')
        run(sql, f'DROP TABLE IF EXISTS "{name}"')


def _match(
    sql: Any,
    name: str,
    total: int,
    options: MatchingOptions,
    stats: dict[str, Any],
    started: float,
) -> MatchResult:
    counts = run(
        sql,
        f"SELECT count(*), count(DISTINCT unique_id), {', '.join(f'count({f})' for f in FIELDS)} "
        f'FROM "{name}"',
    )[0]
    compared, distinct = int(counts[0]), int(counts[1])
    filled = {f: int(n) for f, n in zip(FIELDS, counts[2:], strict=True)}
    stats.update(records=total, compared_records=compared, left_out=total - compared)
    if distinct != compared:
        raise ValueError("person records must have one row per key")
    # A field is compared when at least two records have it (else it says nothing).
    used = [f for f in FIELDS if f != "full_name" and filled[f] >= 2]
    stats["fields"] = used
    if compared < 3:
        return _empty(stats, f"{compared} comparable record(s): too few to train a model", started)
    model = model_for(used, options)
    comparisons, blocking = model["comparisons"], model["blocking"]
    training, prior = model["training"], model["prior"]
    if not comparisons or not blocking:
        return _empty(stats, "the records have no fields in common to compare", started)
    if not prior:
        return _empty(stats, "no prior rule applies to the fields present", started)
    with _quiet_splink():
        return _train_and_predict(
            sql, name, options, stats, started, comparisons, blocking, training, prior
        )


def _train_and_predict(
    sql: Any,
    name: str,
    options: MatchingOptions,
    stats: dict[str, Any],
    started: float,
    comparisons: list[Any],
    blocking: list[Rule],
    training: list[Rule],
    prior: list[Rule],
) -> MatchResult:
    from splink import Linker, block_on
    from splink.internals.exceptions import SplinkException

    api = splink_api(sql)
    table = api.register(name, dataset_display_name="person_records")
    settings = splink_settings(comparisons, blocking)
    step = _stepper(stats)
    linker = Linker(table, settings, log_level=None)
    try:
        try:
            linker.training.estimate_probability_two_random_records_match(
                [block_on(*r) for r in prior], recall=options.prior_recall
            )
        except ValueError as error:  # more observed matches than the recall allows
            return _empty(stats, f"cannot estimate the prior: {error}", started)
        step("prior")
        prior_value = linker._settings_obj._probability_two_random_records_match
        stats["prior"] = prior_value
        if prior_value <= 0:
            return _empty(stats, "no two records agree on a prior rule: nothing to match", started)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=options.max_pairs_for_u, seed=options.seed
        )
        step("u")
        trained = []
        for rule in training:
            # A pass that fails leaves Splink's model without the comparisons it blocked on:
            # start again from the model as it was before the pass.
            before = linker.misc.save_model_to_json()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
            except (SplinkException, ValueError) as error:
                stats.setdefault("training_skipped", []).append(
                    {"rule": rule, "reason": str(error).splitlines()[0]}
                )
                linker = Linker(table, before, log_level=None)
                continue
            trained.append(rule)
        stats["trained_on"] = trained
        step("em")
        if not trained:
            return _empty(stats, "expectation maximisation could not train the model", started)
        stats["parameters"] = _parameters(linker)
        # every blocked pair is scored (and counted); the threshold applies below
        predictions = linker.inference.predict()
        step("predict")
        above = f'"{predictions.physical_name}"'
        compared, above_threshold = run(
            sql,
            f"SELECT count(*), count(*) FILTER (WHERE match_probability >= ?) FROM {above}",
            [options.threshold],
        )[0]
        stats["pairs_compared"] = int(compared)
        stats["pairs_above_threshold"] = int(above_threshold)
        veto = _UNCORROBORATED if options.require_corroboration else "FALSE"
        edges = sql.sql(
            "SELECT least(p.unique_id_l, p.unique_id_r) AS left_key, "
            "greatest(p.unique_id_l, p.unique_id_r) AS right_key, "
            # rounded: DuckDB sums in parallel, so the last bits of EM's sums vary between runs
            "round(p.match_weight::DOUBLE, 9) AS match_weight, "
            "round(p.match_probability::DOUBLE, 12) AS match_probability "
            f'FROM {above} p JOIN "{name}" l ON l.unique_id = p.unique_id_l '
            f'JOIN "{name}" r ON r.unique_id = p.unique_id_r '
            f"WHERE p.match_probability >= ? AND NOT ({veto}) "
            "ORDER BY left_key, right_key",
            params=[options.threshold],
        ).to_arrow_table()
        stats["not_corroborated"] = stats["pairs_above_threshold"] - edges.num_rows
        step("corroboration")
    finally:
        _release_splink_tables(api, linker)
    stats["pairs"] = edges.num_rows
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return MatchResult(edges=edges.cast(EDGE_SCHEMA), stats=stats)


def splink_api(sql: Any) -> Any:
    """Splink's database API over `sql`: a raw DuckDB connection (`DuckDBAPI`), or Tandem's
    `SparkConnection` (Splink's `SparkAPI` on its session, see `_spark_api`)."""
    from tandem.lake.spark import SparkConnection

    if isinstance(sql, SparkConnection):
        return _spark_api(sql.spark)
    from splink import DuckDBAPI

    return DuckDBAPI(connection=sql)


_SPLINK_REUSED = re.compile(
    r"__splink__(df_comparison_vectors|df_concat_sample|df_concat_with_tf|df_predict|df_tf_.+"
    r"|blocked_id_pairs|agreement_pattern_counts)"
)
"""Splink tables read again after they are made: the ones Splink's SparkAPI persists, and the
agreement pattern counts every expectation-maximisation iteration reads."""


def _spark_api(spark: Any) -> Any:
    """Splink's SparkAPI, which records the name of every temporary view it makes in the session
    (`made_views`: its clean-up drops those and no other, so another Splink run sharing the
    session keeps its own), its reused tables materialised with `localCheckpoint` as Tandem's
    own Spark stages do (`break_lineage_method="persist"` keeps each query's whole lineage,
    which Spark plans again at every iteration: twice as slow on the demo company). Without
    Splink's lineage hook, plain `persist`."""
    from splink import SparkAPI

    checkpoint = hasattr(SparkAPI, "_break_lineage_and_repartition") and hasattr(
        SparkAPI, "_repartition_if_needed"
    )

    class TandemSparkAPI(SparkAPI):
        made_views: set[str]

        # Splink makes its Spark views in these three methods (tables it computes, inputs it
        # registers, templated aliases); a Splink that makes them elsewhere leaves those views
        # behind rather than dropping another run's
        def _cleanup_for_execute_sql(
            self, table: Any, templated_name: str, physical_name: str
        ) -> Any:
            self.made_views.add(physical_name)
            return super()._cleanup_for_execute_sql(table, templated_name, physical_name)

        def _table_registration(self, input: Any, table_name: str) -> None:
            self.made_views.add(table_name)
            super()._table_registration(input, table_name)

        def _create_or_replace_temp_view(self, name: str, physical: str) -> None:
            self.made_views.add(name)
            super()._create_or_replace_temp_view(name, physical)

        if checkpoint:

            def _break_lineage_and_repartition(
                self, spark_df: Any, templated_name: str, physical_name: str
            ) -> Any:
                spark_df = self._repartition_if_needed(spark_df, templated_name)  # type: ignore[no-untyped-call]
                if _SPLINK_REUSED.fullmatch(templated_name):
                    return spark_df.localCheckpoint(eager=True)
                return spark_df

    api = TandemSparkAPI(spark_session=spark, break_lineage_method="persist")  # type: ignore[no-untyped-call]
    api.made_views = set()
    return api


def _release_splink_tables(api: Any, linker: Any) -> None:
    """Drop the tables Splink made. On Spark its expectation maximisation leaves a view per
    iteration that its own clean-up does not know, and persisted frames stay in the executors'
    memory: every view this run's API made (`made_views`) is uncached and dropped; the views of
    anything else sharing the session are left alone."""
    spark = getattr(api, "spark", None)
    made = sorted(getattr(api, "made_views", ()))
    if spark is not None:
        for name in made:
            if spark.catalog.tableExists(name) and spark.catalog.isCached(name):
                spark.catalog.uncacheTable(name)
    linker.table_management.delete_tables_created_by_splink_from_db()
    if spark is not None:
        for name in made:
            spark.catalog.dropTempView(name)


_SAME_BIRTH_DATE = """(
    coalesce(l.birth_date = r.birth_date, FALSE)
    OR coalesce(levenshtein(l.birth_date, r.birth_date) <= 1, FALSE)
)"""
_UNCORROBORATED = f"""
    (
        l.birth_date IS NOT NULL AND r.birth_date IS NOT NULL AND NOT {_SAME_BIRTH_DATE}
        AND (coalesce(l.email = r.email, FALSE) OR coalesce(l.phone = r.phone, FALSE))
    )
    OR NOT (
        {_SAME_BIRTH_DATE}
        OR coalesce(
            jaro_winkler_similarity(l.street, r.street) >= 0.88
            AND (regexp_extract(l.street, '^[0-9]+') = regexp_extract(r.street, '^[0-9]+')
                 OR regexp_extract(l.street, '^[0-9]+') = ''
                 OR regexp_extract(r.street, '^[0-9]+') = ''),
            FALSE
        )
        OR coalesce(damerau_levenshtein(l.postcode, r.postcode) <= 1, FALSE)
        OR coalesce(l.phone = r.phone, FALSE)
        OR coalesce(l.email = r.email, FALSE)
    )
"""
"""A pair that is not corroborated: (1) it shares an email or a phone but both birth dates are
known and differ by more than one typo: two people of one household sharing a contact (a
parent and a child may even share a name), which deterministic stitching already refuses to
merge on; or (2) it agrees on nothing but names (no birth date within one typo, no similar
street with the same house number, no postcode within one typo, no equal phone or email):
namesakes."""


def splink_settings(comparisons: list[Any], blocking: list[Rule]) -> Any:
    """The Splink model Tandem trains: a dedupe over all person records (one table, every source),
    `unique_id` = the record's key. The benchmark builds Splink-direct runs from it."""
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*r) for r in blocking],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def model_for(fields: list[str], options: MatchingOptions) -> dict[str, Any]:
    """What `match_records` trains for records with these `fields` filled in: `comparisons`,
    and the `blocking`, `training` and `prior` rules that apply (fields all present)."""
    return {
        "comparisons": _comparisons(fields),
        "blocking": _rules(options.blocking_rules, fields),
        "training": _rules(options.training_rules, fields),
        "prior": _rules(options.prior_rules, fields),
    }


def _comparisons(used: list[str]) -> list[Any]:
    import splink.comparison_library as cl

    out: list[Any] = []
    if "first_name" in used and "last_name" in used:
        out.append(
            cl.ForenameSurnameComparison(
                "first_name", "last_name", forename_surname_concat_col_name="first_and_last"
            )
        )
    else:
        out += [
            cl.NameComparison(f).configure(term_frequency_adjustments=True)
            for f in ("first_name", "last_name")
            if f in used
        ]
    if "birth_date" in used:
        out.append(cl.DateOfBirthComparison("birth_date", input_is_string=True))
    if "street" in used:
        out.append(cl.JaroWinklerAtThresholds("street", [0.95, 0.88]))
    if "city" in used:
        out.append(
            cl.JaroWinklerAtThresholds("city", [0.95, 0.88]).configure(
                term_frequency_adjustments=True
            )
        )
    if "postcode" in used:
        out.append(cl.DamerauLevenshteinAtThresholds("postcode", [1]))
    if "phone" in used:
        out.append(cl.LevenshteinAtThresholds("phone", [1]))
    if "email" in used:
        out.append(cl.EmailComparison("email"))
    return out


def _rules(rules: list[Rule], used: list[str]) -> list[Rule]:
    """The rules whose fields are all present (a rule on an empty field blocks nothing)."""
    return [r for r in rules if all(f in used for f in r)]


def _parameters(linker: Any) -> dict[str, Any]:
    """Each comparison level's trained match weight (log2 Bayes factor), for the stats."""
    out: dict[str, Any] = {}
    for comparison in linker._settings_obj.comparisons:
        levels = {}
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            weight = level._log2_bayes_factor
            levels[level.label_for_charts] = (
                round(weight, 3) if weight is not None and math.isfinite(weight) else None
            )
        out[comparison.output_column_name] = levels
    return out


def _stepper(stats: dict[str, Any]) -> Any:
    """A function recording the seconds since its previous call under `stats["steps"][name]`."""
    last = [time.perf_counter()]
    steps = stats.setdefault("steps", {})

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = round(now - last[0], 3)
        last[0] = now

    return step


def _empty(stats: dict[str, Any], reason: str, started: float) -> MatchResult:
    stats["reason"] = reason
    stats["pairs"] = 0
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return MatchResult(edges=EDGE_SCHEMA.empty_table(), stats=stats)


def _materialise(con: ibis.BaseBackend, name: str, expr: ir.Table) -> None:
    """`expr` as temporary table `name` of `con`, computed inside DuckDB."""
    with quiet_ibis():
        con.create_table(name, expr, temp=True, overwrite=True)


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink logs progress and advice at INFO/WARNING; keep it out of Tandem's output."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
