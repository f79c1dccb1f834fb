"""The shell scripts: they parse, shellcheck finds nothing, and the decisions that need no database
(which mode, refusing to delete data unasked) behave as documented."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import SHELL_SCRIPTS, run_script, tool

SCRIPT_IDS = [str(path.relative_to(REPO_ROOT)) for path in SHELL_SCRIPTS]


def test_the_three_entry_scripts_and_the_container_scripts_are_checked() -> None:
    assert {
        "start.sh",
        "run_job.sh",
        "down.sh",
        "docker/postgres/10-init.sh",
        "docker/ollama/entrypoint.sh",
    } <= set(SCRIPT_IDS)


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=SCRIPT_IDS)
def test_script_parses(script: Path) -> None:
    result = subprocess.run(["bash", "-n", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=SCRIPT_IDS)
def test_shellcheck_finds_nothing(script: Path) -> None:
    result = subprocess.run(
        [tool("shellcheck"), "--external-sources", script.relative_to(REPO_ROOT)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", ["start.sh", "run_job.sh", "down.sh"])
def test_entry_scripts_are_executable_and_strict(script: str) -> None:
    path = REPO_ROOT / script
    assert path.stat().st_mode & 0o111
    assert "set -euo pipefail" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", ["start.sh", "down.sh"])
def test_an_unknown_mode_is_one_clear_error(script: str) -> None:
    result = run_script(script, env={"THELOOK_MODE": "kubernetes"}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"{script}: error: THELOOK_MODE=kubernetes is neither docker nor embedded "
        "(or leave it unset to detect)"
    )


def test_down_volumes_never_deletes_without_asking(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster"
    cluster.mkdir()
    (cluster / "PG_VERSION").write_text("18\n")
    result = run_script(
        "down.sh", "--volumes", env={"THELOOK_MODE": "embedded", "THELOOK_PG_DATA": str(cluster)}, timeout=60
    )
    assert result.returncode == 1
    assert "down.sh: mode: embedded (THELOOK_MODE=embedded)" in result.stderr
    assert "pass --yes" in result.stderr.strip().splitlines()[-1]
    assert (cluster / "PG_VERSION").exists()
