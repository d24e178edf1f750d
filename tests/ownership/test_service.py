"""The Ownership façade (`ws.ownership`): the operations the CLI and the HTTP API share."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tandem import Workspace
from tandem.db.models import Function, GovernanceMember, Person, Responsibility
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound
from tandem.ownership.catalogue import DEFAULT_CAPABILITIES, DEFAULT_FUNCTIONS
from tandem.ownership.model import OwnershipModel

DEFAULT_FUNCTION_KEYS = [f.key for f in DEFAULT_FUNCTIONS]


def count(
    ws: Workspace, model: type[Responsibility] | type[Person] | type[GovernanceMember]
) -> int:
    with ws.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# -- the default workspace -------------------------------------------------------------------------


def test_a_new_workspace_has_the_default_catalogue(workspace: Workspace) -> None:
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == DEFAULT_FUNCTION_KEYS
    assert [f.kind for f in model.functions] == [
        "executive",
        "marketing",
        "it",
        "digital",
        "hr",
        "pr",
        "customer_service",
        "innovation",
        "business",
    ]
    assert [c.key for c in model.capabilities] == [c.key for c in DEFAULT_CAPABILITIES]
    assert len(model.capabilities) == 17
    assert all(c.description for c in model.capabilities)
    assert model.responsibility_count() == 0
    assert model.bodies == []
    assert model.company is not None and model.company.name == "Test Retail"


def test_seed_defaults_does_not_duplicate(workspace: Workspace) -> None:
    workspace.ownership.seed_defaults(company="Other")
    model = workspace.ownership.model()
    assert len(model.functions) == 9 and len(model.capabilities) == 17
    assert model.company is not None and model.company.name == "Test Retail"


# -- functions -------------------------------------------------------------------------------------


def test_add_function_makes_a_key_from_the_name(workspace: Workspace) -> None:
    key = workspace.ownership.add_function("Data & Analytics", kind="it", description="BI team")
    assert key == "data-and-analytics"
    model = workspace.ownership.model()
    assert model.functions[-1].key == "data-and-analytics"
    added = model.function("data-and-analytics")
    assert added is not None
    assert (added.name, added.kind, added.description) == ("Data & Analytics", "it", "BI team")
    assert model.keys_of_kind("it") == {"it", "data-and-analytics"}


def test_add_function_with_a_key_and_default_kind(workspace: Workspace) -> None:
    assert workspace.ownership.add_function("  Legal  ", key="legal") == "legal"
    legal = workspace.ownership.model().function("legal")
    assert legal is not None
    assert (legal.name, legal.kind) == ("Legal", "other")


def test_add_function_with_an_existing_key_conflicts(workspace: Workspace) -> None:
    with pytest.raises(Conflict) as info:
        workspace.ownership.add_function("Marketing")
    assert info.value.message == "a function with key `marketing` already exists"
    assert info.value.field == "key"
    assert info.value.status_code == 409
    assert len(workspace.ownership.model().functions) == 9


@pytest.mark.parametrize("key", ["Bad Key", "a--b", "-x", "x" * 65, "é"])
def test_add_function_with_a_bad_key(workspace: Workspace, key: str) -> None:
    with pytest.raises(InvalidInput) as info:
        workspace.ownership.add_function("Something", key=key)
    assert info.value.field == "key"
    assert info.value.message.startswith("invalid function key: ")
    assert len(workspace.ownership.model().functions) == 9


def test_add_function_with_a_name_that_makes_no_key(workspace: Workspace) -> None:
    with pytest.raises(InvalidInput) as info:
        workspace.ownership.add_function("!!!")
    assert info.value.message == "invalid function key: a key cannot be empty"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_add_function_with_a_bad_name(workspace: Workspace, name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        workspace.ownership.add_function(name, key="fine")
    assert info.value.field == "name"


def test_add_function_with_an_unknown_kind(workspace: Workspace) -> None:
    with pytest.raises(InvalidInput) as info:
        workspace.ownership.add_function("Finance", kind="finance")
    assert info.value.message == "unknown function kind `finance`"
    assert info.value.field == "kind"
    assert info.value.detail is not None
    assert "customer_service" in info.value.detail
    assert workspace.ownership.model().function("finance") is None


def test_rename_function_name_only(workspace: Workspace) -> None:
    assert workspace.ownership.rename_function("marketing", name="Brand & Growth") == "marketing"
    marketing = workspace.ownership.model().function("marketing")
    assert marketing is not None and marketing.name == "Brand & Growth"


def test_rename_function_key_keeps_its_id_and_roles(workspace: Workspace) -> None:
    workspace.ownership.assign("crm", "marketing", "A")
    with workspace.session() as s:
        before = s.scalar(select(Function.id).where(Function.key == "marketing"))
    assert workspace.ownership.rename_function("marketing", new_key="brand") == "brand"
    with workspace.session() as s:
        assert s.scalar(select(Function.id).where(Function.key == "brand")) == before
    model = workspace.ownership.model()
    assert model.function("marketing") is None
    assert model.capability("crm").owners == {"brand": "A"}
    assert [f.key for f in model.functions][1] == "brand"


def test_rename_function_to_its_own_key_is_allowed(workspace: Workspace) -> None:
    assert workspace.ownership.rename_function("it", new_key="it", name="Tech") == "it"
    assert workspace.ownership.model().function("it").name == "Tech"


def test_rename_function_errors(workspace: Workspace) -> None:
    with pytest.raises(Conflict) as conflict:
        workspace.ownership.rename_function("marketing", new_key="it")
    assert conflict.value.message == "a function with key `it` already exists"
    with pytest.raises(NotFound) as missing:
        workspace.ownership.rename_function("sales", name="Sales")
    assert missing.value.message.startswith("no function `sales` (known: executive, marketing,")
    assert missing.value.field == "function"
    assert missing.value.status_code == 404
    with pytest.raises(InvalidInput) as nothing:
        workspace.ownership.rename_function("marketing")
    assert nothing.value.message == "nothing to change: give a new name or a new key"
    with pytest.raises(InvalidInput) as bad:
        workspace.ownership.rename_function("marketing", new_key="Brand Team")
    assert bad.value.field == "key"
    with pytest.raises(InvalidInput):
        workspace.ownership.rename_function("marketing", name=" ")
    assert [f.key for f in workspace.ownership.model().functions] == DEFAULT_FUNCTION_KEYS
    assert workspace.ownership.model().function("marketing").name == "Marketing"


def test_remove_function_drops_its_roles_people_and_seats(workspace: Workspace) -> None:
    own = workspace.ownership
    own.assign("crm", "marketing", "RA")
    own.assign("web-design", "marketing", "C")
    own.assign("crm", "it", "A")
    own.add_person("marketing", "Ben Ode", head=True)
    own.add_body("Steering", kind="steering_committee", members=["marketing", "it"])
    assert own.remove_function("marketing") == 3
    model = own.model()
    assert model.function("marketing") is None
    assert model.capability("crm").owners == {"it": "A"}
    assert model.capability("web-design").owners == {}
    assert model.bodies[0].members == ("it",)
    assert count(workspace, Responsibility) == 1
    assert count(workspace, Person) == 0
    assert count(workspace, GovernanceMember) == 1


def test_remove_function_without_roles(workspace: Workspace) -> None:
    assert workspace.ownership.remove_function("innovation") == 0
    with pytest.raises(NotFound):
        workspace.ownership.remove_function("innovation")


# -- people ----------------------------------------------------------------------------------------


def test_one_head_per_function(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_person("marketing", "Ann Lee", title="CMO", email="ann@acme.test", head=True)
    own.add_person("marketing", "Ben Ode", title="Head of growth")
    marketing = own.model().function("marketing")
    assert marketing is not None
    assert marketing.head == "Ann Lee"
    own.add_person("marketing", "Cy Park", title="Interim CMO", head=True)
    marketing = own.model().function("marketing")
    assert marketing is not None
    assert marketing.head == "Cy Park"
    assert [(p.name, p.title, p.email) for p in marketing.people] == [
        ("Ann Lee", "CMO", "ann@acme.test"),
        ("Ben Ode", "Head of growth", None),
        ("Cy Park", "Interim CMO", None),
    ]
    with workspace.session() as s:
        heads = s.scalars(select(Person.name).where(Person.is_head)).all()
    assert heads == ["Cy Park"]


def test_heads_of_different_functions(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_person("marketing", "Ann Lee", head=True)
    own.add_person("it", "Ann Lee", head=True)  # the same name in another function is allowed
    model = own.model()
    assert model.function("marketing").head == "Ann Lee"
    assert model.function("it").head == "Ann Lee"


def test_add_person_errors(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_person("hr", "Jo Smith")
    with pytest.raises(Conflict) as duplicate:
        own.add_person("hr", "Jo Smith")
    assert duplicate.value.message == "Jo Smith is already in HR"
    with pytest.raises(NotFound):
        own.add_person("finance", "Jo Smith")
    with pytest.raises(InvalidInput) as email:
        own.add_person("hr", "Al Bo", email="not an email")
    assert email.value.field == "email"
    with pytest.raises(InvalidInput):
        own.add_person("hr", "Al Bo", email="al.example.com")
    with pytest.raises(InvalidInput) as name:
        own.add_person("hr", "  ")
    assert name.value.field == "name"
    with pytest.raises(InvalidInput) as title:
        own.add_person("hr", "Al Bo", title="t" * 201)  # wider than the column
    assert title.value.field == "title"
    with pytest.raises(InvalidInput) as long_email:
        own.add_person("hr", "Al Bo", email="a" * 311 + "@acme.test")
    assert long_email.value.field == "email"
    assert [p.name for p in own.model().function("hr").people] == ["Jo Smith"]


def test_remove_person(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_person("it", "Dee Ray", head=True)
    own.add_person("it", "Eli Fox")
    own.remove_person("it", "Dee Ray")
    it = own.model().function("it")
    assert it is not None
    assert it.head is None
    assert [p.name for p in it.people] == ["Eli Fox"]
    with pytest.raises(NotFound) as info:
        own.remove_person("it", "Dee Ray")
    assert info.value.message == "Dee Ray is not in IT"


# -- capabilities ----------------------------------------------------------------------------------


def test_add_and_remove_capability(workspace: Workspace) -> None:
    own = workspace.ownership
    key = own.add_capability("Loyalty App", description="Points", customer_facing=True)
    assert key == "loyalty-app"
    loyalty = own.model().capabilities[-1]
    assert (loyalty.key, loyalty.name, loyalty.description, loyalty.customer_facing) == (
        "loyalty-app",
        "Loyalty App",
        "Points",
        True,
    )
    own.assign("loyalty-app", "marketing", "A")
    own.remove_capability("loyalty-app")
    assert own.model().capability("loyalty-app") is None
    assert count(workspace, Responsibility) == 0
    with pytest.raises(NotFound) as info:
        own.remove_capability("loyalty-app")
    assert info.value.field == "capability"


def test_add_capability_errors(workspace: Workspace) -> None:
    own = workspace.ownership
    with pytest.raises(Conflict):
        own.add_capability("CRM")
    with pytest.raises(InvalidInput) as info:
        own.add_capability("Loyalty", key="Loyalty App")
    assert info.value.message.startswith("invalid capability key: `Loyalty App` is not a valid")
    with pytest.raises(InvalidInput):
        own.add_capability("")
    assert len(own.model().capabilities) == 17


# -- responsibilities ------------------------------------------------------------------------------


def test_assign_adds_roles_in_raci_order(workspace: Workspace) -> None:
    own = workspace.ownership
    assert own.assign("crm", "marketing", "ar") == "RA"
    assert own.assign("crm", "marketing", "C") == "RAC"
    assert own.assign("crm", "marketing", "A") == "RAC"  # already held: not stored twice
    assert own.assign("crm", "it", "A") == "A"
    assert own.model().capability("crm").owners == {"marketing": "RAC", "it": "A"}
    assert count(workspace, Responsibility) == 4


def test_assign_errors(workspace: Workspace) -> None:
    own = workspace.ownership
    with pytest.raises(InvalidInput) as letter:
        own.assign("crm", "marketing", "RX")
    assert letter.value.field == "role"
    assert letter.value.message == "`X` is not a RACI role: use R, A, C or I"
    with pytest.raises(InvalidInput) as empty:
        own.assign("crm", "marketing", "")
    assert empty.value.message == "no role given: use one or more of R, A, C, I"
    with pytest.raises(NotFound) as capability:
        own.assign("crm2", "marketing", "A")
    assert capability.value.field == "capability"
    with pytest.raises(NotFound) as function:
        own.assign("crm", "sales", "A")
    assert function.value.field == "function"
    assert count(workspace, Responsibility) == 0


def test_unassign(workspace: Workspace) -> None:
    own = workspace.ownership
    own.assign("crm", "marketing", "RAC")
    own.assign("crm", "it", "A")
    assert own.unassign("crm", "marketing", "a") == "RC"
    assert own.unassign("crm", "marketing", "I") == "RC"  # not held: nothing to take
    assert own.unassign("crm", "marketing") == ""
    assert own.model().capability("crm").owners == {"it": "A"}
    with pytest.raises(InvalidInput):
        own.unassign("crm", "it", "Z")
    with pytest.raises(NotFound):
        own.unassign("crm", "sales")
    assert own.model().capability("crm").owners == {"it": "A"}


# -- governance bodies -----------------------------------------------------------------------------


def test_add_body_with_members_and_reporting_lines(workspace: Workspace) -> None:
    own = workspace.ownership
    key = own.add_body(
        "Digital Team",
        kind="digital_team",
        members=["digital"],
        reports_to=["it", "marketing", "it"],
        description="The hub",
    )
    assert key == "digital-team"
    steering = own.add_body(
        "Board", key="steering", kind="steering_committee", members=["it", "executive"]
    )
    assert steering == "steering"
    bodies = own.model().bodies
    assert [(b.key, b.name, b.kind, b.members, b.reports_to) for b in bodies] == [
        ("digital-team", "Digital Team", "digital_team", ("digital",), ("marketing", "it")),
        ("steering", "Board", "steering_committee", ("executive", "it"), ()),
    ]
    assert bodies[0].description == "The hub"


def test_add_body_errors_change_nothing(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_body("Steering", kind="steering_committee")
    with pytest.raises(Conflict) as conflict:
        own.add_body("Steering", kind="other")
    assert conflict.value.message == "a governance body with key `steering` already exists"
    with pytest.raises(InvalidInput) as kind:
        own.add_body("Guild", kind="guild")
    assert kind.value.message == "unknown governance body kind `guild`"
    assert kind.value.field == "kind"
    with pytest.raises(NotFound):
        own.add_body("Digital", kind="digital_team", members=["digital"], reports_to=["sales"])
    with pytest.raises(InvalidInput):
        own.add_body("Digital", key="Digital Team", kind="digital_team")
    assert [b.key for b in own.model().bodies] == ["steering"]
    assert count(workspace, GovernanceMember) == 0


def test_remove_body(workspace: Workspace) -> None:
    own = workspace.ownership
    own.add_body("Steering", kind="steering_committee", members=["marketing"])
    own.remove_body("steering")
    assert own.model().bodies == []
    assert count(workspace, GovernanceMember) == 0
    with pytest.raises(NotFound) as info:
        own.remove_body("steering")
    assert info.value.message == "no governance body `steering`"


# -- the matrix, the company, the analyses ---------------------------------------------------------


def test_matrix(workspace: Workspace) -> None:
    own = workspace.ownership
    own.assign("crm", "it", "R")
    own.assign("crm", "marketing", "A")
    own.assign("digital-vision-strategy", "executive", "A")
    own.add_capability("Loyalty app")
    matrix = own.matrix()
    assert matrix.functions[:3] == [
        {"key": "executive", "name": "Executive (CEO)", "kind": "executive"},
        {"key": "marketing", "name": "Marketing", "kind": "marketing"},
        {"key": "it", "name": "IT", "kind": "it"},
    ]
    assert [f["key"] for f in matrix.functions] == DEFAULT_FUNCTION_KEYS
    assert len(matrix.rows) == 18
    rows = {r["key"]: r for r in matrix.rows}
    assert rows["crm"] == {"key": "crm", "name": "CRM", "roles": {"marketing": "A", "it": "R"}}
    assert list(rows["crm"]["roles"]) == ["marketing", "it"]  # function order, not assign order
    assert rows["digital-vision-strategy"]["roles"] == {"executive": "A"}
    assert rows["loyalty-app"]["roles"] == {}
    assert matrix.rows[-1]["key"] == "loyalty-app"
    assert matrix.to_dict() == {"functions": matrix.functions, "capabilities": matrix.rows}


def test_matrix_of_a_given_model(workspace: Workspace) -> None:
    full = workspace.ownership.model()
    model = OwnershipModel(full.company, full.functions[:2], full.capabilities[:1], [])
    matrix = workspace.ownership.matrix(model)
    assert [f["key"] for f in matrix.functions] == ["executive", "marketing"]
    assert [r["key"] for r in matrix.rows] == ["digital-vision-strategy"]


def test_set_company(workspace: Workspace) -> None:
    own = workspace.ownership
    own.set_company(
        name="Acme Retail", industry="retail", employees=4200, digital_revenue_team=True
    )
    company = own.model().company
    assert company is not None
    assert (company.name, company.industry, company.employees, company.digital_revenue_team) == (
        "Acme Retail",
        "retail",
        4200,
        True,
    )
    own.set_company(industry="  ")  # blank clears; what is not given stays
    company = own.model().company
    assert company is not None
    assert (company.name, company.industry, company.employees) == ("Acme Retail", None, 4200)
    with pytest.raises(InvalidInput) as employees:
        own.set_company(employees=0)
    assert employees.value.field == "employees"
    with pytest.raises(InvalidInput) as name:
        own.set_company(name=" ")
    assert name.value.field == "name"
    with pytest.raises(InvalidInput) as industry:
        own.set_company(industry="i" * 201)  # wider than the column
    assert industry.value.field == "industry"
    assert own.model().company == company


def test_company_size_drives_the_benchmark(workspace: Workspace) -> None:
    def right_people() -> int:
        rows = workspace.ownership.benchmark().organisation
        return next(o.survey_percent for o in rows if o.key == "right_people_define_strategy")

    assert right_people() == 21
    workspace.ownership.set_company(employees=5000)
    assert right_people() == 15


def test_findings_of_a_new_workspace(workspace: Workspace) -> None:
    findings = workspace.ownership.findings()
    assert [(f.rule, f.severity) for f in findings] == [
        ("no-executive-sponsor", "high"),
        ("no-digital-hub", "high"),
        ("capability-without-accountable", "high"),
        ("marketing-it-share-nothing", "high"),
        ("function-absent", "medium"),
        ("function-absent", "medium"),
        ("function-absent", "medium"),
        ("function-absent", "medium"),
        ("hr-marketing-share-nothing", "medium"),
        ("no-steering-committee", "medium"),
        ("hr-it-share-nothing", "low"),
    ]
    without_accountable = findings[2]
    assert len(without_accountable.capabilities) == 17
    assert [f.functions for f in findings if f.rule == "function-absent"] == [
        ("pr",),
        ("customer-service",),
        ("innovation",),
        ("hr",),
    ]


def test_findings_follow_changes(workspace: Workspace) -> None:
    own = workspace.ownership
    own.assign("digital-vision-strategy", "executive", "A")
    own.assign("crm", "marketing", "A")
    rules = {f.rule for f in own.findings()}
    assert "no-executive-sponsor" not in rules
    assert "marketing-alone-accountable" in rules
    own.assign("crm", "it", "A")
    rules = {f.rule for f in own.findings()}
    assert "marketing-alone-accountable" not in rules
    assert "marketing-it-share-nothing" not in rules


def test_set_roles_gives_exactly_the_letters_in_one_step(workspace: Workspace) -> None:
    ownership = workspace.ownership
    ownership.assign("crm", "marketing", "RC")
    assert ownership.set_roles("crm", "marketing", "ai") == ("AI", True)
    assert ownership.unassign("crm", "marketing", "I") == "A"  # R and C are gone
    assert ownership.set_roles("crm", "marketing", "A") == ("A", False)
    assert ownership.set_roles("crm", "marketing", "") == ("", True)
    assert ownership.unassign("crm", "marketing") == ""


def test_set_roles_refuses_bad_letters_and_changes_nothing(workspace: Workspace) -> None:
    ownership = workspace.ownership
    ownership.assign("crm", "it", "R")
    with pytest.raises(InvalidValue, match="X"):
        ownership.set_roles("crm", "it", "RX")
    assert ownership.unassign("crm", "it", "C") == "R"
