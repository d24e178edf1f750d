"""Every findings rule on a model that triggers it and on one that does not.

The base model, HEALTHY, triggers no rule at all; each case below changes one thing in it. Two
functions *share* a capability when both hold R or A on it; consulted or informed does not count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from tandem.ownership.citations import SEEDS
from tandem.ownership.findings import RULES, Finding, evaluate
from tandem.ownership.model import BodyInfo, FunctionInfo, OwnershipModel, PersonInfo
from tests.conftest import model_from_yaml

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"

HEALTHY_YAML = """
functions:
- {key: executive, name: Executive (CEO), kind: executive}
- {key: marketing, name: Marketing, kind: marketing}
- {key: it, name: IT, kind: it}
- {key: digital, name: Digital team (CDO), kind: digital}
- {key: hr, name: HR, kind: hr}
- {key: pr, name: PR & communications, kind: pr}
- {key: customer-service, name: Customer service, kind: customer_service}
- {key: innovation, name: Innovation (R&D), kind: innovation}
capabilities:
- key: digital-vision-strategy
  name: Digital vision & strategy
  owners: {executive: A, marketing: C, it: C, digital: R}
- key: social-media-marketing
  name: Social media marketing
  owners: {marketing: RA, digital: A, pr: C}
- key: crm
  name: CRM
  owners: {marketing: A, it: RA, customer-service: C}
- key: employee-digital-engagement
  name: Employee digital engagement
  owners: {hr: RA, it: R}
- key: digital-recruiting-employer-brand
  name: Digital recruiting & employer brand
  owners: {hr: A, marketing: R}
- key: customer-ideas-innovation
  name: Customer ideas & innovation
  owners: {innovation: RA, digital: A}
governance:
- key: steering
  name: Digital steering committee
  kind: steering_committee
  members: [executive, marketing, it]
- key: digital-team
  name: Digital team
  kind: digital_team
  reports_to: [marketing, it]
"""

STEERING = BodyInfo(
    "steering", "Digital steering committee", "steering_committee", "", ("executive", "marketing")
)


def healthy() -> OwnershipModel:
    return model_from_yaml(HEALTHY_YAML)


def variant(
    *,
    owners: dict[str, dict[str, str]] | None = None,
    functions: list[FunctionInfo] | None = None,
    bodies: list[BodyInfo] | None = None,
    drop_capabilities: tuple[str, ...] = (),
) -> OwnershipModel:
    """HEALTHY with some capabilities' owners, the functions or the bodies replaced."""
    base = healthy()
    changed = owners or {}
    capabilities = [
        replace(c, owners=changed[c.key]) if c.key in changed else c
        for c in base.capabilities
        if c.key not in drop_capabilities
    ]
    return OwnershipModel(
        base.company,
        base.functions if functions is None else functions,
        capabilities,
        base.bodies if bodies is None else bodies,
    )


def renamed(key: str, new_key: str, new_name: str) -> list[FunctionInfo]:
    """HEALTHY's functions with one of them given another key and name (same kind)."""
    return [
        replace(f, key=new_key, name=new_name) if f.key == key else f for f in healthy().functions
    ]


def only(findings: list[Finding], rule_id: str) -> Finding:
    assert [f.rule for f in findings] == [rule_id]
    return findings[0]


# -- one triggering model per rule -----------------------------------------------------------------
# A rule added to findings.RULES without an entry here fails test_every_rule_has_a_case and
# test_rule_fires_and_cites_its_seed.

