"""Digital initiatives: jointly owned projects with a team, a status, dates, an origin and KPIs.

Reached as `workspace.initiatives`; the CLI and the HTTP API call the same methods. Seed 002:
projects work best when marketing and IT develop and resource them together, and the move is both
top-down (from the steering committee) and bottom-up (small teams starting small). So an
initiative has at least two owning functions, and the findings flag a customer-facing initiative
that lacks marketing or IT among its owners.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tandem.collaboration import kpis as _kpis
from tandem.db.models import (
    Function,
    Initiative,
    InitiativeMember,
    InitiativeOwner,
    Kpi,
    KpiValue,
    Person,
)
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound, Problem, TandemError
from tandem.ownership.catalogue import key_problem
from tandem.ownership.citations import Citation
from tandem.ownership.findings import SEVERITY_ORDER, Finding
from tandem.yamlfile import PathPart, YamlDocument

if TYPE_CHECKING:
    from tandem.workspace import Workspace

STATUSES: Final[tuple[str, ...]] = ("proposed", "active", "done", "stopped")
ORIGINS: Final[tuple[str, ...]] = ("top-down", "bottom-up")
MIN_OWNERS: Final = 2

JOINT_CITATION = Citation(
    "002",
    "Companies work best when marketing and IT have worked together to develop and resource a "
    "project to engage with customers digitally. It's no good having one in the lead, and the "
    "other involved later in the process.",
)
BOTH_WAYS_CITATION = Citation(
    "002",
    "the move needed to be both top-down, making digital central to the enterprise, and bottom "
    "up, starting small to build momentum and credibility with staff and customers alike.",
)


# -- values ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberInfo:
    name: str
    function: str
    role: str = ""
    in_ownership_model: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "function": self.function,
            "role": self.role,
            "person": self.in_ownership_model,
        }


@dataclass(frozen=True)
class KpiInfo:
    key: str
    name: str
    measure: str
    target: float
    direction: str
    baseline: float | None
    unit: str
    history: tuple[tuple[date, float, str], ...]
    progress: _kpis.Progress

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "measure": self.measure,
            "target": self.target,
            "direction": self.direction,
            "baseline": self.baseline,
            "unit": self.unit,
            "history": [{"date": d.isoformat(), "value": v, "note": n} for d, v, n in self.history],
            "progress": self.progress.to_dict(),
        }


@dataclass(frozen=True)
class InitiativeInfo:
    key: str
    title: str
    goal: str
    customer_facing: bool
    status: str
    origin: str
    start: date | None
    end: date | None
    owners: tuple[str, ...]
    members: tuple[MemberInfo, ...] = ()
    kpis: tuple[KpiInfo, ...] = ()

    @property
    def functions(self) -> tuple[str, ...]:
        """Owning functions, then the team members' functions, each once."""
        seen = dict.fromkeys(self.owners)
        seen.update(dict.fromkeys(m.function for m in self.members))
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "goal": self.goal,
            "customer_facing": self.customer_facing,
            "status": self.status,
            "origin": self.origin,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "owners": list(self.owners),
            "functions": list(self.functions),
            "members": [m.to_dict() for m in self.members],
            "kpis": [k.to_dict() for k in self.kpis],
        }


@dataclass(frozen=True)
class MemberSpec:
    """A team member to add: a person of the ownership model by name, or a name and a function."""

    name: str
    function: str | None = None
    role: str = ""

    @classmethod
    def parse(cls, text: str) -> MemberSpec:
        """`Name` (a person of the ownership model) or `Name=function-key`."""
        name, _, function = text.partition("=")
        return cls(name.strip(), function.strip() or None)


# -- validation --------------------------------------------------------------------------------
def _key(key: str, what: str = "initiative") -> str:
    key = key.strip()
    problem = key_problem(key)
    if problem:
        raise InvalidValue(f"invalid {what} key `{key}`: {problem}", field="key")
    return key


