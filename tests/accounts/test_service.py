"""Accounts façade: users, passwords (argon2), tokens (hashed at rest), grants."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tandem import Workspace
from tandem.accounts import NotAuthenticated, passwords
from tandem.db.models import ApiToken, UserAccount
from tandem.errors import Conflict, InvalidValue, NotFound

PASSWORD = "correct horse battery staple"


def test_add_normalises_the_email_and_stores_only_an_argon2_hash(workspace: Workspace) -> None:
    user, generated = workspace.accounts.add(
        "  Ana@Example.COM ", function="marketing", role="editor", password=PASSWORD
    )
    assert generated is None
    assert (user.email, user.function, user.function_kind, user.role) == (
        "ana@example.com",
        "marketing",
        "marketing",
        "editor",
    )
    with workspace.session() as s:
        stored = s.scalars(select(UserAccount.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_generated_password_is_returned_once_and_works(workspace: Workspace) -> None:
    user, generated = workspace.accounts.add("bo@example.com", function="it", role="viewer")
    assert generated is not None and len(generated) == 20
    assert workspace.accounts.authenticate("BO@example.com", generated) == user


@pytest.mark.parametrize(
    ("email", "function", "role", "password", "error", "field"),
    [
        ("not-an-email", "it", "viewer", PASSWORD, InvalidValue, "email"),
        ("a@example.com", "it", "owner", PASSWORD, InvalidValue, "role"),
        ("a@example.com", "nope", "viewer", PASSWORD, NotFound, "function"),
        ("a@example.com", "it", "viewer", "short", InvalidValue, "password"),
    ],
)
def test_add_refuses_bad_input_naming_the_field(
    workspace: Workspace,
    email: str,
    function: str,
    role: str,
    password: str,
    error: type[Exception],
    field: str,
) -> None:
    with pytest.raises(error) as caught:
        workspace.accounts.add(email, function=function, role=role, password=password)
    assert caught.value.field == field  # type: ignore[attr-defined]
    assert workspace.accounts.count() == 0


def test_emails_are_unique_whatever_their_case(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="viewer", password=PASSWORD)
    with pytest.raises(Conflict, match="already exists"):
        workspace.accounts.add("A@EXAMPLE.com", function="hr", role="viewer", password=PASSWORD)


def test_authenticate_gives_one_message_for_every_failure(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="viewer", password=PASSWORD)
    workspace.accounts.add("b@example.com", function="it", role="admin", password=PASSWORD)
    workspace.accounts.update("a@example.com", disabled=True)
    workspace.accounts.add("c@example.com", function="it", role="viewer", password=PASSWORD)
    failures = [
        ("c@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("a@example.com", PASSWORD),  # disabled
    ]
    messages = set()
    for email, password in failures:
        with pytest.raises(NotAuthenticated) as caught:
            workspace.accounts.authenticate(email, password)
        messages.add(caught.value.message)
    assert messages == {"email or password is wrong"}


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str | bytes] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash)
        return super().verify(hash, password)


def test_unknown_emails_still_cost_an_argon2_verification(workspace: Workspace) -> None:
    counting = CountingHasher()
    previous = passwords.use_hasher(counting)
    try:
        with pytest.raises(NotAuthenticated):
            workspace.accounts.authenticate("nobody@example.com", PASSWORD)
    finally:
        passwords.use_hasher(previous)
    assert len(counting.verified) == 1
    assert str(counting.verified[0]).startswith("$argon2id$")


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="viewer", password=PASSWORD)
    with workspace.session() as s:
        before = s.scalars(select(UserAccount.password_hash)).one()
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    previous = passwords.use_hasher(stronger)
    try:
        workspace.accounts.authenticate("a@example.com", PASSWORD)
    finally:
        passwords.use_hasher(previous)
    with workspace.session() as s:
        after = s.scalars(select(UserAccount.password_hash)).one()
    assert "m=1024,t=1" in before and "m=2048,t=2" in after
    assert not stronger.check_needs_rehash(after)


def test_the_last_admin_cannot_be_removed_demoted_or_disabled(workspace: Workspace) -> None:
    workspace.accounts.add("root@example.com", function="it", role="admin", password=PASSWORD)
    for change in (
        lambda: workspace.accounts.remove("root@example.com"),
        lambda: workspace.accounts.update("root@example.com", role="editor"),
        lambda: workspace.accounts.update("root@example.com", disabled=True),
    ):
        with pytest.raises(Conflict, match="last admin"):
            change()
    workspace.accounts.add("two@example.com", function="hr", role="admin", password=PASSWORD)
    assert workspace.accounts.update("root@example.com", role="viewer").role == "viewer"
    assert [u.email for u in workspace.accounts.users()] == ["root@example.com", "two@example.com"]


def test_tokens_are_stored_as_sha256_and_stop_at_revocation(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="editor", password=PASSWORD)
    info, secret = workspace.accounts.create_token("a@example.com", "nightly")
    assert secret.startswith("tdm_") and len(secret) == 47
    assert info.prefix == secret[:12] and info.last_used_at is None
    with workspace.session() as s:
        stored = s.scalars(select(ApiToken.token_hash)).one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()

    found = workspace.accounts.user_for_token(secret)
    assert found is not None and found.email == "a@example.com"
    assert workspace.accounts.list_tokens("a@example.com")[0].last_used_at is not None
    assert workspace.accounts.user_for_token(secret[:-1] + "x") is None
    assert workspace.accounts.user_for_token("not a token") is None

    with pytest.raises(Conflict, match="already has a token named `nightly`"):
        workspace.accounts.create_token("a@example.com", "nightly")
    revoked = workspace.accounts.revoke_token("a@example.com", "nightly")
    assert revoked.revoked_at is not None and not revoked.active
    assert workspace.accounts.user_for_token(secret) is None
    with pytest.raises(NotFound):
        workspace.accounts.revoke_token("a@example.com", "other")


def test_a_disabled_users_tokens_stop_working(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="editor", password=PASSWORD)
    _, secret = workspace.accounts.create_token("a@example.com", "ci")
    workspace.accounts.update("a@example.com", disabled=True)
    assert workspace.accounts.user_for_token(secret) is None
    workspace.accounts.update("a@example.com", disabled=False)
    assert workspace.accounts.user_for_token(secret) is not None


def test_removing_a_user_removes_their_tokens(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="it", role="editor", password=PASSWORD)
    _, secret = workspace.accounts.create_token("a@example.com", "ci")
    workspace.accounts.remove("a@example.com")
    assert workspace.accounts.list_tokens() == []
    assert workspace.accounts.user_for_token(secret) is None


def test_grants_name_existing_resources(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="pr", role="editor", password=PASSWORD)
    user = workspace.accounts.grant("a@example.com", "capability", "crm")
    assert user.grants == {("capability", "crm")}
    with pytest.raises(Conflict):
        workspace.accounts.grant("a@example.com", "capability", "crm")
    with pytest.raises(NotFound, match="no capability `nope`"):
        workspace.accounts.grant("a@example.com", "capability", "nope")
    with pytest.raises(NotFound, match="no source `web`"):
        workspace.accounts.grant("a@example.com", "source", "web")
    with pytest.raises(InvalidValue, match="unknown resource kind `user`"):
        workspace.accounts.grant("a@example.com", "user", "x")
    workspace.sources.add("web", kind="web", owners=["marketing"])
    assert workspace.accounts.grant("a@example.com", "source", "web").grants == {
        ("capability", "crm"),
        ("source", "web"),
    }
    assert workspace.accounts.ungrant("a@example.com", "capability", "crm").grants == {
        ("source", "web")
    }
    with pytest.raises(NotFound):
        workspace.accounts.ungrant("a@example.com", "capability", "crm")


def test_a_removed_function_leaves_its_users_without_one(workspace: Workspace) -> None:
    workspace.accounts.add("a@example.com", function="pr", role="editor", password=PASSWORD)
    workspace.ownership.remove_function("pr")
    user = workspace.accounts.get("a@example.com")
    assert user.function is None and user.function_kind is None
