"""Anonymous pulse surveys on a workspace: the functions the CLI, the API and the web form call.

    ws.surveys.create("pulse-2026", "digital-pulse")
    ws.surveys.import_csv("pulse-2026", Path("answers.csv"))
    tokens = ws.surveys.invite("pulse-2026", 50)
    ws.surveys.submit(tokens[0], "marketing", "manager", {"right-people": 4})
    ws.surveys.results("pulse-2026", by="function")

A response keeps the respondent's function, optional seniority and answers; see
`tandem.db.models.surveys` for what is not stored and why, and `anonymity` for what results hide.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tandem.collaboration.anonymity import (
    DEFAULT_MIN_GROUP,
    GroupCounts,
    check_min_group,
    suppressed_groups,
)
from tandem.collaboration.stats import Share, wilson
from tandem.collaboration.templates import (
    AGREE,
    BUILT_IN,
    SCALE,
    VISION_BENCHMARK,
    VISION_KINDS,
    OptionSpec,
    TemplateSpec,
    benchmark_of,
    built_in,
    load_template,
    template_summary,
)
from tandem.db.models import Function, Survey, SurveyInvitation, SurveyResponse, utcnow
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound, Problem
from tandem.ownership.catalogue import key_problem, slugify

if TYPE_CHECKING:
    from tandem.workspace import Workspace

GroupBy = Literal["function", "seniority"]
NOT_GIVEN = "(not given)"
MAX_INVITATIONS = 10_000
MULTI_SEPARATORS = (";", "|", ",")
FORM_PATH = "/s/{token}"
"""Where the server's web form answers an invitation (tandem.server.pages.survey_form)."""
INVALID_INVITATION = (
    "this invitation link is not valid: it has been used already, or was not copied whole"
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FORM_PATH.format(token=token)


# -- what the façade returns ---------------------------------------------------------------------
@dataclass(frozen=True)
class SurveyInfo:
    name: str
    title: str
    template: str
    status: str
    min_group: int
    created: str
    closed: str | None
    respondents: int
    invitations: int
    invitations_used: int
    questions: list[dict[str, Any]] = field(default_factory=list)
    respondents_by_function: dict[str, int | None] = field(default_factory=dict)
    """Respondents per function; None where hidden (a small group, or one that would reveal
    a small group by subtraction from the total)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Form:
    """What the web form shows for an unused invitation."""

    survey: str
    title: str
    description: str
    functions: list[dict[str, str]]
    seniority: list[str]
    questions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImportSummary:
    survey: str
    rows: int
    accepted: int
    rejected: list[Problem]

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey": self.survey,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "problems": [p.to_dict() for p in self.rejected],
        }


@dataclass(frozen=True)
class Cell:
    """One group's (or the company's) figures for one question; `suppressed` says why none."""

    group: str | None
    n: int | None
    suppressed: str | None = None
    agree: Share | None = None
    options: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"group": self.group, "n": self.n, "suppressed": self.suppressed}
        if self.agree is not None:
            data["agree"] = self.agree.to_dict()
        if self.options is not None:
            data["options"] = self.options
        return data


@dataclass(frozen=True)
class QuestionResult:
    key: str
    text: str
    kind: str
    pair: list[str] | None
    benchmark: dict[str, Any] | None
    versus_benchmark: str | None
    overall: Cell
    groups: list[Cell]
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "kind": self.kind,
            "pair": self.pair,
            "evidence": self.evidence,
            "benchmark": self.benchmark,
            "versus_benchmark": self.versus_benchmark,
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(frozen=True)
class SurveyResults:
    survey: str
    title: str
    status: str
    min_group: int
    respondents: int
    by: str | None
    questions: list[QuestionResult]

    def question(self, key: str) -> QuestionResult:
        for q in self.questions:
            if q.key == key:
                return q
        raise NotFound(f"survey {self.survey} has no question `{key}`")

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey": self.survey,
            "title": self.title,
            "status": self.status,
            "min_group": self.min_group,
            "respondents": self.respondents,
            "by": self.by,
            "questions": [q.to_dict() for q in self.questions],
        }


@dataclass(frozen=True)
class PairRating:
    """How each side of a function pair rates working together (share agreeing, 4-5 of 5);
    None for a side whose group is hidden for anonymity or has no answers."""

    survey: str
    question: str
    text: str
    pair: tuple[str, str]
    shares: dict[str, float | None]
    respondents: dict[str, int | None]
    benchmark_percent: int | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pair"] = list(self.pair)
        return data


# -- the façade --------------------------------------------------------------------------------
class Surveys:
    """Pulse surveys: templates, creation, invitations, collection, results."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace

    # templates
    @staticmethod
    def templates() -> list[dict[str, Any]]:
        return [template_summary(built_in(key)) for key in BUILT_IN]

    # surveys
    def create(
        self,
        name: str,
        template: str | TemplateSpec = "digital-pulse",
        *,
        title: str | None = None,
        min_group: int = DEFAULT_MIN_GROUP,
    ) -> SurveyInfo:
        """Create an open survey from a built-in template key, a YAML path or a parsed spec."""
        problem = key_problem(name)
        if problem:
            raise InvalidValue(f"invalid survey name: {problem}", field="name")
        check_min_group(min_group)
        spec = template if isinstance(template, TemplateSpec) else load_template(template)
        with self.ws.session() as s:
            if s.scalar(select(Survey.id).where(Survey.name == name)) is not None:
                raise Conflict(f"a survey named {name} already exists")
            functions = _functions(s)
            definition = _definition(spec, functions)
            s.add(
                Survey(
                    name=name,
                    title=(title or "").strip() or spec.title,
                    template=spec.key,
                    definition=definition,
                    min_group=min_group,
                    status="open",
                )
            )
        return self.show(name)

    def all(self) -> list[SurveyInfo]:
        with self.ws.session() as s:
            names = s.scalars(select(Survey.name).order_by(Survey.created_at, Survey.id)).all()
        return [self.show(n, details=False) for n in names]

    def show(self, name: str, *, details: bool = True) -> SurveyInfo:
        with self.ws.session() as s:
            survey = _survey(s, name)
            by_function = dict(
                s.execute(
                    select(SurveyResponse.function, func.count())
                    .where(SurveyResponse.survey_id == survey.id)
                    .group_by(SurveyResponse.function)
                ).all()
            )
            unused = s.scalar(select(func.count()).where(SurveyInvitation.survey_id == survey.id))
            order = {key: i for i, key in enumerate(_functions(s))}
        # Counts of respondents get the same protection as answers: no small group's count
        # can be worked out from the total.
        hidden = suppressed_groups(
            {fn: GroupCounts(n, []) for fn, n in by_function.items()}, survey.min_group
        )
        counts = {
            fn: (None if fn in hidden else n)
            for fn, n in sorted(by_function.items(), key=lambda kv: order.get(kv[0], 999))
        }
        return SurveyInfo(
            name=survey.name,
            title=survey.title,
            template=survey.template,
            status=survey.status,
            min_group=survey.min_group,
            created=survey.created_at.date().isoformat(),
            closed=survey.closed_at.date().isoformat() if survey.closed_at else None,
            respondents=sum(by_function.values()),
            invitations=survey.invitations_issued,
            invitations_used=survey.invitations_issued - (unused or 0),
            questions=survey.definition["questions"] if details else [],
            respondents_by_function=counts if details else {},
        )

    def close(self, name: str) -> SurveyInfo:
        """Close a survey: no more answers; unused invitations stop working."""
        with self.ws.session() as s:
            survey = _survey(s, name)
            if survey.status == "closed":
                raise Conflict(f"survey {name} is already closed")
            survey.status = "closed"
            survey.closed_at = utcnow()
        return self.show(name)

    # invitations and the web form
    def invite(self, name: str, count: int) -> list[str]:
        """Issue `count` single-use invitation tokens; only their hashes are stored."""
        if not 1 <= count <= MAX_INVITATIONS:
            raise InvalidValue(
                f"count must be between 1 and {MAX_INVITATIONS:,} (got {count})", field="count"
            )
        tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        with self.ws.session() as s:
            survey = _open_survey(s, name)
            s.add_all(
                SurveyInvitation(token_hash=hash_token(t), survey_id=survey.id) for t in tokens
            )
            survey.invitations_issued += count
        return tokens

    def form(self, token: str) -> Form:
        """The questions an unused invitation opens."""
        with self.ws.session() as s:
            survey = _invitation_survey(s, token)
            functions = _functions(s)
        definition = survey.definition
        return Form(
            survey=survey.name,
            title=survey.title,
            description=definition.get("description", ""),
            functions=[{"key": k, "name": v["name"]} for k, v in functions.items()],
            seniority=list(definition["seniority"]),
            questions=definition["questions"],
        )

    def submit(
        self,
        token: str,
        function: str,
        seniority: str | None,
        answers: Mapping[str, Any],
    ) -> None:
        """Validate one response, use up the invitation (its row is deleted) and store the
        response, all in one transaction. Nothing links the response to the invitation."""
        with self.ws.session() as s:
            survey = _invitation_survey(s, token)
            clean, problems = _validate(
                survey.definition, _functions(s), function, seniority, answers
            )
            if problems:
                raise InvalidInput(
                    f"the answers to survey {survey.name} have {len(problems)} problem"
                    f"{'s' if len(problems) != 1 else ''}; nothing was recorded",
                    problems,
                )
            used = s.execute(
                delete(SurveyInvitation).where(SurveyInvitation.token_hash == hash_token(token))
            )
            if getattr(used, "rowcount", 0) != 1:  # another request used it meanwhile
                raise NotFound(INVALID_INVITATION)
            s.add(_response(survey.id, clean))

    # bulk collection
    def import_csv(
        self, name: str, path: Path | str, *, skip_invalid: bool = False
    ) -> ImportSummary:
        """Import responses from a CSV file (columns: function, seniority, one per question key).

        All or nothing by default: one bad row and nothing is imported, every problem listed.
        With `skip_invalid` the good rows are imported and each bad row is reported.
        """
        path = Path(path)
        text = _read_text(path)
        return self.import_text(name, text, source=str(path), skip_invalid=skip_invalid)

    def import_text(
        self, name: str, text: str, *, source: str = "<csv>", skip_invalid: bool = False
    ) -> ImportSummary:
        with self.ws.session() as s:
            survey = _open_survey(s, name)
            functions = _functions(s)
            rows, problems, clean = _parse_csv(text, survey.definition, functions, source)
            if rows == 0:
                raise InvalidInput(f"{source} has a header but no rows", [], source=source)
            if problems and not skip_invalid:
                bad_rows = len({p.line for p in problems})
                raise InvalidInput(
                    f"{source}: {bad_rows} of {rows} rows {'has' if bad_rows == 1 else 'have'} "
                    "problems; nothing was imported (fix them, or use --skip-invalid)",
                    problems,
                    source=source,
                )
            s.add_all(_response(survey.id, answers) for answers in clean)
        rejected = _one_problem_per_row(problems)
        return ImportSummary(survey=name, rows=rows, accepted=len(clean), rejected=rejected)

    # results
    def results(self, name: str, by: GroupBy | str | None = None) -> SurveyResults:
        """Per question: n, share agreeing (Wilson 95%) or share per option, the Forrester figure
        beside it; with `by`, per function or seniority, small groups hidden (see anonymity)."""
        if by not in (None, "function", "seniority"):
            raise InvalidValue(
                f"cannot break results down by `{by}`",
                field="by",
                detail="use function or seniority",
            )
        with self.ws.session() as s:
            survey = _survey(s, name)
            responses = _responses(s, survey.id)
            order = list(_functions(s))
        definition = survey.definition
        if by == "seniority":
            order = [*definition["seniority"], NOT_GIVEN]
        questions = [
            _question_result(q, responses, by, order, survey.min_group)
            for q in definition["questions"]
        ]
        return SurveyResults(
            survey=survey.name,
            title=survey.title,
            status=survey.status,
            min_group=survey.min_group,
            respondents=len(responses),
            by=by,
            questions=questions,
        )

    # for the couples network
    def works_with_evidence(self, survey: str | None = None) -> dict[tuple[str, str], int]:
        """Function pairs (sorted keys) -> respondents naming the other function in the "which
        functions do you work with" question, from groups shown in the results only."""
        name = survey or self._latest()
        if name is None:
            return {}
        results = self.results(name, by="function")
        evidence: dict[tuple[str, str], int] = {}
        for q in results.questions:
            if q.evidence != "works_with":
                continue
            for cell in q.groups:
                if cell.suppressed or not cell.n or cell.group is None or not cell.options:
                    continue
                for option in cell.options:
                    other = option["key"]
                    if other == cell.group or not option["count"]:
                        continue
                    pair = (min(cell.group, other), max(cell.group, other))
                    evidence[pair] = evidence.get(pair, 0) + int(option["count"])
        return dict(sorted(evidence.items()))

    def works_with_counted(self, survey: str | None = None) -> list[str]:
        """The functions whose answers `works_with_evidence` counts; a pair missing from the
        evidence where one side is not listed here is unknown (hidden), not "never meets"."""
        name = survey or self._latest()
        if name is None:
            return []
        results = self.results(name, by="function")
        return [
            str(cell.group)
            for q in results.questions
            if q.evidence == "works_with"
            for cell in q.groups
            if not cell.suppressed and cell.n
        ]

    def pair_ratings(self, survey: str | None = None) -> list[PairRating]:
        """For each agreement question about a pair of functions: each side's share agreeing."""
        name = survey or self._latest()
        if name is None:
            return []
        results = self.results(name, by="function")
        ratings = []
        for q in results.questions:
            if q.pair is None:
                continue
            a, b = q.pair
            cells = {c.group: c for c in q.groups}
            shares: dict[str, float | None] = {}
            counts: dict[str, int | None] = {}
            for side in (a, b):
                cell = cells.get(side)
                ok = cell is not None and not cell.suppressed and cell.agree is not None
                shares[side] = cell.agree.share if ok and cell and cell.agree else None
                counts[side] = cell.n if ok and cell else None
            ratings.append(
                PairRating(
                    survey=name,
                    question=q.key,
                    text=q.text,
                    pair=(a, b),
                    shares=shares,
                    respondents=counts,
                    benchmark_percent=q.benchmark.get("percent") if q.benchmark else None,
                )
            )
        return ratings

    def _latest(self) -> str | None:
        with self.ws.session() as s:
            return s.scalar(
                select(Survey.name).order_by(Survey.created_at.desc(), Survey.id.desc()).limit(1)
            )


