"""Ownership operations on a workspace: the functions the CLI and the HTTP API both call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
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
from tandem.errors import Conflict, InvalidValue, NotFound
from tandem.ownership import benchmark as _benchmark
from tandem.ownership import findings as _findings
from tandem.ownership.catalogue import (
    BODY_KINDS,
    DEFAULT_CAPABILITIES,
    DEFAULT_FUNCTIONS,
    FUNCTION_KINDS,
    RACI,
    key_problem,
    parse_roles,
    slugify,
)
from tandem.ownership.model import ApplySummary, OwnershipModel, apply_model, load_model
from tandem.ownership.modelfile import dump_model, read_model_file

if TYPE_CHECKING:
    from tandem.workspace import Workspace


@dataclass(frozen=True)
class Matrix:
    """Capabilities x functions; each cell holds RACI letters."""

    functions: list[dict[str, str]]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"functions": self.functions, "capabilities": self.rows}


def _valid_key(key: str, what: str) -> str:
    problem = key_problem(key)
    if problem:
        raise InvalidValue(f"invalid {what} key: {problem}", field="key")
    return key


def _description(value: str) -> str:
    value = value.strip()
    if len(value) > 2000:
        raise InvalidValue(
            "description is too long", field="description", detail="at most 2000 characters"
        )
    return value


def _nonempty(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidValue(f"{field} cannot be empty", field=field)
    if len(value) > 200:
        raise InvalidValue(f"{field} is too long (at most 200 characters)", field=field)
    return value


class Ownership:
    """Who owns digital: functions, people, capabilities, responsibilities, governance bodies."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace

    # -- the model as a whole ----------------------------------------------------------------
    def model(self) -> OwnershipModel:
        with self.ws.session() as s:
            return load_model(s)

    def seed_defaults(self, *, company: str) -> None:
        """Create the company and the default functions and capabilities if none exist yet."""
        with self.ws.session() as s:
            if s.scalar(select(func.count()).select_from(Company)) == 0:
                s.add(Company(name=company))
            if s.scalar(select(func.count()).select_from(Function)) == 0:
                s.add_all(
                    Function(
                        key=f.key, name=f.name, kind=f.kind, description=f.description, position=i
                    )
                    for i, f in enumerate(DEFAULT_FUNCTIONS)
                )
            if s.scalar(select(func.count()).select_from(Capability)) == 0:
                s.add_all(
                    Capability(
                        key=c.key,
                        name=c.name,
                        description=c.description,
                        customer_facing=c.customer_facing,
                        position=i,
                    )
                    for i, c in enumerate(DEFAULT_CAPABILITIES)
                )

    def import_file(self, path: str | Path, *, merge: bool = False) -> ApplySummary:
        """Import an ownership YAML file, all or nothing.

        Without `merge` the sections present in the file replace what the workspace has (things
        not listed are removed); with `merge` they are added or updated and nothing is removed.
        """
        with self.ws.session() as s:
            change = read_model_file(Path(path), load_model(s), merge=merge)
            return apply_model(s, change, replace=not merge)

    def export(self) -> str:
        return dump_model(self.model())

    def matrix(self, model: OwnershipModel | None = None) -> Matrix:
        return self.matrix_of(model or self.model())

    @staticmethod
    def matrix_of(model: OwnershipModel) -> Matrix:
        functions = [{"key": f.key, "name": f.name, "kind": f.kind} for f in model.functions]
        rows = [{"key": c.key, "name": c.name, "roles": dict(c.owners)} for c in model.capabilities]
        return Matrix(functions, rows)

    def benchmark(self, model: OwnershipModel | None = None) -> _benchmark.Benchmark:
        return _benchmark.compare(model or self.model())

    def findings(self, model: OwnershipModel | None = None) -> list[_findings.Finding]:
        return _findings.evaluate(model or self.model())

    # -- company -----------------------------------------------------------------------------
    def set_company(
        self,
        *,
        name: str | None = None,
        industry: str | None = None,
        employees: int | None = None,
        digital_revenue_team: bool | None = None,
    ) -> None:
        if employees is not None and employees < 1:
            raise InvalidValue("employees must be at least 1", field="employees")
        if industry is not None and len(industry.strip()) > 200:  # the column's width
            raise InvalidValue(
                "industry is too long", field="industry", detail="at most 200 characters"
            )
        with self.ws.session() as s:
            row = s.scalars(select(Company).limit(1)).first()
            if row is None:
                row = Company(name=_nonempty(name or self.ws.settings.name, "name"))
                s.add(row)
            if name is not None:
                row.name = _nonempty(name, "name")
            if industry is not None:
                row.industry = industry.strip() or None
            if employees is not None:
                row.employees = employees
            if digital_revenue_team is not None:
                row.has_digital_revenue_team = digital_revenue_team

    # -- functions ---------------------------------------------------------------------------
    def _function(self, s: Session, key: str) -> Function:
        row = s.scalars(select(Function).where(Function.key == key)).first()
        if row is None:
            known = ", ".join(s.scalars(select(Function.key).order_by(Function.position)))
            raise NotFound(f"no function `{key}` (known: {known or 'none'})", field="function")
        return row

    def add_function(
        self, name: str, *, key: str | None = None, kind: str = "other", description: str = ""
    ) -> str:
        name = _nonempty(name, "name")
        description = _description(description)
        key = _valid_key(key or slugify(name), "function")
        if kind not in FUNCTION_KINDS:
            raise InvalidValue(
                f"unknown function kind `{kind}`",
                field="kind",
                detail=f"use one of {', '.join(FUNCTION_KINDS)}",
            )
        with self.ws.session() as s:
            if s.scalar(select(Function.id).where(Function.key == key)) is not None:
                raise Conflict(f"a function with key `{key}` already exists", field="key")
            position = (s.scalar(select(func.max(Function.position))) or 0) + 1
            s.add(
                Function(key=key, name=name, kind=kind, description=description, position=position)
            )
        return key

    def rename_function(
        self, key: str, *, name: str | None = None, new_key: str | None = None
    ) -> str:
        if name is None and new_key is None:
            raise InvalidValue("nothing to change: give a new name or a new key")
        with self.ws.session() as s:
            row = self._function(s, key)
            if name is not None:
                row.name = _nonempty(name, "name")
            if new_key is not None and new_key != key:
                _valid_key(new_key, "function")
                if s.scalar(select(Function.id).where(Function.key == new_key)) is not None:
                    raise Conflict(f"a function with key `{new_key}` already exists", field="key")
                row.key = new_key
            return row.key

    def remove_function(self, key: str) -> int:
        """Remove a function and its responsibilities; returns how many responsibilities went."""
        with self.ws.session() as s:
            row = self._function(s, key)
            dropped = (
                s.scalar(
                    select(func.count())
                    .select_from(Responsibility)
                    .where(Responsibility.function_id == row.id)
                )
                or 0
            )
            s.delete(row)
            return dropped

    # -- people ------------------------------------------------------------------------------
    def add_person(
        self,
        function: str,
        name: str,
        *,
        title: str = "",
        email: str | None = None,
        head: bool = False,
    ) -> None:
        name = _nonempty(name, "name")
        if len(title) > 200:  # the column's width: PostgreSQL would refuse a longer title
            raise InvalidValue("title is too long", field="title", detail="at most 200 characters")
        if email is not None and (
            "@" not in email or " " in email.strip() or len(email.strip()) > 320
        ):
            raise InvalidValue(
                f"`{email}` is not an email address", field="email", detail="not an email"
            )
        with self.ws.session() as s:
            fn = self._function(s, function)
            existing = s.scalars(
                select(Person).where(Person.function_id == fn.id, Person.name == name)
            ).first()
            if existing is not None:
                raise Conflict(f"{name} is already in {fn.name}", field="name")
            if head:
                for p in fn.people:
                    p.is_head = False
                s.flush()
            s.add(
                Person(
                    function_id=fn.id,
                    name=name,
                    title=title,
                    email=email.strip() if email else None,
                    is_head=head,
                )
            )

    def remove_person(self, function: str, name: str) -> None:
        with self.ws.session() as s:
            fn = self._function(s, function)
            person = next((p for p in fn.people if p.name == name), None)
            if person is None:
                raise NotFound(f"{name} is not in {fn.name}", field="name")
            s.delete(person)

    # -- capabilities ------------------------------------------------------------------------
    def _capability(self, s: Session, key: str) -> Capability:
        row = s.scalars(select(Capability).where(Capability.key == key)).first()
        if row is None:
            raise NotFound(
                f"no capability `{key}`; `tandem capabilities list` shows them",
                field="capability",
            )
        return row

    def add_capability(
        self,
        name: str,
        *,
        key: str | None = None,
        description: str = "",
        customer_facing: bool = False,
    ) -> str:
        name = _nonempty(name, "name")
        description = _description(description)
        key = _valid_key(key or slugify(name), "capability")
        with self.ws.session() as s:
            if s.scalar(select(Capability.id).where(Capability.key == key)) is not None:
                raise Conflict(f"a capability with key `{key}` already exists", field="key")
            position = (s.scalar(select(func.max(Capability.position))) or 0) + 1
            s.add(
                Capability(
                    key=key,
                    name=name,
                    description=description,
                    customer_facing=customer_facing,
                    position=position,
                )
            )
        return key

    def remove_capability(self, key: str) -> None:
        with self.ws.session() as s:
            s.delete(self._capability(s, key))

    # -- responsibilities --------------------------------------------------------------------
    def assign(self, capability: str, function: str, roles: str) -> str:
        """Give `function` the `roles` (RACI letters) on `capability`; returns its roles now."""
        try:
            letters = parse_roles(roles)
        except ValueError as exc:
            raise InvalidValue(str(exc), field="role") from None
        with self.ws.session() as s:
            cap = self._capability(s, capability)
            fn = self._function(s, function)
            held = set(
                s.scalars(
                    select(Responsibility.role).where(
                        Responsibility.capability_id == cap.id, Responsibility.function_id == fn.id
                    )
                )
            )
            for role in letters:
                if role not in held:
                    s.add(Responsibility(capability_id=cap.id, function_id=fn.id, role=role))
            held |= set(letters)
            return "".join(r for r in RACI if r in held)

    def set_roles(self, capability: str, function: str, roles: str) -> tuple[str, bool]:
        """Give `function` exactly `roles` on `capability` ("" for none) in one transaction.

        Returns the roles it now holds and whether anything changed.
        """
        try:
            wanted = set(parse_roles(roles)) if roles.strip() else set()
        except ValueError as exc:
            raise InvalidValue(str(exc), field="role") from None
        with self.ws.session() as s:
            cap = self._capability(s, capability)
            fn = self._function(s, function)
            mine = (Responsibility.capability_id == cap.id, Responsibility.function_id == fn.id)
            held = set(s.scalars(select(Responsibility.role).where(*mine)))
            removed, added = held - wanted, wanted - held
            if removed:
                s.execute(delete(Responsibility).where(*mine, Responsibility.role.in_(removed)))
            for role in sorted(added):
                s.add(Responsibility(capability_id=cap.id, function_id=fn.id, role=role))
            return "".join(r for r in RACI if r in wanted), bool(removed or added)

    def unassign(self, capability: str, function: str, roles: str | None = None) -> str:
        """Take `roles` (all when None) from `function` on `capability`; returns what is left."""
        try:
            letters = parse_roles(roles) if roles else RACI
        except ValueError as exc:
            raise InvalidValue(str(exc), field="role") from None
        with self.ws.session() as s:
            cap = self._capability(s, capability)
            fn = self._function(s, function)
            s.execute(
                delete(Responsibility).where(
                    Responsibility.capability_id == cap.id,
                    Responsibility.function_id == fn.id,
                    Responsibility.role.in_(list(letters)),
                )
            )
            left = set(
                s.scalars(
                    select(Responsibility.role).where(
                        Responsibility.capability_id == cap.id, Responsibility.function_id == fn.id
                    )
                )
            )
            return "".join(r for r in RACI if r in left)

    # -- governance --------------------------------------------------------------------------
    def add_body(
        self,
        name: str,
        *,
        kind: str,
        key: str | None = None,
        members: list[str] | None = None,
        reports_to: list[str] | None = None,
        description: str = "",
    ) -> str:
        name = _nonempty(name, "name")
        description = _description(description)
        key = _valid_key(key or slugify(name), "governance body")
        if kind not in BODY_KINDS:
            raise InvalidValue(
                f"unknown governance body kind `{kind}`",
                field="kind",
                detail=f"use one of {', '.join(BODY_KINDS)}",
            )
        with self.ws.session() as s:
            if s.scalar(select(GovernanceBody.id).where(GovernanceBody.key == key)) is not None:
                raise Conflict(f"a governance body with key `{key}` already exists", field="key")
            member_ids = {self._function(s, f).id for f in members or []}
            line_ids = {self._function(s, f).id for f in reports_to or []}
            position = (s.scalar(select(func.max(GovernanceBody.position))) or 0) + 1
            body = GovernanceBody(
                key=key, name=name, kind=kind, description=description, position=position
            )
            s.add(body)
            s.flush()
            s.add_all(GovernanceMember(body_id=body.id, function_id=i) for i in member_ids)
            s.add_all(ReportingLine(body_id=body.id, function_id=i) for i in line_ids)
        return key

    def remove_body(self, key: str) -> None:
        with self.ws.session() as s:
            row = s.scalars(select(GovernanceBody).where(GovernanceBody.key == key)).first()
            if row is None:
                raise NotFound(f"no governance body `{key}`", field="key")
            s.delete(row)


__all__ = ["Matrix", "Ownership"]
