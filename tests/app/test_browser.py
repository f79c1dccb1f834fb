"""The app in a real browser: `thelook app` as a subprocess, headless Chromium (Debian's package) driven by
Playwright. The tests ask a sample question and wait for the table; follow it up and see it understood and
answered in words; click a suggested next question; cancel a slow question and find it kept; and open the
dashboard's URL directly, where the sidebar must still show the page titles and the status panel. They
save screenshots; with THELOOK_UPDATE_DOCS_IMAGES=1 they also refresh docs/img/.

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

from tests.app.conftest import (
    CANCELLED_PER_MONTH,
    CANCELLED_QUESTION,
    FOLLOW_UP,
    JEANS_QUESTION,
    REPLIES,
    SLOW_QUESTION,
    SLOW_REPLY_S,
    STANDALONE,
    SUGGESTION,
    scripted_sentences,
)
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
    double = ollama_double(
        REPLIES,
        standalone=STANDALONE,
        sentences=scripted_sentences(app_environment.reader),
        delays={SLOW_QUESTION: SLOW_REPLY_S},
    )
    with double as server, environment(THELOOK_LLM="ollama", OLLAMA_HOST=server.url):
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "thelook_ecommerce_analysis.cli.app", "--port", str(port)],
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


def ask_in_the_chat(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_a_follow_up_is_understood_and_answered_in_words(browser, app_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("button", name=SAMPLE_QUESTIONS[0]).click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    asked = time.perf_counter()
    ask_in_the_chat(page, FOLLOW_UP)
    page.get_by_text(f"Understood as: {JEANS_QUESTION}").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator('[data-testid="stDataFrame"]:visible').nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    print(f"\nfollow-up to its table {time.perf_counter() - asked:.1f} s")
    assert page.get_by_text("Jeans GMV peaked at $").count() == 1, "the answer in words, dollars as typed"
    assert page.get_by_text("Answered in ").count() == 2, "each answer keeps its steps"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert save_screenshot(page, tmp_path, "app_followup.png").stat().st_size > 10_000
    page.close()


def test_a_suggested_question_is_asked_when_clicked(browser, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("button", name=SAMPLE_QUESTIONS[0]).wait_for(timeout=ANSWER_TIMEOUT_MS)
    ask_in_the_chat(page, CANCELLED_QUESTION)
    page.get_by_text("orders were cancelled in total.").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.get_by_role("button", name=SUGGESTION).click()
    page.get_by_text(f"Understood as: {CANCELLED_PER_MONTH}").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator('[data-testid="stDataFrame"]:visible').nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_cancel_stops_a_slow_question_and_keeps_it(browser, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("button", name=SAMPLE_QUESTIONS[0]).wait_for(timeout=ANSWER_TIMEOUT_MS)
    ask_in_the_chat(page, SLOW_QUESTION)
    page.get_by_text("Writing SQL...").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    clicked = time.perf_counter()
    # Streamlit draws a button with a tooltip twice (one copy hidden); the visible one is clicked.
    page.locator(".st-key-cancel button:visible").click()
    page.get_by_text("Stopped before the answer.").wait_for(timeout=ANSWER_TIMEOUT_MS)
    stopped_s = time.perf_counter() - clicked
    print(f"\ncancel to stopped {stopped_s:.1f} s (the model's reply is held {SLOW_REPLY_S} s)")
    assert page.get_by_text(SLOW_QUESTION).count() == 1, "the question stays in the history"
    assert page.get_by_role("button", name="Ask again").count() == 1
    page.wait_for_timeout(SLOW_REPLY_S * 1000)
    assert page.locator('[data-testid="stDataFrame"]:visible').count() == 0, "the stopped run shows no answer"
    page.close()


# The elements of the KPI cards whose text the browser cuts ("$37...", "Cancellation r...").
CUT_IN_CARDS = """() => [...document.querySelectorAll('[data-testid="stMetric"] *')]
    .filter(e => e.clientWidth > 0
                 && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1))
    .map(e => e.textContent)"""
LAPTOP = {"width": 1280, "height": 800}


def test_dashboard_shows_kpis_and_charts_in_the_browser(browser, app_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{app_url}/dashboard")
    page.locator('[data-testid="stMetric"]').nth(4).wait_for(timeout=ANSWER_TIMEOUT_MS)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(7).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert charts.count() == 8
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Cohort retention").count() == 1
    # Opened directly, the page is still one of the app's: the navigation names the pages by their
    # titles (not by file names) and the status panel is there.
    sidebar = page.get_by_test_id("stSidebar")
    links = sidebar.get_by_test_id("stSidebarNavLink")
    titles = [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]
    assert titles == ["Ask a question", "Dashboard"], titles  # broken, they read "main", "chat", "dashboard"
    assert sidebar.get_by_text("Status", exact=True).count() == 1
    assert sidebar.get_by_text("Database").count() >= 1
    assert page.evaluate(CUT_IN_CARDS) == [], "every KPI card shows its whole label and value"
    page.set_viewport_size({"width": 1400, "height": 1000})
    assert save_screenshot(page, tmp_path, "app_dashboard.png").stat().st_size > 10_000
    page.close()
