"""`thelook`: one command line for the database, the data, the job and the app.

Every click command of the project lives in this package: the small ones here, the larger families in a
module each (generate, sql_check, llm, viz, app), loaded only when they run. Each command says what it does,
and a failure the user can act on prints one line (what, why, what to do) and exits 1: `ThelookError` is
caught here, and only here.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from pathlib import Path
from typing import ClassVar

import click

from thelook_ecommerce_analysis.config import DEFAULT_PGADMIN_PORT, environment
from thelook_ecommerce_analysis.errors import ThelookError

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Kedro 1.7 calls an OmegaConf API that OmegaConf now calls deprecated: noise for our users, not news.
warnings.filterwarnings("ignore", message="register_new_resolver", category=UserWarning)


class FriendlyGroup(click.Group):
    """Turns ThelookError into `error: <message>` and exit status 1, without a traceback.

    The command families in modules of their own (cli/generate.py, cli/llm.py...) are imported only when
    they run, so that `thelook --help` and `thelook db status` start in a fraction of a second.
    """

    lazy_commands: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ThelookError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)


class ThelookGroup(FriendlyGroup):
    lazy_commands: ClassVar[dict[str, str]] = {
        "generate": "thelook_ecommerce_analysis.cli.generate:generate_command",
        "sql-check": "thelook_ecommerce_analysis.cli.sql_check:sql_check_command",
        "llm": "thelook_ecommerce_analysis.cli.llm:llm_group",
        "viz": "thelook_ecommerce_analysis.cli.viz:viz_command",
        "app": "thelook_ecommerce_analysis.cli.app:app_command",
    }


@click.group(cls=ThelookGroup)
@click.version_option(package_name="thelook-ecommerce-analysis")
def main() -> None:
    """thelook: ask an e-commerce business questions in plain language."""


# -- database ---------------------------------------------------------------------------------------


@main.group(cls=FriendlyGroup)
def db() -> None:
    """The embedded PostgreSQL 18 + pgvector server (or an external one via DATABASE_URL)."""


def _server_options(function):
    function = click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Cluster directory [default: $THELOOK_PG_DATA or data/postgres].",
    )(function)
    return click.option(
        "--port", type=int, default=None, help="TCP port [default: $THELOOK_PG_PORT or 5433]."
    )(function)


def _embedded_server(data_dir: Path | None, port: int | None):
    from thelook_ecommerce_analysis.config import paths, pg_port
    from thelook_ecommerce_analysis.db.embedded import EmbeddedPostgres

    project = paths()
    return EmbeddedPostgres(
        data_dir=data_dir or project.postgres_data,
        port=port or pg_port(),
        settings_file=project.postgres_settings_file,
    )


def _refuse_when_external(action: str) -> None:
    if environment().owner_url:
        raise ThelookError(
            f"DATABASE_URL is set, so thelook uses that server; `thelook db {action}` manages only "
            "the embedded one (unset DATABASE_URL to use it)"
        )


@db.command("start")
@_server_options
def db_start(data_dir: Path | None, port: int | None) -> None:
    """Start the embedded server (initialising it on first use) and set up the database."""
    from thelook_ecommerce_analysis.config import paths
    from thelook_ecommerce_analysis.db.admin import redact
    from thelook_ecommerce_analysis.db.local import start_embedded

    _refuse_when_external("start")
    server = _embedded_server(data_dir, port)
    project = paths()
    click.echo(f"embedded PostgreSQL: data dir {server.data_dir}, port {server.port}")
    report = start_embedded(server, project.sql / "init.sql", project.credentials_file)
    if report.initialized:
        click.echo("initialised a new cluster; credentials written to conf/local/credentials.yml")
    click.echo("started" if report.started else "already running")
    click.echo(f"database ready: {redact(report.urls.owner)}")


@db.command("stop")
@_server_options
def db_stop(data_dir: Path | None, port: int | None) -> None:
    """Stop the embedded server."""
    _refuse_when_external("stop")
    server = _embedded_server(data_dir, port)
    click.echo("stopped" if server.stop() else f"not running (data dir {server.data_dir})")


@db.command("status")
@_server_options
def db_status(data_dir: Path | None, port: int | None) -> None:
    """Say whether the embedded server runs; exit 3 when it does not (like pg_ctl status)."""
    if url := environment().owner_url:
        from thelook_ecommerce_analysis.db.admin import connect, redact

        with connect(url) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
        click.echo(f"external PostgreSQL {version} at {redact(url)} (DATABASE_URL) answers")
        return
    status = _embedded_server(data_dir, port).status()
    click.echo(status.describe())
    if not status.running:
        sys.exit(3)


@db.command("url")
@click.option(
    "--role",
    type=click.Choice(["owner", "reader", "admin"]),
    default="owner",
    show_default=True,
    help="owner writes (the Kedro job), reader is read-only (the app).",
)
def db_url(role: str) -> None:
    """Print the connection URL of a role (with its password: keep it to yourself)."""
    from thelook_ecommerce_analysis.config import database_url

    click.echo(database_url(role))


@db.command("init")
def db_init() -> None:
    """(Re)apply sql/init.sql: extensions, schemas, roles. Safe to run again."""
    from urllib.parse import unquote, urlsplit

    from thelook_ecommerce_analysis.config import database_url, paths
    from thelook_ecommerce_analysis.db.admin import apply_init_sql, create_database

    admin_url = database_url("admin")
    owner, reader = (urlsplit(database_url(role)) for role in ("owner", "reader"))
    if not owner.password or not reader.password:
        raise ThelookError("the owner and reader URLs must carry passwords for `thelook db init`")
    create_database(admin_url, urlsplit(admin_url).path.lstrip("/"))
    apply_init_sql(admin_url, paths().sql / "init.sql", unquote(owner.password), unquote(reader.password))
    click.echo("applied sql/init.sql: extensions vector and pg_trgm, schemas, roles")


# -- the job ---------------------------------------------------------------------------------------


@main.command("run")
@click.option("--pipeline", "pipeline_name", default=None, help="One pipeline [default: all].")
@click.option("--env", default=None, help="Kedro configuration environment [default: local].")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="What runs the transforms: DuckDB in this process, or Apache Spark (the spark "
                   "environment, conf/spark/; docs/scale-out.md).")  # fmt: skip
@click.option("--allow-empty-input", is_flag=True,
              help="Accept an input file without rows for a table that already holds rows.")  # fmt: skip
def run(pipeline_name: str | None, env: str | None, engine: str, allow_empty_input: bool) -> None:
    """Run the Kedro job: load raw_data, compute metrics, refresh embeddings.

    Exits 75 at once, without touching anything, while another run holds the job's lock.
    """
    from thelook_ecommerce_analysis.job import (
        RUN_IN_PROGRESS_EXIT_STATUS,
        SPARK_ENV,
        RunInProgressError,
        run_pipeline,
    )

    if engine == "spark":
        if env not in (None, SPARK_ENV):
            raise ThelookError(f"--engine spark runs the {SPARK_ENV} environment; drop --env {env}")
        env = SPARK_ENV
    click.echo(f"running the Kedro job (pipeline: {pipeline_name or 'all'}, engine: {engine})")
    try:
        run_pipeline(pipeline_name, env, allow_empty_input=allow_empty_input)
    except RunInProgressError as busy:
        click.secho(str(busy), fg="yellow", err=True)
        sys.exit(RUN_IN_PROGRESS_EXIT_STATUS)
    click.echo("run finished")


# -- questions -------------------------------------------------------------------------------------


def _engine_options(function):
    function = click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True,
                            help="Model calls at most per question.")(function)  # fmt: skip
    function = click.option("--candidates", type=click.IntRange(1, 8), default=None,
                            help="Candidate queries to vote on (default: $THELOOK_CANDIDATES, else 3).",
                            )(function)  # fmt: skip
    function = click.option("--no-examples", is_flag=True, help="Leave few-shot examples out.")(function)
    function = click.option("--no-fit-checks", is_flag=True,
                            help="Accept any answer that runs, fit or not.")(function)  # fmt: skip
    return click.option("--no-repairs", is_flag=True, help="No deterministic repairs.")(function)


def _build_engine(
    attempts: int, candidates: int | None, no_examples: bool, no_repairs: bool, no_fit_checks: bool
):
    from thelook_ecommerce_analysis.config import database_url
    from thelook_ecommerce_analysis.llm.select import choose_provider
    from thelook_ecommerce_analysis.rag.engine import LLM_DOWN_PREFIX, EngineSettings, QuestionEngine

    provider = choose_provider()
    click.echo(f"LLM: {provider.describe()} ({provider.reason})", err=True)
    reachable, why = provider.health()
    if not reachable:  # said now, not after the database and the embedding model (tens of seconds) load
        raise ThelookError(f"{LLM_DOWN_PREFIX}: {why}")
    settings = EngineSettings.from_environment(
        **({"candidates": candidates} if candidates else {}),
        max_attempts=attempts,
        use_examples=not no_examples,
        repairs=not no_repairs,
        fit_checks=not no_fit_checks,
    )
    return QuestionEngine(database_url("reader"), provider, settings)


@main.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@_engine_options
def ask(question: str, as_json: bool, **engine_options) -> None:
    """Answer QUESTION with read-only SQL written by the LLM; exit 1 when it cannot be answered."""
    import json

    from thelook_ecommerce_analysis.cli.render import render_answer

    answer = _build_engine(**engine_options).ask(question)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, default=str))
    else:
        click.echo(render_answer(answer))
    if not answer.ok:
        sys.exit(1)


@main.command("chat")
@_engine_options
def chat(**engine_options) -> None:
    """A conversation in the terminal: each line is a question, and a follow-up ("and only for Jeans?")
    is read against the earlier ones. An empty line or end of input ends it."""
    from thelook_ecommerce_analysis.cli.render import render_answer
    from thelook_ecommerce_analysis.rag.conversation import Turn

    engine = _build_engine(**engine_options)
    turns: list[Turn] = []
    while line := click.prompt("you", default="", show_default=False, err=True).strip():
        answer = engine.ask(line, conversation=turns)
        click.echo(render_answer(answer))
        if answer.ok:
            turns.append(Turn(answer.understood_as or line, answer.sql, tuple(answer.columns)))


@main.command("eval")
@click.option("--questions", "questions_file", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("evaluation/dev_set.yml"), show_default=True,
              help="YAML list of {id, question, sql}.")  # fmt: skip
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_engine_options
def evaluate_command(questions_file: Path, limit: int | None, as_json: bool, **engine_options) -> None:
    """Execution accuracy of the question loop against gold SQL, with latency and rescues."""
    import json

    from thelook_ecommerce_analysis.cli.render import render_report
    from thelook_ecommerce_analysis.rag.evaluate import evaluate, load_questions

    questions = load_questions(questions_file)[:limit]
    engine = _build_engine(**engine_options)

    def show(outcome) -> None:
        mark = "ok  " if outcome.matched else "MISS"
        click.echo(f"{mark} {outcome.question.id} ({outcome.answer.timings_ms.get('total', 0) / 1000:.1f} s)",
                   err=True)  # fmt: skip

    report = evaluate(engine, questions, progress=show)
    if as_json:
        payload = {"summary": report.summary(), "questions": [o.to_json() for o in report.outcomes]}
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(render_report(report))


# -- review of candidate examples ------------------------------------------------------------------


@main.group(cls=FriendlyGroup)
def examples() -> None:
    """Review the app's thumbs-ups: a candidate becomes a few-shot example only when approved."""


