"""Campaigns: definitions, assignment into arms, exposures and results.

Reached as `workspace.campaigns`; the CLI and the HTTP API call the same methods. A campaign's
definition is metadata (one transaction); its assignments and exposures are lake tables written
in one Delta commit per call; outcomes and their summary statistics are computed by the query
engine, and only per-arm sums come to Python (`tandem.campaigns.metrics`).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake
from deltalake.exceptions import DeltaError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tandem.campaigns import assignment as assign_mod
from tandem.campaigns import metrics as m
from tandem.campaigns.definition import (
    CampaignDefinition,
    parse_definition,
    read_definition,
    time_problem,
)
from tandem.campaigns.stats import ArmSummary
from tandem.db.models import Campaign, CampaignOwner, Function
from tandem.errors import Conflict, InvalidValue, NotFound
from tandem.lake.locks import exclusive
from tandem.lake.schema import ASSIGNMENTS, ASSIGNMENTS_SCHEMA, EXPOSURES, EXPOSURES_SCHEMA
from tandem.lake.store import LakeFailure, sql_text
from tandem.times import as_utc
from tandem.yamlfile import YamlDocument

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.accounts import User
    from tandem.campaigns.results import CampaignResults
    from tandem.workspace import Workspace


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign as stored: its definition, owners and when it was created."""

    definition: CampaignDefinition
    created_at: datetime
    created_by: str | None = None
    warnings: tuple[str, ...] = ()
    """What `create` found worth saying (events never seen yet); empty when read back."""

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def owners(self) -> list[str]:
        return list(self.definition.owners)

    @property
    def arms(self) -> list[Any]:
        return list(self.definition.arms)

    @property
    def metrics(self) -> list[Any]:
        return list(self.definition.metrics)

    def to_dict(self, *, customers: bool = False) -> dict[str, Any]:
        """The definition as JSON; an explicit customer list is given as its size unless
        `customers` (it is customer data)."""
        data = self.definition.to_dict()
        if self.definition.customers is not None and not customers:
            data["customers"] = len(self.definition.customers)
        data["target"] = (
            {"segment": self.definition.segment}
            if self.definition.segment is not None
            else {"customers": len(self.definition.customers or [])}
        )
        data["created_at"] = self.created_at.isoformat()
        data["created_by"] = self.created_by
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


def _when(at: datetime | None) -> datetime:
    """An assignment time: `at` (checked to be in range) or now."""
    if at is None:
        return datetime.now(UTC)
    problem = time_problem(at)
    if problem:
        raise InvalidValue(f"the assignment time {problem}", field="at")
    return as_utc(at)


def _write(table: Any, data: pa.Table | pa.RecordBatchReader, what: str, **options: Any) -> None:
    try:
        write_deltalake(table, data, **options)
    except (DeltaError, OSError) as exc:
        raise LakeFailure(f"could not write the {what} table: {exc}") from None


