from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape

from tandem import Workspace
from tandem.errors import InvalidValue
from tandem.reporting.report import plotly_js_path, write_report
from tests.conftest import Tandem


def _outside_plotly(html: str) -> str:
    bundle = plotly_js_path().read_text("utf-8")
    assert bundle in html, "plotly.js is inlined whole"
    return html.replace(bundle, "")


def test_the_report_is_one_offline_file_with_the_findings_and_chart_data(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write_report(workspace, tmp_path / "board.html")
    html = path.read_text("utf-8")
    rest = _outside_plotly(html)
    assert not re.search(r"https?://", rest), "no reference to another host"
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", rest), "nothing loaded from a file"
    for finding in workspace.ownership.findings():
        assert str(escape(finding.title)) in html
        assert str(escape(finding.citation.quote)) in html
    assert html.count('class="chart"') >= 2
    assert "% of firms surveyed" in html and "Who sets the digital vision" in html
    assert "No campaign measured yet." in html
    assert path.stat().st_mode & 0o044  # readable like any other file the user writes


def test_tandem_report_writes_the_file(tandem: Tandem, ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run = tandem("report", "--out", out, "-w", ws_path, "--json")
    assert run.exit_code == 0, run.stdout
    assert run.json()["report"] == str(out.resolve())
    assert run.json()["bytes"] == out.stat().st_size > 1_000_000


def test_a_folder_or_a_missing_folder_is_a_clear_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(InvalidValue, match="is a folder"):
        write_report(workspace, tmp_path)
    with pytest.raises(InvalidValue, match="does not exist"):
        write_report(workspace, tmp_path / "missing" / "r.html")
    assert list(tmp_path.iterdir()) == [tmp_path / "ws"]


def test_an_unwritable_folder_is_a_clear_error_and_leaves_nothing(
    tandem: Tandem, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("tandem.reporting.report.tempfile.mkstemp", refuse)
    run = tandem("report", "--out", out / "r.html", "-w", workspace.root)
    assert run.exit_code == 1
    assert "cannot write" in run.stderr and "Permission denied" in run.stderr
    monkeypatch.undo()

    monkeypatch.setattr("tandem.reporting.report.os.replace", refuse)
    with pytest.raises(InvalidValue, match="cannot write"):
        write_report(workspace, out / "r.html")
    assert list(out.iterdir()) == []
