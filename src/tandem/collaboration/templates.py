"""Survey templates: YAML files of questions, validated with line numbers.

A template lists questions, each with a `key`, a `text` and a `kind`:

- `agreement`: a statement answered on a 5-point scale (1 strongly disagree ... 5 strongly agree);
  4 and 5 count as agreeing. It may name a `pair` of functions (`[it, marketing]`) when it asks how
  well two functions work together, and a Forrester figure (`benchmark`) to compare with.
- `single_choice` / `multiple_choice`: one or several of `options`, either `functions` (the
  workspace's functions when the survey is created) or a list of options. A multiple choice of
  functions marked `evidence: works_with` is the "which functions do you work with" question the
  couples network reads.

The built-in template `digital-pulse` mirrors the survey behind the seeds' figures.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tandem.errors import InvalidValue, NotFound
from tandem.ownership.benchmark import figures
from tandem.ownership.catalogue import key_problem, slugify
from tandem.yamlfile import YamlDocument

BUILT_IN = ("digital-pulse",)
DEFAULT_SENIORITY = ("staff", "manager", "director", "executive")
SCALE = (1, 2, 3, 4, 5)
AGREE = (4, 5)
VISION_BENCHMARK = "vision_setter"
VISION_KINDS = {"executive": "CEO", "marketing": "CMO", "it": "CIO"}

QuestionKind = Literal["agreement", "single_choice", "multiple_choice"]


def _key(value: str) -> str:
    problem = key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class OptionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str

    _check_key = field_validator("key")(_key)


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    text: str = Field(min_length=1, max_length=500)
    kind: QuestionKind
    options: Literal["functions"] | list[OptionSpec | str] | None = None
    benchmark: str | None = None
    pair: list[str] | None = None
    evidence: Literal["works_with"] | None = None

    _check_key = field_validator("key")(_key)

    @field_validator("pair")
    @classmethod
    def _pair(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) != 2 or value[0] == value[1]:
            raise ValueError("a pair names two different functions, e.g. [it, marketing]")
        for key in value:
            _key(key)
        return sorted(value)

    @model_validator(mode="after")
    def _coherent(self) -> QuestionSpec:
        choice = self.kind != "agreement"
        if choice and self.options is None:
            raise ValueError(f"a {self.kind} question needs `options` (a list, or `functions`)")
        if not choice and self.options is not None:
            raise ValueError("an agreement question has no `options` (it uses the 5-point scale)")
        if self.pair is not None and choice:
            raise ValueError("only an agreement question can name a `pair` of functions")
        if self.evidence == "works_with" and not (
            self.kind == "multiple_choice" and self.options == "functions"
        ):
            raise ValueError("`evidence: works_with` needs a multiple_choice of `functions`")
        if isinstance(self.options, list):
            keys = [_option_key(o) for o in self.options]
            if not keys:
                raise ValueError("`options` cannot be empty")
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"options repeat {', '.join(dupes)}")
        if self.benchmark is not None:
            _check_benchmark(self)
        return self


def _option_key(option: OptionSpec | str) -> str:
    return option.key if isinstance(option, OptionSpec) else slugify(option)


def _check_benchmark(question: QuestionSpec) -> None:
    figs = figures()
    if question.benchmark == VISION_BENCHMARK:
        if not (question.kind == "single_choice" and question.options == "functions"):
            raise ValueError(f"benchmark `{VISION_BENCHMARK}` needs a single_choice of `functions`")
        return
    if question.benchmark not in figs.organisation:
        known = ", ".join([VISION_BENCHMARK, *figs.organisation])
        raise ValueError(f"unknown benchmark `{question.benchmark}` (known: {known})")
    if question.kind != "agreement":
        raise ValueError("a share-agreeing benchmark needs an agreement question")


class TemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    seniority: list[str] = Field(default_factory=lambda: list(DEFAULT_SENIORITY))
    questions: list[QuestionSpec] = Field(min_length=1, max_length=100)

    _check_key = field_validator("key")(_key)

    @field_validator("seniority")
    @classmethod
    def _seniority(cls, value: list[str]) -> list[str]:
        for level in value:
            _key(level)
        if len(set(value)) != len(value):
            raise ValueError("seniority levels repeat")
        return value

    @model_validator(mode="after")
    def _unique_keys(self) -> TemplateSpec:
        keys = [q.key for q in self.questions]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"question keys repeat: {', '.join(dupes)}")
        reserved = {"function", "seniority"} & set(keys)
        if reserved:
            raise ValueError(f"question key {', '.join(sorted(reserved))} is reserved")
        return self


def parse_template(text: str, *, source: str = "<template>") -> TemplateSpec:
    """A template from YAML text; errors name the line and field."""
    return YamlDocument.parse(text, source=source).validate(TemplateSpec, what="survey template")


def read_template(path: Path) -> TemplateSpec:
    doc = YamlDocument.read(path, what="survey template")
    return doc.validate(TemplateSpec, what="survey template")


@lru_cache(maxsize=len(BUILT_IN))
def built_in(key: str) -> TemplateSpec:
    if key not in BUILT_IN:
        raise NotFound(
            f"no built-in survey template `{key}`",
            detail=f"built-in templates: {', '.join(BUILT_IN)}; or give a YAML file",
        )
    text = files("tandem.collaboration").joinpath(f"data/{key}.yaml").read_text("utf-8")
    return parse_template(text, source=f"{key}.yaml")


def load_template(name_or_path: str) -> TemplateSpec:
    """A built-in template by key, or a template YAML file by path."""
    if name_or_path in BUILT_IN:
        return built_in(name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() in {".yaml", ".yml"} or path.exists():
        return read_template(path)
    raise InvalidValue(
        f"unknown template `{name_or_path}`",
        field="template",
        detail=f"built-in templates: {', '.join(BUILT_IN)}; or give a .yaml file",
    )


@lru_cache(maxsize=1)
def benchmark_quotes() -> dict[str, str]:
    """The seed-001 sentence each Forrester figure comes from."""
    text = files("tandem.ownership").joinpath("data/forrester_2014.yaml").read_text("utf-8")
    quotes = yaml.safe_load(text).get("quotes", {})
    return {str(k): str(v) for k, v in quotes.items()}


def benchmark_label(key: str) -> str:
    labels = {
        "right_people_define_strategy": "believe the right people define digital strategy",
        "right_people_define_strategy_1000_to_10000_employees": (
            "believe the right people define digital strategy (1,000-10,000 employees)"
        ),
        "claim_digital_strategy": "claim to have a digital strategy",
        "trust_digital_skills": "trust their digital skills and capabilities",
        "digital_units_and_it_work_well": "see digital units and IT working well together",
        "marketing_and_digital_units_work_well": "see marketing and digital units work well",
        "without_digital_revenue_team_it_and_marketing_work_well": (
            "without a digital revenue team, see IT and marketing working well together"
        ),
        "dedicated_digital_group": "have a dedicated digital group",
        VISION_BENCHMARK: "who sets the digital vision (CEO / CMO / CIO)",
    }
    return labels.get(key, key.replace("_", " "))


def benchmark_of(key: str) -> dict[str, Any]:
    """The Forrester figure(s) for a benchmark key, with label and quote."""
    figs = figures()
    data: dict[str, Any] = {
        "key": key,
        "label": benchmark_label(key),
        "quote": benchmark_quotes().get(key),
        "source": f"Forrester, {figs.source.title} (seed 001)",
    }
    if key == VISION_BENCHMARK:
        data["by_kind"] = {k: figs.vision_setter[k] for k in VISION_KINDS}
    else:
        data["percent"] = figs.organisation[key]
    return data


def template_summary(spec: TemplateSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "title": spec.title,
        "description": spec.description.strip(),
        "questions": [
            {"key": q.key, "kind": q.kind, "text": q.text, "benchmark": q.benchmark}
            for q in spec.questions
        ],
    }