TRIGGERS: dict[str, Callable[[], OwnershipModel]] = {
    "marketing-alone-accountable": lambda: variant(
        owners={"crm": {"marketing": "RA", "it": "R", "customer-service": "C"}}
    ),
    "it-alone-accountable": lambda: variant(owners={"crm": {"marketing": "R", "it": "RA"}}),
    "no-executive-sponsor": lambda: variant(
        owners={"digital-vision-strategy": {"marketing": "A", "digital": "R"}}
    ),
    "no-digital-hub": lambda: variant(
        owners={
            "digital-vision-strategy": {"executive": "A"},
            "social-media-marketing": {"marketing": "RA", "pr": "C"},
            "customer-ideas-innovation": {"innovation": "RA"},
        },
        bodies=[STEERING],
    ),
    "capability-without-accountable": lambda: variant(owners={"crm": {"marketing": "R"}}),
    "function-absent": lambda: variant(owners={"crm": {"marketing": "A", "it": "RA"}}),
    "marketing-it-share-nothing": lambda: variant(owners={"crm": {"marketing": "RA", "it": "C"}}),
    "hr-marketing-share-nothing": lambda: variant(
        owners={"digital-recruiting-employer-brand": {"hr": "RA", "marketing": "C"}}
    ),
    "hr-it-share-nothing": lambda: variant(
        owners={"employee-digital-engagement": {"hr": "RA", "it": "I"}}
    ),
    "digital-team-single-line": lambda: variant(
        bodies=[STEERING, BodyInfo("digital-team", "Digital team", "digital_team", "", (), ("it",))]
    ),
    "no-steering-committee": lambda: variant(
        bodies=[BodyInfo("dt", "Digital team", "digital_team", "", (), ("marketing", "it"))]
    ),
    "steering-committee-incomplete": lambda: variant(bodies=[STEERING]),
}


@cache
def seed_text(seed: str) -> str:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed texts are not at {SEEDS_DIR}")
    (path,) = SEEDS_DIR.glob(f"{seed}_*.txt")
    return normalise(path.read_text("utf-8"))


def normalise(text: str) -> str:
    text = text.translate(
        str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
    )
    return re.sub(r"\s+", " ", text).strip()


def test_every_rule_has_a_case() -> None:
    assert set(TRIGGERS) == set(RULES)
    assert len(RULES) == 12


def test_healthy_model_triggers_nothing() -> None:
    assert evaluate(healthy()) == []


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_fires_and_cites_its_seed(rule_id: str) -> None:
    assert evaluate(healthy(), rules=[rule_id]) == []
    findings = evaluate(TRIGGERS[rule_id](), rules=[rule_id])
    assert findings
    for finding in findings:
        assert finding.rule == rule_id
        assert finding.severity in {"high", "medium", "low"}
        assert finding.title and finding.why
        citation = finding.citation
        assert citation.seed in SEEDS
        assert normalise(citation.quote) in seed_text(citation.seed)
        data = finding.to_dict()
        assert data["rule"] == rule_id
        assert data["citation"] == {
            "seed": citation.seed,
            "title": SEEDS[citation.seed].title,
            "quote": citation.quote,
        }
        assert data["capabilities"] == list(finding.capabilities)
        assert data["functions"] == list(finding.functions)


def test_every_quote_of_the_findings_module_is_in_its_seed() -> None:
    """Including the quotes of function-absent kinds a single trigger does not reach."""
    model = variant(
        owners={
            "social-media-marketing": {"marketing": "RA", "digital": "A"},
            "crm": {"marketing": "A", "it": "RA"},
            "employee-digital-engagement": {"it": "RA"},
            "digital-recruiting-employer-brand": {"marketing": "RA"},
            "customer-ideas-innovation": {"digital": "RA"},
        }
    )
    findings = evaluate(model, rules=["function-absent"])
    assert len(findings) == 4
    for finding in findings:
        assert normalise(finding.citation.quote) in seed_text(finding.citation.seed)


# -- marketing alone / IT alone --------------------------------------------------------------------


def test_marketing_alone_accountable_names_the_capabilities() -> None:
    model = variant(
        owners={
            "social-media-marketing": {"marketing": "RA", "digital": "R", "pr": "C"},
            "crm": {"marketing": "A", "it": "R"},
        }
    )
    finding = only(
        evaluate(model, rules=["marketing-alone-accountable"]), "marketing-alone-accountable"
    )
    assert finding.severity == "medium"
    assert finding.capabilities == ("social-media-marketing", "crm")
    assert finding.functions == ("marketing",)
    assert finding.title == "Marketing alone is accountable for 2 capabilities"
    assert finding.why.startswith("Social media marketing and CRM answer to marketing")
    assert finding.citation.seed == "001"
    assert "bolt-on customer engagement" in finding.citation.quote


def test_marketing_alone_single_capability_title() -> None:
    finding = only(
        evaluate(TRIGGERS["marketing-alone-accountable"](), rules=["marketing-alone-accountable"]),
        "marketing-alone-accountable",
    )
    assert finding.capabilities == ("crm",)
    assert finding.title == "Marketing alone is accountable for 1 capability"


