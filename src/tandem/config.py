"""Workspace settings: `tandem.toml` in the workspace, overridden by `TANDEM_*` variables.

``TANDEM_DATABASE_URL`` beats ``database_url`` in the file, and so on; nested tables use a double
underscore (``TANDEM_SECTION__KEY``). Relative paths are relative to the workspace folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from tandem.errors import ConfigError, InvalidConfig, Problem

CONFIG_FILE = "tandem.toml"
DATABASE_FILE = "tandem.db"
LAKE_DIR = "lake"


# -- identity resolution ([identity] in tandem.toml) -- owned by customers/identity.py ------------
IDENTIFIER_KINDS = (
    "user_id",
    "anonymous_id",
    "email",
    "phone",
    "device_id",
    "handle",
    "customer_id",
    "loyalty_id",
    "other",
)
"""The identifier types identity resolution extracts (docs/identity.md)."""


class IdentifierRule(BaseModel):
    """How one identifier type takes part in merging (`[identity.types.<type>]`)."""

    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=0, le=1000)
    """0-1000, higher wins: a message belongs with its identifier of the highest priority, and
    when a merge would break a limit, links of the lowest priority give way."""
    merge: bool = True
    """False: the identifier is extracted and shown, never used to join records."""
    max_per_profile: int | None = Field(default=None, ge=1)
    """At most this many distinct values of the type in one customer; None: no limit."""
    shared_above: int | None = Field(default=None, ge=1)
    """The identifier is *shared* (kept, not used to merge) when within one source it is seen
    with more than this many distinct user ids; None: never shared."""


def _default_rules() -> dict[str, IdentifierRule]:
    r = IdentifierRule
    return {
        "user_id": r(priority=100),
        "customer_id": r(priority=90, max_per_profile=1),
        "loyalty_id": r(priority=80, max_per_profile=1, shared_above=1),
        "email": r(priority=60, max_per_profile=5, shared_above=2),
        "phone": r(priority=50, max_per_profile=3, shared_above=2),
        "handle": r(priority=40, max_per_profile=5, shared_above=2),
        "device_id": r(priority=30, max_per_profile=10, shared_above=2),
        "anonymous_id": r(priority=20, shared_above=2),
        "other": r(priority=10, merge=False),
    }


class SourceRule(BaseModel):
    """How one source's user ids count (`[identity.sources.<source>]`)."""

    model_config = ConfigDict(extra="forbid")

    records: Literal["people", "contacts"] = "people"
    """`people`: each user id of the source is a person (a CRM record, a shop account), so an
    email on many of them is shared. `contacts`: each record is one contact by a person (a
    service ticket, an order); the same email on many records is one person writing often, so
    the source's user ids do not count towards `shared_above`."""


# -- probabilistic matching ([identity.matching]) -- owned by customers/matching.py -------------
DEFAULT_BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name"),
    ("birth_date",),
    ("postcode",),
    ("street",),
    ("email",),
    ("phone",),
    ("last_name", "city"),
    ("first_name", "birth_date"),
    ("last_name", "birth_date"),
    ("first_name", "postcode"),
    ("last_name", "postcode"),
)
DEFAULT_TRAINING_RULES: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name"),
    ("birth_date",),
)
DEFAULT_PRIOR_RULES: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name", "birth_date"),
    ("email",),
    ("phone",),
)
BLOCKABLE = (
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "city",
    "postcode",
    "phone",
    "email",
)

Rule = list[str]