# -- helpers: surveys and functions --------------------------------------------------------------
def _survey(s: Session, name: str) -> Survey:
    survey = s.scalar(select(Survey).where(Survey.name == name))
    if survey is None:
        known = s.scalars(select(Survey.name).order_by(Survey.name)).all()
        raise NotFound(
            f"no survey named {name}",
            detail=f"surveys: {', '.join(known)}"
            if known
            else "create one with `tandem survey create NAME --template digital-pulse`",
        )
    return survey


def _open_survey(s: Session, name: str) -> Survey:
    survey = _survey(s, name)
    if survey.status != "open":
        raise Conflict(f"survey {name} is closed; it takes no more responses")
    return survey


def _invitation_survey(s: Session, token: str) -> Survey:
    invitation = s.get(SurveyInvitation, hash_token(token)) if token else None
    if invitation is None:
        raise NotFound(INVALID_INVITATION, detail="each link answers once")
    survey = s.get(Survey, invitation.survey_id)
    assert survey is not None
    if survey.status != "open":
        raise Conflict(f"survey {survey.title} is closed; it takes no more responses")
    return survey


def _functions(s: Session) -> dict[str, dict[str, str]]:
    rows = s.execute(
        select(Function.key, Function.name, Function.kind).order_by(Function.position, Function.key)
    ).all()
    return {key: {"name": name, "kind": kind} for key, name, kind in rows}