def test_it_alone_accountable() -> None:
    finding = only(
        evaluate(TRIGGERS["it-alone-accountable"](), rules=["it-alone-accountable"]),
        "it-alone-accountable",
    )
    assert finding.severity == "medium"
    assert finding.capabilities == ("crm",)
    assert finding.functions == ("it",)
    assert finding.title == "IT alone is accountable for 1 capability"
    assert finding.citation.seed == "001"
    assert "invest all digital responsibilities in the CIO" in finding.citation.quote


@pytest.mark.parametrize(
    ("rule_id", "owners"),
    [
        ("marketing-alone-accountable", {"marketing": "A", "it": "A"}),
        ("it-alone-accountable", {"marketing": "A", "it": "A"}),
        ("marketing-alone-accountable", {"marketing": "RA", "digital": "A"}),
        ("it-alone-accountable", {"it": "RA", "business-units": "A"}),
    ],
)
def test_joint_accountability_is_not_alone(rule_id: str, owners: dict[str, str]) -> None:
    assert evaluate(variant(owners={"crm": owners}), rules=[rule_id]) == []


@pytest.mark.parametrize(
    ("rule_id", "owners"),
    [
        ("marketing-alone-accountable", {"marketing": "A", "it": "RC", "digital": "I"}),
        ("it-alone-accountable", {"it": "A", "marketing": "RC", "hr": "I"}),
    ],
)
def test_responsible_consulted_or_informed_do_not_make_accountability_joint(
    rule_id: str, owners: dict[str, str]
) -> None:
    finding = only(evaluate(variant(owners={"crm": owners}), rules=[rule_id]), rule_id)
    assert finding.capabilities == ("crm",)


def test_capability_nobody_is_accountable_for_is_not_alone() -> None:
    model = variant(owners={"crm": {"marketing": "R", "it": "R"}})
    assert evaluate(model, rules=["marketing-alone-accountable", "it-alone-accountable"]) == []


def test_renamed_marketing_is_matched_by_kind() -> None:
    functions = renamed("marketing", "brand-growth", "Brand & Growth")
    owners = {
        "digital-vision-strategy": {"executive": "A"},
        "social-media-marketing": {"brand-growth": "RA", "digital": "A"},
        "crm": {"brand-growth": "A", "it": "R"},
        "digital-recruiting-employer-brand": {"hr": "A", "brand-growth": "R"},
    }
    model = variant(owners=owners, functions=functions)
    finding = only(
        evaluate(model, rules=["marketing-alone-accountable"]), "marketing-alone-accountable"
    )
    assert finding.capabilities == ("crm",)
    assert finding.functions == ("brand-growth",)
    assert "CRM answers to marketing" in finding.why


def test_two_marketing_functions_together_are_still_marketing_alone() -> None:
    functions = [
        *healthy().functions,
        FunctionInfo("ecommerce", "E-commerce", "marketing"),
    ]
    model = variant(
        owners={"crm": {"marketing": "A", "ecommerce": "A", "it": "R"}}, functions=functions
    )
    finding = only(
        evaluate(model, rules=["marketing-alone-accountable"]), "marketing-alone-accountable"
    )
    assert finding.capabilities == ("crm",)
    assert finding.functions == ("ecommerce", "marketing")


def test_renamed_it_is_matched_by_kind() -> None:
    functions = renamed("it", "technology", "Technology")
    model = variant(
        owners={
            "crm": {"marketing": "R", "technology": "RA"},
            "employee-digital-engagement": {"hr": "RA", "technology": "R"},
        },
        functions=functions,
    )
    finding = only(evaluate(model, rules=["it-alone-accountable"]), "it-alone-accountable")
    assert finding.capabilities == ("crm",)
    assert finding.functions == ("technology",)


# -- executive sponsor -----------------------------------------------------------------------------


