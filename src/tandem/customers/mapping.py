"""Column mappings: records that are not Segment messages (a CRM export, a loyalty list) become
`identify` messages.

A mapping is a small YAML file::

    record_id: customer_no            # the column holding the record's id (required)
    user_id: "{source}:{record_id}"   # optional; the default shown
    timestamp: updated_at             # optional column with the record's time
    traits:                           # trait name: column
      first_name: FirstName
      last_name: LastName
    identifiers:                      # columns that identify the person, and their type
      - column: Email
        type: email
      - column: Mobile
        type: phone

Each record becomes ``{"type": "identify", "userId": "<source>:<record id>", "traits": {...},
"context": {"externalIds": [{"id", "type", "collection": "users", "encoding": "none"}],
"tandem": {"recordId": "<record id>"}}}``: an identifier's value also goes into the traits under its
well-known name (`email`, `phone`, ...), as Segment does; `context.tandem.recordId` keeps the record
id itself, whatever the `user_id` template (identity resolution reports records by it). Empty
cells are left out of the traits. A record without an id is rejected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tandem.errors import InvalidInput, Problem
from tandem.yamlfile import YamlDocument

IDENTIFIER_TYPES = (
    "email",
    "phone",
    "device_id",
    "twitter",
    "facebook",
    "instagram",
    "linkedin",
    "tiktok",
    "social",
    "customer_id",
    "loyalty_id",
    "other",
)
TEMPLATE_FIELDS = ("source", "record_id")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class IdentifierSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(min_length=1)
    type: str
    trait: str | None = None
    """Trait name for the value; default: the type (`email`, `phone`, ...)."""

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in IDENTIFIER_TYPES:
            raise ValueError(
                f"unknown identifier type {value!r}; use one of {', '.join(IDENTIFIER_TYPES)}"
            )
        return value


class MappingModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(min_length=1)
    user_id: str = "{source}:{record_id}"
    timestamp: str | None = None
    traits: dict[str, str] = Field(default_factory=dict)
    identifiers: list[IdentifierSpec] = Field(default_factory=list)

    @field_validator("traits", mode="before")
    @classmethod
    def _list_of_columns(cls, value: Any) -> Any:
        """`traits: [a, b]` is short for `traits: {a: a, b: b}`."""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return {v: v for v in value}
        return value

    @field_validator("user_id")
    @classmethod
    def _template(cls, value: str) -> str:
        names = _PLACEHOLDER.findall(value)
        unknown = [n for n in names if n not in TEMPLATE_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; use {{source}} and {{record_id}}"
            )
        if "record_id" not in names:
            raise ValueError("the user_id template must contain {record_id}")
        return value

    @model_validator(mode="after")
    def _distinct_traits(self) -> MappingModel:
        return self


class Mapping:
    """A validated mapping, able to render SQL that turns a record into an identify message."""

    def __init__(
        self,
        model: MappingModel,
        *,
        source: str = "<mapping>",
        document: YamlDocument | None = None,
    ):
        self.model = model
        self.source = source
        self.document = document
        self._source_name = ""

    @classmethod
    def read(cls, path: Path) -> Mapping:
        document = YamlDocument.read(path, what="mapping file")
        return cls(
            document.validate(MappingModel, what="mapping"), source=str(path), document=document
        )

    @classmethod
    def parse(cls, text: str, *, source: str = "<mapping>") -> Mapping:
        document = YamlDocument.parse(text, source=source)
        return cls(
            document.validate(MappingModel, what="mapping"), source=source, document=document
        )

    def columns(self) -> list[tuple[str, list[str | int]]]:
        """Every column the mapping names, with its place in the YAML."""
        m = self.model
        out: list[tuple[str, list[str | int]]] = [(m.record_id, ["record_id"])]
        if m.timestamp:
            out.append((m.timestamp, ["timestamp"]))
        out += [(column, ["traits", trait]) for trait, column in m.traits.items()]
        out += [(i.column, ["identifiers", n, "column"]) for n, i in enumerate(m.identifiers)]
        return out

    def check(self, available: list[str], where: str) -> None:
        """InvalidInput naming each mapped column missing from `available` (and its line)."""
        present = set(available)
        problems = []
        for column, path in self.columns():
            if column not in present:
                line = self.document.line_of(path) if self.document else None
                problems.append(
                    Problem(
                        f"column `{column}` is not in {where}",
                        field=".".join(map(str, path)),
                        line=line,
                    )
                )
        if problems:
            shown = ", ".join(sorted(available)[:30]) or "none"
            raise InvalidInput(
                f"the mapping names {len(problems)} column{'s' if len(problems) > 1 else ''} "
                f"missing from {where} (its columns: {shown}); nothing was imported",
                problems,
                source=self.source,
            )

    def render_sql(self, available: list[str], where: str, *, source: str) -> tuple[str, list[Any]]:
        """SQL over a table with the file's columns producing the message JSON text."""
        self.check(available, where)
        return self._render(lambda column: f"{_ident(column)}::VARCHAR", [], source)

    def render_json_sql(self, *, source: str) -> tuple[str, list[Any]]:
        """The same over NDJSON records: each mapped column is a top-level key of `line`."""
        params: list[Any] = []

        def value(column: str) -> str:
            return f"json_extract_string(line, {_pointer_literal(column)})"

        return self._render(value, params, source)

    def _render(self, value: Any, params: list[Any], source: str) -> tuple[str, list[Any]]:
        m = self.model
        record = value(m.record_id)
        pieces = []
        for part in re.split(r"(\{source\}|\{record_id\})", m.user_id):
            if part == "{source}":
                pieces.append("?::VARCHAR")
                params.append(source)
            elif part == "{record_id}":
                pieces.append(f"nullif(trim({record}), '')")
            elif part:
                pieces.append("?::VARCHAR")
                params.append(part)
        user_id = " || ".join(pieces)
        trait_parts = []
        names = set()
        for trait, column in m.traits.items():
            trait_parts.append(f"?, {value(column)}")
            params.append(trait)
            names.add(trait)
        for spec in m.identifiers:
            name = spec.trait or spec.type
            if name not in names:
                trait_parts.append(f"?, {value(spec.column)}")
                params.append(name)
                names.add(name)
        traits = (
            f"json_merge_patch('{{}}', json_object({', '.join(trait_parts)}))"
            if trait_parts
            else "'{}'::JSON"
        )
        external = []
        for spec in m.identifiers:
            external.append(
                f"{{'id': nullif(trim({value(spec.column)}), ''), 'type': ?::VARCHAR, "
                "'collection': 'users', 'encoding': 'none'}"
            )
            params.append(spec.type)
        ids = (
            f"to_json(list_filter([{', '.join(external)}], lambda x: x.id IS NOT NULL))"
            if external
            else "'[]'::JSON"
        )
        timestamp = value(m.timestamp) if m.timestamp else "NULL::VARCHAR"
        sql = (
            "json_object('type', 'identify', 'userId', "
            + user_id
            + ", 'traits', "
            + traits
            + ", 'context', json_object('externalIds', "
            + ids
            + ", 'tandem', json_object('recordId', nullif(trim("
            + record
            + "), ''))), 'timestamp', "
            + timestamp
            + ")::VARCHAR"
        )
        return sql, params


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pointer_literal(column: str) -> str:
    """A JSON Pointer to a top-level key, as a SQL string literal."""
    pointer = "/" + column.replace("~", "~0").replace("/", "~1")
    return "'" + pointer.replace("'", "''") + "'"