def _definition(spec: TemplateSpec, functions: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The template as stored with the survey, its `functions` options resolved now, so later
    changes to the catalogue do not change a survey's questions."""
    questions = []
    problems = []
    for i, q in enumerate(spec.questions):
        options: list[dict[str, str]] | None = None
        if q.options == "functions":
            options = [
                {"key": k, "label": v["name"], "kind": v["kind"]} for k, v in functions.items()
            ]
        elif isinstance(q.options, list):
            options = [
                {"key": o.key, "label": o.label}
                if isinstance(o, OptionSpec)
                else {"key": slugify(o), "label": o}
                for o in q.options
            ]
        for fn in q.pair or []:
            if fn not in functions:
                problems.append(
                    Problem(
                        f"function `{fn}` is not in this workspace (functions: "
                        f"{', '.join(functions)})",
                        field=f"questions[{i}].pair",
                    )
                )
        questions.append(
            {
                "key": q.key,
                "text": q.text,
                "kind": q.kind,
                "options": options,
                "options_from": "functions" if q.options == "functions" else None,
                "benchmark": q.benchmark,
                "pair": q.pair,
                "evidence": q.evidence,
            }
        )
    if problems:
        raise InvalidInput(
            f"template {spec.key} does not fit this workspace; nothing was created",
            problems,
            source=spec.key,
        )
    return {
        "key": spec.key,
        "title": spec.title,
        "description": spec.description.strip(),
        "seniority": list(spec.seniority),
        "questions": questions,
    }


def _response(survey_id: int, clean: Mapping[str, Any]) -> SurveyResponse:
    return SurveyResponse(
        id=secrets.token_hex(16),
        survey_id=survey_id,
        function=clean["function"],
        seniority=clean["seniority"],
        answers=clean["answers"],
    )


# -- helpers: validating answers -----------------------------------------------------------------
def _validate(
    definition: Mapping[str, Any],
    functions: Mapping[str, Any],
    function: str | None,
    seniority: str | None,
    answers: Mapping[str, Any],
    *,
    line: int | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Clean answers (`{"function", "seniority", "answers"}`) and the problems found."""
    problems: list[Problem] = []

    def problem(message: str, column: str) -> None:
        problems.append(Problem(message, field=column, line=line))

    function = (function or "").strip()
    if not function:
        problem("the respondent's function is missing", "function")
    elif function not in functions:
        problem(f"unknown function `{function}` (functions: {', '.join(functions)})", "function")
    seniority = (seniority or "").strip() or None
    levels = definition["seniority"]
    if seniority is not None and seniority not in levels:
        problem(
            f"unknown seniority `{seniority}` (levels: {', '.join(levels)}, or leave it empty)",
            "seniority",
        )
    questions = {q["key"]: q for q in definition["questions"]}
    for key in answers:
        if key not in questions:
            problem(f"no question `{key}` in this survey", key)
    clean: dict[str, Any] = {}
    for key, q in questions.items():
        raw = answers.get(key)
        if _blank(raw):
            continue
        value, message = _answer(q, raw)
        if message:
            problem(message, key)
        else:
            clean[key] = value
    if not problems and not clean:
        problems.append(Problem("no question is answered", line=line))
    return {"function": function, "seniority": seniority, "answers": clean}, problems


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _answer(q: Mapping[str, Any], raw: Any) -> tuple[Any, str | None]:
    if q["kind"] == "agreement":
        text = str(raw).strip()
        if isinstance(raw, bool) or text not in {str(v) for v in SCALE}:
            return None, f"`{raw}` is not on the 5-point scale (a whole number from 1 to 5)"
        return int(text), None
    options = q["options"]
    if q["kind"] == "single_choice":
        if not isinstance(raw, str):
            return None, "expected one option"
        key = _option(options, raw)
        return (key, None) if key else (None, _unknown_option(raw, options))
    items = raw if isinstance(raw, list) else _split(str(raw))
    chosen: list[str] = []
    for item in items:
        key = _option(options, str(item))
        if key is None:
            return None, _unknown_option(str(item), options)
        if key not in chosen:
            chosen.append(key)
    return chosen, None


def _split(text: str) -> list[str]:
    for sep in MULTI_SEPARATORS:
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text.strip()]


def _option(options: Iterable[Mapping[str, str]], raw: str) -> str | None:
    text = raw.strip()
    for o in options:
        if text == o["key"] or text.casefold() == o["label"].casefold():
            return o["key"]
    return None


def _unknown_option(raw: str, options: Iterable[Mapping[str, str]]) -> str:
    return f"unknown option `{raw}` (options: {', '.join(o['key'] for o in options)})"


# -- helpers: CSV ---------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidValue(f"file not found: {path}", field="file") from None
    except IsADirectoryError:
        raise InvalidValue(f"{path} is a folder, not a CSV file", field="file") from None
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}", field="file") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"{path} is not UTF-8 text",
            [Problem(f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", line=line)],
            source=str(path),
        ) from None


def _parse_csv(
    text: str, definition: Mapping[str, Any], functions: Mapping[str, Any], source: str
) -> tuple[int, list[Problem], list[dict[str, Any]]]:
    """(data rows, problems, clean responses); a problem's `line` is the file line of its row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InvalidInput(f"{source} is empty", [], source=source) from None
    except csv.Error as exc:
        raise InvalidInput(
            f"{source} is not valid CSV", [Problem(str(exc), line=1)], source=source
        ) from None
    keys = {q["key"] for q in definition["questions"]}
    header_problems = []
    if "function" not in header:
        header_problems.append(Problem("missing column `function`", line=1))
    for col in header:
        if col not in keys and col not in ("function", "seniority"):
            header_problems.append(
                Problem(
                    f"unknown column `{col}` (columns: function, seniority, "
                    f"{', '.join(q['key'] for q in definition['questions'])})",
                    field=col or "(empty)",
                    line=1,
                )
            )
    if len(set(header)) != len(header):
        header_problems.append(Problem("a column name appears twice", line=1))
    if header_problems:
        raise InvalidInput(
            f"{source} has a bad header row; nothing was imported", header_problems, source=source
        )
    rows = 0
    problems: list[Problem] = []
    clean: list[dict[str, Any]] = []
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the rest of the file cannot be read row by row
            raise InvalidInput(
                f"{source} is not valid CSV; nothing was imported",
                [Problem(str(exc), line=reader.line_num)],
                source=source,
            ) from None
        row_line = line + 1
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        rows += 1
        if len(cells) != len(header):
            problems.append(
                Problem(f"has {len(cells)} cells, the header has {len(header)}", line=row_line)
            )
            continue
        values = dict(zip(header, cells, strict=True))
        answers = {k: v for k, v in values.items() if k in keys}
        result, row_problems = _validate(
            definition,
            functions,
            values.get("function"),
            values.get("seniority"),
            answers,
            line=row_line,
        )
        if row_problems:
            problems.extend(row_problems)
        else:
            clean.append(result)
    return rows, problems, clean


def _one_problem_per_row(problems: list[Problem]) -> list[Problem]:
    """The rejected rows, one entry each (all of a row's problems joined)."""
    by_line: dict[int | None, list[Problem]] = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(p)
    return [
        Problem(
            "; ".join(f"column `{p.field}`: {p.message}" if p.field else p.message for p in ps),
            line=line,
        )
        for line, ps in by_line.items()
    ]


# -- helpers: results -----------------------------------------------------------------------------
def _responses(s: Session, survey_id: int) -> list[tuple[str, str | None, dict[str, Any]]]:
    rows = s.execute(
        select(SurveyResponse.function, SurveyResponse.seniority, SurveyResponse.answers)
        .where(SurveyResponse.survey_id == survey_id)
        .order_by(SurveyResponse.id)
    ).all()
    return [(fn, sen, answers) for fn, sen, answers in rows]


def _counts(q: Mapping[str, Any], answers: list[Any]) -> GroupCounts:
    if q["kind"] == "agreement":
        return GroupCounts(len(answers), [sum(1 for a in answers if a in AGREE)])
    keys = [o["key"] for o in q["options"]]
    counts = [0] * len(keys)
    for a in answers:
        chosen = a if isinstance(a, list) else [a]
        for key in chosen:
            if key in keys:
                counts[keys.index(key)] += 1
    return GroupCounts(len(answers), counts)


def _cell(q: Mapping[str, Any], group: str | None, counts: GroupCounts) -> Cell:
    if counts.n == 0:
        return Cell(group, 0)
    if q["kind"] == "agreement":
        return Cell(group, counts.n, agree=wilson(counts.counts[0], counts.n))
    options = []
    for o, k in zip(q["options"], counts.counts, strict=True):
        share = wilson(k, counts.n)
        entry: dict[str, Any] = {"key": o["key"], "label": o["label"], "count": k}
        if "kind" in o:
            entry["kind"] = o["kind"]
        entry.update({key: v for key, v in share.to_dict().items() if key not in ("k", "n")})
        options.append(entry)
    return Cell(group, counts.n, options=options)


def _hidden(group: str | None, reason: str, min_group: int) -> Cell:
    why = (
        f"fewer than {min_group} respondents"
        if reason == "small"
        else "hidden so a smaller group cannot be worked out by subtraction"
    )
    return Cell(group, None, suppressed=why)


def _question_result(
    q: Mapping[str, Any],
    responses: list[tuple[str, str | None, dict[str, Any]]],
    by: str | None,
    order: list[str],
    min_group: int,
) -> QuestionResult:
    key = q["key"]
    grouped: dict[str, list[Any]] = {}
    everyone: list[Any] = []
    for fn, sen, answers in responses:
        if key not in answers:
            continue
        everyone.append(answers[key])
        if by is not None:
            group = fn if by == "function" else (sen or NOT_GIVEN)
            grouped.setdefault(group, []).append(answers[key])
    overall_counts = _counts(q, everyone)
    if 0 < overall_counts.n < min_group:
        overall = _hidden(None, "small", min_group)
    else:
        overall = _cell(q, None, overall_counts)
    groups: list[Cell] = []
    if by is not None:
        counts = {g: _counts(q, a) for g, a in grouped.items()}
        hidden = suppressed_groups(counts, min_group)
        rank = {g: i for i, g in enumerate(order)}
        for g in sorted(counts, key=lambda g: (rank.get(g, len(rank)), g)):
            if g in hidden:
                groups.append(_hidden(g, hidden[g], min_group))
            else:
                groups.append(_cell(q, g, counts[g]))
    benchmark = benchmark_of(q["benchmark"]) if q.get("benchmark") else None
    if benchmark and q["kind"] == "single_choice" and overall.options is not None:
        _vision_beside(overall, benchmark)
    return QuestionResult(
        key=key,
        text=q["text"],
        kind=q["kind"],
        pair=q.get("pair"),
        benchmark=benchmark,
        versus_benchmark=_versus(overall, benchmark),
        overall=overall,
        groups=groups,
        evidence=q.get("evidence"),
    )


def _vision_beside(overall: Cell, benchmark: dict[str, Any]) -> None:
    """Put the survey's CEO / CMO / CIO figure beside each option of that function kind."""
    if benchmark["key"] != VISION_BENCHMARK or overall.options is None:
        return
    kinds = benchmark["by_kind"]
    for option in overall.options:
        kind = option.get("kind")
        if kind is None:
            continue
        option["benchmark_percent"] = kinds.get(kind)
        option["benchmark_role"] = VISION_KINDS.get(kind)


def _versus(overall: Cell, benchmark: dict[str, Any] | None) -> str | None:
    """above / below when the 95% interval excludes the benchmark figure, else level."""
    if benchmark is None or overall.agree is None or "percent" not in benchmark:
        return None
    figure = benchmark["percent"] / 100
    if overall.agree.low > figure:
        return "above"
    if overall.agree.high < figure:
        return "below"
    return "level"
