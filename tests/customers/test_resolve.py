"""`resolve`: the demo's truth, the run log, failures, an empty lake, bad settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from tandem.customers import identity
from tandem.customers.evaluation import pairwise_scores
from tandem.customers.resolve import STAGES, resolve
from tandem.db.models.identity import ResolutionRun
from tandem.demo.channels import build_channels, load_traps, load_truth
from tandem.errors import InvalidConfig
from tandem.workspace import Workspace
from tests.customers.identity_helpers import configured, customers_of, identify, send

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _keys(table: pa.Table, cluster: str) -> pa.Table:
    return pa.table(
        {
            "key": pc.binary_join_element_wise(table["source"], table["record_id"], "|"),
            "cluster": table[cluster],
        }
    )


def test_the_demo_resolves_with_f1_above_0_99_and_no_over_merge(workspace: Workspace) -> None:
    build_channels(workspace, customers=300, seed=5, as_of=AS_OF)
    stages: list[str] = []
    result = resolve(workspace, now=NOW, progress=lambda s, d, t: stages.append(s))
    assert stages == [*STAGES, "profiles"]
    truth, _ = load_truth(workspace.root)
    identities = workspace.lake.raw("identities").to_pyarrow()
    assert identities.num_rows == truth.num_rows == result.counts["messages"]
    scores = pairwise_scores(_keys(identities, "customer_id"), _keys(truth, "person_id"))
    assert scores.keys == truth.num_rows
    assert scores.f1 >= 0.99, scores
    assert scores.precision == 1.0, "a customer holds records of two people"
    # every trap identifier was recognised as shared and kept out of merging
    traps = load_traps(workspace.root).to_pylist()
    links = workspace.lake.raw("identity_links").to_pyarrow().to_pylist()
    status = {(x["id_type"], x["id_value"]): (x["kind"], x["reason"]) for x in links}
    family = {t["group"] for t in traps if t["trap"] == "family_email"}
    tablets = {t["group"] for t in traps if t["trap"] == "shop_tablet"}
    assert family and tablets
    assert {status[("email", e)] for e in family} == {("ignored", "shared")}
    assert {status[("device_id", d)] for d in tablets} == {("ignored", "shared")}
    # counts that add up
    counts = result.counts
    assert counts["customers"] == len(set(identities["customer_id"].to_pylist()))
    assert counts["ids_new"] == counts["customers"] and counts["ids_continued"] == 0
    assert counts["merges_deterministic"] + counts["merges_probabilistic"] == (
        counts["messages"] - counts["customers"]
    )
    assert counts["profiles"] == counts["customers"]
    assert counts["invalid_identifiers"] == 0
    assert set(result.seconds) == {*STAGES, "total"}


def test_runs_are_recorded(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    send(ws, "web", [identify("u1", email="a@example.com")])
    result = resolve(ws, now=NOW)
    with ws.session() as session:
        runs = session.scalars(select(ResolutionRun)).all()
        assert [(r.id, r.status, r.error) for r in runs] == [(result.run, "done", None)]
        assert runs[0].counts["customers"] == 1
        assert runs[0].settings["types"]["email"]["shared_above"] == 2
        assert runs[0].settings["matching"]["enabled"] is False
        assert runs[0].finished_at is not None


def test_a_failure_leaves_the_previous_tables_and_a_failed_run(
    make_workspace: Callable[..., Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = configured(make_workspace, "")
    send(ws, "web", [{**identify("u1"), "messageId": "m1"}])
    resolve(ws, now=NOW)
    before = customers_of(ws)
    version = ws.lake.table("identities").version()
    send(ws, "web", [{**identify("u2"), "messageId": "m2"}])

    def broken(con: object) -> pa.Table:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(identity, "links_table", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        resolve(ws, now=NOW)
    assert customers_of(ws) == before
    assert ws.lake.table("identities").version() == version
    left = ws.lake.con.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp' "
        "AND NOT starts_with(table_name, 'lake_')"
    ).fetchall()
    assert left == [], "temporary tables left behind"
    with ws.session() as session:
        last = session.scalars(select(ResolutionRun).order_by(ResolutionRun.id.desc())).first()
        assert last is not None and (last.status, last.error) == ("failed", "disk on fire")
    monkeypatch.undo()
    assert set(resolve(ws, now=NOW).counts) >= {"customers"}
    assert set(customers_of(ws)) == {"m1", "m2"}


def test_an_empty_lake_resolves_to_nothing(make_workspace: Callable[..., Workspace]) -> None:
    ws = configured(make_workspace, "")
    result = resolve(ws, now=NOW)
    c = result.counts
    assert (c["records"], c["customers"], c["identifiers"], c["profiles"]) == (0, 0, 0, 0)
    assert (c["merges_deterministic"], c["merges_probabilistic"], c["ids_new"]) == (0, 0, 0)
    assert ws.lake.raw("identities").count().to_pyarrow().as_py() == 0


def test_matching_enabled_on_an_empty_lake(workspace: Workspace) -> None:
    result = resolve(workspace, now=NOW)
    assert result.counts["matching"] == {"enabled": True, "reason": "no messages"}


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("[identity.types.email]\nmax_per_profile = 0\n", "identity.types.email.max_per_profile"),
        ("[identity.types.mail]\npriority = 3\n", "identity.types"),
        ('[identity]\ndefault_region = "Narnia"\n', "identity.default_region"),
        ('[identity.sources.service]\nrecords = "tickets"\n', "identity.sources.service.records"),
        ("[identity]\nshared = 3\n", "identity.shared"),
        ("[identity.matching]\nthreshold = 2\n", "identity.matching.threshold"),
        ('[identity.matching]\nprior_rules = [["shoe"]]\n', "identity.matching.prior_rules"),
        ("[identity.matching]\ntreshold = 0.9\n", "identity.matching.treshold"),
    ],
)
def test_bad_identity_settings_name_the_key(
    make_workspace: Callable[..., Workspace], toml: str, field: str
) -> None:
    ws = make_workspace()
    path = Path(ws.root) / "tandem.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + toml, encoding="utf-8")
    with pytest.raises(InvalidConfig) as caught:
        Workspace.open(ws.root)
    assert field in [p.field for p in caught.value.problems]


def test_bad_matching_settings_are_refused_when_the_workspace_opens(
    make_workspace: Callable[..., Workspace],
) -> None:
    """Not only when `resolve` starts: every command reports a bad `[identity.matching]`."""
    ws = make_workspace()
    path = Path(ws.root) / "tandem.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n[identity.matching]\nthreshold = 2\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidConfig, match=r"tandem\.toml: invalid settings") as caught:
        Workspace.open(ws.root)
    assert [p.field for p in caught.value.problems] == ["identity.matching.threshold"]
    assert "less than 1" in caught.value.problems[0].message


def test_resolution_is_refused_while_an_erasure_runs(workspace: Workspace) -> None:
    """One resolution or erasure at a time: the second is refused at once (409), nothing is
    logged as a run."""
    from tandem.lake.locks import Busy, exclusive

    with exclusive(workspace.lake.path, "an erasure"), pytest.raises(Busy) as caught:
        resolve(workspace)
    assert caught.value.status_code == 409
    assert caught.value.message.startswith("cannot start identity resolution")
    with workspace.session() as session:
        assert session.scalars(select(ResolutionRun)).all() == []