class MatchingOptions(BaseModel):
    """`[identity.matching]` in tandem.toml: how person records are matched probabilistically
    (tandem.customers.matching). Validated with the rest of the settings when a workspace
    opens, so a bad value is reported by any command, not only by `tandem resolve`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Run probabilistic matching at all."""
    threshold: float = Field(default=0.95, gt=0.0, lt=1.0)
    """Match probability at or above which two records are joined. 0.95 (odds of 19 to 1) was
    chosen as a policy, not fitted to any labels: a wrong merge costs more than a missed one."""
    blocking_rules: list[Rule] = Field(
        default_factory=lambda: [list(r) for r in DEFAULT_BLOCKING_RULES]
    )
    """Only pairs that agree exactly on every field of at least one rule are compared."""
    training_rules: list[Rule] = Field(
        default_factory=lambda: [list(r) for r in DEFAULT_TRAINING_RULES]
    )
    """Expectation maximisation passes: each trains the comparisons it does not block on."""
    prior_rules: list[Rule] = Field(default_factory=lambda: [list(r) for r in DEFAULT_PRIOR_RULES])
    """Rules that (almost) only pair true matches; they estimate how many matches exist."""
    prior_recall: float = Field(default=0.7, gt=0.0, le=1.0)
    """The share of true matches the prior rules are assumed to find."""
    max_pairs_for_u: int = Field(default=2_000_000, ge=10_000)
    """Random pairs sampled to estimate how often non-matches agree by chance."""
    seed: int = 42
    """Seed of the random sampling (results are reproducible)."""
    require_corroboration: bool = True
    """Whatever their weight, never join two records that share an email or phone but have
    different known birth dates (two people of one household), nor two records that agree on
    nothing but a name (namesakes). The model treats fields as independent, which contact
    details shared in a family are not."""

    @field_validator("blocking_rules", "training_rules", "prior_rules")
    @classmethod
    def _known_fields(cls, rules: list[Rule]) -> list[Rule]:
        for n, rule in enumerate(rules):
            if not rule:
                raise ValueError(f"rule {n + 1} is empty; list the fields that must be equal")
            unknown = [f for f in rule if f not in BLOCKABLE]
            if unknown:
                raise ValueError(
                    f"rule {n + 1} names unknown field {unknown[0]!r}; use {', '.join(BLOCKABLE)}"
                )
            if len(set(rule)) != len(rule):
                raise ValueError(f"rule {n + 1} names a field twice")
        return rules


class IdentitySettings(BaseModel):
    """How identities are resolved: identifier rules and probabilistic matching."""

    # validate_assignment: a setting changed in code (tests, embedding) is checked as one read
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    default_region: str = "GB"
    """Region for phone numbers written without a country code (ISO 3166 code)."""
    types: dict[str, IdentifierRule] = Field(default_factory=_default_rules)
    """Rules per identifier type; a type left out keeps its default rule."""
    sources: dict[str, SourceRule] = Field(default_factory=dict)
    """Per source: whether its user ids are people or contacts."""
    customer_id_is_user_id: bool = True
    """A mapped record's `customer_id` identifier is the shop account id the other channels
    send as userId: the two become one node (type `user_id`)."""
    matching: MatchingOptions = Field(default_factory=MatchingOptions)
    """Probabilistic matching options (`[identity.matching]`)."""

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}; use an ISO 3166 code such as GB or US")
        return code

    @field_validator("types", mode="before")
    @classmethod
    def _merge_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = [k for k in value if k not in IDENTIFIER_KINDS]
        if unknown:
            raise ValueError(
                f"unknown identifier type {unknown[0]!r}; use one of {', '.join(IDENTIFIER_KINDS)}"
            )
        merged: dict[str, Any] = {k: v.model_dump() for k, v in _default_rules().items()}
        for key, rule in value.items():
            merged[key] = {**merged[key], **rule} if isinstance(rule, dict) else rule
        return merged


# -- profiles ([profiles] in tandem.toml) -- owned by customers/profiles.py ---------------------
class ProfileSettings(BaseModel):
    """How unified profiles are built: survivorship, orders and revenue, consent."""

    model_config = ConfigDict(extra="forbid")

    source_priority: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Sources whose traits win, most trusted first; then the most recent non-empty value.
    Empty (the default): sources of kind `crm` first, all others equal."""
    order_events: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["Order Completed"], min_length=1
    )
    """Track events that are orders."""
    revenue_property: Annotated[str, Field(min_length=1)] = "revenue"
    """The order event's property holding its value (a number or numeric text)."""
    order_id_property: Annotated[str, Field(min_length=1)] = "order_id"
    """The order event's property identifying the order: an order sent twice counts once."""
    consent_traits: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: [
            "marketingOptIn",
            "marketing_opt_in",
            "emailOptIn",
            "email_opt_in",
            "subscribed",
        ]
    )
    """Traits that state marketing consent (true/false, yes/no, 1/0); the latest statement
    of any of them is the profile's `marketing_opt_in`."""


