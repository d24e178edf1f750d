"""Segments: declarative definitions over profiles and behaviour, evaluated into memberships.

A segment definition (YAML or JSON; the same schema through the API) names the segment, its owning
functions and one condition, `where`:

- a trait condition `{trait: orders, op: ">=", value: 1}` on a profile column (`orders`, `revenue`,
  `recency_days`, `email`, ...) or a golden trait kept in the profile's `traits` JSON (`plan`,
  `city`, ...); ops `=`, `!=`, `<`, `<=`, `>`, `>=`, `in` (a list), `contains` (text, or an item
  of a list), `exists` (no value);
- a behaviour condition `{event: Order Completed, at_least: 2, in_last_days: 180, where: [...]}`:
  the customer performed the track event at least N times in the last D days before the
  evaluation's reference time (`as_of`, default now), counting only events whose properties pass
  every filter `{property: revenue, op: ">", value: 50}` (typed by the value given);
- `all: [...]`, `any: [...]`, `not: {...}` combining conditions.

Validation checks the structure (pydantic), then every trait and event name against what the
workspace knows (the profile columns, the keys found in the profiles' traits, the track events'
names), with a suggestion for a near miss, and the types (a numeric comparison on a text trait is
refused). Every problem names its path: `where.all[2].event`.

Evaluation compiles the condition to Ibis expressions (user values become literals through Ibis,
never SQL text): behaviour conditions are counted in ONE pass over `customer_events` (one count
per condition per customer), left-joined to the profiles, and the whole condition tree becomes one
boolean filter on that row. Each evaluation appends its members to the lake table
`segment_memberships` (one Delta commit) and records its number, time, reference time and size in
the metadata (`segment_evaluations`), so a segment's history can be shown and any past membership
read back.
"""

from __future__ import annotations

import builtins
import difflib
import json
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake
from deltalake.exceptions import DeltaError
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    model_validator,
)
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tandem.accounts.policy import Action, can, owned_resource, require
from tandem.customers.behaviour import customer_events
from tandem.customers.jsontext import json_contains, json_extract_string
from tandem.customers.profiles import FIELDS, NotResolved, resolved
from tandem.db.models import Function, Segment, SegmentEvaluationRow, SegmentOwner, utcnow
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound, Problem, TandemError
from tandem.lake.locks import exclusive
from tandem.lake.schema import EVENTS, PROFILES, PROFILES_SCHEMA, SCHEMAS, SEGMENT_MEMBERSHIPS
from tandem.lake.store import LakeFailure, sql_text
from tandem.times import as_utc, parse_time
from tandem.yamlfile import YamlDocument, field_path

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.accounts.service import User
    from tandem.workspace import Workspace

NAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A segment name: a slug. It is used as the partition value of `segment_memberships` (in a
Delta predicate), so nothing else is accepted."""
OPS: Final = ("=", "!=", "<", "<=", ">", ">=", "in", "contains", "exists")
ORDER_OPS: Final = ("<", "<=", ">", ">=")
MAX_CONDITIONS: Final = 200
"""The most conditions (leaves) a definition may hold."""
MAX_LIST: Final = 1000
"""The most values an `in` list may hold."""
MAX_TEXT: Final = 500

Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "contains", "exists"]


def _scalar(value: Any) -> bool | int | float | str:
    """One value of a condition: text, a number or true/false (one message when not)."""
    if isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValueError(f"a text value has at most {MAX_TEXT} characters")
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError("a whole number must lie within ±9,223,372,036,854,775,807")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number must be finite")
        return value
    raise ValueError(f"a value is text, a number or true/false (got {type(value).__name__})")


Scalar = Annotated[bool | int | float | str, PlainValidator(_scalar)]


def _value(value: Any) -> Any:
    """A condition's value: one scalar, or a list of 1 to MAX_LIST of them (for `in`)."""
    if value is None:
        return None
    if isinstance(value, list):
        if not 1 <= len(value) <= MAX_LIST:
            raise ValueError(f"a list of values holds 1 to {MAX_LIST} values")
        return [_scalar(v) for v in value]
    return _scalar(value)


Value = Annotated[Scalar | list[Scalar] | None, PlainValidator(_value)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]

# -- the definition ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _iso_times(data: Any) -> Any:
    """YAML reads an unquoted 2026-01-31 as a date: a condition's value takes it as ISO text."""
    if isinstance(data, dict) and "value" in data:
        value = data["value"]
        if isinstance(value, date):
            data = {**data, "value": value.isoformat()}
        elif isinstance(value, list):
            data = {**data, "value": [v.isoformat() if isinstance(v, date) else v for v in value]}
    return data


def _check_op_value(op: str, value: Any) -> None:
    if op == "exists":
        if value is not None:
            raise ValueError("`exists` takes no value")
    elif op == "in":
        if not isinstance(value, list):
            raise ValueError("`in` takes a list of values (value: [a, b])")
    elif value is None:
        raise ValueError(f"`{op}` needs a value")
    elif isinstance(value, list):
        raise ValueError(f"`{op}` takes one value; for several use `in`")


class TraitCondition(_Strict):
    """A condition on a profile trait."""

    trait: Name
    op: Op
    value: Value = None

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: Any) -> Any:
        return _iso_times(data)

    @model_validator(mode="after")
    def _value_fits_op(self) -> TraitCondition:
        _check_op_value(self.op, self.value)
        return self


