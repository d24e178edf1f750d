"""The Forrester State of Digital Business 2014 figures (seed 001) and the company beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tandem.ownership.benchmark import (
    Benchmark,
    CapabilityComparison,
    compare,
    figures,
    has_digital_hub,
)
from tandem.ownership.catalogue import DEFAULT_CAPABILITIES
from tandem.ownership.model import (
    BodyInfo,
    CapabilityInfo,
    CompanyInfo,
    FunctionInfo,
    OwnershipModel,
    PersonInfo,
)
from tests.conftest import model_from_yaml

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"

MARKETING = {
    "social-media-marketing": 80,
    "digital-marketing-strategy": 72,
    "social-crm": 65,
    "customer-experience-strategy": 64,
    "customer-analytics": 57,
    "digital-media-selection": 53,
    "crm": 51,
    "web-strategy": 43,
    "web-design": 29,
    "digital-vendor-selection": 16,
}
IT = {
    "digital-vendor-selection": 53,
    "customer-mobile-app-development": 41,
    "employee-digital-engagement": 36,
    "web-design": 29,
    "crm": 26,
    "web-strategy": 22,
}
ORGANISATION = {
    "dedicated_digital_group": 86,
    "right_people_define_strategy": 21,
    "right_people_define_strategy_1000_to_10000_employees": 15,
    "claim_digital_strategy": 74,
    "trust_digital_skills": 15,
    "digital_units_and_it_work_well": 25,
    "marketing_and_digital_units_work_well": 30,
    "without_digital_revenue_team_it_and_marketing_work_well": 17,
    "without_digital_revenue_team_it_and_marketing_not_together": 26,
}
COMPARED = [
    "social-media-marketing",
    "digital-marketing-strategy",
    "social-crm",
    "customer-experience-strategy",
    "customer-analytics",
    "digital-media-selection",
    "crm",
    "web-strategy",
    "web-design",
    "digital-vendor-selection",
    "customer-mobile-app-development",
    "employee-digital-engagement",
]

FUNCTIONS = """
functions:
- {key: executive, name: Executive (CEO), kind: executive}
- {key: marketing, name: Marketing, kind: marketing}
- {key: it, name: IT, kind: it}
- {key: digital, name: Digital team, kind: digital}
"""


def model(capabilities: str = "capabilities: []\n", functions: str = FUNCTIONS) -> OwnershipModel:
    return model_from_yaml(functions + capabilities)


def company_model(
    employees: int | None, digital_revenue_team: bool | None = None
) -> OwnershipModel:
    return OwnershipModel(
        CompanyInfo("Acme", "retail", employees, digital_revenue_team), [], [], []
    )


def row(bench: Benchmark, key: str) -> CapabilityComparison:
    return next(r for r in bench.capabilities if r.capability == key)


# -- the figures -----------------------------------------------------------------------------------


def test_vision_setter_figures() -> None:
    assert figures().vision_setter == {"executive": 30, "marketing": 27, "it": 13}


def test_marketing_responsibility_figures() -> None:
    assert figures().responsible["marketing"] == MARKETING


def test_it_responsibility_figures() -> None:
    assert figures().responsible["it"] == IT
    assert set(figures().responsible) == {"marketing", "it"}


def test_organisation_figures() -> None:
    assert figures().organisation == ORGANISATION


def test_digital_team_responsibilities() -> None:
    assert figures().digital_team_responsibilities == [
        "employee-digital-engagement",
        "digital-media-selection",
        "customer-mobile-app-development",
        "web-strategy",
        "web-design",
    ]


def test_source_is_recorded() -> None:
    source = figures().source
    assert source.title == "The State of Digital Business 2014"
    assert source.publisher == "Forrester Research"
    assert "Russell Reynolds" in source.survey
    assert "Nigel Fenwick" in source.author
    assert source.quoted_in.startswith("seed 001")


def test_figures_use_catalogue_keys() -> None:
    catalogue = {c.key for c in DEFAULT_CAPABILITIES}
    assert set(MARKETING) | set(IT) <= catalogue
    assert set(figures().digital_team_responsibilities) <= catalogue


def test_every_figure_is_quoted_in_seed_001() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed texts are not at {SEEDS_DIR}")
    (path,) = SEEDS_DIR.glob("001_*.txt")
    quoted = [int(n) for n in re.findall(r"(\d+) per cent", path.read_text("utf-8"))]
    figs = figures()
    shipped = [
        *figs.vision_setter.values(),
        *figs.responsible["marketing"].values(),
        *figs.responsible["it"].values(),
        *figs.organisation.values(),
    ]
    assert sorted(shipped) == sorted(quoted)


# -- the company beside the figures ----------------------------------------------------------------


def test_compare_lists_every_surveyed_capability_in_order() -> None:
    bench = compare(model())
    assert [r.capability for r in bench.capabilities] == COMPARED
    for r in bench.capabilities:
        assert r.sides["marketing"].survey_percent == MARKETING.get(r.capability)
        assert r.sides["it"].survey_percent == IT.get(r.capability)
        assert r.digital_team_area == (r.capability in figures().digital_team_responsibilities)
    assert bench.source["title"] == "The State of Digital Business 2014"


def test_compare_places_the_company_roles_beside_the_figures() -> None:
    bench = compare(
        model(
            """