def test_no_executive_sponsor_when_marketing_owns_the_vision() -> None:
    finding = only(
        evaluate(TRIGGERS["no-executive-sponsor"](), rules=["no-executive-sponsor"]),
        "no-executive-sponsor",
    )
    assert finding.severity == "high"
    assert finding.capabilities == ("digital-vision-strategy",)
    assert finding.functions == ("executive",)
    assert finding.why.startswith(
        "Digital vision & strategy is owned by Marketing, not by the exec"
    )
    assert "30% of firms" in finding.why
    assert finding.citation.seed == "000"
    assert "the CEO owns the strategic direction" in finding.citation.quote


def test_no_executive_sponsor_when_nobody_is_accountable_for_the_vision() -> None:
    model = variant(owners={"digital-vision-strategy": {"executive": "C", "marketing": "I"}})
    finding = only(evaluate(model, rules=["no-executive-sponsor"]), "no-executive-sponsor")
    assert finding.why.startswith("Nobody is accountable for Digital vision & strategy.")


def test_no_executive_sponsor_when_the_vision_capability_is_missing() -> None:
    model = variant(drop_capabilities=("digital-vision-strategy",))
    finding = only(evaluate(model, rules=["no-executive-sponsor"]), "no-executive-sponsor")
    assert finding.capabilities == ("digital-vision-strategy",)
    assert "no `digital-vision-strategy` capability" in finding.why


def test_no_executive_sponsor_without_an_executive_function() -> None:
    functions = [f for f in healthy().functions if f.kind != "executive"]
    model = variant(
        owners={"digital-vision-strategy": {"marketing": "A", "it": "A"}}, functions=functions
    )
    finding = only(evaluate(model, rules=["no-executive-sponsor"]), "no-executive-sponsor")
    assert finding.functions == ()
    assert "owned by IT and Marketing, not by the executive" in finding.why


@pytest.mark.parametrize(
    "owners",
    [
        {"executive": "A"},
        {"executive": "R", "marketing": "A"},  # responsible counts as owning
        {"executive": "RA", "marketing": "A", "it": "A"},
    ],
)
def test_executive_holding_r_or_a_is_a_sponsor(owners: dict[str, str]) -> None:
    model = variant(owners={"digital-vision-strategy": owners})
    assert evaluate(model, rules=["no-executive-sponsor"]) == []


def test_consulted_executive_is_not_a_sponsor() -> None:
    model = variant(owners={"digital-vision-strategy": {"executive": "CI", "marketing": "A"}})
    assert [f.rule for f in evaluate(model, rules=["no-executive-sponsor"])] == [
        "no-executive-sponsor"
    ]


def test_renamed_executive_is_matched_by_kind() -> None:
    functions = renamed("executive", "board", "Executive board")
    model = variant(owners={"digital-vision-strategy": {"board": "A"}}, functions=functions)
    assert evaluate(model, rules=["no-executive-sponsor"]) == []
    model = variant(owners={"digital-vision-strategy": {"marketing": "A"}}, functions=functions)
    finding = only(evaluate(model, rules=["no-executive-sponsor"]), "no-executive-sponsor")
    assert finding.functions == ("board",)


# -- digital hub -----------------------------------------------------------------------------------


def test_no_digital_hub() -> None:
    finding = only(
        evaluate(TRIGGERS["no-digital-hub"](), rules=["no-digital-hub"]), "no-digital-hub"
    )
    assert finding.severity == "high"
    assert finding.functions == ("digital",)
    assert finding.capabilities == ()
    assert "86% of firms" in finding.why
    assert finding.citation.seed == "004"


def test_no_digital_hub_without_a_digital_function() -> None:
    functions = [f for f in healthy().functions if f.kind != "digital"]
    model = variant(
        owners={
            "digital-vision-strategy": {"executive": "A"},
            "social-media-marketing": {"marketing": "RA"},
            "customer-ideas-innovation": {"innovation": "RA"},
        },
        functions=functions,
        bodies=[STEERING],
    )
    finding = only(evaluate(model, rules=["no-digital-hub"]), "no-digital-hub")
    assert finding.functions == ()


def test_digital_team_body_is_a_hub_even_without_a_digital_function() -> None:
    functions = [f for f in healthy().functions if f.kind != "digital"]
    body = BodyInfo("dt", "Digital team", "digital_team", "", (), ("marketing", "it"))
    model = variant(
        owners={
            "digital-vision-strategy": {"executive": "A"},
            "social-media-marketing": {"marketing": "RA"},
            "customer-ideas-innovation": {"innovation": "RA"},
        },
        functions=functions,
        bodies=[body],
    )
    assert evaluate(model, rules=["no-digital-hub"]) == []


