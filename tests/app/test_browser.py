"""The app in a real browser: `thelook app` as a subprocess, headless Chromium (Debian's package) driven by
Playwright. One test asks a sample question and waits for the table; another opens the dashboard and waits
for its charts. Both save screenshots; with THELOOK_UPDATE_DOCS_IMAGES=1 they also refresh docs/img/.

Also measured and printed: the app's cold start (process start to a served page) and the time from a
click on a sample question to the rendered table, with the Ollama double answering.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import REPLIES
from tests.app.ollama_double import ollama_double
from tests.conftest import REPO_ROOT, environment, free_port
from thelook_ecommerce_analysis.app.samples import SAMPLE_QUESTIONS
from thelook_ecommerce_analysis.db.local import RoleUrls

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
START_TIMEOUT_S = 90
ANSWER_TIMEOUT_MS = 180_000
DOCS_IMAGES = REPO_ROOT / "docs" / "img"


def chromium_available() -> bool:
    """Chromium from Debian's package, installed now if missing and apt-get can (root, package source)."""
    if CHROMIUM.exists():
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=600, check=False
        )
    return CHROMIUM.exists()


@pytest.fixture(scope="module")
def browser():
    if not chromium_available():
        reason = f"no Chromium at {CHROMIUM} and `apt-get install -y chromium` could not install it"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def wait_until_served(url: str, process: subprocess.Popen, timeout_s: float) -> float:
    """Seconds until Streamlit's health endpoint answers ok; fails if the process dies first."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise AssertionError(f"`thelook app` exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.read().decode().strip() == "ok":
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the app did not answer at {url} within {timeout_s} s")


@pytest.fixture(scope="module")
def app_url(app_environment: RoleUrls, tmp_path_factory) -> Iterator[str]:
    """`thelook app` on a free port, with the test database and the Ollama double."""
    port = free_port()
    log = tmp_path_factory.mktemp("app-log") / "app.log"
    with ollama_double(REPLIES) as double, environment(THELOOK_LLM="ollama", OLLAMA_HOST=double.url):
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "thelook_ecommerce_analysis.app_command", "--port", str(port)],
                env=os.environ.copy(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            print(f"\napp served after {wait_until_served(url, process, START_TIMEOUT_S):.1f} s (cold start)")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("THELOOK_UPDATE_DOCS_IMAGES") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMAGES / name)
    return path


def test_sample_question_shows_a_table_in_the_browser(browser, app_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    opened = time.perf_counter()
    page.goto(app_url)
    sample = page.get_by_role("button", name=SAMPLE_QUESTIONS[0])
    sample.wait_for(timeout=ANSWER_TIMEOUT_MS)
    first_page_s = time.perf_counter() - opened
    clicked = time.perf_counter()
    sample.click()
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    answered_s = time.perf_counter() - clicked
    print(f"\nfirst page with samples {first_page_s:.1f} s; question to table and chart {answered_s:.1f} s")
    assert page.get_by_text("Download CSV").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    assert save_screenshot(page, tmp_path, "app_chat.png").stat().st_size > 10_000
    page.close()


def test_dashboard_shows_kpis_and_charts_in_the_browser(browser, app_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/dashboard")
    page.locator('[data-testid="stMetric"]').nth(4).wait_for(timeout=ANSWER_TIMEOUT_MS)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(7).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert charts.count() == 8
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Cohort retention").count() == 1
    assert save_screenshot(page, tmp_path, "app_dashboard.png").stat().st_size > 10_000
    page.close()
