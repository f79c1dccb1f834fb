"""Running the Kedro job from Python: what `thelook run`, run_job.sh and the tests call.

A failed run raises ThelookError with the root cause in one line (the last line run_job.sh logs), not
Kedro's wrapped chain of exceptions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.errors import ThelookError

logger = logging.getLogger(__name__)


@contextmanager
def _inside(directory: Path) -> Iterator[None]:
    """Kedro resolves the catalog's relative paths against the working directory."""
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def root_cause(error: BaseException) -> str:
    """The most specific message in an exception chain: a ThelookError if there is one, else the
    innermost cause, as one line."""
    chain = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    chosen = next((item for item in chain if isinstance(item, ThelookError)), chain[-1])
    message = " ".join(str(chosen).split()) or type(chosen).__name__
    return message if isinstance(chosen, ThelookError) else f"{type(chosen).__name__}: {message}"


def run_pipeline(pipeline_name: str | None = None, env: str | None = None) -> None:
    """Run one pipeline (default: all of them) of the project in a fresh KedroSession."""
    root = project_root()
    os.environ.setdefault("KEDRO_LOGGING_CONFIG", str(root / "conf" / "logging.yml"))
    (root / "logs").mkdir(exist_ok=True)
    with _inside(root):
        # Imported here, inside the project: Kedro configures logging (relative log paths) on import.
        from kedro.framework.project import configure_project
        from kedro.framework.session import KedroSession
        from kedro.runner import SequentialRunner

        # The package is installed, so the project needs no src/ on sys.path (bootstrap_project's job).
        configure_project(__package__)
        try:
            with KedroSession.create(project_path=root, env=env) as session:
                session.run(pipeline_names=[pipeline_name or "__default__"], runner=SequentialRunner())
        except Exception as error:
            reason = root_cause(error)
            logger.error("run failed: %s", reason)
            raise ThelookError(f"run failed: {reason}") from error