def _example_review():
    from thelook_ecommerce_analysis.config import database_url, paths
    from thelook_ecommerce_analysis.rag.examples_review import ExampleReview

    return ExampleReview(database_url("owner"), database_url("reader"), paths().sql)


@examples.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also approved, rejected and superseded ones.")
def examples_list(show_all: bool) -> None:
    """Show the candidates pending review (id, status, created_at, question, SQL), oldest first; control
    characters are shown escaped, so that nothing in them can hide from the reviewer."""
    from thelook_ecommerce_analysis.rag.examples_review import ReviewStatus, visible

    statuses = tuple(ReviewStatus) if show_all else (ReviewStatus.PENDING,)
    candidates = _example_review().candidates(statuses)
    if not candidates:
        click.echo("no candidate examples" + ("" if show_all else " pending review"))
    for candidate in candidates:
        click.echo(
            f"#{candidate.id}  {candidate.status:<10}  {candidate.created_at:%Y-%m-%d %H:%M %Z}  "
            f"{visible(candidate.question)}"
        )
        click.echo("".join(f"    {line}\n" for line in visible(candidate.sql.strip()).split("\n")), nl=False)


@examples.command("approve")
@click.argument("candidate_id", metavar="ID", type=int)
def examples_approve(candidate_id: int) -> None:
    """Re-check candidate ID's SQL with today's guard, then store it as a verified example."""
    click.echo(f"checking candidate #{candidate_id} with the SQL guard, then embedding its question")
    candidate = _example_review().approve(candidate_id)
    click.echo(f"approved #{candidate.id}: {candidate.example_id} is now retrieved for similar questions")


@examples.command("reject")
@click.argument("candidate_id", metavar="ID", type=int)
def examples_reject(candidate_id: int) -> None:
    """Mark candidate ID rejected (kept for the record); an approved one stops being retrieved."""
    candidate = _example_review().reject(candidate_id)
    click.echo(f"rejected #{candidate.id}: it is not retrieved; the row stays in embeddings.feedback")


# -- inspection ------------------------------------------------------------------------------------


@main.command("pgadmin")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PGADMIN_PORT,
    show_default=True,
    help="Port to serve on (loopback only).",
)
def pgadmin_command(port: int) -> None:
    """Serve pgAdmin 4 with the database registered (read-only role first, owner second) until Ctrl-C.
    Needs `make pgadmin` once; its settings and login live in data/pgadmin."""
    from thelook_ecommerce_analysis.pgadmin import serve

    serve(port, click.echo)


# Kedro's own CLI (`kedro run`, `kedro viz`) loads a `cli` group from the project's cli module to add project
# commands; thelook adds none there (its commands live under `thelook`), but the group must exist.
cli = click.Group(name="kedro-project-commands")