class PropertyFilter(_Strict):
    """A condition on a property of an event (its `properties` JSON)."""

    property: Name
    op: Op
    value: Value = None

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: Any) -> Any:
        return _iso_times(data)

    @model_validator(mode="after")
    def _value_fits_op(self) -> PropertyFilter:
        _check_op_value(self.op, self.value)
        return self


class EventCondition(_Strict):
    """Performed track event `event` at least `at_least` times in the last `in_last_days` days
    (all time when left out), counting the events that pass every property filter."""

    event: Name
    at_least: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)] = 1
    in_last_days: Annotated[StrictInt, Field(ge=1, le=36_500)] | None = None
    where: Annotated[list[PropertyFilter], Field(max_length=50)] = Field(default_factory=list)


class AllCondition(_Strict):
    all: Annotated[list[Condition], Field(min_length=1, max_length=MAX_CONDITIONS)]


class AnyCondition(_Strict):
    any: Annotated[list[Condition], Field(min_length=1, max_length=MAX_CONDITIONS)]


class NotCondition(_Strict):
    not_: Condition = Field(alias="not")


_KINDS: Final = ("trait", "event", "all", "any", "not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in _KINDS:
            if key in value:
                return f"[{key}]"
        return None
    for key, cls in (
        ("trait", TraitCondition),
        ("event", EventCondition),
        ("all", AllCondition),
        ("any", AnyCondition),
        ("not", NotCondition),
    ):
        if isinstance(value, cls):
            return f"[{key}]"
    return None


# Tags hold "[": yamlfile and _problems drop them from error paths (where.all[2], not
# where.all[2].[event]).
Condition = Annotated[
    Annotated[TraitCondition, Tag("[trait]")]
    | Annotated[EventCondition, Tag("[event]")]
    | Annotated[AllCondition, Tag("[all]")]
    | Annotated[AnyCondition, Tag("[any]")]
    | Annotated[NotCondition, Tag("[not]")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of: trait, event, all, any, not",
    ),
]
AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()


class SegmentDefinition(_Strict):
    """A whole segment definition, as a file or a request body holds it."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    description: Annotated[StrictStr, Field(max_length=2000)] = ""
    owners: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=20),
    ]
    where: Condition

    @model_validator(mode="after")
    def _slug(self) -> SegmentDefinition:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                "`name` must be a slug: lower-case letters, digits, `-` and `_`, starting with a "
                f"letter or digit, at most 64 characters (got {self.name!r})"
            )
        return self

    def document(self) -> dict[str, Any]:
        """The definition as stored and shown (aliases, no defaults left out)."""
        out: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return out


# -- what the workspace knows -----------------------------------------------------------------

TraitKind = Literal["text", "number", "boolean", "time", "list", "array", "mixed"]
_COLUMN_KINDS: Final[dict[str, TraitKind]] = {}
for _f in PROFILES_SCHEMA:
    if _f.name in {"traits", "trait_sources", "identifiers", "events_by_type", "events_by_channel"}:
        continue
    _t = _f.type
    _COLUMN_KINDS[_f.name] = (
        "text"
        if pa.types.is_string(_t)
        else "number"
        if pa.types.is_integer(_t) or pa.types.is_floating(_t)
        else "boolean"
        if pa.types.is_boolean(_t)
        else "time"
        if pa.types.is_timestamp(_t)
        else "list"
    )
COLUMN_KINDS: Final = _COLUMN_KINDS
"""The profile columns a condition may name, with the kind of value each holds."""

_PERSONAL_WORDS: Final = frozenset(
    {w for words in FIELDS.values() for w in words}
    | {"address", "street", "postcode", "postalcode", "zip", "zipcode", "birthday", "birthdate"}
    | {"dateofbirth", "dob", "ip", "ipaddress", "handle", "username", "twitter", "instagram"}
)
PERSONAL_COLUMNS: Final = frozenset({"email", "phone", "first_name", "last_name"})


def is_personal(trait: str) -> bool:
    """Whether a trait is personal data (a name, contact detail, address or birth date): a
    condition on it, or exporting it, needs `read_personal` on the segment."""
    return trait in PERSONAL_COLUMNS or re.sub(r"[_\-\s]", "", trait.lower()) in _PERSONAL_WORDS


@dataclass(frozen=True)
class Known:
    """The traits (name -> kind) and track event names a definition may use."""

    traits: dict[str, TraitKind]
    events: frozenset[str]
    json_traits: frozenset[str] = frozenset()


_JSON_KINDS: Final[dict[str, TraitKind]] = {
    "VARCHAR": "text",
    "BIGINT": "number",
    "UBIGINT": "number",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
}


def known(ws: Workspace, *, events: bool = True) -> Known:
    """What `ws` knows: profile columns and the keys of the profiles' `traits` JSON (with the
    kinds of their values), and (unless `events` is False) the names of track events."""
    lake = ws.lake
    lake.raw(PROFILES)  # registers lake_profiles on this thread's connection
    db = lake.con.con
    # A fixed query (no user text): each key of every profile's traits with its JSON type.
    rows = db.execute(
        "SELECT j.key, json_type(j.value) AS t FROM lake_profiles AS p, json_each(p.traits) AS j "
        "WHERE p.traits IS NOT NULL GROUP BY ALL"
    ).fetchall()
    kinds: dict[str, set[str]] = {}
    for key, kind in rows:
        if kind != "NULL":
            kinds.setdefault(str(key), set()).add(str(kind))
    traits: dict[str, TraitKind] = dict(COLUMN_KINDS)
    json_traits = set()
    for key, found in kinds.items():
        if key in traits:
            continue
        mapped = {_JSON_KINDS.get(k, "mixed") for k in found}
        traits[key] = mapped.pop() if len(mapped) == 1 else "mixed"
        json_traits.add(key)
    names: frozenset[str] = frozenset()
    if events:
        table = lake.raw(EVENTS)
        tracks = table.filter(table.type == "track").select("event").distinct()
        names = frozenset(str(n) for n in tracks.to_pyarrow().column(0).to_pylist() if n)
    return Known(traits, names, frozenset(json_traits))


def _suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"; did you mean `{close[0]}`?" if close else ""


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text"


def _check_values(
    op: str, value: Any, kind: TraitKind, what: str, path: str, problems: list[Problem]
) -> None:
    """Type checks of one trait condition against the trait's kind."""
    values = value if isinstance(value, list) else ([] if value is None else [value])
    vkinds = {_value_kind(v) for v in values}
    if op == "in" and len(vkinds) > 1:
        problems.append(Problem("the values of `in` must all be of one kind", field=path))
        return
    vkind = vkinds.pop() if vkinds else None
    if op == "exists":
        return
    if kind == "list":
        if op != "contains" or vkind != "text":
            problems.append(
                Problem(
                    f"{what} is a list: use `contains` with a text value, or `exists`", field=path
                )
            )
        return
    if op == "contains":
        if kind not in ("text", "array", "mixed") or vkind == "boolean":
            problems.append(
                Problem(
                    f"`contains` needs a text or list {what}; it holds {kind} values", field=path
                )
            )
        return
    if kind == "array":
        problems.append(Problem(f"{what} holds lists: use `contains` or `exists`", field=path))
        return
    if kind == "mixed":
        if op in ORDER_OPS and vkind == "boolean":
            problems.append(Problem(f"`{op}` cannot compare true/false values", field=path))
        return
    if kind == "time":
        for v in values:
            if not isinstance(v, str) or parse_time(v) is None:
                problems.append(
                    Problem(
                        f"{what} holds times: compare it with an ISO date or time such as "
                        f"2026-01-31 (got {v!r})",
                        field=path,
                    )
                )
                return
        return
    if op in ORDER_OPS and kind in ("text", "boolean"):
        problems.append(
            Problem(f"`{op}` is a numeric comparison but {what} holds {kind} values", field=path)
        )
        return
    if vkind != kind:
        problems.append(
            Problem(f"{what} holds {kind} values; the value given is {vkind}", field=path)
        )


