"""The campaigns service: definitions checked against the workspace, stored, read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem import Workspace
from tandem.errors import Conflict, InvalidInput, InvalidValue, NotFound
from tests.campaigns import campaign_data as cd

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]


@pytest.fixture
def built(workspace: Workspace, tmp_path: Path) -> Workspace:
    cd.build(workspace, tmp_path)
    return workspace


def test_create_get_and_list(built: Workspace) -> None:
    info = built.campaigns.create(cd.definition(salt="s-2026"))
    assert info.name == "spring" and info.owners == ["marketing", "it"] and info.warnings == ()
    again = built.campaigns.get("spring")
    assert again.definition == info.definition
    assert again.definition.effective_salt == "s-2026"
    data = again.to_dict()
    assert data["customers"] == 6 and data["target"] == {"customers": 6}  # count, not the ids
    assert again.to_dict(customers=True)["customers"] == list(cd.ARMS)
    assert data["arms"][0] == {"name": "control", "share": 0.5, "control": True}
    assert data["start"] == "2026-03-01T00:00:00+00:00"
    built.campaigns.create(cd.definition(name="autumn"))
    assert [c.name for c in built.campaigns.list()] == ["autumn", "spring"]
    with pytest.raises(Conflict, match="already exists"):
        built.campaigns.create(cd.definition())


def test_create_from_a_yaml_file(built: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: from-file\nchannel: web\nowners: [marketing]\ncustomers: [cus_1, cus_2]\n"
        "start: 2026-03-01\nend: 2026-04-01\n"
        "arms: [{name: control, share: 0.5, control: true}, {name: offer, share: 0.5}]\n"
        "metrics: [{name: bought, kind: conversion, event: Order Completed}]\n",
        encoding="utf-8",
    )
    info = built.campaigns.create(path)
    assert info.definition.customers == ["cus_1", "cus_2"]
    assert info.definition.start.isoformat() == "2026-03-01T00:00:00+00:00"


def test_unknown_events_are_a_warning(built: Workspace) -> None:
    exposures = [{"kind": "sent", "event": "Email Sent"}]
    info = built.campaigns.create(cd.definition(exposures=exposures))
    assert info.warnings == (
        "no event `Email Sent` is stored yet; the campaign counts it once it arrives",
    )
    assert built.campaigns.get("spring").warnings == ()


@pytest.mark.parametrize(
    ("change", "error", "field", "words"),
    [
        ({"owners": ["marketing", "sales"]}, NotFound, "owners[1]", "no function `sales`"),
        ({"customers": ["cus_1", "cus_99"]}, NotFound, "customers", "cus_99"),
        ({"customers": None, "segment": "nope"}, NotFound, "segment", "no segment `nope`"),
        (
            {
                "metrics": [
                    {"name": "m", "kind": "count", "event": "E", "covariate": {"trait": "rfm"}}
                ]
            },
            InvalidValue,
            "metrics[0].covariate.trait",
            "not a number",
        ),
        (
            {
                "metrics": [
                    {"name": "m", "kind": "count", "event": "E", "covariate": {"trait": "height"}}
                ]
            },
            InvalidValue,
            "metrics[0].covariate.trait",
            "no profile has a trait `height`",
        ),
    ],
)
def test_workspace_checks_name_the_field(
    built: Workspace, change: dict[str, object], error: type[Exception], field: str, words: str
) -> None:
    with pytest.raises(error) as caught:  # type: ignore[call-overload]
        built.campaigns.create(cd.definition(**change))
    assert caught.value.field == field and words in caught.value.message
    assert built.campaigns.list() == []  # nothing was stored


def test_customers_cannot_be_checked_before_resolution(workspace: Workspace) -> None:
    with pytest.raises(InvalidValue, match="no profiles yet"):
        workspace.campaigns.create(cd.definition())


def test_a_golden_trait_can_be_a_covariate(built: Workspace, tmp_path: Path) -> None:
    scores = [
        {
            "messageId": f"s{i}",
            "type": "identify",
            "userId": f"u{i}",
            "timestamp": "2026-02-01T00:00:00Z",
            "traits": {"score": (i - 1) * 1.5},
        }
        for i in range(1, 7)
    ]
    cd.build(built, tmp_path, [*cd.MESSAGES, *scores])
    metric = {"name": "m", "kind": "count", "event": "E", "covariate": {"trait": "score"}}
    info = built.campaigns.create(cd.definition(metrics=[metric], exposures=[]))
    assert info.metrics[0].covariate.trait == "score"
    cd.import_known_arms(built, tmp_path)
    covariates = built.lake.con.to_pyarrow(built.campaigns.outcomes("spring", "m"))
    assert sorted(covariates["covariate"].to_pylist()) == [0.0, 1.5, 3.0, 4.5, 6.0, 7.5]


def test_unknown_campaign(built: Workspace) -> None:
    with pytest.raises(NotFound, match="no campaign `nope`"):
        built.campaigns.get("nope")
    with pytest.raises(NotFound):
        built.campaigns.assign("nope")
    with pytest.raises(InvalidInput):
        built.campaigns.create({"name": "x"})
