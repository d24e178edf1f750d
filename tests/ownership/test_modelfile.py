"""The ownership YAML file: all-or-nothing import with file, line and field; export; round trip."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from tandem import Workspace
from tandem.db.models import Capability, Function, Person
from tandem.errors import InvalidInput, Problem
from tandem.ownership.catalogue import DEFAULT_FUNCTIONS
from tandem.ownership.model import FunctionInfo, OwnershipModel
from tandem.ownership.modelfile import dump_model, read_model_file
from tests.conftest import model_from_yaml

FULL = """
company:
  name: Acme Retail
  industry: retail
  employees: 4200
  digital_revenue_team: false
functions:
- key: executive
  name: Executive (CEO)
  kind: executive
  head: Ada King
  people:
  - {name: Ada King, title: CEO, email: ada@acme.test}
- key: brand
  name: Brand & Growth
  kind: marketing
  description: "Marketing: brand, growth & loyalty"
  head: Ben Ode
  people:
  - {name: Ben Ode, title: CMO}
  - {name: Cy Park}
- {key: it, name: IT, kind: it}
- {key: digital, name: Digital team, kind: digital}
- {key: hr, name: HR, kind: hr}
capabilities:
- key: digital-vision-strategy
  name: Digital vision & strategy
  owners: {executive: A, brand: C, it: C}
- key: crm
  name: CRM
  description: The customer database.
  customer_facing: true
  owners: {brand: RA, it: A, digital: I}
- key: loyalty-app
  name: Loyalty app
  customer_facing: true
governance:
- key: steering
  name: Digital steering committee
  kind: steering_committee
  members: [executive, brand, it]
- key: digital-team
  name: Digital team
  kind: digital_team
  description: The hub.
  members: [digital]
  reports_to: [brand, it]
