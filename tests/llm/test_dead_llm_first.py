"""`thelook ask` with no LLM reachable says so at once: before the database is read and before the
embedding model (torch + sentence-transformers, tens of seconds) loads, which used to come first.

Each case runs the real CLI in a fresh Python process with a real database configured, and reports from
inside that process whether sentence_transformers or torch was ever imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.llm.servers import closed_port, trickling_server
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.llm.deadline import HEALTH_HINT, deadline_message
from thelook_ecommerce_analysis.rag.engine import LLM_DOWN_PREFIX

# The CLI's own imports (pyarrow, psycopg, sqlglot, the ollama client) take 1-7 s here under load and the
# check at most 1 s; the embedding model used to add ~50 s. What proves the order is `loaded`, not time.
IMPORTS_AND_CHECK_S = 20

ASK_AND_REPORT = """
import json, sys, time
from thelook_ecommerce_analysis.cli import main
started = time.monotonic()
try:
    main(["ask", "How many orders are there?"], prog_name="thelook")
except SystemExit as exit:
    status = exit.code
print(json.dumps({
    "status": status,
    "seconds": time.monotonic() - started,
    "loaded": sorted(name for name in ("sentence_transformers", "torch") if name in sys.modules),
}))
"""


def _ask(**environ: str) -> tuple[dict, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", ASK_AND_REPORT],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"the CLI process ended without its report: {result.stderr[-2000:]}"
    return json.loads(lines[-1]), result.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def database(fresh_db: RoleUrls) -> RoleUrls:
    """A real database in the environment, so that nothing but the order of the steps can spare the
    embedding model: with the LLM checked last, `ask` would read the catalog and embed the question."""
    return fresh_db


def test_a_dead_ollama_is_reported_before_the_embedding_model_loads(database: RoleUrls) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    report, stderr = _ask(THELOOK_LLM="ollama", OLLAMA_HOST=host)
    assert report["status"] == 1
    assert stderr[-1].startswith(f"error: {LLM_DOWN_PREFIX}: Ollama at {host} is not reachable: start it")
    assert report["loaded"] == [], "the embedding model must not load when the LLM is down"
    assert report["seconds"] < IMPORTS_AND_CHECK_S


def test_a_trickling_llm_server_is_reported_within_the_health_deadline(database: RoleUrls) -> None:
    with trickling_server("body") as url:
        report, stderr = _ask(THELOOK_LLM="openai", THELOOK_LLM_BASE_URL=f"{url}/v1", THELOOK_LLM_MODEL="m")
    assert report["status"] == 1
    assert stderr[-1] == f"error: {LLM_DOWN_PREFIX}: {deadline_message(1.0, f'{url}/v1', HEALTH_HINT)}"
    assert report["loaded"] == []
    assert report["seconds"] < IMPORTS_AND_CHECK_S
