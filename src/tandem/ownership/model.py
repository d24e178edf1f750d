"""The ownership model as plain values: what a YAML file describes and what the analyses read.

`OwnershipModel` is loaded from the metadata store in a handful of queries (`load_model`), built
from a YAML file (`tandem.ownership.modelfile`), and written back (`apply_model`). The matrix, the
benchmark and the findings are pure functions of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from tandem.db.models import (
    Capability,
    Company,
    Function,
    GovernanceBody,
    GovernanceMember,
    Person,
    ReportingLine,
    Responsibility,
)
from tandem.ownership.catalogue import RACI


@dataclass(frozen=True)
class CompanyInfo:
    name: str
    industry: str | None = None
    employees: int | None = None
    digital_revenue_team: bool | None = None


@dataclass(frozen=True)
class PersonInfo:
    name: str
    title: str = ""
    email: str | None = None


@dataclass(frozen=True)
class FunctionInfo:
    key: str
    name: str
    kind: str
    description: str = ""
    head: str | None = None
    people: tuple[PersonInfo, ...] = ()


@dataclass(frozen=True)
class CapabilityInfo:
    key: str
    name: str
    description: str = ""
    customer_facing: bool = False
    owners: dict[str, str] = field(default_factory=dict)
    """function key -> RACI letters in canonical order ("RA")."""

    def holders(self, roles: str) -> set[str]:
        """Functions holding any of `roles` on this capability."""
        return {fn for fn, held in self.owners.items() if any(r in held for r in roles)}


@dataclass(frozen=True)
class BodyInfo:
    key: str
    name: str
    kind: str
    description: str = ""
    members: tuple[str, ...] = ()
    reports_to: tuple[str, ...] = ()


@dataclass
class OwnershipModel:
    company: CompanyInfo | None
    functions: list[FunctionInfo]
    capabilities: list[CapabilityInfo]
    bodies: list[BodyInfo]

    def __post_init__(self) -> None:
        self._functions = {f.key: f for f in self.functions}
        self._capabilities = {c.key: c for c in self.capabilities}

    def function(self, key: str) -> FunctionInfo | None:
        return self._functions.get(key)

    def capability(self, key: str) -> CapabilityInfo | None:
        return self._capabilities.get(key)

    def keys_of_kind(self, kind: str) -> set[str]:
        return {f.key for f in self.functions if f.kind == kind}

    def kind_of(self, function_key: str) -> str | None:
        fn = self._functions.get(function_key)
        return fn.kind if fn else None

    def bodies_of_kind(self, kind: str) -> list[BodyInfo]:
        return [b for b in self.bodies if b.kind == kind]

    def functions_with_any_role(self) -> set[str]:
        return {fn for cap in self.capabilities for fn in cap.owners}

    def responsibility_count(self) -> int:
        return sum(len(roles) for cap in self.capabilities for roles in cap.owners.values())


def load_model(session: Session) -> OwnershipModel:
    """Read the whole ownership model in a fixed number of queries."""
    company_row = session.scalars(select(Company).order_by(Company.id).limit(1)).first()
    company = (
        CompanyInfo(
            name=company_row.name,
            industry=company_row.industry,
            employees=company_row.employees,
            digital_revenue_team=company_row.has_digital_revenue_team,
        )
        if company_row
        else None
    )
    fn_rows = session.scalars(select(Function).order_by(Function.position, Function.id)).all()
    fn_key = {f.id: f.key for f in fn_rows}
    people: dict[int, list[Person]] = defaultdict(list)
    for person in session.scalars(select(Person).order_by(Person.id)):
        people[person.function_id].append(person)
    functions = []
    for f in fn_rows:
        members = people.get(f.id, [])
        head = next((p.name for p in members if p.is_head), None)
        functions.append(
            FunctionInfo(
                key=f.key,
                name=f.name,
                kind=f.kind,
                description=f.description,
                head=head,
                people=tuple(PersonInfo(p.name, p.title, p.email) for p in members),
            )
        )
    roles: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for cap_id, fn_id, role in session.execute(
        select(Responsibility.capability_id, Responsibility.function_id, Responsibility.role)
    ):
        roles[cap_id][fn_key[fn_id]].add(role)
    fn_position = {f.key: i for i, f in enumerate(fn_rows)}
    capabilities = []
    for c in session.scalars(select(Capability).order_by(Capability.position, Capability.id)):
        held = roles.get(c.id, {})
        owners = {
            fn: "".join(r for r in RACI if r in held[fn])
            for fn in sorted(held, key=lambda k: fn_position[k])
        }
        capabilities.append(CapabilityInfo(c.key, c.name, c.description, c.customer_facing, owners))
    members_of: dict[int, list[str]] = defaultdict(list)
    for body_id, fn_id in session.execute(
        select(GovernanceMember.body_id, GovernanceMember.function_id)
    ):
        members_of[body_id].append(fn_key[fn_id])
    lines_of: dict[int, list[str]] = defaultdict(list)
    for body_id, fn_id in session.execute(select(ReportingLine.body_id, ReportingLine.function_id)):
        lines_of[body_id].append(fn_key[fn_id])
    bodies = [
        BodyInfo(
            b.key,
            b.name,
            b.kind,
            b.description,
            tuple(sorted(members_of.get(b.id, []), key=lambda k: fn_position[k])),
            tuple(sorted(lines_of.get(b.id, []), key=lambda k: fn_position[k])),
        )
        for b in session.scalars(
            select(GovernanceBody).order_by(GovernanceBody.position, GovernanceBody.id)
        )
    ]
    return OwnershipModel(company, functions, capabilities, bodies)


@dataclass
class ModelChange:
    """What an import describes: sections left as None are left as they are."""

    company: CompanyInfo | None = None
    functions: list[FunctionInfo] | None = None
    capabilities: list[CapabilityInfo] | None = None
    bodies: list[BodyInfo] | None = None


@dataclass
class ApplySummary:
    functions: int = 0
    people: int = 0
    capabilities: int = 0
    responsibilities: int = 0
    governance_bodies: int = 0
    removed: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "functions": self.functions,
            "people": self.people,
            "capabilities": self.capabilities,
            "responsibilities": self.responsibilities,
            "governance_bodies": self.governance_bodies,
            "removed": self.removed,
        }


def apply_model(session: Session, change: ModelChange, *, replace: bool) -> ApplySummary:
    """Write `change` into the store inside the caller's transaction.

    Things are matched by key and updated in place, so their ids (which sources, segments and
    campaigns refer to) survive an import. With `replace`, functions, capabilities and governance
    bodies that a present section does not list are removed; otherwise they are kept.
    """
    summary = ApplySummary()
    if change.company is not None:
        _apply_company(session, change.company)
    if change.functions is not None:
        _apply_functions(session, change.functions, replace, summary)
    fn_ids = {key: id_ for key, id_ in session.execute(select(Function.key, Function.id))}
    if change.capabilities is not None:
        _apply_capabilities(session, change.capabilities, fn_ids, replace, summary)
    if change.bodies is not None:
        _apply_bodies(session, change.bodies, fn_ids, replace, summary)
    return summary


def _apply_company(session: Session, info: CompanyInfo) -> None:
    row = session.scalars(select(Company).order_by(Company.id).limit(1)).first()
    if row is None:
        row = Company(name=info.name)
        session.add(row)
    row.name = info.name
    row.industry = info.industry
    row.employees = info.employees
    row.has_digital_revenue_team = info.digital_revenue_team


Keyed = TypeVar("Keyed", Function, Capability, GovernanceBody)


def _upsert(
    session: Session,
    model: type[Keyed],
    infos: Sequence[FunctionInfo | CapabilityInfo | BodyInfo],
    fields: tuple[str, ...],
    *,
    replace: bool,
    summary: ApplySummary,
    section: str,
) -> dict[str, Keyed]:
    """Create or update one row per info, matched by key, and return the rows by key.

    With `replace`, rows whose key is not among `infos` are deleted (and reported in `summary`)
    and positions follow the file's order; otherwise new rows are appended after existing ones.
    """
    existing: dict[str, Keyed] = {row.key: row for row in session.scalars(select(model))}
    if replace:
        wanted = {info.key for info in infos}
        removed = sorted(key for key in existing if key not in wanted)
        for key in removed:
            session.delete(existing.pop(key))
        if removed:
            summary.removed[section] = removed
        session.flush()
    start = 0 if replace else (session.scalar(select(func.max(model.position))) or 0) + 1
    rows: dict[str, Keyed] = {}
    for i, info in enumerate(infos):
        row = existing.get(info.key)
        if row is None:
            row = model(key=info.key)
            row.position = start + i
            session.add(row)
        elif replace:
            row.position = i
        for name in fields:
            setattr(row, name, getattr(info, name))
        rows[info.key] = row
    session.flush()
    return rows


def _apply_functions(
    session: Session, functions: list[FunctionInfo], replace: bool, summary: ApplySummary
) -> None:
    rows = _upsert(
        session,
        Function,
        functions,
        ("name", "kind", "description"),
        replace=replace,
        summary=summary,
        section="functions",
    )
    ids = [row.id for row in rows.values()]
    current = {
        (p.function_id, p.name): p
        for p in session.scalars(select(Person).where(Person.function_id.in_(ids)))
    }
    # Heads first lose their flag so the one-head-per-function index never sees two at once.
    for person in current.values():
        person.is_head = False
    session.flush()
    kept = set()
    for info in functions:
        fn_id = rows[info.key].id
        for p in info.people:
            found = current.get((fn_id, p.name))
            person = found if found is not None else Person(function_id=fn_id, name=p.name)
            if found is None:
                session.add(person)
            person.title = p.title
            person.email = p.email
            person.is_head = p.name == info.head
            kept.add((fn_id, p.name))
            summary.people += 1
    for k, person in current.items():
        if k not in kept:
            session.delete(person)
    summary.functions = len(functions)
    session.flush()


def _apply_capabilities(
    session: Session,
    capabilities: list[CapabilityInfo],
    fn_ids: dict[str, int],
    replace: bool,
    summary: ApplySummary,
) -> None:
    rows = _upsert(
        session,
        Capability,
        capabilities,
        ("name", "description", "customer_facing"),
        replace=replace,
        summary=summary,
        section="capabilities",
    )
    cap_ids = [row.id for row in rows.values()]
    for chunk in _chunks(cap_ids, 500):
        session.execute(delete(Responsibility).where(Responsibility.capability_id.in_(chunk)))
    values = [
        {"capability_id": rows[c.key].id, "function_id": fn_ids[fn], "role": role}
        for c in capabilities
        for fn, roles in c.owners.items()
        for role in roles
    ]
    if values:
        session.execute(insert(Responsibility), values)
    summary.capabilities = len(capabilities)
    summary.responsibilities = len(values)


def _apply_bodies(
    session: Session,
    bodies: list[BodyInfo],
    fn_ids: dict[str, int],
    replace: bool,
    summary: ApplySummary,
) -> None:
    rows = _upsert(
        session,
        GovernanceBody,
        bodies,
        ("name", "kind", "description"),
        replace=replace,
        summary=summary,
        section="governance_bodies",
    )
    ids = [row.id for row in rows.values()]
    session.execute(delete(GovernanceMember).where(GovernanceMember.body_id.in_(ids)))
    session.execute(delete(ReportingLine).where(ReportingLine.body_id.in_(ids)))
    members = [
        {"body_id": rows[b.key].id, "function_id": fn_ids[fn]} for b in bodies for fn in b.members
    ]
    lines = [
        {"body_id": rows[b.key].id, "function_id": fn_ids[fn]}
        for b in bodies
        for fn in b.reports_to
    ]
    if members:
        session.execute(insert(GovernanceMember), members)
    if lines:
        session.execute(insert(ReportingLine), lines)
    summary.governance_bodies = len(bodies)


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
