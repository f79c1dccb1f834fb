"""Settings from the environment: one class lists every variable, pydantic-settings parses them, and a
malformed value is one line naming the variable, its value and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from thelook_ecommerce_analysis.config import (
    DEFAULT_PG_PORT,
    URL_ENVIRONMENT_VARIABLES,
    Environment,
    environment,
    pg_port,
    variable,
)
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.engine import EngineSettings
from thelook_ecommerce_analysis.rag.sentence import rows_may_reach_the_model


def test_values_are_typed_and_empty_means_unset() -> None:
    settings = environment(
        {
            "THELOOK_PG_PORT": "6543",
            "THELOOK_LLM_SEES_ROWS": "off",
            "THELOOK_PG_DATA": "/srv/pg",
            "DATABASE_URL": "",
        }
    )
    assert settings.pg_port == 6543
    assert settings.llm_sees_rows is False
    assert settings.pg_data == Path("/srv/pg")
    assert settings.owner_url is None


def test_a_given_mapping_ignores_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THELOOK_CANDIDATES", "4")
    assert environment().candidates == 4
    assert environment({}).candidates is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THELOOK_PG_PORT", "fifty", "THELOOK_PG_PORT='fifty' is not a whole number: fix or unset it"),
        ("THELOOK_PG_PORT", "70000", "THELOOK_PG_PORT='70000' is out of range: fix or unset it"),
        ("THELOOK_CANDIDATES", "0", "THELOOK_CANDIDATES='0' must be positive: fix or unset it"),
        ("THELOOK_LLM_TIMEOUT", "soon", "THELOOK_LLM_TIMEOUT='soon' is not a number: fix or unset it"),
        ("THELOOK_SUMMARIES_LLM", "maybe", "THELOOK_SUMMARIES_LLM='maybe' is not on or off"),
    ],
)
def test_a_malformed_value_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ThelookError) as raised:
        environment()
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_the_modules_read_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THELOOK_PG_PORT", raising=False)
    assert pg_port() == DEFAULT_PG_PORT
    monkeypatch.setenv("THELOOK_PG_PORT", "6001")
    monkeypatch.setenv("THELOOK_CANDIDATES", "3")
    monkeypatch.setenv("THELOOK_LLM_SEES_ROWS", "0")
    assert pg_port() == 6001
    assert EngineSettings.from_environment().candidates == 3
    assert EngineSettings.from_environment(candidates=1).candidates == 1
    assert rows_may_reach_the_model() is False


def test_every_variable_is_named_once() -> None:
    names = [variable(field) for field in Environment.model_fields]
    assert len(names) == len(set(names))
    assert URL_ENVIRONMENT_VARIABLES == {
        "admin": "THELOOK_ADMIN_URL",
        "owner": "DATABASE_URL",
        "reader": "THELOOK_READER_URL",
    }


def test_tool_links_are_those_whose_url_is_set() -> None:
    from thelook_ecommerce_analysis.app.status import tool_links

    assert tool_links({"THELOOK_KEDRO_VIZ_URL": "http://viz:4141", "THELOOK_PGADMIN_URL": ""}) == {
        "Kedro-Viz": "http://viz:4141"
    }
