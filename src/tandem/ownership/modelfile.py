"""The ownership model as a YAML file: import (all-or-nothing) and export.

The format is documented in docs/ownership.md. Import validates the whole file first (syntax,
fields, role letters, duplicate keys, references to functions) and reports every problem with its
line and field; only a valid file is written, in one transaction.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from tandem.errors import InvalidInput, Problem
from tandem.ownership.catalogue import (
    DEFAULT_CAPABILITIES,
    DEFAULT_FUNCTIONS,
    BodyKind,
    FunctionKind,
    key_problem,
    parse_roles,
)
from tandem.ownership.model import (
    BodyInfo,
    CapabilityInfo,
    CompanyInfo,
    FunctionInfo,
    ModelChange,
    OwnershipModel,
    PersonInfo,
)
from tandem.yamlfile import PathPart, YamlDocument

FORMAT_VERSION = 1

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _check_key(value: str) -> str:
    problem = key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CompanyEntry(_Entry):
    name: Name
    industry: Name | None = None
    employees: int | None = Field(default=None, ge=1)
    digital_revenue_team: bool | None = None


class PersonEntry(_Entry):
    name: Name
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    email: (
        Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


class FunctionEntry(_Entry):
    key: str
    name: Name | None = None
    kind: FunctionKind = "other"
    description: Text = ""
    head: Name | None = None
    people: list[PersonEntry] = []

    _key = field_validator("key")(_check_key)


def _roles(value: object) -> str:
    """RACI letters ("RA", "ra", [R, A]) in canonical order; checked per function, so an error
    names `owners.<function>` and its line."""
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return parse_roles(value)
    raise ValueError(
        f"expected RACI letters such as `RA` or a list such as `[R, A]` (got {reprlib.repr(value)})"
    )


Roles = Annotated[str, BeforeValidator(_roles)]


class CapabilityEntry(_Entry):
    key: str
    name: Name | None = None
    description: Text = ""
    customer_facing: bool = False
    owners: dict[str, Roles] = {}

    _key = field_validator("key")(_check_key)


class BodyEntry(_Entry):
    key: str
    name: Name | None = None
    kind: BodyKind = "other"
    description: Text = ""
    members: list[str] = []
    reports_to: list[str] = []

    _key = field_validator("key")(_check_key)


class OwnershipFile(_Entry):
    version: Literal[1] = 1
    company: CompanyEntry | None = None
    functions: list[FunctionEntry] | None = None
    capabilities: list[CapabilityEntry] | None = None
    governance: list[BodyEntry] | None = None


_DEFAULT_FUNCTIONS = {f.key: f for f in DEFAULT_FUNCTIONS}
_DEFAULT_CAPABILITY_NAMES = {c.key: c.name for c in DEFAULT_CAPABILITIES}


def _title(key: str, defaults: dict[str, str] | None = None) -> str:
    """The name for a key given without one: the default catalogue's, else "Key words"."""
    if defaults and key in defaults:
        return defaults[key]
    return key.replace("-", " ").replace("_", " ").capitalize()


def _function_defaults(key: str) -> tuple[str, str]:
    """Name and kind of a new function listed without them: the default set's for its keys."""
    known = _DEFAULT_FUNCTIONS.get(key)
    return (known.name, known.kind) if known else (_title(key), "other")


_NEW = object()


def _pick(entry: BaseModel, old: object | None, field: str, new: Any = _NEW) -> Any:
    """A field's value after import: the file's if given; else the existing thing's; else, for
    a new thing, `new` (default: the entry's own default)."""
    if field in entry.model_fields_set:
        return getattr(entry, field)
    if old is not None:
        return getattr(old, field)
    return getattr(entry, field) if new is _NEW else new


def read_model_file(path: Path, existing: OwnershipModel, *, merge: bool = False) -> ModelChange:
    """Parse and check an ownership file against `existing` (for functions it does not list).

    With `merge`, functions the workspace has stay known even when the file lists others.
    """
    doc = YamlDocument.read(path, what="ownership file")
    return check_model_file(doc, existing, merge=merge)


