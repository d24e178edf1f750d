"""`tandem init`, `tandem status`, --workspace resolution and error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Tandem


def test_init_creates_workspace_with_defaults(tandem: Tandem, tmp_path: Path) -> None:
    target = tmp_path / "acme"
    run = tandem("init", target, "--company", "Acme Retail", "--json")
    assert run.exit_code == 0, run.stderr
    data = run.json()
    assert data["workspace"] == str(target)
    assert (target / "tandem.toml").is_file()
    assert (target / "tandem.db").is_file()
    assert (target / "lake").is_dir()
    status = tandem("status", "--workspace", target, "--json").json()
    assert status["company"] == "Acme Retail"
    assert status["functions"] == 9
    assert status["capabilities"] == 17
    assert status["responsibilities"] == 0


def test_init_twice_is_refused(tandem: Tandem, tmp_path: Path) -> None:
    assert tandem("init", tmp_path / "a").exit_code == 0
    run = tandem("init", tmp_path / "a")
    assert run.exit_code == 1
    assert "already a Tandem workspace" in run.stderr
    assert "Traceback" not in run.stderr


def test_not_a_workspace_is_a_clear_error(tandem: Tandem, tmp_path: Path) -> None:
    run = tandem("ownership", "show", "--workspace", tmp_path)
    assert run.exit_code == 1
    assert "is not a Tandem workspace" in run.stderr
    assert f"tandem init {tmp_path}" in run.stderr
    assert run.stdout == ""


def test_workspace_from_environment(
    tandem: Tandem, ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_WORKSPACE", str(ws_path))
    run = tandem("status", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["workspace"] == str(ws_path)


def test_workspace_defaults_to_current_folder(
    tandem: Tandem, ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ws_path)
    assert tandem("functions", "list", "--json").exit_code == 0


def test_bad_database_url_in_settings(tandem: Tandem, tmp_path: Path) -> None:
    run = tandem("init", tmp_path / "x", "--database-url", "nosuchdb://where")
    assert run.exit_code == 1
    assert "not a valid database URL" in run.stderr or "driver" in run.stderr
    # a failed init leaves nothing behind
    assert not (tmp_path / "x").exists()


def test_invalid_toml_is_reported(tandem: Tandem, ws_path: Path) -> None:
    (ws_path / "tandem.toml").write_text("name = [unclosed\n")
    run = tandem("status", "-w", ws_path)
    assert run.exit_code == 1
    assert "not valid TOML" in run.stderr


def test_unknown_setting_is_reported(tandem: Tandem, ws_path: Path) -> None:
    with (ws_path / "tandem.toml").open("a") as fh:
        fh.write('\ncolour = "blue"\n')
    run = tandem("status", "-w", ws_path)
    assert run.exit_code == 1
    assert "colour" in run.stderr


def test_every_command_has_help_with_an_example(tandem: Tandem) -> None:
    from typer.main import get_command

    from tandem.cli.main import app

    root = get_command(app)
    commands: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            commands.append(path)

    walk(root, [])
    assert len(commands) >= 20
    for path in commands:
        run = tandem(*path, "--help")
        assert run.exit_code == 0, path
        assert "Example: tandem " in run.stdout, f"`tandem {' '.join(path)} --help` has no example"


def test_version(tandem: Tandem) -> None:
    run = tandem("--version")
    assert run.exit_code == 0
    assert run.stdout.startswith("tandem ")


def test_init_refuses_an_empty_folder_name(
    tandem: Tandem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = tandem("init", "")
    assert run.exit_code == 1
    assert "the workspace folder cannot be empty" in run.stderr
    assert list(tmp_path.iterdir()) == []