def test_digital_function_with_a_role_or_people_is_a_hub() -> None:
    trigger = TRIGGERS["no-digital-hub"]()
    with_role = variant(
        owners={
            "digital-vision-strategy": {"executive": "A"},
            "social-media-marketing": {"marketing": "RA", "pr": "C"},
            "customer-ideas-innovation": {"innovation": "RA", "digital": "R"},
        },
        bodies=[STEERING],
    )
    assert evaluate(with_role, rules=["no-digital-hub"]) == []
    staffed = [
        replace(f, people=(PersonInfo("Dana Cole", "Chief Digital Officer"),), head="Dana Cole")
        if f.kind == "digital"
        else f
        for f in trigger.functions
    ]
    with_people = OwnershipModel(trigger.company, staffed, trigger.capabilities, trigger.bodies)
    assert evaluate(with_people, rules=["no-digital-hub"]) == []


# -- capability without accountable ----------------------------------------------------------------


def test_capability_without_accountable() -> None:
    model = variant(
        owners={
            "social-media-marketing": {},
            "crm": {"marketing": "R", "it": "RC"},
        }
    )
    finding = only(
        evaluate(model, rules=["capability-without-accountable"]), "capability-without-accountable"
    )
    assert finding.severity == "high"
    assert finding.capabilities == ("social-media-marketing", "crm")
    assert finding.functions == ()
    assert finding.title == "Nobody is accountable for 2 capabilities"
    assert finding.why.startswith("Social media marketing and CRM have no function marked A.")
    assert finding.citation.seed == "000"


def test_capability_without_accountable_single() -> None:
    finding = only(
        evaluate(
            TRIGGERS["capability-without-accountable"](), rules=["capability-without-accountable"]
        ),
        "capability-without-accountable",
    )
    assert finding.capabilities == ("crm",)
    assert finding.title == "Nobody is accountable for 1 capability"
    assert finding.why.startswith("CRM has no function marked A.")


# -- functions absent from digital -----------------------------------------------------------------


def test_function_absent_names_each_absent_kind() -> None:
    model = variant(
        owners={
            "social-media-marketing": {"marketing": "RA", "digital": "A"},
            "crm": {"marketing": "A", "it": "RA"},
        }
    )
    findings = evaluate(model, rules=["function-absent"])
    assert [f.functions for f in findings] == [("pr",), ("customer-service",)]
    assert [f.title for f in findings] == [
        "PR & communications takes no part in digital",
        "Customer service takes no part in digital",
    ]
    assert {f.severity for f in findings} == {"medium"}
    assert {f.citation.seed for f in findings} == {"003"}
    assert findings[0].why.startswith("PR & communications holds no role on any capability.")
    assert all(f.capabilities == () for f in findings)


def test_function_absent_when_the_company_has_no_such_function() -> None:
    functions = [f for f in healthy().functions if f.kind != "hr"]
    model = variant(
        owners={
            "employee-digital-engagement": {"it": "RA"},
            "digital-recruiting-employer-brand": {"marketing": "RA"},
        },
        functions=functions,
    )
    finding = only(evaluate(model, rules=["function-absent"]), "function-absent")
    assert finding.functions == ()
    assert finding.title == "HR takes no part in digital"
    assert finding.why.startswith("The company has no HR function.")
    assert "H.R." in finding.citation.quote


@pytest.mark.parametrize("role", ["C", "I"])
def test_consulted_or_informed_is_taking_part(role: str) -> None:
    model = variant(
        owners={"social-media-marketing": {"marketing": "RA", "digital": "A", "pr": role}}
    )
    assert evaluate(model, rules=["function-absent"]) == []


def test_renamed_function_takes_part_by_kind() -> None:
    functions = renamed("customer-service", "care", "Customer care")
    model = variant(
        owners={"crm": {"marketing": "A", "it": "RA", "care": "C"}}, functions=functions
    )
    assert evaluate(model, rules=["function-absent"]) == []
    model = variant(owners={"crm": {"marketing": "A", "it": "RA"}}, functions=functions)
    finding = only(evaluate(model, rules=["function-absent"]), "function-absent")
    assert finding.functions == ("care",)
    assert finding.why.startswith("Customer care holds no role on any capability.")


