"""The question engine's background build: started at once, waited for only when needed, its failure one
line. The build functions here are plain callables; the real build runs in the app tests (test_pages.py)."""

from __future__ import annotations

import threading

import pytest

from thelook_ecommerce_analysis.app.warmup import EngineWarmup
from thelook_ecommerce_analysis.errors import ThelookError


def test_the_build_runs_in_the_background_and_engine_waits_for_it() -> None:
    release, built = threading.Event(), object()

    def build():
        release.wait(timeout=10)
        return built

    warmup = EngineWarmup(build)
    state = warmup.state()
    assert not state.ready and state.error is None
    assert state.line.startswith("warming up (")
    release.set()
    assert warmup.engine() is built
    assert warmup.engine() is built, "built once"
    assert warmup.state().ready
    assert warmup.state().line.startswith("ready (built in ")


def test_a_failed_build_is_one_line_in_the_state_and_when_asked() -> None:
    def build():
        raise ThelookError("database not reachable at 127.0.0.1:1")

    warmup = EngineWarmup(build)
    with pytest.raises(ThelookError, match=r"database not reachable at 127\.0\.0\.1:1"):
        warmup.engine()
    assert warmup.state().line == "could not start: database not reachable at 127.0.0.1:1"


def test_an_unexpected_exception_is_still_one_line() -> None:
    def build():
        raise KeyError("raw_data")

    with pytest.raises(ThelookError, match="KeyError: 'raw_data'"):
        EngineWarmup(build).engine()
