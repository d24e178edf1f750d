"""Workspace: init, open, settings precedence, failure cleanup."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem import Workspace
from tandem.errors import ConfigError, Conflict, InvalidInput, InvalidValue, NotAWorkspace


def test_init_and_reopen(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "acme", company="Acme") as ws:
        ws.ownership.assign("crm", "marketing", "A")
    with Workspace.open(tmp_path / "acme") as again:
        model = again.ownership.model()
        assert model.company is not None and model.company.name == "Acme"
        crm = model.capability("crm")
        assert crm is not None and crm.owners == {"marketing": "A"}


def test_init_in_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with Workspace.init(tmp_path / "empty") as ws:
        assert ws.settings.name == "empty"


def test_init_refuses_existing_workspace_and_files(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "a").close()
    with pytest.raises(Conflict):
        Workspace.init(tmp_path / "a")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotAWorkspace, match="not a folder"):
        Workspace.init(tmp_path / "file")


def test_open_missing(tmp_path: Path) -> None:
    with pytest.raises(NotAWorkspace, match="no such folder"):
        Workspace.open(tmp_path / "nowhere")
    with pytest.raises(NotAWorkspace, match="tandem init"):
        Workspace.open(tmp_path)


def test_environment_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Workspace.init(tmp_path / "a").close()
    other = tmp_path / "elsewhere.db"
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{other}")
    monkeypatch.setenv("TANDEM_LAKE_URL", "data/lake")
    Workspace.init(tmp_path / "b", database_url=f"sqlite:///{other}").close()
    with Workspace.open(tmp_path / "a") as ws:
        assert ws.db.url == f"sqlite:///{other}"
        assert ws.lake_path == str(tmp_path / "a" / "data" / "lake")
        assert ws.ownership.model().company.name == "b"  # type: ignore[union-attr]


def test_relative_sqlite_path_is_relative_to_workspace(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "a", database_url="sqlite:///meta/store.db") as ws:
        assert ws.db.url == f"sqlite:///{tmp_path / 'a' / 'meta' / 'store.db'}"


def test_bad_engine_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Workspace.init(tmp_path / "a").close()
    monkeypatch.setenv("TANDEM_ENGINE", "oracle")
    with pytest.raises(InvalidInput) as info:
        Workspace.open(tmp_path / "a")
    assert info.value.problems[0].field == "engine"


@pytest.mark.parametrize(
    "variable", ["TANDEM_IDENTITY__MATCHING__BLOCKING_RULES", "TANDEM_PROFILES__ORDER_EVENTS"]
)
def test_a_list_setting_from_the_environment_that_is_not_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    Workspace.init(tmp_path / "a").close()
    monkeypatch.setenv(variable, "oops")
    with pytest.raises(ConfigError, match=r"TANDEM_.*not valid.*JSON"):
        Workspace.open(tmp_path / "a")


def test_failed_init_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x"
    with pytest.raises(Exception, match="database"):
        Workspace.init(target, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not target.exists()
    existing = tmp_path / "keep"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")
    with pytest.raises(Exception, match="database"):
        Workspace.init(existing, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert sorted(p.name for p in existing.iterdir()) == ["mine.txt"]


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    from tandem.errors import ConfigError

    Workspace.init(tmp_path / "a").close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "a" / f"tandem.db{suffix}").unlink(missing_ok=True)
    (tmp_path / "a" / "tandem.db").write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigError, match="cannot open the metadata database") as info:
        Workspace.open(tmp_path / "a")
    assert info.value.detail == "file is not a database"


def test_missing_database_file_is_an_error_not_a_new_empty_store(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "a").close()
    for path in (tmp_path / "a").glob("tandem.db*"):
        path.unlink()
    with pytest.raises(NotAWorkspace, match=r"tandem\.db of workspace .* is missing"):
        Workspace.open(tmp_path / "a")
    assert not (tmp_path / "a" / "tandem.db").exists()


def test_init_refuses_a_database_that_holds_another_workspace(tmp_path: Path) -> None:
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    Workspace.init(tmp_path / "first", company="First Co", database_url=shared).close()
    with pytest.raises(Conflict, match="already holds the workspace of First Co"):
        Workspace.init(tmp_path / "second", company="Second Co", database_url=shared)
    assert not (tmp_path / "second").exists()
    with Workspace.open(tmp_path / "first") as ws:
        assert ws.ownership.model().company.name == "First Co"  # type: ignore[union-attr]


def test_init_in_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InvalidValue, match="cannot create the workspace folder"):
        Workspace.init(blocker / "acme")
    assert blocker.read_text() == "not a folder"
