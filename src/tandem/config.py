"""Workspace settings: `tandem.toml` in the workspace, overridden by `TANDEM_*` variables.

``TANDEM_DATABASE_URL`` beats ``database_url`` in the file, and so on; nested tables use a double
underscore (``TANDEM_SECTION__KEY``). Relative paths are relative to the workspace folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tandem.errors import ConfigError, InvalidConfig, Problem

CONFIG_FILE = "tandem.toml"
DATABASE_FILE = "tandem.db"
LAKE_DIR = "lake"


# -- identity resolution ([identity] in tandem.toml) -- owned by customers/identity.py ------------
class IdentitySettings(BaseModel):
    """How identities are resolved: identifier rules and probabilistic matching."""

    model_config = ConfigDict(extra="forbid")

    default_region: str = "GB"
    """Region for phone numbers written without a country code (ISO 3166 code)."""


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
    ]
    path = root / CONFIG_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