class Campaigns:
    """Campaigns of one workspace (`workspace.campaigns`)."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    # -- definitions -------------------------------------------------------------------------
    def create(
        self,
        definition: Mapping[str, Any] | YamlDocument | Path | CampaignDefinition,
        *,
        user: User | None = None,
    ) -> CampaignInfo:
        """Validate and store a definition (a mapping, a YAML document or a file). Everything
        is checked before anything is written: the definition's own rules, the owning
        functions, the target segment or customers, and covariate traits. Events never seen in
        the lake are a warning, not an error: a campaign is often defined before its events
        start flowing."""
        if isinstance(definition, Path):
            d = read_definition(definition)
        elif isinstance(definition, CampaignDefinition):
            d = definition
        else:
            d = parse_definition(definition)
        warnings = self._check_workspace(d)
        with self.ws.session() as s:
            if s.scalar(select(Campaign.id).where(Campaign.name == d.name)) is not None:
                raise Conflict(f"a campaign `{d.name}` already exists", field="name")
            functions = {f.key: f.id for f in s.scalars(select(Function))}
            row = Campaign(
                name=d.name,
                description=d.description,
                channel=d.channel,
                segment=d.segment,
                customers=list(d.customers) if d.customers is not None else None,
                start_at=d.start,
                end_at=d.end,
                salt=d.effective_salt,
                arms=[a.model_dump() for a in d.arms],
                metrics=[x.model_dump(exclude_none=True) for x in d.metrics],
                exposures=[e.model_dump() for e in d.exposures],
                created_by=user.email if user is not None else None,
            )
            row.owners = [
                CampaignOwner(function_id=functions[k], position=i)
                for i, k in enumerate(dict.fromkeys(d.owners))
            ]
            s.add(row)
            try:
                s.flush()
            except IntegrityError:  # another process created the same name just now
                raise Conflict(f"a campaign `{d.name}` already exists", field="name") from None
            info = self._info(s, row)
        return CampaignInfo(info.definition, info.created_at, info.created_by, tuple(warnings))

    def _check_workspace(self, d: CampaignDefinition) -> list[str]:
        with self.ws.session() as s:
            functions = set(s.scalars(select(Function.key)))
        for i, owner in enumerate(d.owners):
            if owner not in functions:
                raise NotFound(
                    f"no function `{owner}` (known: {', '.join(sorted(functions)) or 'none'})",
                    field=f"owners[{i}]",
                )
        if d.segment is not None:
            try:
                self.ws.segments.get(d.segment)
            except NotFound:
                raise NotFound(f"no segment `{d.segment}`", field="segment") from None
        if d.customers is not None:
            self._check_customers(d.customers)
        for i, metric in enumerate(d.metrics):
            c = metric.covariate
            if c is not None and c.trait is not None:
                try:
                    _, kind = m.trait_value(self.ws.lake, c.trait)
                except InvalidValue as exc:
                    raise InvalidValue(
                        exc.message, field=f"metrics[{i}].covariate.trait", detail=exc.detail
                    ) from None
                if kind != "number":
                    raise InvalidValue(
                        f"covariate trait `{c.trait}` is not a number in the profiles",
                        field=f"metrics[{i}].covariate.trait",
                    )
        wanted = [x.event for x in d.metrics] + [e.event for e in d.exposures]
        known = self._known_events(sorted(set(wanted)))
        return [
            f"no event `{name}` is stored yet; the campaign counts it once it arrives"
            for name in dict.fromkeys(wanted)
            if name not in known
        ]

    def _check_customers(self, customers: builtins.list[str]) -> None:
        import ibis

        from tandem.customers.profiles import resolved
        from tandem.lake.schema import PROFILES

        lake = self.ws.lake
        if not resolved(lake):
            raise InvalidValue(
                "there are no profiles yet, so the customers cannot be checked",
                field="customers",
                detail="run `tandem resolve` first, or target a segment",
            )
        given = ibis.memtable(pa.table({"customer_id": pa.array(customers, pa.string())}))
        profiles = lake.raw(PROFILES)
        unknown = (
            given.anti_join(profiles, given.customer_id == profiles.customer_id)
            .order_by("customer_id")
            .limit(6)
            .to_pyarrow()["customer_id"]
            .to_pylist()
        )
        if unknown:
            shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            raise NotFound(f"unknown customers: {shown}", field="customers")

    def _known_events(self, names: builtins.list[str]) -> set[str]:
        from tandem.lake.schema import EVENTS

        raw = self.ws.lake.raw(EVENTS)
        rows = raw.filter(raw.event.isin(names)).select("event").distinct().to_pyarrow()
        return set(rows["event"].to_pylist())

    def get(self, name: str) -> CampaignInfo:
        with self.ws.session() as s:
            return self._info(s, self._row(s, name))

    def list(self) -> builtins.list[CampaignInfo]:
        with self.ws.session() as s:
            rows = s.scalars(
                select(Campaign)
                .options(selectinload(Campaign.owners).selectinload(CampaignOwner.function))
                .order_by(Campaign.name)
            )
            return [self._info(s, r) for r in rows]

    def _row(self, s: Session, name: str) -> Campaign:
        row = s.scalar(
            select(Campaign)
            .where(Campaign.name == name)
            .options(selectinload(Campaign.owners).selectinload(CampaignOwner.function))
        )
        if row is None:
            known = builtins.list(s.scalars(select(Campaign.name).order_by(Campaign.name)))
            raise NotFound(
                f"no campaign `{name}` (known: {', '.join(known[:20]) or 'none'})",
                field="name",
            )
        return row

    def _info(self, s: Session, row: Campaign) -> CampaignInfo:
        data: dict[str, Any] = {
            "name": row.name,
            "description": row.description,
            "channel": row.channel,
            "owners": [o.function.key for o in row.owners],
            "start": as_utc(row.start_at),
            "end": as_utc(row.end_at),
            "salt": row.salt,
            "arms": row.arms,
            "metrics": row.metrics,
            "exposures": row.exposures,
        }
        if row.segment is not None:
            data["segment"] = row.segment
        if row.customers is not None:
            data["customers"] = row.customers
        definition = CampaignDefinition.model_validate(data)
        return CampaignInfo(definition, as_utc(row.created_at), row.created_by)

    def definition(self, name: str) -> CampaignDefinition:
        return self.get(name).definition

    # -- assignment --------------------------------------------------------------------------
    def _target(self, d: CampaignDefinition) -> ir.Table:
        """The target's customer ids (distinct) as an engine table: the explicit customers, or
        the segment's members at its latest evaluation."""
        import ibis

        if d.customers is not None:
            # listed customers that still have a profile (a forgotten customer is not assigned
            # again)
            from tandem.lake.schema import PROFILES

            table = pa.table({"customer_id": pa.array(sorted(set(d.customers)), pa.string())})
            given = ibis.memtable(table)
            profiles = self.ws.lake.raw(PROFILES).select(_pcid="customer_id")
            return given.semi_join(profiles, given.customer_id == profiles._pcid)
        assert d.segment is not None
        members: ir.Table = self.ws.segments.members(d.segment)
        return members.select("customer_id").distinct()

    def _evaluate_segment(self, d: CampaignDefinition, *, evaluate: bool) -> None:
        """Evaluate the target segment when asked, or when it was never evaluated."""
        if d.segment is None:
            return
        if not evaluate:
            try:
                self.ws.segments.members(d.segment)
                return
            except NotFound:
                pass
        self.ws.segments.evaluate(d.segment)

    def assign(
        self, name: str, *, at: datetime | None = None, evaluate: bool = False
    ) -> assign_mod.AssignmentSummary:
        """Assign the target's customers to arms by the hash rule (tandem.campaigns.assignment),
        in the engine, in one commit. Customers already assigned keep their arm and assigned_at;
        new members (a segment that grew) are added at `at` (now by default). With `evaluate`,
        the target segment is evaluated first; otherwise its latest evaluation is used."""
        d = self.definition(name)
        self._evaluate_segment(d, evaluate=evaluate)
        with exclusive(self.ws.lake.path, "a campaign assignment"):
            return self._assign(d, at=at)

    def _assign(
        self, d: CampaignDefinition, *, at: datetime | None
    ) -> assign_mod.AssignmentSummary:
        import ibis

        when = _when(at)
        lake = self.ws.lake
        target = self._target(d)
        existing = m.assignments_of(lake, d.name).select(_have="customer_id")
        new = target.anti_join(existing, target.customer_id == existing._have)
        rows = assign_mod.hash_arms(new, d.effective_salt, d.arms).select(
            campaign=ibis.literal(d.name),
            customer_id="customer_id",
            arm="arm",
            assigned_at=ibis.literal(when, type="timestamp('UTC', 6)"),
            origin=ibis.literal("hash"),
            record_id=ibis.null("string"),
        )
        data = rows.to_pyarrow().cast(ASSIGNMENTS_SCHEMA)
        if data.num_rows:
            _write(lake.table(ASSIGNMENTS), data, "assignments", mode="append")
        added = dict(
            zip(
                *(
                    data.group_by("arm")
                    .aggregate([("customer_id", "count")])
                    .select(["arm", "customer_id_count"])
                    .columns
                ),
                strict=True,
            )
        )
        counts = self.assignment_counts(d)
        target_size = int(lake.con.to_pyarrow(target.count()).as_py())
        return assign_mod.AssignmentSummary(
            d.name,
            when,
            counts,
            {str(k.as_py()): int(v.as_py()) for k, v in added.items()},
            target_size,
        )

    def assignment_counts(self, d: CampaignDefinition) -> dict[str, int]:
        """Customers per arm, in the definition's order (0 for an empty arm)."""
        a = m.assignments_of(self.ws.lake, d.name)
        rows = a.group_by("arm").aggregate(n=a.count()).to_pyarrow().to_pylist()
        found = {r["arm"]: int(r["n"]) for r in rows}
        return {arm.name: found.get(arm.name, 0) for arm in d.arms}

    def assignments(self, name: str) -> ir.Table:
        """The campaign's assignments (customer_id, arm, assigned_at, origin, record_id)."""
        d = self.definition(name)
        return m.assignments_of(self.ws.lake, d.name).drop("campaign")

    def import_assignments(
        self, name: str, path: Path | pa.Table, *, at: datetime | None = None
    ) -> assign_mod.ImportSummary:
        """Assignments made elsewhere (an email tool's own hold-out), from a CSV or Parquet
        file (or a table) with `arm` and one customer column (customer_id, record_id,
        identifier, email, phone or user_id). Every row is accepted or rejected with a reason
        (unknown arm, unknown or ambiguous customer, the same customer with two arms, already
        assigned to another arm); accepted new customers are written in one commit with
        origin "import"."""
        d = self.definition(name)
        if isinstance(path, Path):
            rows, id_column = assign_mod.read_import_file(path)
        else:
            rows, id_column = assign_mod.rows_table(path, source="rows")
        with exclusive(self.ws.lake.path, "an assignment import"):
            return self._import(d, rows, id_column, at=at)

    def _import(
        self, d: CampaignDefinition, rows: pa.Table, id_column: str, *, at: datetime | None
    ) -> assign_mod.ImportSummary:
        when = _when(at)
        lake = self.ws.lake
        existing = m.assignments_of(lake, d.name).select("customer_id", "arm").to_pyarrow()
        new, rejections, accepted = assign_mod.resolve_rows(
            self.ws, rows, id_column, [a.name for a in d.arms], existing, when
        )
        if new.num_rows:
            data = pa.table(
                {
                    "campaign": pa.array([d.name] * new.num_rows, pa.string()),
                    "customer_id": new["customer_id"],
                    "arm": new["arm"],
                    "assigned_at": new["assigned_at"],
                    "origin": pa.array(["import"] * new.num_rows, pa.string()),
                    "record_id": new["record_id"],
                }
            ).cast(ASSIGNMENTS_SCHEMA)
            _write(lake.table(ASSIGNMENTS), data, "assignments", mode="append")
        return assign_mod.ImportSummary(
            d.name, rows.num_rows, accepted, new.num_rows, id_column, rejections
        )

    # -- exposures ---------------------------------------------------------------------------
    def record_exposures(self, name: str) -> dict[str, int]:
        """Record the campaign's exposures: events named in its `exposures` whose property
        `campaign` is the campaign's name, with the customer's arm (null when not assigned).
        One commit that replaces the campaign's exposures, so running it again is idempotent.
        Returns the number of exposures per kind."""
        d = self.definition(name)
        if not d.exposures:
            raise InvalidValue(
                f"campaign {d.name} lists no exposure events",
                field="exposures",
                detail="add e.g. `exposures: [{kind: sent, event: Email Sent}]` to the definition",
            )
        with exclusive(self.ws.lake.path, "recording exposures"):
            return self._record_exposures(d)

    def _record_exposures(self, d: CampaignDefinition) -> dict[str, int]:
        import ibis

        from tandem.customers.behaviour import customer_events

        lake = self.ws.lake
        kinds = {e.event: e.kind for e in d.exposures}
        events = customer_events(lake)
        campaign_of = m.json_text(events.properties, "campaign")
        found = events.filter(events.event.isin(builtins.list(kinds)), campaign_of == d.name)
        kind = ibis.cases(*((found.event == e, k) for e, k in kinds.items()))
        assigned = m.assignments_of(lake, d.name).select(_acid="customer_id", _arm="arm")
        joined = found.left_join(assigned, found.customer_id == assigned._acid)
        rows = joined.select(
            campaign=ibis.literal(d.name),
            customer_id=joined.customer_id,
            arm=joined._arm,
            kind=kind,
            exposed_at=joined.timestamp,
            source=joined.source,
            message_id=joined.message_id,
        )
        data = rows.to_pyarrow().cast(EXPOSURES_SCHEMA)
        _write(
            lake.table(EXPOSURES),
            data,
            "exposures",
            mode="overwrite",
            predicate=f"campaign = {sql_text(d.name)}",
        )
        counts = {e.kind: 0 for e in d.exposures}
        for k in data["kind"].to_pylist():
            counts[k] += 1
        return counts

    def exposure_counts(self, name: str) -> dict[str, dict[str, int]]:
        """arm -> kind -> distinct customers exposed ("(unassigned)" for customers exposed
        without an assignment)."""
        d = self.definition(name)
        raw = self.ws.lake.raw(EXPOSURES)
        rows = (
            raw.filter(raw.campaign == d.name)
            .group_by(arm=raw.arm.fill_null("(unassigned)"), kind=raw.kind)
            .aggregate(n=raw.customer_id.nunique())
            .to_pyarrow()
            .to_pylist()
        )
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["arm"], {})[r["kind"]] = int(r["n"])
        return out

    # -- metrics and results -----------------------------------------------------------------
    def outcomes(self, name: str, metric: str, *, exposed_only: bool = False) -> ir.Table:
        """One row per assigned customer: customer_id, arm, value (0 when no event in the
        window), covariate (null without one), assigned_at. The per-customer frame the uplift
        model uses; an engine expression (nothing is read until it is executed)."""
        d = self.definition(name)
        spec = d.metric(metric)
        frame = m.outcome_frame(self.ws.lake, d, [spec], exposed_only=exposed_only)
        return frame.select(
            "customer_id", "arm", value="v0", covariate="c0", assigned_at="assigned_at"
        )

    def summaries(
        self,
        name: str,
        metric: str,
        *,
        by: str | None = None,
        exposed_only: bool = False,
        **bucketing: Any,
    ) -> dict[tuple[str, str], ArmSummary]:
        """(arm, bucket) -> ArmSummary of one metric; the bucket is "all" without `by`."""
        d = self.definition(name)
        spec = d.metric(metric)
        sums, _ = self._sums(d, [spec], by=by, exposed_only=exposed_only, **bucketing)
        return sums[spec.name]

    def _sums(
        self,
        d: CampaignDefinition,
        metrics: builtins.list[Any],
        *,
        by: str | None,
        exposed_only: bool = False,
        **bucketing: Any,
    ) -> tuple[dict[str, dict[tuple[str, str], ArmSummary]], m.Buckets | None]:
        lake = self.ws.lake
        frame = m.outcome_frame(lake, d, metrics, exposed_only=exposed_only)
        buckets = None
        if by is not None:
            try:
                frame, buckets = m.bucketed(lake, frame, by, **bucketing)
            except InvalidValue as exc:
                raise InvalidValue(exc.message, field="by", detail=exc.detail) from None
        rows = m.summary_sums(frame, metrics, by_bucket=by is not None).to_pyarrow().to_pylist()
        return m.arm_summaries(rows, metrics, by_bucket=by is not None), buckets

    def results(
        self,
        name: str,
        *,
        by: str | None = None,
        sequential: bool = False,
        exposed_only: bool = False,
        alpha: float = 0.05,
        **bucketing: Any,
    ) -> CampaignResults:
        """Every treatment arm against control for every metric (Welch t, delta-method relative
        lift, CUPED, chance to beat control, optional always-valid intervals), the SRM check on
        the assignment counts, the exposures per arm; with `by`, the same per trait bucket."""
        from tandem.campaigns.results import build_results

        d = self.definition(name)
        overall, _ = self._sums(d, d.metrics, by=None, exposed_only=exposed_only)
        if exposed_only:
            counts = self.assignment_counts(d)
        else:  # the sums' n per arm are the assignment counts: no second pass
            first = overall[d.metrics[0].name]
            counts = {
                a.name: s.n if (s := first.get((a.name, m.ALL_BUCKET))) else 0 for a in d.arms
            }
        if sum(counts.values()) == 0:
            raise NotFound(
                f"campaign {d.name} has no assignments yet",
                field="name",
                detail=f"run `tandem campaign assign {d.name}` or import-assignments first",
            )
        split = None
        if by is not None:
            split = self._sums(d, d.metrics, by=by, exposed_only=exposed_only, **bucketing)
        return build_results(
            d,
            counts,
            overall,
            split,
            exposures=self.exposure_counts(d.name),
            sequential=sequential,
            exposed_only=exposed_only,
            alpha=alpha,
            min_bucket=int(bucketing.get("min_bucket", m.MIN_BUCKET)),
        )


__all__ = ["CampaignInfo", "Campaigns"]