def _text(value: str, field: str, *, limit: int = 200, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidValue(f"{field} cannot be empty", field=field)
    if len(value) > limit:
        raise InvalidValue(f"{field} is too long (at most {limit} characters)", field=field)
    return value


def _choice(value: str, choices: Sequence[str], field: str) -> str:
    if value not in choices:
        raise InvalidValue(
            f"unknown {field} `{value}`", field=field, detail=f"use one of {', '.join(choices)}"
        )
    return value


def _dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidValue(
            f"the end date {end.isoformat()} is before the start date {start.isoformat()}",
            field="end",
        )


def _number(value: float, field: str) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidValue(f"{field} must be a finite number", field=field)
    return float(value)


# -- the service -------------------------------------------------------------------------------
class Initiatives:
    """Digital initiatives of a workspace."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace

    # reading
    def list(self, *, status: str | None = None) -> builtins.list[InitiativeInfo]:
        if status is not None:
            _choice(status, STATUSES, "status")
        with self.ws.session() as s:
            query = select(Initiative).options(*_loads()).order_by(Initiative.id)
            if status is not None:
                query = query.where(Initiative.status == status)
            rows = list(s.scalars(query))
            return [self._info(s, row) for row in rows]

    def participants(self) -> builtins.list[tuple[str, tuple[str, ...]]]:
        """Each initiative's key and the functions taking part (owners, then team members'),
        in two queries: what the couples network needs, without KPIs."""
        with self.ws.session() as s:
            keys = {fid: key for fid, key in s.execute(select(Function.id, Function.key))}
            rows = s.execute(
                select(Initiative.id, Initiative.key, InitiativeOwner.function_id)
                .join(InitiativeOwner, InitiativeOwner.initiative_id == Initiative.id)
                .order_by(Initiative.id, InitiativeOwner.position)
            ).all()
            members = s.execute(
                select(InitiativeMember.initiative_id, InitiativeMember.function_id).order_by(
                    InitiativeMember.initiative_id, InitiativeMember.id
                )
            ).all()
        out: dict[int, tuple[str, dict[str, None]]] = {}
        for iid, key, fid in rows:
            out.setdefault(iid, (key, {}))[1][keys[fid]] = None
        for iid, fid in members:
            if iid in out:
                out[iid][1][keys[fid]] = None
        return [(key, tuple(fns)) for key, fns in out.values()]

    def get(self, key: str) -> InitiativeInfo:
        with self.ws.session() as s:
            return self._info(s, self._row(s, key))

    def findings(
        self, initiatives: Iterable[InitiativeInfo] | None = None
    ) -> builtins.list[Finding]:
        items = list(self.list() if initiatives is None else initiatives)
        kinds = {f.key: f.kind for f in self.ws.ownership.model().functions}
        return evaluate(items, kinds)

    # writing
    def add(
        self,
        key: str,
        *,
        owners: Sequence[str],
        title: str | None = None,
        goal: str = "",
        customer_facing: bool = False,
        status: str = "proposed",
        origin: str = "top-down",
        start: date | None = None,
        end: date | None = None,
        members: Sequence[MemberSpec] = (),
    ) -> InitiativeInfo:
        key = _key(key)
        title = _text(title if title is not None else key, "title", required=True)
        goal = _text(goal, "goal", limit=2000)
        _choice(status, STATUSES, "status")
        _choice(origin, ORIGINS, "origin")
        _dates(start, end)
        with self.ws.session() as s:
            if s.scalar(select(Initiative.id).where(Initiative.key == key)) is not None:
                raise Conflict(f"an initiative `{key}` already exists", field="key")
            row = Initiative(
                key=key,
                title=title,
                goal=goal,
                customer_facing=customer_facing,
                status=status,
                origin=origin,
                start_date=start,
                end_date=end,
            )
            row.owners = _owners(s, owners)
            row.members = _members(s, members)
            s.add(row)
            try:
                s.flush()
            except IntegrityError:  # another process added the same key just now
                raise Conflict(f"an initiative `{key}` already exists", field="key") from None
            return self._info(s, row)

    def update(
        self,
        key: str,
        *,
        title: str | None = None,
        goal: str | None = None,
        owners: Sequence[str] | None = None,
        customer_facing: bool | None = None,
        status: str | None = None,
        origin: str | None = None,
        start: date | None = None,
        end: date | None = None,
        add_members: Sequence[MemberSpec] = (),
        remove_members: Sequence[str] = (),
    ) -> InitiativeInfo:
        with self.ws.session() as s:
            row = self._row(s, key)
            if title is not None:
                row.title = _text(title, "title", required=True)
            if goal is not None:
                row.goal = _text(goal, "goal", limit=2000)
            if customer_facing is not None:
                row.customer_facing = customer_facing
            if status is not None:
                row.status = _choice(status, STATUSES, "status")
            if origin is not None:
                row.origin = _choice(origin, ORIGINS, "origin")
            new_start = start if start is not None else row.start_date
            new_end = end if end is not None else row.end_date
            _dates(new_start, new_end)
            row.start_date, row.end_date = new_start, new_end
            if owners is not None:
                _replace_owners(row, _owners(s, owners))
            for name in remove_members:
                kept = [m for m in row.members if m.name != name.strip()]
                if len(kept) == len(row.members):
                    known = ", ".join(m.name for m in row.members) or "none"
                    raise NotFound(
                        f"{name} is not in the team of `{row.key}` (team: {known})",
                        field="member",
                    )
                row.members = kept
            if add_members:
                present = {m.name for m in row.members}
                added = _members(s, add_members)
                for m in added:
                    if m.name in present:
                        raise Conflict(f"{m.name} is already in the team of `{row.key}`")
                row.members = [*row.members, *added]
            s.flush()
            s.expire(row)
            return self._info(s, row)

    def remove(self, key: str) -> None:
        with self.ws.session() as s:
            s.delete(self._row(s, key))

    def add_kpi(
        self,
        initiative: str,
        key: str,
        *,
        target: float,
        name: str | None = None,
        measure: str = _kpis.MANUAL,
        direction: str = "at_least",
        baseline: float | None = None,
        unit: str = "",
    ) -> KpiInfo:
        key = _key(key, "KPI")
        name = _text(name if name is not None else key, "name", required=True)
        parsed = _kpis.parse_measure(measure)
        _choice(direction, _kpis.DIRECTIONS, "direction")
        target = _number(target, "target")
        if baseline is not None:
            baseline = _number(baseline, "baseline")
        unit = _text(unit, "unit", limit=32)
        _kpis.check_readable(self.ws, parsed)
        with self.ws.session() as s:
            row = self._row(s, initiative)
            if any(k.key == key for k in row.kpis):
                raise Conflict(f"`{row.key}` already has a KPI `{key}`", field="key")
            kpi = Kpi(
                key=key,
                name=name,
                measure=parsed.text,
                target=target,
                direction=direction,
                baseline=baseline,
                unit=unit,
            )
            row.kpis.append(kpi)
            s.flush()
            return self._kpi_info(kpi)

    def remove_kpi(self, initiative: str, key: str) -> None:
        with self.ws.session() as s:
            s.delete(self._kpi_row(s, initiative, key))

    def report(
        self,
        initiative: str,
        kpi: str,
        value: float,
        *,
        on: date | None = None,
        note: str = "",
    ) -> KpiInfo:
        """Record a value of a manual KPI (today unless `on` is given)."""
        value = _number(value, "value")
        note = _text(note, "note", limit=2000)
        with self.ws.session() as s:
            row = self._kpi_row(s, initiative, kpi)
            if row.measure != _kpis.MANUAL:
                raise InvalidValue(
                    f"KPI `{row.key}` is measured by Tandem ({row.measure}); only manual KPIs "
                    "take reported values",
                    field="kpi",
                )
            row.values.append(KpiValue(reported_on=on or date.today(), value=value, note=note))
            s.flush()
            s.expire(row, ["values"])
            return self._kpi_info(row)

    def import_file(self, path: str | Path) -> builtins.list[str]:
        """Add or replace the initiatives a YAML file lists (KPIs and history included), all or
        nothing; initiatives the file does not list are kept. Returns the keys imported."""
        doc = YamlDocument.read(Path(path), what="initiatives file")
        return self.import_document(doc)

    def import_document(self, doc: YamlDocument) -> builtins.list[str]:
        parsed = doc.validate(InitiativesFile, what="initiatives file")
        problems: builtins.list[Problem] = []
        seen: set[str] = set()
        for i, entry in enumerate(parsed.initiatives):
            if entry.key in seen:
                problems.append(
                    doc.problem(f"initiative `{entry.key}` is listed twice", ["initiatives", i])
                )
            seen.add(entry.key)
            for j, kpi in enumerate(entry.kpis):
                where: builtins.list[PathPart] = ["initiatives", i, "kpis", j, "measure"]
                try:
                    _kpis.check_readable(self.ws, _kpis.parse_measure(kpi.measure))
                except TandemError as exc:
                    problems.append(doc.problem(exc.message, where))
        with self.ws.session() as s:
            for i, entry in enumerate(parsed.initiatives):
                try:
                    self._replace_from_file(s, entry)
                except TandemError as exc:
                    field = exc.field or ""
                    parts: builtins.list[PathPart] = ["initiatives", i]
                    if field in InitiativeEntry.model_fields:
                        parts.append(field)
                    problems.append(doc.problem(exc.message, parts))
            if problems:
                raise InvalidInput(
                    f"{doc.source} is not a valid initiatives file ({len(problems)} problem"
                    f"{'s' if len(problems) != 1 else ''}); nothing was changed",
                    sorted(problems, key=lambda p: p.line or 0),
                    source=doc.source,
                )
        return [e.key for e in parsed.initiatives]

    def _replace_from_file(self, s: Session, entry: InitiativeEntry) -> None:
        key = _key(entry.key)
        _choice(entry.status, STATUSES, "status")
        _choice(entry.origin, ORIGINS, "origin")
        _dates(entry.start, entry.end)
        old = s.scalars(select(Initiative).where(Initiative.key == key)).first()
        if old is not None:
            s.delete(old)
            s.flush()
        row = Initiative(
            key=key,
            title=_text(entry.title or key, "title", required=True),
            goal=_text(entry.goal, "goal", limit=2000),
            customer_facing=entry.customer_facing,
            status=entry.status,
            origin=entry.origin,
            start_date=entry.start,
            end_date=entry.end,
        )
        row.owners = _owners(s, entry.owners)
        row.members = _members(s, [MemberSpec(m.name, m.function, m.role) for m in entry.team])
        kpi_keys: set[str] = set()
        for k in entry.kpis:
            kpi_key = _key(k.key, "KPI")
            if kpi_key in kpi_keys:
                raise Conflict(f"`{key}` lists KPI `{kpi_key}` twice", field="kpis")
            kpi_keys.add(kpi_key)
            _choice(k.direction, _kpis.DIRECTIONS, "direction")
            measure = _kpis.parse_measure(k.measure)
            if k.history and not measure.manual:
                raise InvalidValue(
                    f"KPI `{kpi_key}` is measured by Tandem ({measure.text}); only manual KPIs "
                    "have a history",
                    field="kpis",
                )
            row.kpis.append(
                Kpi(
                    key=kpi_key,
                    name=_text(k.name or kpi_key, "name", required=True),
                    measure=measure.text,
                    target=_number(k.target, "target"),
                    direction=k.direction,
                    baseline=None if k.baseline is None else _number(k.baseline, "baseline"),
                    unit=_text(k.unit, "unit", limit=32),
                    values=[
                        KpiValue(reported_on=h.date, value=_number(h.value, "value"), note=h.note)
                        for h in k.history
                    ],
                )
            )
        s.add(row)
        s.flush()

    def _row(self, s: Session, key: str) -> Initiative:
        row = s.scalars(
            select(Initiative).options(*_loads()).where(Initiative.key == key.strip())
        ).first()
        if row is None:
            known = ", ".join(s.scalars(select(Initiative.key).order_by(Initiative.id)))
            raise NotFound(f"no initiative `{key}` (known: {known or 'none'})", field="initiative")
        return row

    def _kpi_row(self, s: Session, initiative: str, key: str) -> Kpi:
        row = self._row(s, initiative)
        for kpi in row.kpis:
            if kpi.key == key.strip():
                return kpi
        known = ", ".join(k.key for k in row.kpis)
        raise NotFound(f"`{row.key}` has no KPI `{key}` (KPIs: {known or 'none'})", field="kpi")

    def _info(self, s: Session, row: Initiative) -> InitiativeInfo:
        keys = {fid: key for fid, key in s.execute(select(Function.id, Function.key))}
        return InitiativeInfo(
            key=row.key,
            title=row.title,
            goal=row.goal,
            customer_facing=row.customer_facing,
            status=row.status,
            origin=row.origin,
            start=row.start_date,
            end=row.end_date,
            owners=tuple(keys[o.function_id] for o in row.owners),
            members=tuple(
                MemberInfo(m.name, keys[m.function_id], m.role, m.person_id is not None)
                for m in row.members
            ),
            kpis=tuple(self._kpi_info(k) for k in row.kpis),
        )

    def _kpi_info(self, kpi: Kpi) -> KpiInfo:
        history = tuple((v.reported_on, v.value, v.note) for v in kpi.values)
        measure = _kpis.parse_measure(kpi.measure)
        if measure.manual:
            progress = _kpis.manual_progress(
                kpi.target, kpi.direction, kpi.baseline, [(d, v) for d, v, _ in history]
            )
        else:
            progress = _kpis.measured_progress(
                self.ws, measure, kpi.target, kpi.direction, kpi.baseline
            )
        return KpiInfo(
            kpi.key,
            kpi.name,
            kpi.measure,
            kpi.target,
            kpi.direction,
            kpi.baseline,
            kpi.unit,
            history,
            progress,
        )


def _loads() -> list[Any]:
    return [
        selectinload(Initiative.owners),
        selectinload(Initiative.members),
        selectinload(Initiative.kpis).selectinload(Kpi.values),
    ]


def _functions(s: Session) -> dict[str, Function]:
    return {f.key: f for f in s.scalars(select(Function).order_by(Function.position))}


def _unknown_function(key: str, functions: dict[str, Function], field: str) -> NotFound:
    return NotFound(f"no function `{key}` (known: {', '.join(functions) or 'none'})", field=field)


def _owners(s: Session, keys: Sequence[str]) -> list[InitiativeOwner]:
    functions = _functions(s)
    chosen = list(dict.fromkeys(k.strip() for k in keys if k.strip()))
    for key in chosen:
        if key not in functions:
            raise _unknown_function(key, functions, "owners")
    if len(chosen) < MIN_OWNERS:
        raise InvalidValue(
            f"an initiative needs at least {MIN_OWNERS} owning functions, got "
            f"{len(chosen)}{': ' + chosen[0] if chosen else ''}",
            field="owners",
            detail="digital initiatives are developed and resourced jointly (e.g. marketing and "
            "IT): give --owner twice or more",
        )
    return [InitiativeOwner(function_id=functions[k].id, position=i) for i, k in enumerate(chosen)]


def _replace_owners(row: Initiative, new: builtins.list[InitiativeOwner]) -> None:
    """Keep the owner rows that stay (same primary key), drop the others, add the new ones."""
    wanted = {o.function_id: o.position for o in new}
    for owner in list(row.owners):
        if owner.function_id in wanted:
            owner.position = wanted.pop(owner.function_id)
        else:
            row.owners.remove(owner)
    row.owners.extend(InitiativeOwner(function_id=f, position=p) for f, p in wanted.items())


def _members(s: Session, specs: Sequence[MemberSpec]) -> list[InitiativeMember]:
    functions = _functions(s)
    out: list[InitiativeMember] = []
    names: set[str] = set()
    for spec in specs:
        name = _text(spec.name, "member", required=True)
        if name in names:
            raise Conflict(f"{name} is listed twice in the team", field="member")
        names.add(name)
        people = list(s.scalars(select(Person).where(Person.name == name)))
        if spec.function is not None:
            fn = functions.get(spec.function)
            if fn is None:
                raise _unknown_function(spec.function, functions, "member")
            person = next((p for p in people if p.function_id == fn.id), None)
        elif len(people) == 1:
            person = people[0]
            fn = next(f for f in functions.values() if f.id == person.function_id)
        elif people:
            raise InvalidValue(
                f"{name} is a person in several functions",
                field="member",
                detail=f"say which: `{name}=FUNCTION`",
            )
        else:
            raise NotFound(
                f"{name} is not a person of the ownership model",
                field="member",
                detail=f"add them with `tandem people add`, or give their function: "
                f"`{name}=FUNCTION`",
            )
        out.append(
            InitiativeMember(
                name=name,
                function_id=fn.id,
                person_id=person.id if person else None,
                role=_text(spec.role, "role"),
            )
        )
    return out


# -- findings ----------------------------------------------------------------------------------
def _missing_marketing_or_it(item: InitiativeInfo, kinds: dict[str, str]) -> Finding | None:
    owner_kinds = {kinds.get(k) for k in item.owners}
    missing = [
        label
        for kind, label in (("marketing", "marketing"), ("it", "IT"))
        if kind not in owner_kinds
    ]
    if not item.customer_facing or not missing or item.status == "stopped":
        return None
    team_kinds = {kinds.get(m.function) for m in item.members}
    later = [
        label
        for kind, label in (("marketing", "marketing"), ("it", "IT"))
        if label in missing and kind in team_kinds
    ]
    where = (
        f" ({' and '.join(later)} {'is' if len(later) == 1 else 'are'} only in the team, "
        "brought in rather than owning)"
        if later
        else ""
    )
    return Finding(
        "initiative-without-marketing-and-it",
        "high" if len(missing) == 2 else "medium",
        f"Customer-facing initiative {item.title} is not owned by {' and '.join(missing)}",
        f"{item.title} engages customers digitally but {' and '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not among its owners "
        f"({', '.join(item.owners)}){where}. Marketing and IT should develop and resource it "
        "together from the start.",
        JOINT_CITATION,
        functions=item.owners,
    )


def evaluate(items: Sequence[InitiativeInfo], kinds: dict[str, str]) -> list[Finding]:
    """Initiative findings: joint ownership of customer-facing work; top-down and bottom-up."""
    found = [f for item in items if (f := _missing_marketing_or_it(item, kinds)) is not None]
    live = [i for i in items if i.status in ("proposed", "active")]
    origins = {i.origin for i in live}
    if len(live) >= 2 and len(origins) == 1:
        (only,) = origins
        other = "bottom-up" if only == "top-down" else "top-down"
        found.append(
            Finding(
                "initiatives-one-way",
                "low",
                f"Every live initiative is {only}",
                f"The {len(live)} proposed or active initiatives all come {only}; none comes "
                f"{other}. Change needs both: the steering committee making digital central, "
                "and small teams starting small.",
                BOTH_WAYS_CITATION,
            )
        )
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])


# -- the YAML file format ----------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryEntry(_Strict):
    date: date
    value: float
    note: str = ""


class KpiEntry(_Strict):
    key: str
    name: str | None = None
    target: float
    measure: str = _kpis.MANUAL
    direction: str = "at_least"
    baseline: float | None = None
    unit: str = ""
    history: list[HistoryEntry] = Field(default_factory=list)


class MemberEntry(_Strict):
    name: str
    function: str | None = None
    role: str = ""


class InitiativeEntry(_Strict):
    key: str
    title: str | None = None
    goal: str = ""
    owners: list[str]
    customer_facing: bool = False
    status: str = "proposed"
    origin: str = "top-down"
    start: date | None = None
    end: date | None = None
    team: list[MemberEntry] = Field(default_factory=list)
    kpis: list[KpiEntry] = Field(default_factory=list)


class InitiativesFile(_Strict):
    version: int = 1
    initiatives: list[InitiativeEntry]
