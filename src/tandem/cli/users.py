"""`tandem users ...`: accounts of the web app and API, their tokens and grants."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from tandem.accounts import GRANT_KINDS, ROLES, TokenInfo, User
from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    open_workspace,
    print_json,
    success,
)

app = typer.Typer(
    help="Users: who signs in, with which function and role; API tokens; grants.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Personal API tokens (Authorization: Bearer tdm_...).")
app.add_typer(token_app, name="token")

EmailArgument = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email.")]
RoleOption = Annotated[str, typer.Option("--role", metavar="ROLE", help=f"{'|'.join(ROLES)}.")]
GrantKindArgument = Annotated[
    str, typer.Argument(metavar="KIND", help=f"What is granted: {', '.join(GRANT_KINDS)}.")
]
GrantKeyArgument = Annotated[
    str, typer.Argument(metavar="KEY", help="Its key (a source's name; `*` for model).")
]


def _grants(user: User) -> str:
    return ", ".join(f"{k}:{key}" for k, key in sorted(user.grants)) or "-"


def _read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        from tandem.errors import InvalidValue

        raise InvalidValue("no password on standard input", field="password")
    return password


@app.command("add")
def add(
    email: EmailArgument,
    function: Annotated[
        str, typer.Option("--function", metavar="FUNCTION", help="The user's function key.")
    ],
    role: RoleOption = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    prompt: Annotated[
        bool | None,
        typer.Option(
            "--prompt/--generate",
            help="Ask for the password, or generate one (default: ask on a terminal).",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Add a user; the password is asked for on a terminal, else generated and printed once.

    Example: tandem users add ana@example.com --function marketing --role editor
    """
    password: str | None = None
    if password_stdin:
        password = _read_password_stdin()
    elif prompt or (prompt is None and sys.stdin.isatty()):
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_workspace(workspace) as ws:
        user, generated = ws.accounts.add(email, function=function, role=role, password=password)
    if json:
        print_json({**user.to_dict(), "password": generated})
        return
    success(f"added {user.email} ({user.role} of {user.function})")
    if generated:
        console.print(f"password: {generated}", markup=False)
        err_console.print("Keep this password now: it is shown only once.")


@app.command("list")
def list_(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List users with their function, role and grants.

    Example: tandem users list --json
    """
    with open_workspace(workspace) as ws:
        users = ws.accounts.users()
    if json:
        print_json([u.to_dict() for u in users])
        return
    if not users:
        console.print("No users yet: tandem users add EMAIL --function F --role admin")
        return
    table = Table("email", "function", "role", "status", "grants")
    for u in users:
        table.add_row(
            u.email, u.function or "-", u.role, "disabled" if u.disabled else "active", _grants(u)
        )
    console.print(table)


@app.command("remove")
def remove(email: EmailArgument, workspace: WorkspaceOption = None) -> None:
    """Remove a user and their API tokens.

    Example: tandem users remove ana@example.com
    """
    with open_workspace(workspace) as ws:
        ws.accounts.remove(email)
    success(f"removed {email}")


@app.command("set-role")
def set_role(
    email: EmailArgument,
    role: Annotated[str, typer.Argument(metavar="ROLE", help=f"{'|'.join(ROLES)}.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Change a user's role.

    Example: tandem users set-role ana@example.com admin
    """
    with open_workspace(workspace) as ws:
        user = ws.accounts.update(email, role=role)
    success(f"{user.email} is now {user.role}")


@app.command("set-function")
def set_function(
    email: EmailArgument,
    function: Annotated[str, typer.Argument(metavar="FUNCTION", help="A function key.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Move a user to another function.

    Example: tandem users set-function ana@example.com digital
    """
    with open_workspace(workspace) as ws:
        user = ws.accounts.update(email, function=function)
    success(f"{user.email} is now in {user.function}")


@app.command("set-password")
def set_password(
    email: EmailArgument,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Set a user's password (prompted, or read with --password-stdin).

    Example: tandem users set-password ana@example.com --password-stdin < passphrase.txt
    """
    if password_stdin:
        password = _read_password_stdin()
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_workspace(workspace) as ws:
        ws.accounts.update(email, password=password)
    success(f"password of {email} changed")


@app.command("disable")
def disable(
    email: EmailArgument,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Disable a user (sessions and tokens stop working), or --enable them again.

    Example: tandem users disable ana@example.com
    """
    with open_workspace(workspace) as ws:
        user = ws.accounts.update(email, disabled=not enable)
    success(f"{user.email} is {'disabled' if user.disabled else 'enabled'}")


@app.command("grant")
def grant(
    email: EmailArgument,
    kind: GrantKindArgument,
    key: GrantKeyArgument,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the grant back.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Let a user edit (and see the data of) one resource their function does not own.

    Example: tandem users grant ana@example.com capability crm
    """
    with open_workspace(workspace) as ws:
        if revoke:
            user = ws.accounts.ungrant(email, kind, key)
        else:
            user = ws.accounts.grant(email, kind, key)
    success(f"{user.email} grants: {_grants(user)}")


# -- tokens --------------------------------------------------------------------------------------
def _token_row(t: TokenInfo) -> tuple[str, ...]:
    return (
        t.email,
        t.name,
        t.prefix + "…",
        f"{t.created_at:%Y-%m-%d %H:%M}",
        f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
        "revoked" if t.revoked_at else "active",
    )


@token_app.command("create")
def token_create(
    email: EmailArgument,
    name: Annotated[str, typer.Option("--name", help="What uses the token (a script, a host).")],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Create a personal API token and print it once.

    Example: tandem users token create ana@example.com --name nightly-export
    """
    with open_workspace(workspace) as ws:
        info, secret = ws.accounts.create_token(email, name)
    if json:
        print_json({**info.to_dict(), "token": secret})
        return
    success(f"token {info.name} created for {info.email}")
    console.print(f"token: {secret}", markup=False)
    err_console.print(
        "Keep this token now: it is shown only once (Tandem stores only its hash). "
        "Send it as `Authorization: Bearer <token>`."
    )


@token_app.command("list")
def token_list(
    email: Annotated[
        str | None, typer.Argument(metavar="[EMAIL]", help="Only this user's tokens.")
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """List API tokens (never the secrets).

    Example: tandem users token list ana@example.com
    """
    with open_workspace(workspace) as ws:
        tokens = ws.accounts.list_tokens(email)
    if json:
        print_json([t.to_dict() for t in tokens])
        return
    if not tokens:
        console.print("No tokens.")
        return
    table = Table("email", "name", "starts with", "created", "last used", "status")
    for t in tokens:
        table.add_row(*_token_row(t))
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    email: EmailArgument,
    name: Annotated[str, typer.Option("--name", help="The token's name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Revoke an API token (it stops working at once).

    Example: tandem users token revoke ana@example.com --name nightly-export
    """
    with open_workspace(workspace) as ws:
        info = ws.accounts.revoke_token(email, name)
    success(f"token {info.name} of {info.email} revoked")
