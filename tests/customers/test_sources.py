"""Sources: names, kinds, owners, write keys (hash only), rotation, the authentication cache."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from tandem import Workspace
from tandem.customers import sources as sources_module
from tandem.customers.sources import KEY_PREFIX, MISS, hash_key
from tandem.db.models import Source
from tandem.errors import Conflict, InvalidValue, NotFound


def test_add_returns_a_key_stored_only_as_its_hash(workspace: Workspace) -> None:
    info, key = workspace.sources.add("web-shop", kind="web", owners=["marketing", "it"])
    assert info.name == "web-shop"
    assert info.kind == "web"
    assert info.owners == ("marketing", "it")
    assert info.rotated_at is None
    assert key.startswith(KEY_PREFIX)
    assert len(key) == len(KEY_PREFIX) + 32
    assert info.key_hint == key[:8] + "..."
    with workspace.session() as s:
        row = s.scalars(select(Source)).one()
        stored = {row.key_hash, row.key_prefix, row.name, row.kind}
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in stored
    assert workspace.sources.get("web-shop") == info
    assert workspace.sources.list() == [info]


def test_keys_are_random(workspace: Workspace) -> None:
    keys = {workspace.sources.add(f"s{i}", kind="app", owners=["it"])[1] for i in range(5)}
    assert len(keys) == 5


def test_list_is_sorted_by_name_and_owners_keep_their_order(workspace: Workspace) -> None:
    workspace.sources.add("zeta", kind="crm", owners=["it", "marketing"])
    workspace.sources.add("alpha", kind="email", owners=["marketing"])
    infos = workspace.sources.list()
    assert [i.name for i in infos] == ["alpha", "zeta"]
    assert infos[1].owners == ("it", "marketing")


def test_bad_names_kinds_and_owners_are_refused(workspace: Workspace) -> None:
    with pytest.raises(InvalidValue, match="invalid source name") as bad_name:
        workspace.sources.add("Web Shop", kind="web", owners=["it"])
    assert bad_name.value.field == "name"
    with pytest.raises(InvalidValue, match="unknown source kind `telepathy`") as bad_kind:
        workspace.sources.add("web", kind="telepathy", owners=["it"])
    assert "web, app, email" in (bad_kind.value.detail or "")
    with pytest.raises(NotFound, match=r"no function `ghosts` \(known: executive, marketing"):
        workspace.sources.add("web", kind="web", owners=["it", "ghosts"])
    with pytest.raises(InvalidValue, match="at least one owning function"):
        workspace.sources.add("web", kind="web", owners=[])
    workspace.sources.add("web", kind="web", owners=["it"])
    with pytest.raises(Conflict, match="a source named `web` already exists"):
        workspace.sources.add("web", kind="app", owners=["it"])
    assert [i.name for i in workspace.sources.list()] == ["web"]


def test_repeated_owner_counts_once(workspace: Workspace) -> None:
    info, _ = workspace.sources.add("web", kind="web", owners=["it", "it", " marketing "])
    assert info.owners == ("it", "marketing")


def test_get_unknown_names_the_known_sources(workspace: Workspace) -> None:
    with pytest.raises(NotFound, match=r"no source `web` \(known: none\)"):
        workspace.sources.get("web")
    workspace.sources.add("app", kind="app", owners=["it"])
    with pytest.raises(NotFound, match=r"no source `web` \(known: app\)"):
        workspace.sources.get("web")


def test_authenticate(workspace: Workspace) -> None:
    info, key = workspace.sources.add("web", kind="web", owners=["it"])
    assert workspace.sources.authenticate(key) == info
    assert workspace.sources.authenticate(key + "x") is None
    assert workspace.sources.authenticate("") is None
    assert workspace.sources.authenticate("x" * 10_000) is None
    assert workspace.sources.authenticate("twk_\udcff") is None  # a lone surrogate is no crash


def test_rotation_stops_the_old_key_at_once(workspace: Workspace) -> None:
    _, old = workspace.sources.add("web", kind="web", owners=["it"])
    assert workspace.sources.authenticate(old) is not None  # now cached
    new = workspace.sources.rotate_key("web")
    assert new != old
    assert workspace.sources.authenticate(old) is None
    info = workspace.sources.authenticate(new)
    assert info is not None
    assert info.rotated_at is not None
    assert info.key_hint == new[:8] + "..."


def test_a_rotation_by_another_process_is_seen_when_the_cache_expires(
    make_workspace: object, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, old = workspace.sources.add("web", kind="web", owners=["it"])
    server = Workspace.open(workspace.root)  # another Sources object, as a running server has
    clock = [1000.0]
    monkeypatch.setattr(sources_module.time, "monotonic", lambda: clock[0])
    try:
        assert server.sources.authenticate(old) is not None
        workspace.sources.rotate_key("web")
        assert server.sources.cached(old) is not MISS  # still trusted within CACHE_SECONDS
        clock[0] += sources_module.CACHE_SECONDS + 0.01
        assert server.sources.cached(old) is MISS
        assert server.sources.authenticate(old) is None
    finally:
        server.close()


def test_unknown_keys_are_cached_and_the_cache_is_bounded(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module, "CACHE_MAX_ENTRIES", 3)
    for i in range(7):
        assert workspace.sources.authenticate(f"twk_unknown{i}") is None
    assert len(workspace.sources._cache) <= 3
    assert workspace.sources.cached("twk_unknown6") is None  # a cached "no"
    _, key = workspace.sources.add("web", kind="web", owners=["it"])
    assert workspace.sources.cached(key) is MISS  # adding cleared the cache


def test_remove_and_set_owners(workspace: Workspace) -> None:
    _, key = workspace.sources.add("web", kind="web", owners=["it"])
    info = workspace.sources.set_owners("web", ["marketing", "digital"])
    assert info.owners == ("marketing", "digital")
    assert workspace.sources.get("web").owners == ("marketing", "digital")
    workspace.sources.remove("web")
    assert workspace.sources.list() == []
    assert workspace.sources.authenticate(key) is None
    with pytest.raises(NotFound):
        workspace.sources.remove("web")


def test_removing_a_function_drops_it_from_the_owners(workspace: Workspace) -> None:
    workspace.sources.add("web", kind="web", owners=["it", "marketing"])
    workspace.ownership.remove_function("it")
    assert workspace.sources.get("web").owners == ("marketing",)


def test_hash_key_is_sha256_hex() -> None:
    assert hash_key("abc") == hashlib.sha256(b"abc").hexdigest()


def test_remove_refuses_while_the_lake_holds_its_data(workspace: Workspace) -> None:
    from datetime import UTC, datetime

    from tandem.customers.spec import parse_body

    workspace.sources.add("web", kind="web", owners=["it"])
    workspace.sources.add("empty", kind="app", owners=["it"])
    body = b'{"batch": [{"type": "track", "userId": "u", "event": "e"}, {"type": "track"}]}'
    parsed = parse_body(body, endpoint="batch", source="web", received_at=datetime.now(UTC))
    workspace.lake.append(parsed)
    assert workspace.sources.stored_rows("web") == 2  # one event, one quarantined message
    with pytest.raises(Conflict, match="source `web` has 2 rows in the lake") as refused:
        workspace.sources.remove("web")
    assert "rotate-key web" in (refused.value.detail or "")
    assert workspace.sources.remove("empty") == 0
    assert workspace.sources.remove("web", force=True) == 2
    assert workspace.sources.list() == []
