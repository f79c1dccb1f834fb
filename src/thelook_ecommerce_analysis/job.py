"""Running the Kedro job from Python: what `thelook run`, run_job.sh and the tests call.

A failed run raises ThelookError with the root cause in one line (the last line run_job.sh logs), not
Kedro's wrapped chain of exceptions. A run refused because another one holds the job's lock raises
RunInProgressError, which `thelook run` turns into exit status 75, as run_job.sh does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from thelook_ecommerce_analysis.config import (
    CREDENTIAL_KEYS,
    URL_ENVIRONMENT_VARIABLES,
    database_url,
    project_root,
)
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.hooks import RunInProgressError

logger = logging.getLogger(__name__)

DEFAULT_ENV = "local"
SPARK_ENV = "spark"
"""conf/spark/: the same nodes on Apache Spark (docs/scale-out.md)."""
RUN_IN_PROGRESS_EXIT_STATUS = 75  # EX_TEMPFAIL, "try again later": what run_job.sh and cron wrappers use
# Where DuckDB and PostgreSQL start quoting the SQL they were given: not for the person reading the error.
_SQL_FRAGMENT_MARKER = "\nLINE "


@contextmanager
def _inside(directory: Path) -> Iterator[None]:
    """Kedro resolves the catalog's relative paths against the working directory."""
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


@contextmanager
def _project_logging_config(root: Path) -> Iterator[None]:
    """Kedro reads KEDRO_LOGGING_CONFIG once, when kedro.framework.project is first imported. Point it
    at the project's conf/logging.yml (unless the user chose another) for that import only: left set,
    it would outlive the project, reaching later runs of other projects and every child process."""
    chosen = os.environ.get("KEDRO_LOGGING_CONFIG")
    os.environ["KEDRO_LOGGING_CONFIG"] = chosen or str(root / "conf" / "logging.yml")
    try:
        yield
    finally:
        if chosen is None:
            del os.environ["KEDRO_LOGGING_CONFIG"]


def root_cause(error: BaseException) -> str:
    """The most specific message in an exception chain: a ThelookError if there is one, else the
    innermost cause, as one line."""
    chain = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    chosen = next((item for item in chain if isinstance(item, ThelookError)), chain[-1])
    message = " ".join(str(chosen).split(_SQL_FRAGMENT_MARKER)[0].split()) or type(chosen).__name__
    return message if isinstance(chosen, ThelookError) else f"{type(chosen).__name__}: {message}"


@contextmanager
def local_credentials_for(env: str | None) -> Iterator[None]:
    """Kedro reads conf/local/ only in the local environment; another one (spark) still reaches the
    database `thelook db start` wrote into conf/local/credentials.yml, through the URL variables that
    conf/base/credentials.yml reads. A variable the user set wins."""
    given: dict[str, str] = {}
    if env not in (None, DEFAULT_ENV):
        for role in CREDENTIAL_KEYS:
            variable = URL_ENVIRONMENT_VARIABLES[role]
            if variable in os.environ:
                continue
            try:
                given[variable] = database_url(role)
            except ThelookError:
                continue
    os.environ.update(given)
    try:
        yield
    finally:
        for variable in given:
            os.environ.pop(variable, None)


def run_pipeline(
    pipeline_name: str | None = None, env: str | None = None, *, allow_empty_input: bool = False
) -> None:
    """Run one pipeline (default: all of them) of the project in a fresh KedroSession.

    `allow_empty_input` accepts an input file without rows for a table that already holds rows (the
    runtime parameter of the same name; refused by default, as an empty export is usually a broken one).
    """
    root = project_root()
    (root / "logs").mkdir(exist_ok=True)
    with _inside(root):
        # Imported here, inside the project: Kedro configures logging (relative log paths) on import.
        with _project_logging_config(root):
            from kedro.framework.project import configure_project
        from kedro.framework.session import KedroSession
        from kedro.runner import SequentialRunner

        # The package is installed, so the project needs no src/ on sys.path (bootstrap_project's job).
        configure_project(__package__)
        try:
            runtime_params = {"allow_empty_input": allow_empty_input}
            with (
                local_credentials_for(env),
                KedroSession.create(project_path=root, env=env, runtime_params=runtime_params) as session,
            ):
                session.run(pipeline_names=[pipeline_name or "__default__"], runner=SequentialRunner())
        except RunInProgressError:
            raise
        except Exception as error:
            reason = root_cause(error)
            logger.error("run failed: %s", reason)
            raise ThelookError(f"run failed: {reason}") from error