"""

DEFAULT_KEYS = [f.key for f in DEFAULT_FUNCTIONS]
DEFAULT_MODEL = OwnershipModel(
    None, [FunctionInfo(f.key, f.name, f.kind) for f in DEFAULT_FUNCTIONS], [], []
)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented, leading blank lines dropped: line 1 is the first line)."""

    def write(text: str, name: str = "ownership.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
        return path

    return write


def rejected(ws: Workspace, path: Path, *, merge: bool = False) -> InvalidInput:
    """Import `path`, expect InvalidInput naming the file, and check nothing changed."""
    before = ws.ownership.export()
    with pytest.raises(InvalidInput) as info:
        ws.ownership.import_file(path, merge=merge)
    assert ws.ownership.export() == before
    assert info.value.source == str(path)
    return info.value


def checked(path: Path) -> InvalidInput:
    """Check `path` against the default functions, without a workspace (for variations)."""
    with pytest.raises(InvalidInput) as info:
        read_model_file(path, DEFAULT_MODEL)
    assert info.value.source == str(path)
    return info.value


def single(err: InvalidInput) -> Problem:
    assert len(err.problems) == 1, err.problems
    return err.problems[0]


# -- import errors ---------------------------------------------------------------------------------


def test_bad_yaml_syntax_reports_the_line(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        functions:
        - {key: marketing, kind: marketing}
        capabilities:
        - key: crm
          owners: {marketing: A
        - key: web-design
        """
    )
    err = rejected(workspace, path)
    assert err.message == f"{path} is not valid YAML"
    problem = single(err)
    assert problem.line == 6
    assert "did not find expected ',' or '}'" in problem.message
    assert err.lines()[1] == f"  {path}, line 6: {problem.message}"


def test_tab_indentation_is_a_syntax_error(write: Callable[..., Path]) -> None:
    path = write("capabilities:\n- key: crm\n\tname: CRM\n")
    problem = single(checked(path))
    assert problem.line == 3
    assert "tab" in problem.message


def test_unknown_function_in_owners(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        functions:
        - {key: marketing, kind: marketing}
        - {key: it, kind: it}
        capabilities:
        - key: crm
          owners: {marketing: A}
        - key: web-design
          owners:
            it: R
            sales: A
        """
    )
    err = rejected(workspace, path)
    assert err.message == (f"{path} is not a valid ownership file (1 problem); nothing was changed")
    problem = single(err)
    assert (problem.line, problem.field) == (10, "capabilities[1].owners.sales")
    assert problem.message == "unknown function `sales` (known: it, marketing)"
    assert err.field == "capabilities[1].owners.sales"
    assert err.lines() == [
        err.message,
        f"  {path}, line 10: capabilities[1].owners.sales: unknown function `sales` "
        "(known: it, marketing)",
    ]
    assert err.to_dict() == {
        "error": "invalid_input",
        "detail": err.message,
        "field": "capabilities[1].owners.sales",
        "problems": [
            {
                "message": "unknown function `sales` (known: it, marketing)",
                "field": "capabilities[1].owners.sales",
                "line": 10,
            }
        ],
    }


def test_unknown_function_checked_against_the_workspace(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    path = write("capabilities:\n- key: crm\n  owners: {marketing: A, finance: R}\n")
    problem = single(rejected(workspace, path))
    assert (problem.line, problem.field) == (3, "capabilities[0].owners.finance")
    assert problem.message.startswith("unknown function `finance` (known: business-units, ")


def test_unknown_governance_member(write: Callable[..., Path]) -> None:
    path = write(
        """
        governance:
        - key: steering
          kind: steering_committee
          members:
          - marketing
          - sales
        """
    )
    problem = single(checked(path))
    assert (problem.line, problem.field) == (6, "governance[0].members[1]")
    assert problem.message.startswith("unknown function `sales`")


def test_unknown_role_letter_changes_nothing(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    path = write(
        """
        capabilities:
        - key: crm
          name: CRM
          owners:
            marketing: A
            it: RX
        """
    )
    err = rejected(workspace, path)
    problem = single(err)
    assert (problem.line, problem.field) == (6, "capabilities[0].owners.it")
    assert problem.message == "`X` is not a RACI role: use R, A, C or I"
    assert err.lines()[1] == (
        f"  {path}, line 6: capabilities[0].owners.it: `X` is not a RACI role: use R, A, C or I"
    )


@pytest.mark.parametrize(
    ("owners", "line", "letter"),
    [
        (" {marketing: A, it: Q}\n", 4, "Q"),
        ("\n    marketing: A\n    it: [R, Z]\n", 6, "Z"),
        ("\n    marketing: A\n    it: responsible\n", 6, "e"),
    ],
)
def test_unknown_role_letter(
    write: Callable[..., Path], owners: str, line: int, letter: str
) -> None:
    path = write(f"capabilities:\n- key: crm\n  name: CRM\n  owners:{owners}")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (line, "capabilities[0].owners.it")
    assert problem.message == f"`{letter}` is not a RACI role: use R, A, C or I"


def test_several_letters_in_one_list_item_are_refused(write: Callable[..., Path]) -> None:
    path = write("capabilities:\n- key: crm\n  owners:\n    marketing: [RA]\n")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (4, "capabilities[0].owners.marketing")
    assert problem.message == "`RA` is not a RACI role: use R, A, C or I"


@pytest.mark.parametrize("value", ["''", "[]", "null", "5", "{r: 1}"])
def test_roles_that_are_not_letters(write: Callable[..., Path], value: str) -> None:
    path = write(f"capabilities:\n- key: crm\n  owners:\n    it: C\n    marketing: {value}\n")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (5, "capabilities[0].owners.marketing")
    assert "role" in problem.message or "RACI letters" in problem.message


def test_duplicate_capability_key(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        capabilities:
        - key: crm
          owners: {marketing: A}
        - key: web-design
        - key: crm
          owners: {it: A}
        """
    )
    problem = single(rejected(workspace, path))
    assert (problem.line, problem.field) == (5, "capabilities[2].key")
    assert problem.message == "capability `crm` is listed twice"


@pytest.mark.parametrize(
    ("section", "entries", "message"),
    [
        ("functions", "- {key: hr, kind: hr}\n- {key: hr, kind: hr}\n", "function `hr`"),
        ("governance", "- key: sc\n- key: sc\n", "governance body `sc`"),
    ],
)
def test_duplicate_function_or_body_key(
    write: Callable[..., Path], section: str, entries: str, message: str
) -> None:
    problem = single(checked(write(f"{section}:\n{entries}")))
    assert (problem.line, problem.field) == (3, f"{section}[1].key")
    assert problem.message == f"{message} is listed twice"


def test_duplicate_mapping_key(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        capabilities:
        - key: crm
          name: CRM
          owners: {marketing: A}
          name: Customer database
        """
    )
    err = rejected(workspace, path)
    assert err.message == f"{path} repeats keys"
    problem = single(err)
    assert (problem.line, problem.field) == (5, "capabilities[0].name")
    assert problem.message == "key `name` appears twice"


def test_duplicate_function_in_owners_mapping(write: Callable[..., Path]) -> None:
    path = write("capabilities:\n- key: crm\n  owners:\n    it: A\n    marketing: R\n    it: C\n")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (6, "capabilities[0].owners.it")


def test_unknown_field(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write("capabilities:\n- key: crm\n  ownres: {marketing: A}\n")
    problem = single(rejected(workspace, path))
    assert (problem.line, problem.field) == (3, "capabilities[0].ownres")
    assert problem.message == "unknown field `ownres`"


def test_unknown_top_level_section(write: Callable[..., Path]) -> None:
    path = write("version: 1\nfunctions: []\nbudgets: {}\n")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (3, "budgets")


def test_missing_key(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        capabilities:
        - key: crm
        - name: Web design
          owners: {it: A}
        """
    )
    problem = single(rejected(workspace, path))
    assert (problem.line, problem.field) == (3, "capabilities[1].key")
    assert problem.message == "missing required field `key`"


def test_missing_company_name(write: Callable[..., Path]) -> None:
    problem = single(checked(write("company:\n  industry: retail\n")))
    assert (problem.line, problem.field) == (1, "company.name")


def test_wrong_type_changes_nothing(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        company:
          name: Acme
          employees: many
        capabilities:
        - key: crm
          customer_facing: maybe
        """
    )
    err = rejected(workspace, path)
    assert err.message == f"{path} is not a valid ownership file (2 problems); nothing was changed"
    assert [(p.line, p.field) for p in err.problems] == [
        (3, "company.employees"),
        (6, "capabilities[0].customer_facing"),
    ]
    assert err.problems[0].message == (
        "Input should be a valid integer, unable to parse string as an integer (got 'many')"
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("company:\n  name: Acme\n  employees: many\n", 3, "company.employees", "integer"),
        ("company:\n  name: Acme\n  employees: 0\n", 3, "company.employees", "greater than"),
        ("functions: marketing\n", 1, "functions", "expected a list"),
        ("capabilities:\n- key: crm\n  customer_facing: maybe\n", 3, "capabilities[0]."
         "customer_facing", "boolean"),
        ("capabilities:\n- crm\n", 2, "capabilities[0]", "expected a mapping"),
        ("functions:\n- {key: hr, kind: finance}\n", 2, "functions[0].kind", "'executive'"),
        ("governance:\n- {key: sc, kind: board}\n", 2, "governance[0].kind", "'other'"),
        ("functions:\n- {key: Human Resources}\n", 2, "functions[0].key", "not a valid key"),
        ("version: 2\n", 1, "version", "1"),
        ("functions:\n- key: hr\n  people:\n  - {name: Jo, email: jo}\n", 4,
         "functions[0].people[0].email", "pattern"),
        ("functions:\n- key: hr\n  people:\n  - {name: Jo, title: " + "x" * 201 + "}\n", 4,
         "functions[0].people[0].title", "200 characters"),
    ],
)  # fmt: skip
def test_wrong_type_or_value(
    write: Callable[..., Path],
    text: str,
    line: int,
    field: str,
    words: str,
) -> None:
    problem = single(checked(write(text)))
    assert (problem.line, problem.field) == (line, field)
    assert words in problem.message


def test_a_top_level_list_is_not_an_ownership_file(write: Callable[..., Path]) -> None:
    problem = single(checked(write("- marketing\n- it\n")))
    assert problem.message == "expected a mapping of `field: value` lines"
    assert problem.line == 1


def test_empty_file_changes_nothing(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write("")
    err = rejected(workspace, path)
    assert err.message == f"{path} is empty"
    assert err.lines() == [f"{path} is empty"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(write: Callable[..., Path], text: str) -> None:
    path = write(text)
    err = checked(path)
    assert err.message == f"{path} is empty"
    assert err.problems == []


def test_non_utf8_bytes(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"capabilities:\n- key: crm\n  name: Caf\xe9 CRM\n")
    err = rejected(workspace, path)
    assert err.message == f"{path} is not UTF-8 text"
    problem = single(err)
    assert problem.line == 3
    assert problem.message == "byte 0xe9 is not valid UTF-8"


def test_missing_file(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    err = rejected(workspace, path)
    assert err.message == f"ownership file not found: {path}"
    assert err.lines() == [err.message]


def test_folder_instead_of_file(tmp_path: Path) -> None:
    err = checked(tmp_path)
    assert err.message == f"{tmp_path} is a folder, not a ownership file"


def test_head_not_among_people(workspace: Workspace, write: Callable[..., Path]) -> None:
    path = write(
        """
        functions:
        - key: marketing
          kind: marketing
          head: Jo Bloggs
          people:
          - name: Ann Lee
        """
    )
    problem = single(rejected(workspace, path))
    assert (problem.line, problem.field) == (4, "functions[0].head")
    assert problem.message == "head `Jo Bloggs` is not one of this function's people"


def test_person_listed_twice(write: Callable[..., Path]) -> None:
    path = write("functions:\n- key: hr\n  people:\n  - name: Jo\n  - name: Jo\n")
    problem = single(checked(path))
    assert (problem.line, problem.field) == (5, "functions[0].people[1].name")
    assert problem.message == "person `Jo` is listed twice"


def test_every_problem_is_reported_in_line_order(write: Callable[..., Path]) -> None:
    path = write(
        """
        functions:
        - {key: marketing, kind: marketing}
        - {key: it, kind: it}
        capabilities:
        - key: crm
          owners: {marketing: A, sales: R}
        - key: crm
        governance:
        - key: steering
          kind: steering_committee
          members: [marketing, it, legal]
        """
    )
    err = checked(path)
    assert err.message == f"{path} is not a valid ownership file (3 problems); nothing was changed"
    assert [(p.line, p.field) for p in err.problems] == [
        (6, "capabilities[0].owners.sales"),
        (7, "capabilities[1].key"),
        (11, "governance[0].members[2]"),
    ]


def test_a_valid_section_before_an_error_is_not_written(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    """Replace would remove seven functions and rename one; the bad role stops all of it."""
    path = write(
        """
        company:
          name: Renamed Co
        functions:
        - {key: marketing, name: Brand, kind: marketing}
        - {key: it, kind: it}
        capabilities:
        - key: crm
          owners: {marketing: A, it: W}
        """
    )
    rejected(workspace, path)
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == DEFAULT_KEYS
    assert model.function("marketing").name == "Marketing"
    assert model.company is not None and model.company.name == "Test Retail"


# -- round trip ------------------------------------------------------------------------------------


def test_import_full_file(workspace: Workspace, write: Callable[..., Path]) -> None:
    summary = workspace.ownership.import_file(write(FULL))
    assert summary.to_dict() == {
        "functions": 5,
        "people": 3,
        "capabilities": 3,
        "responsibilities": 7,
        "governance_bodies": 2,
        "removed": {
            "functions": ["business-units", "customer-service", "innovation", "marketing", "pr"],
            "capabilities": sorted(
                [
                    "social-media-marketing",
                    "digital-marketing-strategy",
                    "social-crm",
                    "customer-experience-strategy",
                    "customer-analytics",
                    "digital-media-selection",
                    "web-strategy",
                    "web-design",
                    "digital-vendor-selection",
                    "customer-mobile-app-development",
                    "employee-digital-engagement",
                    "social-customer-service",
                    "customer-ideas-innovation",
                    "digital-recruiting-employer-brand",
                    "customer-data-integration",
                ]
            ),
        },
    }
    model = workspace.ownership.model()
    assert model.company is not None
    assert (model.company.name, model.company.employees) == ("Acme Retail", 4200)
    assert model.company.digital_revenue_team is False
    assert [f.key for f in model.functions] == ["executive", "brand", "it", "digital", "hr"]
    brand = model.function("brand")
    assert brand is not None
    assert (brand.name, brand.kind, brand.head) == ("Brand & Growth", "marketing", "Ben Ode")
    assert brand.description == "Marketing: brand, growth & loyalty"
    assert [(p.name, p.title, p.email) for p in brand.people] == [
        ("Ben Ode", "CMO", None),
        ("Cy Park", "", None),
    ]
    assert [c.key for c in model.capabilities] == ["digital-vision-strategy", "crm", "loyalty-app"]
    crm = model.capability("crm")
    assert crm is not None
    assert crm.owners == {"brand": "RA", "it": "A", "digital": "I"}
    assert crm.customer_facing and crm.description == "The customer database."
    assert model.capability("loyalty-app").owners == {}
    assert [(b.key, b.kind, b.members, b.reports_to) for b in model.bodies] == [
        ("steering", "steering_committee", ("executive", "brand", "it"), ()),
        ("digital-team", "digital_team", ("digital",), ("brand", "it")),
    ]


def test_export_import_export_is_identical(
    make_workspace: Callable[..., Workspace], write: Callable[..., Path]
) -> None:
    first = make_workspace("first")
    first.ownership.import_file(write(FULL))
    exported = first.ownership.export()
    assert "  owners: {brand: RA, it: A, digital: I}\n" in exported
    assert "  reports_to: [brand, it]\n" in exported

    first.ownership.import_file(write(exported, "again.yaml"))
    assert first.ownership.export() == exported

    second = make_workspace("second", company="Someone Else")
    second.ownership.import_file(write(exported, "copy.yaml"))
    assert second.ownership.export() == exported


def test_default_workspace_round_trips(
    make_workspace: Callable[..., Workspace], write: Callable[..., Path]
) -> None:
    ws = make_workspace()
    exported = ws.ownership.export()
    summary = ws.ownership.import_file(write(exported))
    assert (summary.functions, summary.capabilities, summary.removed) == (9, 17, {})
    assert ws.ownership.export() == exported


def test_export_reads_back_as_the_same_model(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    workspace.ownership.import_file(write(FULL))
    model = workspace.ownership.model()
    assert model_from_yaml(dump_model(model)) == model


# -- replace and merge -----------------------------------------------------------------------------

SMALL = """
functions:
- {key: marketing, name: Marketing & sales, kind: marketing}
- {key: it, name: IT, kind: it}
capabilities:
- key: crm
  name: CRM
  owners: {marketing: A, it: R}
governance:
- key: steering
  name: Steering committee
  kind: steering_committee
  members: [marketing, it]
"""


def with_board(ws: Workspace) -> None:
    ws.ownership.add_body("Old board", kind="other", key="old-board", members=["hr"])
    ws.ownership.assign("web-design", "pr", "A")


def test_replace_removes_what_the_file_does_not_list(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    with_board(workspace)
    summary = workspace.ownership.import_file(write(SMALL))
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == ["marketing", "it"]
    assert [c.key for c in model.capabilities] == ["crm"]
    assert [b.key for b in model.bodies] == ["steering"]
    assert model.capability("crm").owners == {"marketing": "A", "it": "R"}
    assert summary.removed["governance_bodies"] == ["old-board"]
    assert summary.removed["functions"] == [
        "business-units",
        "customer-service",
        "digital",
        "executive",
        "hr",
        "innovation",
        "pr",
    ]
    assert len(summary.removed["capabilities"]) == 16


def test_merge_keeps_what_the_file_does_not_list(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    with_board(workspace)
    summary = workspace.ownership.import_file(write(SMALL), merge=True)
    assert summary.removed == {}
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == DEFAULT_KEYS
    assert model.function("marketing").name == "Marketing & sales"
    assert len(model.capabilities) == 17
    assert model.capability("crm").owners == {"marketing": "A", "it": "R"}
    assert model.capability("web-design").owners == {"pr": "A"}
    assert [(b.key, b.members) for b in model.bodies] == [
        ("old-board", ("hr",)),
        ("steering", ("marketing", "it")),
    ]


def test_merge_appends_new_things_and_may_refer_to_existing_functions(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    path = write(
        """
        functions:
        - {key: ecommerce, name: E-commerce, kind: marketing}
        capabilities:
        - key: marketplace
          name: Marketplace
          owners: {ecommerce: R, marketing: A, it: A}
        """
    )
    workspace.ownership.import_file(path, merge=True)
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == [*DEFAULT_KEYS, "ecommerce"]
    assert model.capabilities[-1].key == "marketplace"
    assert model.capabilities[-1].owners == {"marketing": "A", "it": "A", "ecommerce": "R"}
    # Without merge the same file would remove `marketing` and `it`, so it cannot refer to them.
    problems = rejected(workspace, path).problems
    assert [p.field for p in problems] == [
        "capabilities[0].owners.marketing",
        "capabilities[0].owners.it",
    ]
    assert problems[0].message == "unknown function `marketing` (known: ecommerce)"


def test_sections_left_out_are_left_alone(workspace: Workspace, write: Callable[..., Path]) -> None:
    with_board(workspace)
    before = workspace.ownership.model()
    workspace.ownership.import_file(write("company:\n  name: New Name\n  employees: 2500\n"))
    after = workspace.ownership.model()
    assert after.company is not None
    assert (after.company.name, after.company.employees) == ("New Name", 2500)
    assert (after.functions, after.capabilities, after.bodies) == (
        before.functions,
        before.capabilities,
        before.bodies,
    )
    workspace.ownership.import_file(
        write("capabilities:\n- {key: crm, owners: {it: A}}\n", "c.yaml")
    )
    after = workspace.ownership.model()
    assert after.functions == before.functions
    assert after.bodies == before.bodies
    assert [c.key for c in after.capabilities] == ["crm"]


def test_replace_drops_the_responsibilities_of_removed_functions(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    workspace.ownership.assign("crm", "pr", "C")
    workspace.ownership.assign("crm", "marketing", "A")
    workspace.ownership.import_file(write("functions:\n- {key: marketing, kind: marketing}\n"))
    model = workspace.ownership.model()
    assert model.capability("crm").owners == {"marketing": "A"}
    assert model.function("marketing").name == "Marketing"


def test_ids_survive_a_reimport(workspace: Workspace, write: Callable[..., Path]) -> None:
    workspace.ownership.add_person("marketing", "Ben Ode", title="CMO", head=True)

    def ids() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        with workspace.session() as s:
            functions = {k: i for k, i in s.execute(select(Function.key, Function.id))}
            capabilities = {k: i for k, i in s.execute(select(Capability.key, Capability.id))}
            people = {k: i for k, i in s.execute(select(Person.name, Person.id))}
        return functions, capabilities, people

    functions, capabilities, people = ids()
    path = write(
        """
        functions:
        - {key: it, name: Technology, kind: it}
        - key: marketing
          name: Brand
          kind: marketing
          head: Ben Ode
          people: [{name: Ben Ode, title: Chief Marketing Officer}]
        - {key: legal, name: Legal, kind: other}
        capabilities:
        - {key: web-design, owners: {it: R, marketing: A}}
        - {key: crm, owners: {marketing: A}}
        """
    )
    workspace.ownership.import_file(path)
    after_functions, after_capabilities, after_people = ids()
    assert after_functions["it"] == functions["it"]
    assert after_functions["marketing"] == functions["marketing"]
    assert "legal" in after_functions and "hr" not in after_functions
    assert after_capabilities == {k: capabilities[k] for k in ("web-design", "crm")}
    assert after_people == people
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == ["it", "marketing", "legal"]
    assert [c.key for c in model.capabilities] == ["web-design", "crm"]
    marketing = model.function("marketing")
    assert marketing is not None
    assert (marketing.head, marketing.people[0].title) == ("Ben Ode", "Chief Marketing Officer")


def test_a_new_head_replaces_the_old_one(workspace: Workspace, write: Callable[..., Path]) -> None:
    workspace.ownership.add_person("marketing", "Ann Lee", head=True)
    path = write(
        """
        functions:
        - key: marketing
          kind: marketing
          head: Ben Ode
          people: [{name: Ann Lee}, {name: Ben Ode}]
        """
    )
    workspace.ownership.import_file(path, merge=True)
    marketing = workspace.ownership.model().function("marketing")
    assert marketing is not None
    assert marketing.head == "Ben Ode"
    assert [p.name for p in marketing.people] == ["Ann Lee", "Ben Ode"]


# -- roles -----------------------------------------------------------------------------------------


def test_lower_case_role_letters_are_normalised(
    workspace: Workspace, write: Callable[..., Path]
) -> None:
    path = write(
        """
        capabilities:
        - key: crm
          name: CRM
          owners: {digital: "a, r", marketing: ar, it: [i, c]}
        """
    )
    workspace.ownership.import_file(path, merge=True)
    assert workspace.ownership.model().capability("crm").owners == {
        "marketing": "RA",
        "it": "CI",
        "digital": "RA",
    }
    assert "  owners: {marketing: RA, it: CI, digital: RA}\n" in workspace.ownership.export()


def test_missing_names_and_kinds_get_defaults() -> None:
    model = model_from_yaml(
        "functions:\n- key: legal-affairs\n"
        "capabilities:\n- key: web-design\n"
        "governance:\n- key: sc\n"
    )
    assert (model.functions[0].name, model.functions[0].kind) == ("Legal affairs", "other")
    assert (model.capabilities[0].name, model.capabilities[0].customer_facing) == (
        "Web design",
        False,
    )
    assert (model.bodies[0].name, model.bodies[0].kind) == ("Sc", "other")
    assert model.company is None


def test_a_file_alone_knows_only_its_own_functions() -> None:
    with pytest.raises(InvalidInput) as info:
        model_from_yaml("capabilities:\n- {key: crm, owners: {marketing: A}}\n")
    assert info.value.problems[0].field == "capabilities[0].owners.marketing"
    assert info.value.problems[0].message == "unknown function `marketing` (known: none)"


# -- fields left out keep their values; a written-out empty value clears ----------------------


def _import_text(ws: Workspace, tmp_path: Path, text: str, *, merge: bool) -> None:
    path = tmp_path / "change.yaml"
    path.write_text(text, encoding="utf-8")
    ws.ownership.import_file(path, merge=merge)


def test_merge_leaves_out_fields_without_resetting_them(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.ownership.add_person("marketing", "Ana Ruiz", title="CMO", head=True)
    workspace.ownership.assign("crm", "marketing", "RA")
    _import_text(
        workspace,
        tmp_path,
        "functions:\n  - key: marketing\n    name: Brand & Growth\n"
        "capabilities:\n  - key: crm\n    name: Customer relationships\n",
        merge=True,
    )
    model = workspace.ownership.model()
    marketing = model.function("marketing")
    assert marketing is not None
    assert (marketing.name, marketing.kind, marketing.head) == (
        "Brand & Growth",
        "marketing",
        "Ana Ruiz",
    )
    assert [p.name for p in marketing.people] == ["Ana Ruiz"]
    crm = model.capability("crm")
    assert crm is not None
    assert (crm.name, crm.owners, crm.customer_facing) == (
        "Customer relationships",
        {"marketing": "RA"},
        True,
    )


def test_written_out_empty_values_clear(workspace: Workspace, tmp_path: Path) -> None:
    workspace.ownership.add_person("marketing", "Ana Ruiz", head=True)
    workspace.ownership.assign("crm", "marketing", "RA")
    _import_text(
        workspace,
        tmp_path,
        "functions:\n  - key: marketing\n    people: []\n"
        "capabilities:\n  - key: crm\n    owners: {}\n",
        merge=True,
    )
    model = workspace.ownership.model()
    marketing = model.function("marketing")
    crm = model.capability("crm")
    assert marketing is not None and marketing.people == () and marketing.head is None
    assert crm is not None and crm.owners == {}


def test_replace_drops_kept_roles_of_removed_functions(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.ownership.assign("crm", "marketing", "A")
    workspace.ownership.assign("crm", "pr", "C")
    workspace.ownership.add_body(
        "Digital team", kind="digital_team", reports_to=["marketing", "pr"]
    )
    _import_text(
        workspace,
        tmp_path,
        "functions:\n  - key: marketing\n  - key: it\n    kind: it\n"
        "capabilities:\n  - key: crm\n"
        "governance:\n  - key: digital-team\n",
        merge=False,
    )
    model = workspace.ownership.model()
    assert [f.key for f in model.functions] == ["marketing", "it"]
    crm = model.capability("crm")
    assert crm is not None and crm.owners == {"marketing": "A"}
    assert model.bodies[0].reports_to == ("marketing",)
    assert model.bodies[0].kind == "digital_team"


def test_new_items_listed_by_default_key_get_default_name_and_kind() -> None:
    model = model_from_yaml(
        "functions:\n  - key: hr\n  - key: data-office\n"
        "capabilities:\n  - key: crm\n  - key: loyalty-app\n"
    )
    assert [(f.key, f.name, f.kind) for f in model.functions] == [
        ("hr", "HR", "hr"),
        ("data-office", "Data office", "other"),
    ]
    assert [(c.key, c.name) for c in model.capabilities] == [
        ("crm", "CRM"),
        ("loyalty-app", "Loyalty app"),
    ]


def test_company_fields_left_out_keep_their_values(workspace: Workspace, tmp_path: Path) -> None:
    workspace.ownership.set_company(industry="Retail", employees=4200, digital_revenue_team=True)
    _import_text(workspace, tmp_path, "company:\n  name: Acme\n", merge=True)
    company = workspace.ownership.model().company
    assert company is not None
    assert (company.name, company.industry, company.employees, company.digital_revenue_team) == (
        "Acme",
        "Retail",
        4200,
        True,
    )
    _import_text(workspace, tmp_path, "company:\n  name: Acme\n  industry: null\n", merge=False)
    company = workspace.ownership.model().company
    assert company is not None and company.industry is None and company.employees == 4200