def _parts(path: str) -> list[str | int]:
    """ "where.all[2].event" -> ["where", "all", 2, "event"] (for YamlDocument.line_of)."""
    return [
        int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)
    ]


def check_definition(
    definition: SegmentDefinition,
    know: Known,
    *,
    source: str | None = None,
    doc: YamlDocument | None = None,
) -> None:
    """Raise InvalidInput listing every unknown trait or event and every type mismatch."""
    problems: list[Problem] = []
    leaves = 0

    def walk(cond: Any, path: list[str | int]) -> None:
        nonlocal leaves
        if isinstance(cond, AllCondition | AnyCondition):
            key = "all" if isinstance(cond, AllCondition) else "any"
            items = cond.all if isinstance(cond, AllCondition) else cond.any
            for i, item in enumerate(items):
                walk(item, [*path, key, i])
        elif isinstance(cond, NotCondition):
            walk(cond.not_, [*path, "not"])
        elif isinstance(cond, TraitCondition):
            leaves += 1
            where = field_path([*path, "trait"])
            kind = know.traits.get(cond.trait)
            if kind is None:
                problems.append(
                    Problem(
                        f"no trait `{cond.trait}` is known"
                        + _suggest(cond.trait, sorted(know.traits)),
                        field=where,
                    )
                )
                return
            _check_values(
                cond.op,
                cond.value,
                kind,
                f"trait `{cond.trait}`",
                field_path([*path, "value"]),
                problems,
            )
        elif isinstance(cond, EventCondition):
            leaves += 1
            if cond.event not in know.events:
                problems.append(
                    Problem(
                        f"no event `{cond.event}` is known"
                        + _suggest(cond.event, sorted(know.events)),
                        field=field_path([*path, "event"]),
                    )
                )
            for i, prop in enumerate(cond.where):
                values = prop.value if isinstance(prop.value, list) else [prop.value]
                kinds = {_value_kind(v) for v in values if v is not None}
                at = field_path([*path, "where", i, "value"])
                if len(kinds) > 1:
                    problems.append(Problem("the values of `in` must all be of one kind", at))
                elif prop.op in ORDER_OPS and kinds and kinds != {"number"}:
                    problems.append(
                        Problem(f"`{prop.op}` is a numeric comparison: give a number", field=at)
                    )
                elif prop.op == "contains" and kinds != {"text"}:
                    problems.append(Problem("`contains` takes a text value", field=at))

    walk(definition.where, ["where"])
    if leaves > MAX_CONDITIONS:
        problems.append(
            Problem(f"a segment holds at most {MAX_CONDITIONS} conditions (got {leaves})", "where")
        )
    if doc is not None:
        problems = [
            Problem(p.message, p.field, doc.line_of(_parts(p.field)) if p.field else None)
            for p in problems
        ]
    if problems:
        raise InvalidInput(
            f"the segment definition{f' in {source}' if source else ''} has {len(problems)} "
            f"problem{'s' if len(problems) != 1 else ''}; nothing was changed",
            problems,
            source=source,
        )


