"""The users API: admins manage accounts and grants; everyone manages their own tokens."""

from __future__ import annotations

from tests.server.api.support import PASSWORD, Api

ADMIN = "admin@example.com"
MARKETING = "marketing@example.com"


def test_only_admins_list_and_manage_users(api: Api) -> None:
    assert api.call(MARKETING, "GET", "/api/users").status_code == 403
    listed = api.call(ADMIN, "GET", "/api/users").json()
    assert len(listed) == 6 and all("password" not in u for u in listed)
    made = api.call(
        ADMIN,
        "POST",
        "/api/users",
        json={"email": "New@Example.com", "function": "pr", "role": "viewer"},
    )
    assert made.status_code == 201
    body = made.json()
    assert body["email"] == "new@example.com" and len(body["password"]) == 20
    assert api.ws.accounts.authenticate("new@example.com", body["password"]).role == "viewer"
    changed = api.call(ADMIN, "PATCH", "/api/users/new@example.com", json={"role": "editor"})
    assert changed.json()["role"] == "editor"
    granted = api.call(
        ADMIN,
        "POST",
        "/api/users/new@example.com/grants",
        json={"kind": "capability", "key": "crm"},
    )
    assert granted.status_code == 201 and granted.json()["grants"] == [
        {"kind": "capability", "key": "crm"}
    ]
    ungranted = api.call(ADMIN, "DELETE", "/api/users/new@example.com/grants/capability/crm")
    assert ungranted.json()["grants"] == []
    assert api.call(ADMIN, "DELETE", "/api/users/new@example.com").status_code == 200
    assert api.call(ADMIN, "GET", "/api/users/new@example.com").status_code == 404


def test_user_errors_are_4xx_json(api: Api) -> None:
    dup = api.call(
        ADMIN, "POST", "/api/users", json={"email": MARKETING, "function": "it", "role": "viewer"}
    )
    assert dup.status_code == 409 and dup.json()["field"] == "email"
    short = api.call(
        ADMIN,
        "POST",
        "/api/users",
        json={"email": "x@example.com", "function": "it", "role": "viewer", "password": "short"},
    )
    assert short.status_code == 422
    assert (
        api.call(
            ADMIN, "PATCH", "/api/users/admin@example.com", json={"role": "viewer"}
        ).status_code
        == 409
    )


def test_everyone_manages_their_own_tokens(api: Api) -> None:
    made = api.call(MARKETING, "POST", "/api/me/tokens", json={"name": "laptop"})
    assert made.status_code == 201
    secret = made.json()["token"]
    mine = api.call(MARKETING, "GET", "/api/me/tokens").json()
    assert sorted(t["name"] for t in mine) == ["laptop", "tests"]
    assert all("token" not in t for t in mine)
    assert api.call(MARKETING, "GET", "/api/tokens").status_code == 403
    assert len(api.call(ADMIN, "GET", "/api/tokens").json()) == 2 + 1  # tests x2 + laptop
    revoked = api.call(MARKETING, "DELETE", "/api/me/tokens/laptop")
    assert revoked.json()["active"] is False
    assert (
        api.client.get("/api/me/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    assert PASSWORD  # the fixture's users all share it