def check_model_file(
    doc: YamlDocument, existing: OwnershipModel, *, merge: bool = False
) -> ModelChange:
    parsed = doc.validate(OwnershipFile, what="ownership file")
    problems: list[Problem] = []

    def duplicates(entries: list[Any], section: str, what: str) -> None:
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            if entry.key in seen:
                problems.append(
                    doc.problem(f"{what} `{entry.key}` is listed twice", [section, i, "key"])
                )
            seen.add(entry.key)

    # The functions that will exist after the import: a replacing `functions` section is the
    # whole list; a merged one adds to the functions the workspace already has.
    known = {f.key for f in existing.functions} if merge or parsed.functions is None else set()
    if parsed.functions is not None:
        duplicates(parsed.functions, "functions", "function")
        known |= {f.key for f in parsed.functions}
    known_list = ", ".join(sorted(known)) or "none"

    def reference(fn: str, path: list[PathPart]) -> None:
        if fn not in known:
            problems.append(doc.problem(f"unknown function `{fn}` (known: {known_list})", path))

    # A field left out keeps its current value for a thing that exists (a new thing gets the
    # default); write the field out (`owners: {}`, `people: []`) to clear it.
    functions = None
    if parsed.functions is not None:
        functions = []
        for i, f in enumerate(parsed.functions):
            old_fn = existing.function(f.key)
            if "people" in f.model_fields_set or old_fn is None:
                people = tuple(PersonInfo(p.name, p.title, p.email) for p in f.people)
            else:
                people = old_fn.people
            names = [p.name for p in people]
            head = _pick(f, old_fn, "head")
            if "head" not in f.model_fields_set and head not in names:
                head = None  # the old head is not among the people given now
            if head is not None and head not in names:
                problems.append(
                    doc.problem(
                        f"head `{head}` is not one of this function's people",
                        ["functions", i, "head"],
                    )
                )
            seen_people: set[str] = set()
            for j, p in enumerate(f.people):
                if p.name in seen_people:
                    problems.append(
                        doc.problem(
                            f"person `{p.name}` is listed twice",
                            ["functions", i, "people", j, "name"],
                        )
                    )
                seen_people.add(p.name)
            functions.append(
                FunctionInfo(
                    key=f.key,
                    name=f.name or _pick(f, old_fn, "name", _function_defaults(f.key)[0]),
                    kind=_pick(f, old_fn, "kind", _function_defaults(f.key)[1]),
                    description=_pick(f, old_fn, "description"),
                    head=head,
                    people=people,
                )
            )

    capabilities = None
    if parsed.capabilities is not None:
        duplicates(parsed.capabilities, "capabilities", "capability")
        capabilities = []
        for i, c in enumerate(parsed.capabilities):
            for fn in c.owners:
                reference(fn, ["capabilities", i, "owners", fn])
            old_cap = existing.capability(c.key)
            # Kept roles of functions that this import removes go with them.
            owners = {fn: r for fn, r in _pick(c, old_cap, "owners").items() if fn in known}
            capabilities.append(
                CapabilityInfo(
                    key=c.key,
                    name=c.name
                    or _pick(c, old_cap, "name", _title(c.key, _DEFAULT_CAPABILITY_NAMES)),
                    description=_pick(c, old_cap, "description"),
                    customer_facing=_pick(c, old_cap, "customer_facing"),
                    owners=owners,
                )
            )

    bodies = None
    if parsed.governance is not None:
        duplicates(parsed.governance, "governance", "governance body")
        old_bodies = {b.key: b for b in existing.bodies}
        bodies = []
        for i, b in enumerate(parsed.governance):
            for field in ("members", "reports_to"):
                values: list[str] = getattr(b, field)
                for j, fn in enumerate(values):
                    reference(fn, ["governance", i, field, j])
                    if values.index(fn) != j:
                        problems.append(
                            doc.problem(f"`{fn}` is listed twice", ["governance", i, field, j])
                        )
            old = old_bodies.get(b.key)
            members, reports_to = (
                tuple(fn for fn in dict.fromkeys(_pick(b, old, f)) if fn in known)
                for f in ("members", "reports_to")
            )

            bodies.append(
                BodyInfo(
                    key=b.key,
                    name=b.name or _pick(b, old, "name", _title(b.key)),
                    kind=_pick(b, old, "kind"),
                    description=_pick(b, old, "description"),
                    members=members,
                    reports_to=reports_to,
                )
            )

    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InvalidInput(
            f"{doc.source} is not a valid ownership file ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was changed",
            problems,
            source=doc.source,
        )
    company = None
    if parsed.company is not None:
        co, old_co = parsed.company, existing.company
        company = CompanyInfo(
            co.name,
            *(_pick(co, old_co, f) for f in ("industry", "employees", "digital_revenue_team")),
        )
    return ModelChange(company, functions, capabilities, bodies)