# -- couples ---------------------------------------------------------------------------------------

COUPLES = [
    ("marketing-it-share-nothing", "high", ("it", "marketing"), "The marketing-IT couple"),
    ("hr-marketing-share-nothing", "medium", ("hr", "marketing"), "The HR-marketing couple"),
    ("hr-it-share-nothing", "low", ("hr", "it"), "The HR-IT couple"),
]


@pytest.mark.parametrize(("rule_id", "severity", "functions", "title"), COUPLES)
def test_couple_sharing_nothing(
    rule_id: str, severity: str, functions: tuple[str, ...], title: str
) -> None:
    finding = only(evaluate(TRIGGERS[rule_id](), rules=[rule_id]), rule_id)
    assert finding.severity == severity
    assert finding.functions == functions
    assert finding.capabilities == ()
    assert finding.title == f"{title} shares no capability"
    assert finding.citation.seed in {"001", "004"}


@pytest.mark.parametrize(
    "owners",
    [
        {"marketing": "RA", "it": "C"},
        {"marketing": "RA", "it": "I"},
        {"marketing": "A", "it": "CI"},
        {"marketing": "C", "it": "RA"},
    ],
)
def test_consulted_or_informed_does_not_share_a_capability(owners: dict[str, str]) -> None:
    model = variant(owners={"crm": owners})
    finding = only(
        evaluate(model, rules=["marketing-it-share-nothing"]), "marketing-it-share-nothing"
    )
    assert finding.functions == ("it", "marketing")


@pytest.mark.parametrize(
    "owners",
    [
        {"marketing": "R", "it": "R"},  # responsible on both sides is sharing
        {"marketing": "A", "it": "R"},
        {"marketing": "A", "it": "A"},
    ],
)
def test_responsible_or_accountable_on_both_sides_is_sharing(owners: dict[str, str]) -> None:
    model = variant(owners={"crm": owners})
    assert evaluate(model, rules=["marketing-it-share-nothing"]) == []


def test_couples_are_matched_by_kind_after_renaming() -> None:
    functions = renamed("hr", "people-culture", "People & culture")
    model = variant(
        owners={
            "employee-digital-engagement": {"people-culture": "RA", "it": "R"},
            "digital-recruiting-employer-brand": {"people-culture": "A", "marketing": "R"},
        },
        functions=functions,
    )
    assert evaluate(model, rules=["hr-it-share-nothing", "hr-marketing-share-nothing"]) == []
    model = variant(
        owners={
            "employee-digital-engagement": {"people-culture": "RA", "it": "C"},
            "digital-recruiting-employer-brand": {"people-culture": "A", "marketing": "R"},
        },
        functions=functions,
    )
    finding = only(evaluate(model, rules=["hr-it-share-nothing"]), "hr-it-share-nothing")
    assert finding.functions == ("it", "people-culture")


def test_couple_rule_fires_when_one_side_is_missing() -> None:
    functions = [f for f in healthy().functions if f.kind != "hr"]
    model = variant(
        owners={
            "employee-digital-engagement": {"it": "RA"},
            "digital-recruiting-employer-brand": {"marketing": "RA"},
        },
        functions=functions,
    )
    finding = only(
        evaluate(model, rules=["hr-marketing-share-nothing"]), "hr-marketing-share-nothing"
    )
    assert finding.functions == ("marketing",)


# -- digital team reporting lines ------------------------------------------------------------------


def test_digital_team_single_line() -> None:
    finding = only(
        evaluate(TRIGGERS["digital-team-single-line"](), rules=["digital-team-single-line"]),
        "digital-team-single-line",
    )
    assert finding.severity == "medium"
    assert finding.functions == ("it",)
    assert finding.capabilities == ()
    assert finding.title == "Digital team reports only to IT"
    assert finding.citation.seed == "001"
    assert "reporting lines into both the CMO and CIO" in finding.citation.quote


