"""The workspace: one folder with `tandem.toml`, the metadata database and the customer lake.

`Workspace.open(path)` is the one entry point of the Python API; the CLI and the HTTP server are
thin faces over the same object::

    ws = Workspace.open("acme")
    ws.ownership.findings()
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tandem.config import CONFIG_FILE, Settings, load_settings, write_settings
from tandem.db import Database
from tandem.db.migrate import upgrade
from tandem.errors import Conflict, InvalidValue, NotAWorkspace

if TYPE_CHECKING:
    from tandem.accounts.service import Accounts
    from tandem.campaigns.service import Campaigns
    from tandem.collaboration.initiatives import Initiatives
    from tandem.collaboration.network import Network
    from tandem.collaboration.surveys import Surveys
    from tandem.customers.segments import Segments
    from tandem.customers.sources import Sources
    from tandem.lake import Lake
    from tandem.ownership.service import Ownership

WORKSPACE_ENV = "TANDEM_WORKSPACE"


class Workspace:
    """An open workspace. Close it (or use it as a context manager) when done."""

    def __init__(self, root: Path, settings: Settings):
        self.root = root
        self.settings = settings
        self.db = Database(settings.resolved_database_url(root))
        self.db.check_connection()
        upgrade(self.db.engine)
        self.lake_path = settings.resolved_lake_url(root)

    # -- opening ---------------------------------------------------------------------------
    @staticmethod
    def locate(path: str | os.PathLike[str] | None = None) -> Path:
        """The workspace folder: `path`, else $TANDEM_WORKSPACE, else the current folder."""
        chosen = path if path is not None else os.environ.get(WORKSPACE_ENV) or "."
        return Path(chosen).expanduser().resolve()

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open an existing workspace, applying any pending database migrations."""
        root = cls.locate(path)
        if not (root / CONFIG_FILE).is_file():
            hint = f"create one with `tandem init {root}`" if root.exists() else "no such folder"
            raise NotAWorkspace(
                f"{root} is not a Tandem workspace (no {CONFIG_FILE}); {hint}, or point "
                f"--workspace / ${WORKSPACE_ENV} at one"
            )
        settings = load_settings(root)
        sqlite_file = _sqlite_file(settings.resolved_database_url(root))
        if sqlite_file is not None and not sqlite_file.exists():
            raise NotAWorkspace(
                f"the metadata database {sqlite_file} of workspace {root} is missing: it was "
                "deleted (restore it from a backup), or the workspace was made with another "
                "database (set $TANDEM_DATABASE_URL or database_url in tandem.toml to it)"
            )
        return cls(root, settings)

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str],
        *,
        company: str | None = None,
        database_url: str | None = None,
        defaults: bool = True,
    ) -> Workspace:
        """Create a workspace in `path` (created if missing) with the default catalogue."""
        if not str(path).strip():
            raise InvalidValue("the workspace folder cannot be empty", field="directory")
        root = Path(path).expanduser().resolve()
        if (root / CONFIG_FILE).exists():
            raise Conflict(f"{root} is already a Tandem workspace")
        if root.exists() and not root.is_dir():
            raise NotAWorkspace(f"{root} exists and is not a folder")
        created_root = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidValue(
                f"cannot create the workspace folder {root}: {exc.strerror}", field="directory"
            ) from None
        before = set(root.iterdir())
        name = company or root.name
        write_settings(root, name=name, database_url=database_url)
        ws: Workspace | None = None
        try:
            ws = cls(root, load_settings(root))
            if "://" not in ws.lake_path:
                Path(ws.lake_path).mkdir(parents=True, exist_ok=True)
            existing = ws.ownership.model().company
            if existing is not None:
                raise Conflict(
                    f"the metadata database {ws.db.display_url} already holds the workspace of "
                    f"{existing.name}; give this workspace a database of its own "
                    "(--database-url), or use that workspace's folder"
                )
            if defaults:
                ws.ownership.seed_defaults(company=name)
        except BaseException:
            if ws is not None:
                ws.close()
            _remove_new_entries(root, before, remove_root=created_root)
            raise
        return ws

    # -- using -----------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A metadata session in one transaction (committed on success, rolled back on error)."""
        with self.db.session() as session:
            yield session

    @cached_property
    def ownership(self) -> Ownership:
        from tandem.ownership.service import Ownership

        return Ownership(self)

    @cached_property
    def lake(self) -> Lake:
        from tandem.lake import Lake

        return Lake(self.lake_path)

    @cached_property
    def surveys(self) -> Surveys:
        from tandem.collaboration.surveys import Surveys

        return Surveys(self)

    @cached_property
    def initiatives(self) -> Initiatives:
        from tandem.collaboration.initiatives import Initiatives

        return Initiatives(self)

    @cached_property
    def network(self) -> Network:
        from tandem.collaboration.network import Network

        return Network(self)

    @cached_property
    def accounts(self) -> Accounts:
        from tandem.accounts.service import Accounts

        return Accounts(self)

    @cached_property
    def sources(self) -> Sources:
        from tandem.customers.sources import Sources

        return Sources(self)

    @cached_property
    def segments(self) -> Segments:
        from tandem.customers.segments import Segments

        return Segments(self)

    @cached_property
    def campaigns(self) -> Campaigns:
        from tandem.campaigns.service import Campaigns

        return Campaigns(self)

    def close(self) -> None:
        if "lake" in self.__dict__:
            self.lake.close()
        self.db.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"


def _remove_new_entries(root: Path, before: set[Path], *, remove_root: bool) -> None:
    """Undo a failed `init`: remove what it created, nothing else."""
    import shutil

    for entry in set(root.iterdir()) - before:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if remove_root and not any(root.iterdir()):
        root.rmdir()


def _sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)
