from __future__ import annotations

from tandem import Workspace
from tandem.reporting import dashboard


def test_the_fingerprint_changes_with_any_added_or_replaced_row(workspace: Workspace) -> None:
    first = dashboard.metadata_fingerprint(workspace)
    assert dashboard.metadata_fingerprint(workspace) == first
    workspace.ownership.assign("web-design", "it", "R")
    assigned = dashboard.metadata_fingerprint(workspace)
    assert assigned != first
    workspace.ownership.unassign("web-design", "it", "R")
    assert dashboard.metadata_fingerprint(workspace) == first


def test_the_collaboration_section_is_reused_until_the_data_changes(
    workspace: Workspace,
) -> None:
    first = dashboard.collaboration_section(workspace)
    assert dashboard.collaboration_section(workspace) is first
    assert not first.has_initiatives
    workspace.initiatives.add("app", title="Shop app", owners=["marketing", "it"])
    changed = dashboard.collaboration_section(workspace)
    assert changed is not first
    assert [i["title"] for i in changed.initiatives] == ["Shop app"]
    dashboard.forget(workspace)  # what a page edit calls: the next request computes anew
    assert dashboard.collaboration_section(workspace) is not changed


def test_the_ownership_section_counts_findings_and_shared_capabilities(
    workspace: Workspace,
) -> None:
    workspace.ownership.assign("web-design", "marketing", "A")
    workspace.ownership.assign("web-design", "it", "R")
    section = dashboard.ownership_section(workspace)
    assert section.shared_capabilities == 1
    assert sum(section.counts.values()) == len(section.findings)
    severities = [f.severity for f in section.findings]
    assert severities == sorted(severities, key=lambda s: {"high": 0, "medium": 1, "low": 2}[s])
