"""`tandem users ...`: accounts, tokens and grants from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tandem import Workspace
from tests.conftest import Tandem
from tests.server.api.support import cheap_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with cheap_hashing():
        yield


def test_add_generates_a_password_shown_once(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "users",
        "add",
        "Ana@Example.com",
        "--function",
        "marketing",
        "--role",
        "admin",
        "-w",
        ws_path,
    )
    assert run.exit_code == 0, run.stderr
    password = next(
        line.split(": ", 1)[1] for line in run.stdout.splitlines() if line.startswith("password: ")
    )
    assert "shown only once" in run.stderr
    with Workspace.open(ws_path) as ws:
        assert ws.accounts.authenticate("ana@example.com", password).role == "admin"


def test_add_reads_a_password_from_stdin(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "users", "add", "bo@example.com", "--function", "it", "--role", "editor",
        "--password-stdin", "--json", "-w", ws_path, input="a long passphrase\n",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.json()["password"] is None and run.json()["function"] == "it"
    with Workspace.open(ws_path) as ws:
        assert (
            ws.accounts.authenticate("bo@example.com", "a long passphrase").email
            == "bo@example.com"
        )


def test_list_set_role_grant_and_remove(tandem: Tandem, ws_path: Path) -> None:
    for email, role in (("a@example.com", "admin"), ("b@example.com", "viewer")):
        assert (
            tandem(
                "users", "add", email, "--function", "it", "--role", role, "-w", ws_path
            ).exit_code
            == 0
        )
    assert tandem("users", "set-role", "b@example.com", "editor", "-w", ws_path).exit_code == 0
    assert (
        tandem("users", "grant", "b@example.com", "capability", "crm", "-w", ws_path).exit_code == 0
    )
    listed = tandem("users", "list", "--json", "-w", ws_path).json()
    assert [(u["email"], u["role"], u["grants"]) for u in listed] == [
        ("a@example.com", "admin", []),
        ("b@example.com", "editor", [{"kind": "capability", "key": "crm"}]),
    ]
    table = tandem("users", "list", "-w", ws_path).stdout
    assert "capability:crm" in table
    assert tandem("users", "remove", "b@example.com", "-w", ws_path).exit_code == 0
    assert [u["email"] for u in tandem("users", "list", "--json", "-w", ws_path).json()] == [
        "a@example.com"
    ]


def test_errors_say_what_and_exit_1(tandem: Tandem, ws_path: Path) -> None:
    bad_role = tandem(
        "users", "add", "a@example.com", "--function", "it", "--role", "boss", "-w", ws_path
    )
    assert bad_role.exit_code == 1 and "unknown role `boss`" in bad_role.stderr
    bad_fn = tandem("users", "add", "a@example.com", "--function", "nope", "--json", "-w", ws_path)
    assert bad_fn.exit_code == 1 and bad_fn.json()["field"] == "function"
    tandem("users", "add", "a@example.com", "--function", "it", "--role", "admin", "-w", ws_path)
    last = tandem("users", "remove", "a@example.com", "-w", ws_path)
    assert last.exit_code == 1 and "last admin" in last.stderr


def test_tokens_are_printed_once_listed_without_secret_and_revoked(
    tandem: Tandem, ws_path: Path
) -> None:
    tandem("users", "add", "a@example.com", "--function", "it", "-w", ws_path)
    made = tandem(
        "users", "token", "create", "a@example.com", "--name", "ci", "--json", "-w", ws_path
    )
    secret = made.json()["token"]
    assert secret.startswith("tdm_")
    listed = tandem("users", "token", "list", "--json", "-w", ws_path)
    assert secret not in listed.stdout and listed.json()[0]["prefix"] == secret[:12]
    assert (
        tandem("users", "token", "revoke", "a@example.com", "--name", "ci", "-w", ws_path).exit_code
        == 0
    )
    assert tandem("users", "token", "list", "--json", "-w", ws_path).json()[0]["active"] is False
    with Workspace.open(ws_path) as ws:
        assert ws.accounts.user_for_token(secret) is None