def parse_definition(data: Any, *, source: str | None = None) -> SegmentDefinition:
    """Validate the structure of a definition given as data (a request body, parsed JSON)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            "a segment definition is a mapping (name, owners, where)",
            [Problem("expected a mapping")],
            source=source,
        )
    try:
        return SegmentDefinition.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
        raise InvalidInput(
            f"not a valid segment definition ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was changed",
            problems,
            source=source,
        ) from None


def _problem(err: Any) -> Problem:
    loc = [p for p in err["loc"] if isinstance(p, str | int)]
    loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in _PYDANTIC_TAGS))]
    kind = err["type"]
    if kind == "extra_forbidden":
        return Problem(f"unknown field `{loc[-1]}`" if loc else "unknown field", field_path(loc))
    if kind == "missing":
        return Problem(f"missing required field `{loc[-1]}`", field_path(loc[:-1]) or None)
    message = str(err["msg"]).removeprefix("Value error, ")
    return Problem(message, field=field_path(loc) or None)


_PYDANTIC_TAGS: Final = {"str", "int", "bool", "list", "dict", "float", "none", "constrained-str"}


@dataclass(frozen=True)
class DefinitionFile:
    """A definition read from a file, with the document that knows its lines."""

    definition: SegmentDefinition
    doc: YamlDocument


def read_definition(path: Any) -> DefinitionFile:
    """A definition from a YAML or JSON file (JSON is YAML), errors naming line and field."""
    doc = YamlDocument.read(Path(path), what="segment file")
    return DefinitionFile(doc.validate(SegmentDefinition, what="segment definition"), doc)


def personal_traits(definition: SegmentDefinition) -> list[str]:
    """The personal traits a definition's conditions name."""
    found: list[str] = []

    def walk(cond: Any) -> None:
        if isinstance(cond, AllCondition):
            for c in cond.all:
                walk(c)
        elif isinstance(cond, AnyCondition):
            for c in cond.any:
                walk(c)
        elif isinstance(cond, NotCondition):
            walk(cond.not_)
        elif isinstance(cond, TraitCondition) and is_personal(cond.trait):
            found.append(cond.trait)

    walk(definition.where)
    return found


# -- compiling ----------------------------------------------------------------------------------


def _json_text(doc: ir.StringValue, key: str) -> ir.StringValue:
    """The value at `key` of JSON object text `doc`, as text (numbers and booleans as written,
    lists as JSON), through DuckDB's json_extract_string with a JSON pointer (`~` and `/`
    escaped): the key is a literal, never part of the query text."""
    return json_extract_string(doc, "/" + key.replace("~", "~0").replace("/", "~1"))


def _compare(expr: Any, op: str, value: Any) -> Any:
    """`expr op value` for the scalar ops (value already of expr's type)."""
    if op == "=":
        return expr == value
    if op == "!=":
        return expr.notnull() & (expr != value)
    if op == "<":
        return expr < value
    if op == "<=":
        return expr <= value
    if op == ">":
        return expr > value
    if op == ">=":
        return expr >= value
    if op == "in":
        return expr.isin(value)
    raise AssertionError(op)


def _typed(text: Any, value: Any) -> tuple[Any, Any]:
    """JSON value text compared by the kind of the value given: numbers numerically (text that
    is not a number never matches), booleans as true/false, text as text."""
    sample = value[0] if isinstance(value, list) else value
    if isinstance(sample, bool):
        if isinstance(value, list):
            return text, ["true" if v else "false" for v in value]
        return text, "true" if value else "false"
    if isinstance(sample, int | float):
        floats = [float(v) for v in value] if isinstance(value, list) else float(value)
        return text.try_cast("float64"), floats
    return text, value


def _json_condition(text: Any, op: str, value: Any, kind: TraitKind | None) -> Any:
    if op == "exists":
        return text.notnull()
    if op == "contains":
        item = json_contains(text, json.dumps(value))
        if kind == "array":
            return text.notnull() & item
        if kind == "text":
            return text.contains(value)
        # a property, or a trait of mixed kinds: a list holds the item, a text contains it
        return text.startswith("[").ifelse(item, text.contains(value))
    expr, typed = _typed(text, value)
    return _compare(expr, op, typed)


