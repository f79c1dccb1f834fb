"""What the summaries step adds to `thelook run`, measured in one run on a fresh database of its own.

    .venv/bin/python bench/summaries.py --users 10000 --llm 0.5b

Generates --users of theLook data, loads it into a new embedded PostgreSQL (temp dir, free port) with the
job's own data_processing and metrics pipelines (timed, for scale), then runs the summaries pipeline as
`thelook run --pipeline summaries` would, four times:

  no model      THELOOK_SUMMARIES_LLM=off: the facts (ibis, on PostgreSQL), template texts, the upsert
  rerun         nothing new: nothing asked, nothing written
  model         the bundled local model (THELOOK_LLM=local), started by the job on first use, asked for
                every period (the table is emptied first), stopped after
  model rerun   nothing new again: no server started, no call

and prints the wall time of each run and the model's share (seconds per call). The facts' cost grows with
the metrics tables (days x categories, countries, sources), not with users; the model's with the number of
periods summarised (parameters_summaries.yml: days + the week + the month) and the CPU.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import psycopg

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from scratch_project import REPO_ROOT, free_port, project_copy, traversable_temp_dir
from thelook_ecommerce_analysis.config import URL_ENVIRONMENT_VARIABLES
from thelook_ecommerce_analysis.db.embedded import EmbeddedPostgres
from thelook_ecommerce_analysis.db.local import start_embedded
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.llm.local_server import bundled_model, prepare_model
from thelook_ecommerce_analysis.synth import generate

_WRITTEN = re.compile(r"(\d+) of (\d+) period\(s\) written \((\d+) by the model, (\d+) model call\(s\)\)")


class WrittenCounter(logging.Handler):
    """Reads the summaries node's own account of what it wrote and how often it asked the model."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last: tuple[int, ...] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if match := _WRITTEN.search(record.getMessage()):
            self.last = tuple(int(group) for group in match.groups())


def timed(label: str, pipeline: str, counter: WrittenCounter) -> float:
    counter.last = None
    started = time.perf_counter()
    run_pipeline(pipeline)
    seconds = time.perf_counter() - started
    written = ""
    if counter.last:
        rows, periods, by_model, calls = counter.last
        written = f"  {rows}/{periods} periods written, {by_model} by the model, {calls} model call(s)"
        if calls:
            written += f" ({seconds / calls:.1f} s per call, all in)"
    print(f"{label:<28} {seconds:8.1f} s{written}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--llm", choices=["0.5b", "1.5b"], default="0.5b", help="bundled model to ask")
    parser.add_argument("--model-path", type=Path, help="an assembled GGUF of that model (else assembled)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--call-timeout", type=float, help="THELOOK_LLM_TIMEOUT for the model runs (default: the catalog's)"
    )
    arguments = parser.parse_args()

    model = bundled_model(arguments.llm)
    model_path = arguments.model_path or prepare_model(REPO_ROOT / "data" / "06_models" / model.file_name)
    base = traversable_temp_dir("thelook-bench-pg-")
    raw = Path(tempfile.mkdtemp(prefix="thelook-bench-raw-"))
    started = time.perf_counter()
    generate(raw, users=arguments.users, seed=arguments.seed, progress=False)
    print(f"generated {arguments.users:,} users in {time.perf_counter() - started:.1f} s", flush=True)
    root = project_copy(raw)
    server = EmbeddedPostgres(
        base / "data", free_port(), settings_file=REPO_ROOT / "conf" / "postgresql" / "thelook.conf"
    )
    counter = WrittenCounter()
    try:
        urls = start_embedded(server, REPO_ROOT / "sql" / "init.sql", base / "credentials.yml").urls
        os.environ.update({name: getattr(urls, role) for role, name in URL_ENVIRONMENT_VARIABLES.items()})
        os.environ["THELOOK_HOME"] = str(root)
        timed("data_processing (for scale)", "data_processing", counter)
        # Kedro's logging configuration (applied on the first run) resets child loggers' handlers.
        logging.getLogger("thelook_ecommerce_analysis.pipelines.summaries.nodes").addHandler(counter)
        timed("metrics (for scale)", "metrics", counter)
        os.environ["THELOOK_SUMMARIES_LLM"] = "off"
        timed("summaries, no model", "summaries", counter)
        timed("summaries, rerun", "summaries", counter)
        with psycopg.connect(urls.owner) as connection:
            connection.execute("TRUNCATE metrics.daily_summaries")
        os.environ.update(
            THELOOK_SUMMARIES_LLM="on",
            THELOOK_LLM="local",
            THELOOK_LLM_BUNDLED=arguments.llm,
            THELOOK_LLM_MODEL_PATH=str(model_path),
            THELOOK_LLM_PORT=str(free_port()),
            THELOOK_LLM_THREADS=str(arguments.threads),
        )
        if arguments.call_timeout:
            os.environ["THELOOK_LLM_TIMEOUT"] = str(arguments.call_timeout)
        timed(f"summaries, model {arguments.llm}", "summaries", counter)
        timed("summaries, model rerun", "summaries", counter)
        with psycopg.connect(urls.reader) as connection:
            for kind, source, text in connection.execute(
                "SELECT period_kind, source, text FROM metrics.daily_summaries ORDER BY period_end DESC"
            ):
                print(f"  {kind:<5} [{source}] {text}")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