def model_to_dict(model: OwnershipModel) -> dict[str, Any]:
    """The model in the file format; `read_model_file` reads it back unchanged."""
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    if model.company is not None:
        company: dict[str, Any] = {"name": model.company.name}
        if model.company.industry:
            company["industry"] = model.company.industry
        if model.company.employees:
            company["employees"] = model.company.employees
        if model.company.digital_revenue_team is not None:
            company["digital_revenue_team"] = model.company.digital_revenue_team
        data["company"] = company
    functions = []
    for f in model.functions:
        entry: dict[str, Any] = {"key": f.key, "name": f.name, "kind": f.kind}
        if f.description:
            entry["description"] = f.description
        if f.head:
            entry["head"] = f.head
        if f.people:
            entry["people"] = [
                {k: v for k, v in (("name", p.name), ("title", p.title), ("email", p.email)) if v}
                for p in f.people
            ]
        functions.append(entry)
    data["functions"] = functions
    capabilities = []
    for c in model.capabilities:
        cap: dict[str, Any] = {"key": c.key, "name": c.name}
        if c.description:
            cap["description"] = c.description
        cap["customer_facing"] = c.customer_facing
        cap["owners"] = _Flow(c.owners)
        capabilities.append(cap)
    data["capabilities"] = capabilities
    bodies = []
    for b in model.bodies:
        body: dict[str, Any] = {"key": b.key, "name": b.name, "kind": b.kind}
        if b.description:
            body["description"] = b.description
        body["members"] = _FlowList(b.members)
        body["reports_to"] = _FlowList(b.reports_to)
        bodies.append(body)
    data["governance"] = bodies
    return data


HEADER = """\
# Tandem ownership model: who owns each digital capability.
# owners: function key -> RACI letters (R responsible, A accountable, C consulted, I informed).
# Import with `tandem ownership import FILE`; the format is described in docs/ownership.md.
"""


class _Flow(dict[str, str]):
    """A mapping written on one line: `{marketing: RA, it: C}`."""


class _FlowList(list[str]):
    """A list written on one line: `[marketing, it]`."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow_map(dumper: yaml.SafeDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _flow_seq(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(_Flow, _flow_map)
_Dumper.add_representer(_FlowList, _flow_seq)


def dump_model(model: OwnershipModel) -> str:
    body = yaml.dump(
        model_to_dict(model),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body


def model_from_document(doc: YamlDocument) -> OwnershipModel:
    """A standalone model from a file alone (sections it leaves out are empty).

    Used to analyse a file without importing it (`tandem ownership findings --file F`).
    """
    empty = OwnershipModel(None, [], [], [])
    change = check_model_file(doc, empty)
    return OwnershipModel(
        change.company, change.functions or [], change.capabilities or [], change.bodies or []
    )


def model_from_file(path: Path) -> OwnershipModel:
    return model_from_document(YamlDocument.read(path, what="ownership file"))