def test_digital_team_without_reporting_line() -> None:
    body = BodyInfo("dt", "Digital hub", "digital_team")
    finding = only(
        evaluate(variant(bodies=[STEERING, body]), rules=["digital-team-single-line"]),
        "digital-team-single-line",
    )
    assert finding.functions == ()
    assert finding.title == "Digital hub has no reporting line"


def test_only_the_single_line_digital_team_is_reported() -> None:
    bodies = [
        BodyInfo("dt-a", "Digital A", "digital_team", "", (), ("marketing", "it")),
        BodyInfo("dt-b", "Digital B", "digital_team", "", (), ("marketing",)),
        BodyInfo("other", "Web guild", "other", "", (), ("it",)),
    ]
    finding = only(
        evaluate(variant(bodies=bodies), rules=["digital-team-single-line"]),
        "digital-team-single-line",
    )
    assert finding.title == "Digital B reports only to Marketing"
    assert finding.functions == ("marketing",)


def test_no_digital_team_body_is_not_a_single_line() -> None:
    assert evaluate(variant(bodies=[STEERING]), rules=["digital-team-single-line"]) == []


# -- steering committee ----------------------------------------------------------------------------


def test_no_steering_committee() -> None:
    finding = only(
        evaluate(TRIGGERS["no-steering-committee"](), rules=["no-steering-committee"]),
        "no-steering-committee",
    )
    assert finding.severity == "medium"
    assert finding.capabilities == ()
    assert finding.functions == ()
    assert finding.citation.seed == "000"
    assert "steering committee combining the CMO, CTO and CIO" in finding.citation.quote


def test_a_body_of_another_kind_is_not_a_steering_committee() -> None:
    body = BodyInfo("steering", "Steering committee", "other", "", ("executive", "marketing", "it"))
    model = variant(bodies=[body])
    assert [f.rule for f in evaluate(model, rules=["no-steering-committee"])] == [
        "no-steering-committee"
    ]


@pytest.mark.parametrize(
    ("members", "title"),
    [
        (("executive", "marketing"), "Digital steering committee has no seat for IT"),
        (("executive", "it"), "Digital steering committee has no seat for marketing"),
        (("executive",), "Digital steering committee has no seat for marketing or IT"),
    ],
)
def test_steering_committee_incomplete(members: tuple[str, ...], title: str) -> None:
    body = BodyInfo("steering", "Digital steering committee", "steering_committee", "", members)
    finding = only(
        evaluate(variant(bodies=[body]), rules=["steering-committee-incomplete"]),
        "steering-committee-incomplete",
    )
    assert finding.severity == "low"
    assert finding.title == title
    assert finding.functions == members
    assert finding.capabilities == ()


def test_steering_committee_seats_are_matched_by_kind() -> None:
    functions = [
        FunctionInfo("board", "Board", "executive"),
        FunctionInfo("cmo-office", "CMO office", "marketing"),
        FunctionInfo("cto-office", "CTO office", "it"),
    ]
    body = BodyInfo("sc", "Board", "steering_committee", "", ("cmo-office", "cto-office"))
    model = OwnershipModel(None, functions, [], [body])
    assert evaluate(model, rules=["steering-committee-incomplete"]) == []


def test_no_steering_committee_is_not_an_incomplete_one() -> None:
    model = TRIGGERS["no-steering-committee"]()
    assert evaluate(model, rules=["steering-committee-incomplete"]) == []


# -- evaluate --------------------------------------------------------------------------------------


def test_evaluate_sorts_most_severe_first_and_runs_every_rule() -> None:
    model = model_from_yaml(
        """
        functions:
        - {key: marketing, name: Marketing, kind: marketing}
        - {key: it, name: IT, kind: it}
        capabilities:
        - {key: crm, name: CRM, owners: {marketing: A}}
        """
    )
    findings = evaluate(model)
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    assert [f.rule for f in findings] == [
        "no-executive-sponsor",
        "no-digital-hub",
        "marketing-it-share-nothing",
        "marketing-alone-accountable",
        "function-absent",
        "function-absent",
        "function-absent",
        "function-absent",
        "hr-marketing-share-nothing",
        "no-steering-committee",
        "hr-it-share-nothing",
    ]


def test_evaluate_rejects_an_unknown_rule() -> None:
    with pytest.raises(KeyError):
        evaluate(healthy(), rules=["no-such-rule"])
