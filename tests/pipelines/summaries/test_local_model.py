"""The summaries with the real local model, as a machine without Docker runs them: THELOOK_LLM=local, the
bundled Qwen2.5-Coder-0.5B (THELOOK_LLM_BUNDLED=0.5b, the small one, for speed), llama.cpp's server started
by the job on first use and stopped once the summaries are written.

The job stores grounded summaries written by the model; a rerun with nothing new starts no server and
asks nothing. Three periods (one day, the week, the month) keep it to a few model calls on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import environment
from tests.llm.servers import closed_port
from tests.pipelines.summaries.conftest import summary_rows
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.llm.local_server import QWEN_CODER_05B, answers_health, prepare_model
from thelook_ecommerce_analysis.summaries.facts import PeriodFacts
from thelook_ecommerce_analysis.summaries.grounding import check_grounded
from thelook_ecommerce_analysis.summaries.writer import MAX_SENTENCES, sentences

pytestmark = pytest.mark.slow

PARAMETERS = {"summaries": {"days": 1, "budget_s": 1800, "max_tokens": 300}}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_model(tmp_path_factory.mktemp("models") / QWEN_CODER_05B.file_name, lambda _: None)


def test_the_real_model_writes_grounded_summaries_and_a_rerun_starts_nothing(
    metrics_db: RoleUrls, project: Path, model_path: Path
) -> None:
    (project / "conf" / "local" / "parameters_summaries.yml").write_text(yaml.safe_dump(PARAMETERS))
    port = closed_port()
    server_log = project / "logs" / "llm_server.log"
    with psycopg.connect(metrics_db.owner) as connection:
        connection.execute("DROP TABLE IF EXISTS metrics.daily_summaries")
    with environment(
        THELOOK_SUMMARIES_LLM="on",
        THELOOK_LLM="local",
        THELOOK_LLM_BUNDLED="0.5b",
        THELOOK_LLM_MODEL_PATH=str(model_path),
        THELOOK_LLM_PORT=str(port),
        THELOOK_LLM_THREADS="2",
        THELOOK_LLM_TIMEOUT="300",
    ):
        run_pipeline("summaries")
        assert not answers_health(f"http://127.0.0.1:{port}"), "the job stopped the server it started"
        rows = summary_rows(metrics_db.owner)
        log_size = server_log.stat().st_size
        run_pipeline("summaries")
        assert server_log.stat().st_size == log_size, "a rerun with nothing new starts no server"
    assert sorted(row["period_kind"] for row in rows) == ["day", "month", "week"]
    written_by_model = [row for row in rows if row["source"] == "llm"]
    assert written_by_model, [(row["period_kind"], row["text"]) for row in rows]
    for row in written_by_model:
        facts = PeriodFacts.from_json(row["facts"])
        check = check_grounded(row["text"], facts)
        assert check.ok, (row["text"], check.unsupported)
        assert check.numbers_checked >= 2, row["text"]
        assert row["model"] == model_path.stem
        assert 1 <= len(sentences(row["text"])) <= MAX_SENTENCES, row["text"]
    print("\n" + "\n".join(f"{row['period_kind']} [{row['source']}]: {row['text']}" for row in rows))
    assert summary_rows(metrics_db.owner) == rows, "the rerun rewrote nothing"
