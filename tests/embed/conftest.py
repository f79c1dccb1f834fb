"""The real embedding model, loaded once for the whole test session (it is cached per process anyway;
the fixture makes the cost visible in one place and lets tests say that they need it)."""

from __future__ import annotations

import pytest

from thelook_ecommerce_analysis.embed import load_model


@pytest.fixture(scope="session")
def embedding_model():
    return load_model()