capabilities:
- {key: social-media-marketing, name: Social media marketing, owners: {marketing: RA, it: I}}
- {key: crm, name: CRM, owners: {marketing: C, it: A}}
- {key: web-design, name: Web design, owners: {marketing: R, digital: A}}
- {key: digital-vendor-selection, name: Vendors, owners: {it: R, marketing: A}}
"""
        )
    )
    smm = row(bench, "social-media-marketing")
    assert smm.in_catalogue and smm.name == "Social media marketing"
    assert (smm.sides["marketing"].functions, smm.sides["marketing"].roles) == (["marketing"], "RA")
    assert smm.sides["marketing"].responsible
    assert (smm.sides["it"].roles, smm.sides["it"].responsible) == ("I", False)
    assert smm.notes == ["marketing (CMO) is responsible here, like most firms (80% do so)"]

    crm = row(bench, "crm")
    assert (crm.sides["marketing"].roles, crm.sides["marketing"].responsible) == ("C", False)
    assert (crm.sides["it"].roles, crm.sides["it"].responsible) == ("A", True)
    assert crm.notes == [
        "marketing (CMO) is not responsible here, unlike most firms (51% make it responsible)",
        "IT (CIO) is responsible here, unlike most firms (only 26% do so)",
    ]

    design = row(bench, "web-design")
    assert design.sides["marketing"].responsible  # R counts as responsible
    assert design.sides["it"].functions == []
    assert design.notes == [
        "marketing (CMO) is responsible here, unlike most firms (only 29% do so)",
        "IT (CIO) is not responsible here, like most firms (only 29% make it responsible)",
    ]
    assert design.digital_team_area

    vendors = row(bench, "digital-vendor-selection")
    assert vendors.name == "Vendors"
    assert vendors.notes == [
        "marketing (CMO) is responsible here, unlike most firms (only 16% do so)",
        "IT (CIO) is responsible here, like most firms (53% do so)",
    ]


def test_capability_missing_from_the_catalogue() -> None:
    bench = compare(model())
    social = row(bench, "social-crm")
    assert not social.in_catalogue
    assert social.name == "social-crm"
    assert social.notes == ["not in this company's catalogue"]
    assert social.sides["marketing"].roles == ""
    assert social.sides["marketing"].survey_percent == 65


def test_renamed_and_several_functions_are_compared_by_kind() -> None:
    functions = """
