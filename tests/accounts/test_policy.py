"""The access policy: every (role, relation, resource kind, action) against an expectation written
separately from the table, straight from the issue's rules; and how relations are derived."""

from __future__ import annotations

import itertools

import pytest

from tandem.accounts import User
from tandem.accounts.errors import Forbidden
from tandem.accounts.policy import (
    ACTIONS,
    MODEL,
    POLICY,
    RELATIONS,
    RESOURCE_KINDS,
    ROLE_NAMES,
    USERS,
    allowed,
    can,
    capability_resource,
    function_resource,
    owned_resource,
    relations,
    require,
    source_resource,
)

CUSTOMER_DATA = {"source", "hr_source", "segment", "campaign"}


def expected(role: str, relation: str, kind: str, action: str) -> bool:
    """The rules of issue 7 and docs/access.md, written out one by one."""
    if role == "admin":
        return True  # admins do everything
    if kind == "user":
        return False  # accounts are the admins' business
    if action == "read":
        return True  # everyone signed in reads the model, sources' descriptions, surveys, ...
    if action in ("read_data", "read_personal"):
        # customer data: its owning functions, the digital team (not for HR sources), grants
        sees = relation in ("owner", "co_owner", "granted") or (
            relation == "digital_team" and kind != "hr_source"
        )
        if action == "read_personal" and role == "viewer":
            return False  # personal data is masked for viewers
        return sees
    # action == "edit": viewers only read
    if role == "viewer":
        return False
    if kind == "model":
        return relation == "granted"  # the structure of the model: admins, or a grant
    if kind == "capability":
        # the ownership-matrix rule: R or A holders, the digital team, grants
        return relation in ("owner", "co_owner", "digital_team", "granted")
    # what their function owns (or co-owns), and what an admin grants
    return relation in ("owner", "co_owner", "granted")


def actions_of(kind: str) -> tuple[str, ...]:
    return (
        ("read", "edit", "read_data", "read_personal")
        if kind in CUSTOMER_DATA
        else ("read", "edit")
    )


COMBINATIONS = [
    (role, relation, kind, action)
    for role, relation, kind in itertools.product(ROLE_NAMES, RELATIONS, RESOURCE_KINDS)
    for action in actions_of(kind)
]


def test_every_combination_is_enumerated() -> None:
    assert len(ROLE_NAMES) == 3 and len(RELATIONS) == 5 and len(RESOURCE_KINDS) == 10
    # 6 kinds x 2 actions + 4 customer-data kinds x 4 actions = 28 (kind, action) pairs
    assert set(POLICY) == {(k, a) for k in RESOURCE_KINDS for a in actions_of(k)}
    assert len(COMBINATIONS) == 3 * 5 * 28 == 420


@pytest.mark.parametrize(("role", "relation", "kind", "action"), COMBINATIONS)
def test_policy_table_matches_the_rules(role: str, relation: str, kind: str, action: str) -> None:
    assert allowed(role, relation, kind, action) is expected(role, relation, kind, action)


def test_actions_a_kind_does_not_have_are_refused_loudly() -> None:
    missing = [(k, a) for k in RESOURCE_KINDS for a in ACTIONS if a not in actions_of(k)]
    assert len(missing) == 12
    for kind, action in missing:
        with pytest.raises(ValueError, match="has no action"):
            allowed("admin", "owner", kind, action)
    with pytest.raises(ValueError, match="unknown role"):
        allowed("owner", "owner", "model", "read")


def user(function: str | None, *, role: str = "editor", kind: str | None = None, grants=()) -> User:  # type: ignore[no-untyped-def]
    return User(
        id=1,
        email=f"{function}@example.com",
        role=role,  # type: ignore[arg-type]
        function=function,
        function_kind=kind or function,
        grants=frozenset(grants),
    )


CRM = capability_resource("crm", {"marketing": "A", "it": "RC", "hr": "I"})


def test_relations_on_a_capability_come_from_raci_letters() -> None:
    assert relations(user("marketing"), CRM) == {"owner"}
    assert relations(user("it"), CRM) == {"co_owner"}
    assert relations(user("hr"), CRM) == {"none"}  # I is not ownership
    assert relations(user("digital"), CRM) == {"digital_team"}
    assert relations(user("pr", grants={("capability", "crm")}), CRM) == {"granted"}
    assert relations(user("pr", grants={("capability", "web")}), CRM) == {"none"}
    assert relations(user(None), CRM) == {"none"}


def test_matrix_rows_are_changed_by_r_or_a_holders_the_hub_grants_and_admins() -> None:
    assert can(user("marketing"), "edit", CRM)
    assert can(user("it"), "edit", CRM)
    assert can(user("digital"), "edit", CRM)
    assert not can(user("hr"), "edit", CRM)
    assert can(user("hr", grants={("capability", "crm")}), "edit", CRM)
    assert can(user("hr", role="admin"), "edit", CRM)
    assert not can(user("marketing", role="viewer"), "edit", CRM)
    assert can(user("hr", role="viewer"), "read", CRM)


def test_customer_data_stays_with_owners_the_hub_and_admins_and_hr_keeps_hr_data() -> None:
    web = source_resource("web", "web", ["marketing", "it"])
    payroll = source_resource("people-survey", "hr", ["hr"])
    assert web.kind == "source" and payroll.kind == "hr_source"
    assert can(user("marketing"), "read_data", web)
    assert can(user("digital"), "read_data", web)
    assert not can(user("hr"), "read_data", web)
    assert can(user("hr"), "read_data", payroll)
    assert not can(user("digital"), "read_data", payroll)  # even the digital team
    assert not can(user("marketing"), "read_data", payroll)
    assert can(user("marketing", role="admin"), "read_data", payroll)
    assert can(user("digital", grants={("source", "people-survey")}), "read_data", payroll)
    # personal data is masked for viewers even of the owning function
    assert can(user("marketing", role="viewer"), "read_data", web)
    assert not can(user("marketing", role="viewer"), "read_personal", web)
    assert can(user("marketing"), "read_personal", web)


def test_functions_people_and_the_model() -> None:
    assert can(user("marketing"), "edit", function_resource("marketing"))
    assert not can(user("marketing"), "edit", function_resource("it"))
    assert not can(user("digital"), "edit", function_resource("it"))
    assert not can(user("marketing"), "edit", MODEL)
    assert can(user("marketing", grants={("model", "*")}), "edit", MODEL)
    assert can(user("marketing", role="admin"), "edit", MODEL)
    assert not can(user("marketing"), "read", USERS)
    assert can(user("marketing", role="admin"), "edit", USERS)
    initiative = owned_resource("initiative", "app-relaunch", ["marketing", "it"])
    assert can(user("it"), "edit", initiative)
    assert not can(user("hr"), "edit", initiative)


def test_a_disabled_user_may_do_nothing() -> None:
    admin = User(1, "a@example.com", "admin", "it", "it", disabled=True)
    assert not can(admin, "read", MODEL)


def test_require_names_who_what_and_how_to_get_it() -> None:
    with pytest.raises(Forbidden) as caught:
        require(user("hr"), "edit", CRM)
    assert caught.value.status_code == 403
    assert caught.value.message == "hr@example.com (editor of hr) may not change capability `crm`"
    assert "tandem users grant" in (caught.value.detail or "")
    require(user("marketing"), "edit", CRM)  # allowed: returns quietly
