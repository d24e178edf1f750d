"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

Starts `tandem serve` on a free port with the demo company's ownership model and one admin, logs
in, changes a responsibility in the ownership matrix, sees the finding update, opens the
campaigns page. Screenshots land in the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tandem import Workspace
from tandem.demo.company import demo_ownership

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EMAIL = "admin@harbour.example"
PASSWORD = "harbour-and-vine-demo-pass"

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        "no /usr/bin/chromium (apt-get install -y chromium); in CI this test always runs",
        allow_module_level=True,
    )

pytestmark = pytest.mark.timeout(120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path, fresh_database_url: Callable[[], str | None]) -> Iterator[str]:
    ws = Workspace.init(
        tmp_path / "demo", company="Harbour & Vine", database_url=fresh_database_url()
    )
    model = tmp_path / "ownership.yaml"
    model.write_text(yaml.safe_dump(demo_ownership(7), sort_keys=False), encoding="utf-8")
    ws.ownership.import_file(model)
    ws.accounts.add(EMAIL, function="digital", role="admin", password=PASSWORD)
    root = ws.root
    ws.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tandem.cli", "serve", "-w", str(root), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tandem serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _marketing_alone_count(text: str) -> int:
    marker = "Marketing alone is accountable for "
    return int(text.split(marker)[1].split(" ")[0]) if marker in text else 0


# Marketing alone is accountable for social media marketing in the demo; IT holds no role there.
def test_log_in_edit_the_matrix_and_see_the_finding_change(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server}/ownership")
            assert "/login" in page.url
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/ownership")
            # plotly.js (served locally) drew the benchmark chart.
            page.wait_for_selector("#benchmark-chart .main-svg", timeout=30_000)
            page.screenshot(path=str(tmp_path / "1-ownership.png"), full_page=True)

            findings = page.inner_text("#findings")
            before = _marketing_alone_count(findings)
            assert before >= 1
            cell = page.locator("#cell-social-media-marketing--it input.roles")
            assert cell.input_value() == ""
            with page.expect_response(lambda r: "/ownership/matrix/" in r.url) as posted:
                cell.fill("A")
                cell.press("Tab")
            assert posted.value.status == 200
            page.wait_for_function(
                "n => !document.querySelector('#findings').innerText.includes("
                "'Marketing alone is accountable for ' + n + ' ')",
                arg=before,
            )
            after = _marketing_alone_count(page.inner_text("#findings"))
            assert after == before - 1
            saved = page.locator("#cell-social-media-marketing--it")
            assert "saved" in (saved.get_attribute("class") or "")
            assert page.locator("#cell-social-media-marketing--it input.roles").input_value() == "A"
            page.screenshot(path=str(tmp_path / "2-edited.png"), full_page=True)

            page.reload()
            assert page.locator("#cell-social-media-marketing--it input.roles").input_value() == "A"

            # Letters that are not R, A, C or I: the cell says so, nothing is saved.
            bad = page.locator("#cell-social-media-marketing--pr input.roles")
            with page.expect_response(lambda r: "/ownership/matrix/" in r.url) as refused:
                bad.fill("CX")
                bad.press("Tab")
            assert refused.value.status == 422
            page.wait_for_selector("#cell-social-media-marketing--pr .cell-error")
            assert "is not a RACI role" in page.inner_text("#cell-social-media-marketing--pr")
            page.reload()
            assert page.locator("#cell-social-media-marketing--pr input.roles").input_value() == "C"

            page.click("nav >> text=Campaigns")
            page.wait_for_url(f"{server}/campaigns")
            assert "No campaign yet." in page.inner_text("main")
            page.screenshot(path=str(tmp_path / "3-campaigns.png"), full_page=True)
        finally:
            browser.close()
    for name in ("1-ownership.png", "2-edited.png", "3-campaigns.png"):
        assert (tmp_path / name).stat().st_size > 10_000