def _trait_condition(p: ir.Table, cond: TraitCondition, know: Known) -> Any:
    kind = know.traits.get(cond.trait)
    if cond.trait in COLUMN_KINDS:
        col = p[cond.trait]
        if cond.op == "exists":
            return col.notnull()
        if kind == "list":
            return col.notnull() & col.contains(cond.value)
        if cond.op == "contains":
            return col.contains(cond.value)
        value: Any = cond.value
        if kind == "time":
            value = (
                [parse_time(str(v)) for v in value]
                if isinstance(value, list)
                else parse_time(str(value))
            )
        return _compare(col, cond.op, value)
    return _json_condition(_json_text(p.traits, cond.trait), cond.op, cond.value, kind)


def _property_condition(e: ir.Table, prop: PropertyFilter) -> Any:
    return _json_condition(_json_text(e.properties, prop.property), prop.op, prop.value, None)


def _leaves(cond: Any) -> list[Any]:
    if isinstance(cond, AllCondition):
        return [leaf for c in cond.all for leaf in _leaves(c)]
    if isinstance(cond, AnyCondition):
        return [leaf for c in cond.any for leaf in _leaves(c)]
    if isinstance(cond, NotCondition):
        return _leaves(cond.not_)
    return [cond]


def compile_members(
    ws: Workspace, definition: SegmentDefinition, *, as_of: datetime, know: Known | None = None
) -> ir.Table:
    """The customers (column `customer_id`) that meet `definition` at `as_of`, as an Ibis
    expression over the lake's profiles and customer events."""
    know = know or Known(dict(COLUMN_KINDS), frozenset())
    lake = ws.lake
    profiles = lake.raw(PROFILES)
    behaviours = [c for c in _leaves(definition.where) if isinstance(c, EventCondition)]
    counts: dict[int, str] = {}
    row = profiles
    if behaviours:
        events = customer_events(lake)
        since = [
            as_of - timedelta(days=b.in_last_days) if b.in_last_days is not None else None
            for b in behaviours
        ]
        matches = []
        for b, start in zip(behaviours, since, strict=True):
            test = events.event == b.event
            if start is not None:
                test &= events.timestamp >= start
            for prop in b.where:
                test &= _property_condition(events, prop)
            matches.append(test)
        scope = (events.type == "track") & events.event.isin(sorted({b.event for b in behaviours}))
        scope &= events.timestamp <= as_of
        if all(s is not None for s in since):
            scope &= events.timestamp >= min(s for s in since if s is not None)
        scoped = events.filter(scope)
        aggregates = {}
        for i, test in enumerate(matches):
            name = f"_n{i}"
            counts[id(behaviours[i])] = name
            aggregates[name] = test.ifelse(1, 0).sum()
        per_customer = scoped.group_by(_cid=scoped.customer_id).aggregate(**aggregates)
        row = profiles.left_join(per_customer, profiles.customer_id == per_customer._cid)

    def build(cond: Any) -> Any:
        if isinstance(cond, AllCondition):
            out = build(cond.all[0])
            for c in cond.all[1:]:
                out = out & build(c)
            return out
        if isinstance(cond, AnyCondition):
            out = build(cond.any[0])
            for c in cond.any[1:]:
                out = out | build(c)
            return out
        if isinstance(cond, NotCondition):
            return ~build(cond.not_)
        if isinstance(cond, EventCondition):
            return row[counts[id(cond)]].fill_null(0) >= cond.at_least
        # A missing trait is "no" (so `not` of it is "yes").
        return _trait_condition(row, cond, know).fill_null(False)

    return row.filter(build(definition.where))[["customer_id"]]


# -- service --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentEvaluation:
    segment: str
    evaluation: int
    evaluated_at: datetime
    size: int
    as_of: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "evaluation": self.evaluation,
            "evaluated_at": self.evaluated_at.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "size": self.size,
        }


@dataclass(frozen=True)
class SegmentInfo:
    name: str
    description: str
    owners: tuple[str, ...]
    definition: dict[str, Any]
    created_at: datetime
    created_by: str | None
    latest: SegmentEvaluation | None = None
    history: tuple[SegmentEvaluation, ...] = field(default=())
    sizes_hidden: str | None = None
    """Why this reader is not shown the segment's sizes (`for_reader`); None: shown."""

    @property
    def size(self) -> int | None:
        return self.latest.size if self.latest else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "owners": list(self.owners),
            "definition": self.definition,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "size": self.size,
            "latest": self.latest.to_dict() if self.latest else None,
            "history": [e.to_dict() for e in self.history],
            "sizes_hidden": self.sizes_hidden,
        }


def _evaluation(name: str, row: SegmentEvaluationRow) -> SegmentEvaluation:
    return SegmentEvaluation(
        segment=name,
        evaluation=row.evaluation,
        evaluated_at=as_utc(row.evaluated_at),
        size=row.size,
        as_of=as_utc(row.as_of),
    )


def _info(row: Segment, *, history: bool = False) -> SegmentInfo:
    evaluations = [_evaluation(row.name, e) for e in row.evaluations]
    return SegmentInfo(
        name=row.name,
        description=row.description,
        owners=tuple(o.function.key for o in row.owners),
        definition=dict(row.definition),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        latest=evaluations[-1] if evaluations else None,
        history=tuple(evaluations) if history else (),
    )


def _query() -> Select[Segment]:
    return select(Segment).options(
        selectinload(Segment.owners).selectinload(SegmentOwner.function),
        selectinload(Segment.evaluations),
    )