class Settings(BaseSettings):
    """Everything a workspace can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="TANDEM_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    name: str = "Tandem workspace"
    database_url: str | None = None
    """SQLAlchemy URL of the metadata store; default: SQLite file `tandem.db` in the workspace."""
    lake_url: str | None = None
    """Folder or object-store URL of the customer data lake; default: `lake/` in the workspace."""
    engine: Literal["duckdb", "spark"] = "duckdb"
    """Query engine for customer data."""
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    profiles: ProfileSettings = Field(default_factory=ProfileSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment beats the file: values from tandem.toml arrive as init values.
        return (env_settings, init_settings)

    def resolved_database_url(self, root: Path) -> str:
        if self.database_url:
            return _resolve_sqlite_path(self.database_url, root)
        return f"sqlite:///{root / DATABASE_FILE}"

    def resolved_lake_url(self, root: Path) -> str:
        if not self.lake_url:
            return str(root / LAKE_DIR)
        if "://" in self.lake_url:
            return self.lake_url
        path = Path(self.lake_url).expanduser()
        return str(path if path.is_absolute() else root / path)


def _resolve_sqlite_path(url: str, root: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return f"{prefix}{root / rest}"
    return url


def load_settings(root: Path) -> Settings:
    """Read `tandem.toml` in `root` and the environment.

    Raises ConfigError for a file that is not TOML and InvalidConfig (listing each bad setting)
    for values that are not valid settings; both report `invalid_config`.
    """
    path = root / CONFIG_FILE
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = [
            Problem(err["msg"], field=".".join(str(p) for p in err["loc"])) for err in exc.errors()
        ]
        raise InvalidConfig(
            f"{path}: invalid settings (a TANDEM_* variable may override the file)",
            problems,
        ) from None
    except SettingsError as exc:  # a TANDEM_* variable for a list or table that is not JSON
        raise ConfigError(
            f"{path}: a TANDEM_* environment variable is not valid ({exc}); a list or table "
            "setting is given as JSON, e.g. TANDEM_PROFILES__ORDER_EVENTS='[\"Order Completed\"]'"
        ) from None


def write_settings(root: Path, *, name: str, database_url: str | None = None) -> Path:
    """Write a fresh, commented `tandem.toml`."""
    lines = [
        "# Tandem workspace settings. TANDEM_* environment variables override these values",
        "# (TANDEM_DATABASE_URL, TANDEM_LAKE_URL, TANDEM_ENGINE).",
        f"name = {_toml_string(name)}",
        "",
        "# Metadata store (SQLAlchemy URL). Default: the SQLite file tandem.db in this folder.",
        f"database_url = {_toml_string(database_url)}"
        if database_url
        else '# database_url = "postgresql+psycopg://user@host/dbname"',
        "",
        "# Customer data lake (Delta Lake tables). Default: the lake/ folder in this folder.",
        '# lake_url = "lake"',
        "",
        "# Query engine for customer data: duckdb (one machine) or spark.",
        'engine = "duckdb"',
        "",
        "# Identity resolution (docs/identity.md). Every rule has a default; for example:",
        "# [identity]",
        '# default_region = "GB"          # phones written without a country code',
        "# [identity.types.email]",
        "# max_per_profile = 5           # at most 5 emails in one customer",
        "# shared_above = 2              # seen with more user ids than this: shared",
        "# [identity.sources.service]",
        '# records = "contacts"          # tickets: many per person, not people',
        "# [identity.matching]",
        "# threshold = 0.95              # probabilistic match probability to join records",
        "",
    ]
    path = root / CONFIG_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
