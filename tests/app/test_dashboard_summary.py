"""The summary in words at the top of the dashboard, in Streamlit's AppTest, against the session's database
loaded by the real job (its summaries are templates: tests ask no model unless they say so). Expected texts
are read from metrics.daily_summaries with the reader role; plus the page's formatting as plain functions."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP_ENTRY
from tests.conftest import environment
from tests.llm.servers import closed_port
from thelook_ecommerce_analysis.app.dashboard_data import (
    SUMMARIES,
    StoredSummary,
    markdown_text,
    stored_summaries,
)
from thelook_ecommerce_analysis.db.local import RoleUrls

TIMEOUT_S = 180


def test_markdown_text_keeps_dollars_and_stars_literal() -> None:
    assert markdown_text("GMV $85.20 to $90 *up* 5%") == r"GMV \$85.20 to \$90 \*up\* 5%"


@pytest.mark.parametrize(
    ("summary", "label", "provenance"),
    [
        (
            StoredSummary("day", date(2025, 6, 29), date(2025, 6, 29), "t", "qwen", "llm"),
            "Sunday 2025-06-29",
            "Written by qwen from the period's facts; every number in it was checked.",
        ),
        (
            StoredSummary("week", date(2025, 6, 23), date(2025, 6, 29), "t", "qwen", "template"),
            "The week of 2025-06-23 to 2025-06-29",
            "Template summary: the text of qwen had numbers that are not among the facts.",
        ),
        (
            StoredSummary("month", date(2025, 6, 1), date(2025, 6, 30), "t", None, "template"),
            "June 2025",
            "Template summary: no language model answered when it was written.",
        ),
    ],
)
def test_each_summary_says_its_period_and_who_wrote_it(summary, label: str, provenance: str) -> None:
    assert (summary.label, summary.provenance) == (label, provenance)


def test_the_dashboard_opens_with_the_latest_summary_and_shows_earlier_ones_on_request(
    app_environment: RoleUrls,
) -> None:
    with psycopg.connect(app_environment.reader) as connection:
        expected = stored_summaries(connection)
        (stored,) = connection.execute("SELECT count(*) FROM metrics.daily_summaries").fetchone()
    assert len(expected) == stored >= 3, "the job stored summaries of days, a week and a month"
    assert expected[0].period_kind == "day", "the newest day comes first"
    assert "ORDER BY period_end DESC" in SUMMARIES

    with environment(THELOOK_LLM="ollama", OLLAMA_HOST=f"http://127.0.0.1:{closed_port()}"):
        app = AppTest.from_file(str(APP_ENTRY), default_timeout=TIMEOUT_S)
        app.run()
        app.switch_page("views/dashboard.py").run()
        assert not app.exception, [exception.message for exception in app.exception]
        selector = app.selectbox(key="summary")
        assert selector.options == [summary.label for summary in expected]
        assert selector.value == expected[0].label
        shown = [element.value for element in app.markdown]
        assert markdown_text(expected[0].text) in shown
        assert expected[0].provenance in [caption.value for caption in app.caption]

        earliest = expected[-1]
        selector.set_value(earliest.label).run()
        assert not app.exception, [exception.message for exception in app.exception]
        assert markdown_text(earliest.text) in [element.value for element in app.markdown]
        assert markdown_text(expected[0].text) not in [element.value for element in app.markdown]
        assert [metric.label for metric in app.metric][:2] == ["GMV", "Orders"], "the KPIs follow"