def _as_of(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    return as_utc(as_of)


def for_reader(info: SegmentInfo, user: User | None) -> SegmentInfo | None:
    """`info` as `user` (None: the local operator) may see it: None when they may not read the
    segment, else `with_visible_sizes`."""
    if user is not None and not can(
        user, "read", owned_resource("segment", info.name, info.owners)
    ):
        return None
    return with_visible_sizes(info, user)


def with_visible_sizes(info: SegmentInfo, user: User | None) -> SegmentInfo:
    """`info` without its sizes (`sizes_hidden` says why) when its conditions name personal
    traits and `user` may not read its personal data. A size over such a condition answers a
    question about a person ("email = x": 1 means x is a customer), which is why previewing or
    creating one needs `read_personal` too."""
    if user is None or can(
        user, "read_personal", owned_resource("segment", info.name, info.owners)
    ):
        return info
    try:
        personal = personal_traits(parse_definition(info.definition))
    except TandemError:  # a stored definition an older version accepted: withhold to be safe
        personal = ["(unreadable definition)"]
    if personal:
        return replace(
            info,
            latest=None,
            history=(),
            sizes_hidden=f"its conditions name personal traits ({', '.join(personal)}): its "
            "sizes are shown to those who may read its personal data",
        )
    return info


def require_access(user: User | None, action: Action, name: str, owners: Sequence[str]) -> None:
    """Forbidden unless `user` (None: the local operator) may do `action` on the segment."""
    if user is None:
        return
    require(user, action, owned_resource("segment", name, owners))


Definition = Mapping[str, Any] | SegmentDefinition | DefinitionFile
"""What create/preview take: data (a request body), a parsed definition, or a file read."""
_WRITE_LOCK: Final = threading.Lock()
"""One writer at a time through the lake's shared `segment_memberships` handle (the server's
threads); other processes are ordered by Delta's optimistic concurrency."""


class Segments:
    """Segments of one workspace (`workspace.segments`)."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    # -- definitions ---------------------------------------------------------------------------
    def validate(
        self,
        definition: Definition,
        *,
        source: str | None = None,
        user: User | None = None,
        edit: bool = False,
    ) -> tuple[SegmentDefinition, Known]:
        """Parse (when data) and check a definition against what the workspace knows; with a
        `user`, their access is checked between the two (`edit` also needs the right to edit
        the segment)."""
        doc = None
        if isinstance(definition, DefinitionFile):
            parsed, doc, source = definition.definition, definition.doc, definition.doc.source
        elif isinstance(definition, SegmentDefinition):
            parsed = definition
        else:
            parsed = parse_definition(definition, source=source)
        self._check_user(user, parsed, edit=edit)
        if not resolved(self.ws.lake):
            raise NotResolved(
                "there are no customers yet: segments choose among resolved profiles",
                detail="run `tandem resolve` to build them",
            )
        know = known(self.ws)
        check_definition(parsed, know, source=source, doc=doc)
        return parsed, know

    def preview(
        self,
        definition: Definition,
        *,
        as_of: datetime | None = None,
        user: User | None = None,
    ) -> int:
        """The size the segment would have at `as_of` (default now); nothing is saved."""
        parsed, know = self.validate(definition, user=user)
        members = compile_members(self.ws, parsed, as_of=_as_of(as_of), know=know)
        return int(members.count().to_pyarrow().as_py())

    def create(
        self,
        definition: Definition,
        *,
        user: User | None = None,
        evaluate: bool = True,
        as_of: datetime | None = None,
    ) -> SegmentInfo:
        """Validate and save a segment (one metadata transaction), then evaluate it (unless
        `evaluate` is False)."""
        parsed, _ = self.validate(definition, user=user, edit=True)
        with self.ws.session() as s:
            if s.scalar(select(Segment.id).where(Segment.name == parsed.name)) is not None:
                raise Conflict(
                    f"a segment named `{parsed.name}` already exists",
                    field="name",
                    detail=f"pick another name, or delete it first: tandem segment delete "
                    f"{parsed.name}",
                )
            functions = _owner_functions(s, parsed.owners)
            row = Segment(
                name=parsed.name,
                description=parsed.description,
                definition=parsed.document(),
                created_at=utcnow(),
                created_by=user.email if user is not None else None,
            )
            row.owners = [SegmentOwner(function=fn, position=i) for i, fn in enumerate(functions)]
            s.add(row)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(
                    f"a segment named `{parsed.name}` already exists", field="name"
                ) from None
        if evaluate:
            self.evaluate(parsed.name, as_of=as_of)
        return self.get(parsed.name)

    def get(self, name: str, *, history: bool = True, user: User | None = None) -> SegmentInfo:
        """One segment with its evaluations, as `user` may see it (`for_reader`: Forbidden when
        they may not read it); NotFound names the known ones."""
        with self.ws.session() as s:
            info = _info(self._segment(s, name), history=history)
        require_access(user, "read", info.name, info.owners)
        return with_visible_sizes(info, user)

    def list(
        self, *, history: bool = False, user: User | None = None
    ) -> builtins.list[SegmentInfo]:
        """Every segment `user` may read (None: all), by name, with its latest evaluation (and,
        with `history`, every evaluation; sizes withheld as `for_reader` says), loaded in a fixed
        number of queries however many segments there are."""
        with self.ws.session() as s:
            infos = [_info(r, history=history) for r in s.scalars(_query().order_by(Segment.name))]
        return [shown for i in infos if (shown := for_reader(i, user)) is not None]

    def delete(self, name: str, *, user: User | None = None) -> int:
        """Delete a segment, its evaluations and its memberships; returns the number of
        membership rows deleted.

        Both stores or neither. The metadata row (its evaluations go with it, by cascade) is
        deleted in a transaction that is flushed first, so a refusal of the database comes
        before any member is touched, and committed only after the lake's delete (one Delta
        commit, all members or none) succeeded. A failing lake delete rolls the transaction
        back: the segment, its history and its members all remain, and deleting again retries.
        The reverse order (metadata first) would, on a lake failure, leave the members of a
        segment that no longer exists: customer data that no command shows or deletes, which a
        new segment of the same name would inherit as its evaluation 1. The one window left is
        a commit failing after the lake delete: the segment then remains with its history but
        without members, and deleting it again completes. All under the lake's lock, so no
        evaluation appends members meanwhile."""
        info = self.get(name, history=False)
        require_access(user, "edit", info.name, info.owners)
        with (
            exclusive(self.ws.lake.path, f"deleting segment {info.name}"),
            self.ws.session() as s,
        ):
            s.delete(self._segment(s, info.name))
            s.flush()
            deleted = self._delete_members(info.name)
        return deleted

    def _delete_members(self, name: str) -> int:
        """Delete every membership row of segment `name` (one Delta commit); the rows deleted."""
        try:
            with _WRITE_LOCK:
                table = self.ws.lake.table(SEGMENT_MEMBERSHIPS)
                metrics = table.delete(predicate=f"segment = {sql_text(name)}")
        except DeltaError as exc:
            raise LakeFailure(f"could not delete the members of segment {name}: {exc}") from None
        return int(metrics.get("num_deleted_rows", 0) or 0)

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(
        self, name: str, *, as_of: datetime | None = None, user: User | None = None
    ) -> SegmentEvaluation:
        """Evaluate a saved segment at `as_of` (default now): its members are appended to
        `segment_memberships` in one Delta commit, then the evaluation is recorded."""
        info = self.get(name, history=False)
        require_access(user, "edit", info.name, info.owners)
        parsed = parse_definition(info.definition)
        moment = _as_of(as_of)
        # Trait kinds matter to the compiled query only for `contains` on a golden trait (a
        # list or text); reading them scans every profile's traits, so only then.
        needs = any(
            isinstance(c, TraitCondition) and c.op == "contains" and c.trait not in COLUMN_KINDS
            for c in _leaves(parsed.where)
        )
        know = known(self.ws, events=False) if needs else None
        # Under the lake's lock: an erasure (tandem forget) between reading the profiles and
        # appending the members would otherwise find nothing to erase yet, and the forgotten
        # person would be stored as a member after it.
        # The evaluation number is read and the evaluation recorded under the lock too: two
        # evaluations at once would otherwise both take the next number and one would leave
        # members no evaluation points to.
        with exclusive(self.ws.lake.path, f"evaluating segment {info.name}"):
            members = compile_members(self.ws, parsed, as_of=moment, know=know)
            ids = members.to_pyarrow().column("customer_id")
            evaluated_at = utcnow()
            with self.ws.session() as s:
                row = self._segment(s, name)  # loaded with its evaluations
                number = max((e.evaluation for e in row.evaluations), default=0) + 1
                self._append(info.name, number, evaluated_at, ids)
                s.add(
                    SegmentEvaluationRow(
                        segment_id=row.id,
                        evaluation=number,
                        evaluated_at=evaluated_at,
                        as_of=moment,
                        size=len(ids),
                    )
                )
                try:
                    s.flush()
                except IntegrityError:
                    raise Conflict(
                        f"segment {name} was evaluated by someone else at the same moment",
                        field="name",
                        detail="evaluate it again",
                    ) from None
        return SegmentEvaluation(info.name, number, evaluated_at, len(ids), moment)

    def _append(self, name: str, number: int, at: datetime, ids: pa.ChunkedArray) -> None:
        schema = SCHEMAS[SEGMENT_MEMBERSHIPS]
        n = len(ids)
        if not n:
            return  # an empty evaluation is recorded in the metadata only
        data = pa.table(
            {  # constant columns built by Arrow, not from Python lists of n items
                "segment": pa.repeat(pa.scalar(name, pa.string()), n),
                "evaluation": pa.repeat(pa.scalar(number, pa.int64()), n),
                "evaluated_at": pa.repeat(pa.scalar(at, schema.field("evaluated_at").type), n),
                "customer_id": ids.cast(pa.string()),
            },
            schema=schema,
        )
        try:
            with _WRITE_LOCK:
                write_deltalake(self.ws.lake.table(SEGMENT_MEMBERSHIPS), data, mode="append")
        except (DeltaError, OSError) as exc:
            raise LakeFailure(f"could not write the members of segment {name}: {exc}") from None

    def members(self, name: str, evaluation: int | None = None) -> ir.Table:
        """The members (column `customer_id`) at an evaluation (the latest when None)."""
        info = self.get(name, history=True)
        if not info.history:
            raise NotFound(
                f"segment {name} has not been evaluated yet",
                field="evaluation",
                detail=f"evaluate it: tandem segment evaluate {name}",
            )
        chosen = info.latest if evaluation is None else None
        if evaluation is not None:
            chosen = next((e for e in info.history if e.evaluation == evaluation), None)
            if chosen is None:
                raise NotFound(
                    f"segment {name} has no evaluation {evaluation} "
                    f"(1 to {info.history[-1].evaluation})",
                    field="evaluation",
                )
        assert chosen is not None
        table = self.ws.lake.raw(SEGMENT_MEMBERSHIPS)
        return table.filter(
            (table.segment == info.name)
            & (table.evaluation == chosen.evaluation)
            & (table.evaluated_at == chosen.evaluated_at)
        )[["customer_id"]]

    def size(self, name: str) -> int:
        """The size at the latest evaluation (NotFound when never evaluated)."""
        info = self.get(name, history=False)
        if info.latest is None:
            raise NotFound(
                f"segment {name} has not been evaluated yet",
                field="segment",
                detail=f"evaluate it: tandem segment evaluate {name}",
            )
        return info.latest.size

    def export_table(
        self, name: str, traits: Sequence[str] = (), *, user: User | None = None
    ) -> ir.Table:
        """The latest members with the chosen traits (profile columns or golden traits)."""
        info = self.get(name, history=False)
        require_access(user, "read_data", info.name, info.owners)
        personal = [t for t in traits if is_personal(t)]
        if personal:
            require_access(user, "read_personal", info.name, info.owners)
        know = known(self.ws)
        unknown = [t for t in traits if t not in know.traits]
        if unknown:
            raise InvalidValue(
                f"no trait `{unknown[0]}` is known" + _suggest(unknown[0], sorted(know.traits)),
                field="traits",
            )
        members = self.members(name)
        profiles = self.ws.lake.raw(PROFILES)
        joined = members.left_join(profiles, members.customer_id == profiles.customer_id)
        columns: dict[str, Any] = {"customer_id": members.customer_id}
        for t in traits:
            if t == "customer_id":
                continue
            if t in COLUMN_KINDS:
                col = joined[t]
                columns[t] = col if know.traits[t] != "list" else col.cast("json").cast("string")
            else:
                columns[t] = _json_text(joined.traits, t)
        return joined.select(**columns).order_by("customer_id")

    def export(
        self, name: str, out: Path, traits: Sequence[str] = (), *, user: User | None = None
    ) -> int:
        """Write the latest members with the chosen traits to a CSV file, atomically (a
        temporary file renamed into place); returns the number of rows."""
        import pyarrow.csv as pacsv  # type: ignore[import-untyped]

        if out.suffix.lower() != ".csv":
            raise InvalidValue(
                f"cannot export a segment to {out.name}: use a .csv file", field="out"
            )
        folder = out.parent if str(out.parent) else Path(".")
        if not folder.is_dir():
            raise InvalidValue(f"cannot write {out}: folder {folder} does not exist", field="out")
        table = self.export_table(name, traits, user=user).to_pyarrow()
        tmp = folder / f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            pacsv.write_csv(table, tmp)
            os.replace(tmp, out)
        except OSError as exc:
            raise InvalidValue(f"cannot write {out}: {exc.strerror or exc}", field="out") from None
        finally:
            tmp.unlink(missing_ok=True)
        return int(table.num_rows)

    # -- helpers ---------------------------------------------------------------------------------
    def _check_user(self, user: User | None, parsed: SegmentDefinition, *, edit: bool) -> None:
        if user is None:
            return
        if edit:
            require_access(user, "edit", parsed.name, parsed.owners)
        personal = personal_traits(parsed)
        if personal:
            require_access(user, "read_personal", parsed.name, parsed.owners)

    def _segment(self, s: Session, name: str) -> Segment:
        row = s.scalars(_query().where(Segment.name == name)).first()
        if row is None:
            known_names = builtins.list(s.scalars(select(Segment.name).order_by(Segment.name)))
            raise NotFound(
                f"no segment `{name}`"
                + (f" (known: {', '.join(known_names)})" if known_names else ""),
                field="name",
                detail=None if known_names else "create one with: tandem segment create FILE",
            )
        return row


def _owner_functions(s: Session, owners: Sequence[str]) -> builtins.list[Function]:
    keys: builtins.list[str] = []
    for raw in owners:
        key = raw.strip()
        if key and key not in keys:
            keys.append(key)
    rows = {fn.key: fn for fn in s.scalars(select(Function).where(Function.key.in_(keys)))}
    unknown = [key for key in keys if key not in rows]
    if unknown:
        known_keys = ", ".join(s.scalars(select(Function.key).order_by(Function.position)))
        raise NotFound(
            f"no function {', '.join(f'`{k}`' for k in unknown)} (known: {known_keys or 'none'})",
            field="owners",
        )
    return [rows[key] for key in keys]


__all__ = [
    "COLUMN_KINDS",
    "OPS",
    "Known",
    "SegmentDefinition",
    "SegmentEvaluation",
    "SegmentInfo",
    "Segments",
    "check_definition",
    "compile_members",
    "known",
    "parse_definition",
    "read_definition",
]