functions:
- {key: brand, name: Brand & Growth, kind: marketing}
- {key: ecommerce, name: E-commerce, kind: marketing}
- {key: tech, name: Technology, kind: it}
"""
    bench = compare(
        model(
            "capabilities:\n- {key: crm, name: CRM, owners: {brand: C, ecommerce: R, tech: I}}\n",
            functions,
        )
    )
    crm = row(bench, "crm")
    assert crm.sides["marketing"].functions == ["brand", "ecommerce"]
    assert crm.sides["marketing"].roles == "RC"
    assert crm.sides["marketing"].responsible
    assert crm.sides["it"].functions == ["tech"]
    assert not crm.sides["it"].responsible


def test_to_dict_carries_responsible() -> None:
    bench = compare(model("capabilities:\n- {key: crm, name: CRM, owners: {marketing: A}}\n"))
    data = bench.to_dict()
    crm = next(r for r in data["capabilities"] if r["capability"] == "crm")
    assert crm["sides"]["marketing"]["responsible"] is True
    assert crm["sides"]["it"]["responsible"] is False
    assert crm["sides"]["marketing"]["survey_percent"] == 51
    assert data["vision"]["survey"] == {"executive": 30, "marketing": 27, "it": 13}


# -- who sets the vision ---------------------------------------------------------------------------


def vision(owners: str) -> str:
    caps = f"capabilities:\n- {{key: digital-vision-strategy, name: Vision, owners: {owners}}}\n"
    return compare(model(caps)).vision.note


def test_vision_set_by_the_executive() -> None:
    bench = compare(
        model("capabilities:\n- {key: digital-vision-strategy, name: V, owners: {executive: A}}\n")
    )
    assert bench.vision.setters == [{"function": "executive", "kind": "executive", "roles": "A"}]
    assert bench.vision.note == "CEO / executive sets it here, as at 30% of firms"
    assert bench.vision.survey == {"executive": 30, "marketing": 27, "it": 13}


def test_vision_set_jointly_by_marketing_and_it() -> None:
    assert vision("{marketing: A, it: RA}") == (
        "marketing (CMO) sets it here, as at 27% of firms; "
        "IT (CIO) sets it here, as at 13% of firms"
    )


def test_vision_accountable_comes_before_responsible() -> None:
    assert vision("{executive: R, marketing: A}") == (
        "marketing (CMO) sets it here, as at 27% of firms"
    )
    assert vision("{executive: R, it: C}") == "CEO / executive sets it here, as at 30% of firms"


def test_vision_set_by_nobody() -> None:
    expected = (
        "nobody sets the digital vision here; in the survey the CEO does at 30% of firms, "
        "the CMO at 27%, the CIO at 13%"
    )
    assert vision("{marketing: C}") == expected
    assert compare(model()).vision.note == expected
    assert compare(model()).vision.setters == []


def test_vision_set_by_a_kind_the_survey_does_not_break_out() -> None:
    assert vision("{digital: A}") == "digital sets it here, which the survey does not break out"
    assert vision("{executive: A, digital: A}") == (
        "CEO / executive sets it here, as at 30% of firms; "
        "also digital, which the survey does not break out"
    )


# -- organisation figures --------------------------------------------------------------------------


def organisation(m: OwnershipModel) -> dict[str, tuple[int, bool | None]]:
    return {o.key: (o.survey_percent, o.company) for o in compare(m).organisation}


@pytest.mark.parametrize("employees", [1001, 5000, 9999])
def test_mid_size_company_gets_the_15_percent_figure(employees: int) -> None:
    rows = compare(company_model(employees)).organisation
    right = next(o for o in rows if o.key == "right_people_define_strategy")
    assert right.survey_percent == 15
    assert right.label.endswith("(firms of 1,000-10,000 employees)")


@pytest.mark.parametrize("employees", [None, 50, 1000, 10000, 250000])
def test_other_companies_get_the_21_percent_figure(employees: int | None) -> None:
    rows = compare(company_model(employees)).organisation
    right = next(o for o in rows if o.key == "right_people_define_strategy")
    assert right.survey_percent == 21
    assert right.label == "Believe the right people define digital strategy"


def test_organisation_rows_without_a_digital_revenue_team() -> None:
    expected = {
        "dedicated_digital_group": (86, False),
        "right_people_define_strategy": (21, None),
        "claim_digital_strategy": (74, None),
        "trust_digital_skills": (15, None),
        "digital_units_and_it_work_well": (25, None),
        "marketing_and_digital_units_work_well": (30, None),
        "without_digital_revenue_team_it_and_marketing_work_well": (17, None),
        "without_digital_revenue_team_it_and_marketing_not_together": (26, None),
    }
    assert organisation(company_model(200, digital_revenue_team=False)) == expected
    assert organisation(company_model(200, digital_revenue_team=None)) == expected
    no_company = OwnershipModel(None, [], [], [])
    assert organisation(no_company) == expected


def test_organisation_rows_with_a_digital_revenue_team() -> None:
    keys = [o.key for o in compare(company_model(200, digital_revenue_team=True)).organisation]
    assert keys == [
        "dedicated_digital_group",
        "right_people_define_strategy",
        "claim_digital_strategy",
        "trust_digital_skills",
        "digital_units_and_it_work_well",
        "marketing_and_digital_units_work_well",
    ]


def test_dedicated_digital_group_reflects_the_company() -> None:
    hub = OwnershipModel(None, [], [], [BodyInfo("dt", "Digital team", "digital_team")])
    assert organisation(hub)["dedicated_digital_group"] == (86, True)


# -- has_digital_hub -------------------------------------------------------------------------------


def test_no_hub_in_an_empty_model() -> None:
    assert not has_digital_hub(OwnershipModel(None, [], [], []))


def test_digital_team_body_is_a_hub() -> None:
    assert has_digital_hub(OwnershipModel(None, [], [], [BodyInfo("dt", "DT", "digital_team")]))


@pytest.mark.parametrize("kind", ["steering_committee", "other"])
def test_other_bodies_are_not_a_hub(kind: str) -> None:
    assert not has_digital_hub(OwnershipModel(None, [], [], [BodyInfo("b", "Body", kind)]))


def test_an_idle_unstaffed_digital_function_is_not_a_hub() -> None:
    functions = [FunctionInfo("digital", "Digital", "digital")]
    capabilities = [CapabilityInfo("crm", "CRM", owners={"marketing": "A"})]
    assert not has_digital_hub(OwnershipModel(None, functions, capabilities, []))


def test_a_staffed_digital_function_is_a_hub() -> None:
    functions = [
        FunctionInfo("cdo-office", "CDO office", "digital", people=(PersonInfo("Dana Cole"),))
    ]
    assert has_digital_hub(OwnershipModel(None, functions, [], []))


def test_a_digital_function_with_a_role_is_a_hub() -> None:
    functions = [FunctionInfo("cdo-office", "CDO office", "digital")]
    capabilities = [CapabilityInfo("crm", "CRM", owners={"cdo-office": "R"})]
    assert has_digital_hub(OwnershipModel(None, functions, capabilities, []))


def test_people_in_a_non_digital_function_do_not_make_a_hub() -> None:
    functions = [
        FunctionInfo("marketing", "Digital marketing", "marketing", people=(PersonInfo("A"),))
    ]
    assert not has_digital_hub(OwnershipModel(None, functions, [], []))


@pytest.mark.parametrize("roles", ["C", "I", "CI"])
def test_a_digital_function_only_consulted_or_informed_is_not_a_hub(roles: str) -> None:
    functions = [FunctionInfo("cdo-office", "CDO office", "digital")]
    capabilities = [CapabilityInfo("crm", "CRM", owners={"cdo-office": roles})]
    assert not has_digital_hub(OwnershipModel(None, functions, capabilities, []))
