"""The question engine, built in the background from the moment the app starts.

Building it reads the schema catalog and the categorical values from the database, loads the embedding
model and starts (or finds) the LLM: seconds that the first question should not have to wait for. The
app starts the build when its first page renders, shows its state in the status panel, and a question
waits only for what is left of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.engine import QuestionEngine


@dataclass(frozen=True)
class WarmupState:
    ready: bool
    seconds: float
    error: str | None = None

    @property
    def line(self) -> str:
        """One line for the status panel."""
        if self.error:
            return f"could not start: {self.error}"
        if self.ready:
            return f"ready (built in {self.seconds:.1f} s)"
        return f"warming up ({self.seconds:.0f} s): schema catalog, embedding model, LLM"


class EngineWarmup:
    """Starts `build` on a background thread at once; `engine()` waits for it and returns its result."""

    def __init__(self, build: Callable[[], QuestionEngine]) -> None:
        self._started = time.perf_counter()
        self._finished: float | None = None
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thelook-engine-warmup")
        self._future: Future[QuestionEngine] = executor.submit(self._timed, build)
        executor.shutdown(wait=False)

    def _timed(self, build: Callable[[], QuestionEngine]) -> QuestionEngine:
        try:
            return build()
        finally:
            self._finished = time.perf_counter()

    def state(self) -> WarmupState:
        end = self._finished if self._finished is not None else time.perf_counter()
        if not self._future.done():
            return WarmupState(ready=False, seconds=end - self._started)
        error = self._future.exception()
        return WarmupState(ready=error is None, seconds=end - self._started, error=error and str(error))

    def engine(self) -> QuestionEngine:
        """The engine, waiting for the build if it is still going; its error if it failed, as one line."""
        try:
            return self._future.result()
        except ThelookError:
            raise
        except Exception as error:  # a failed build must reach the page as one line, whatever raised
            raise ThelookError(f"{type(error).__name__}: {error}") from error
