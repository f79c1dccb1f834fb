"""docker-compose.yml, checked without a Docker engine: the Compose specification, memory limits that fit a
small host, healthchecks, profiles, least privilege for the app, and a .env.example that covers it."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import read_text, tool

COMPOSE = yaml.safe_load(read_text("docker-compose.yml"))
SERVICES: dict[str, dict] = COMPOSE["services"]
EPHEMERAL = {"kedro-worker"}  # runs the job and exits: nothing to watch
SMALL_HOST_MIB = 8 * 1024
UNITS_MIB = {"k": 1 / 1024, "m": 1, "g": 1024}
# `$$` is an escaped dollar; `${NAME...}` and `$NAME` are interpolated from the environment or .env.
INTERPOLATION = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def memory_limit_mib(service: dict) -> float | None:
    limit = service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
    limit = limit or service.get("mem_limit")
    if limit is None:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg])i?b?", str(limit).strip().lower())
    assert match, f"unreadable memory limit {limit!r}"
    return float(match[1]) * UNITS_MIB[match[2]]


def interpolated_variables(text: str) -> set[str]:
    return {match[1] or match[2] for match in INTERPOLATION.finditer(text) if match[1] or match[2]}


def env_example_variables() -> set[str]:
    return {
        line.split("=", 1)[0].strip()
        for line in read_text(".env.example").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


@pytest.mark.parametrize("compose_file", ["docker-compose.yml", "docker-compose.gpu.yml"])
def test_compose_file_matches_the_compose_specification(compose_file: str) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", REPO_ROOT / compose_file],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_expected_services_exist() -> None:
    assert set(SERVICES) == {"postgres", "pgadmin", "ollama", "app", "kedro-worker", "kedro-viz"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_memory_limit(name: str) -> None:
    assert memory_limit_mib(SERVICES[name]), f"{name} has no memory limit"


def test_memory_limits_add_up_to_a_small_host() -> None:
    limits = {name: memory_limit_mib(service) for name, service in SERVICES.items()}
    total = sum(limits.values())
    assert total <= SMALL_HOST_MIB, f"{total:.0f} MiB > {SMALL_HOST_MIB} MiB: {limits}"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - EPHEMERAL))
def test_long_running_services_have_a_healthcheck(name: str) -> None:
    healthcheck = SERVICES[name].get("healthcheck", {})
    assert healthcheck.get("test"), f"{name} keeps running but has no healthcheck"
    assert not healthcheck.get("disable", False)


def test_the_etl_worker_is_ephemeral_and_runs_the_job() -> None:
    worker = SERVICES["kedro-worker"]
    assert worker["profiles"] == ["etl"]
    assert worker["restart"] == "no"
    assert worker["command"] == ["thelook", "run"]
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_kedro_viz_is_a_debug_profile_on_port_4141() -> None:
    viz = SERVICES["kedro-viz"]
    assert viz["profiles"] == ["debug"]
    assert any(str(port).endswith(":4141") for port in viz["ports"])
    assert "viz" in viz["command"]


def test_app_connects_as_the_read_only_role_only() -> None:
    environment = SERVICES["app"]["environment"]
    assert environment["THELOOK_READER_URL"].startswith("postgresql://thelook_reader:")
    assert not {"DATABASE_URL", "THELOOK_ADMIN_URL"} & set(environment)


def test_app_healthcheck_asks_streamlit() -> None:
    assert any("/_stcore/health" in part for part in SERVICES["app"]["healthcheck"]["test"])


def test_ollama_keeps_models_in_a_volume_and_unloads_after_five_minutes() -> None:
    ollama = SERVICES["ollama"]
    assert ollama["environment"]["OLLAMA_KEEP_ALIVE"] == "5m"
    assert any(volume.startswith("ollama-models:") for volume in ollama["volumes"])


def test_every_password_comes_from_the_environment() -> None:
    urls = [
        value
        for service in SERVICES.values()
        for value in (service.get("environment") or {}).values()
        if str(value).startswith("postgresql://")
    ]
    assert urls
    for url in urls:
        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert re.fullmatch(r"\$\{[A-Z_]+\}", password), f"a literal password in {url}"


def test_env_example_covers_every_variable_the_compose_files_use() -> None:
    used = interpolated_variables(read_text("docker-compose.yml") + read_text("docker-compose.gpu.yml"))
    assert {"POSTGRES_PASSWORD", "THELOOK_READER_PASSWORD", "THELOOK_LLM_MODEL"} <= used
    missing = used - env_example_variables()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_holds_no_real_secret() -> None:
    settings = dict(
        line.split("=", 1)
        for line in read_text(".env.example").splitlines()
        if "=" in line and line[0] != "#"
    )
    for name, value in settings.items():
        if "PASSWORD" in name:
            assert value == "change-me", f"{name} in .env.example must be a placeholder"
