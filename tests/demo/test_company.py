"""The demo company: deterministic, realistic, and its findings fire for visible reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.demo import build_demo, demo_ownership
from tandem.demo.company import EXPECTED_FINDINGS
from tandem.errors import Conflict
from tests.conftest import Tandem


def test_same_seed_same_company() -> None:
    assert demo_ownership(7) == demo_ownership(7)
    assert demo_ownership(7) != demo_ownership(8)


def test_demo_workspace(tmp_path: Path, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    demo = build_demo(tmp_path / "demo", database_url=fresh_database_url())
    try:
        model = demo.workspace.ownership.model()
        assert model.company is not None
        assert model.company.name == "Harbour & Vine"
        assert model.company.employees == 4200
        assert len(model.functions) == 10
        assert all(f.head for f in model.functions)
        assert sum(len(f.people) for f in model.functions) == 48
        assert len(model.capabilities) == 19
        rules = {f.rule for f in demo.workspace.ownership.findings()}
        assert rules == EXPECTED_FINDINGS
        assert demo.ownership_file.is_file()
        # the channel data is resolved: every stored message belongs to a customer with a profile
        lake = demo.workspace.lake
        events = lake.events().count().to_pyarrow().as_py()
        identities = lake.raw("identities").count().to_pyarrow().as_py()
        profiles = lake.raw("profiles").to_pyarrow()
        assert identities == events > 50_000
        assert 1_900 <= profiles.num_rows <= 2_100
        assert any(step.startswith("identity resolution: ") for step in demo.steps)
    finally:
        demo.workspace.close()


def test_demo_refuses_to_overwrite(tmp_path: Path) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("precious")
    with pytest.raises(Conflict, match="not empty"):
        build_demo(other)
    with pytest.raises(Conflict, match="not made by `tandem demo`"):
        build_demo(other, force=True)
    assert (other / "notes.txt").read_text() == "precious"


def test_demo_force_rebuilds(tmp_path: Path) -> None:
    build_demo(tmp_path / "demo", customers=100, resolve_identities=False).workspace.close()
    rebuilt = build_demo(tmp_path / "demo", customers=100, resolve_identities=False, force=True)
    rebuilt.workspace.close()
    assert (tmp_path / "demo" / "tandem.toml").is_file()


def test_demo_command_prints_matrix_and_findings(tandem: Tandem, tmp_path: Path) -> None:
    run = tandem("demo", "--dir", tmp_path / "d", "--no-serve", "--customers", "200")
    assert run.exit_code == 0, run.stderr
    assert "Ownership matrix" in run.stdout
    assert "Marketing alone is accountable for 4 capabilities" in run.stdout
    assert "4 findings" in run.stdout
    assert "identity resolution: " in run.stdout and "profiles built" in run.stdout
    assert "campaign harbour-club-preview: " in run.stdout
    assert "tandem campaign results harbour-club-preview --by loyaltyTier" in run.stdout
    again = tandem("demo", "--dir", tmp_path / "d", "--no-serve")
    assert again.exit_code == 1
    assert "--force" in again.stderr


def test_demo_command_hints_at_campaigns_only_when_it_built_them(
    tandem: Tandem, tmp_path: Path
) -> None:
    run = tandem("demo", "--dir", tmp_path / "empty", "--no-serve", "--customers", "0")
    assert run.exit_code == 0, run.stderr
    assert "campaigns: none (no customer has the trait subscribed)" in run.stdout
    assert "tandem campaign results" not in run.stdout
    assert "Explore: tandem status" in run.stdout
