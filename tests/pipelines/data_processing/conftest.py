"""What the data_processing end-to-end modules share: two as-of snapshots of one generated timeline, sized
by the requesting module's USERS, and a fresh project over the later one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import make_project, project_home
from thelook_ecommerce_analysis.synth import generate

SEED = 11
EARLIER, LATER = date(2025, 6, 30), date(2025, 9, 30)


@pytest.fixture(scope="module")
def snapshots(request: pytest.FixtureRequest, tmp_path_factory) -> dict[str, Path]:
    """The timeline as of EARLIER and as of LATER, with `USERS` of the module that asks."""
    base = tmp_path_factory.mktemp("snapshots")
    for name, as_of in (("earlier", EARLIER), ("later", LATER)):
        generate(base / name, users=request.module.USERS, seed=SEED, as_of=as_of, progress=False)
    return {"earlier": base / "earlier", "later": base / "later"}


@pytest.fixture
def project(snapshots: dict[str, Path]) -> Iterator[Path]:
    root = make_project(snapshots["later"])
    with project_home(root):
        yield root
    shutil.rmtree(root, ignore_errors=True)
