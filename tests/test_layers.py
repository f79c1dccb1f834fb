"""Rooms that keep to their floor, read from the source with `ast` (nothing is imported):

- the ground floor (db/, synth/, embed/, llm/, rag/) keeps no CLI or UI code: it imports neither click nor
  streamlit, nor the packages built on them (cli/, app/);
- each pipeline (pipelines/<name>/) stands apart: it imports no other pipeline.

Every import counts, at the top of a module or inside a function, absolute or relative.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = "thelook_ecommerce_analysis"
SOURCE_ROOT = REPO_ROOT / "src" / PACKAGE
GROUND_FLOOR = ("db", "synth", "embed", "llm", "rag")
UI_LIBRARIES = ("click", "streamlit")
UI_PACKAGES = (f"{PACKAGE}.cli", f"{PACKAGE}.app")
PIPELINES = f"{PACKAGE}.pipelines"


def module_name(relative_path: str) -> str:
    """`rag/guard.py` -> `thelook_ecommerce_analysis.rag.guard`; a package's __init__.py is the package."""
    parts = [PACKAGE, *Path(relative_path).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(relative_path: str, source: str) -> list[tuple[str, int]]:
    """What `source` (the file at `relative_path`) imports, with the line of each import: absolute dotted
    names, relative imports resolved; `from X import a` gives X.a (a may be a submodule: `from pkg import
    cli`), `from X import *` gives X."""
    module = module_name(relative_path)
    package = module if relative_path.endswith("__init__.py") else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source, filename=relative_path)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            names = [origin if alias.name == "*" else f"{origin}.{alias.name}" for alias in node.names]
            found += [(name, node.lineno) for name in names]
    return sorted(set(found), key=lambda name_line: (name_line[1], name_line[0]))


def within(name: str, package: str) -> bool:
    """Whether module `name` is `package` or inside it (`...app_x` is not inside `...app`)."""
    return name == package or name.startswith(f"{package}.")


def layer_violations(relative_path: str, source: str) -> list[str]:
    """One line per import of the file at `relative_path` (under src/thelook_ecommerce_analysis) that
    breaks a floor rule, naming the module and what it imports."""
    module = module_name(relative_path)
    parts = Path(relative_path).parts
    imports = imported_names(relative_path, source)
    problems = []
    if parts[0] in GROUND_FLOOR:
        for name, line in imports:
            if name.split(".")[0] in UI_LIBRARIES or any(within(name, ui) for ui in UI_PACKAGES):
                problems.append(
                    f"{module} ({relative_path}:{line}) imports {name}: the ground floor "
                    f"({', '.join(f'{floor}/' for floor in GROUND_FLOOR)}) keeps no CLI or UI code"
                )
    if parts[0] == "pipelines" and len(parts) >= 3:  # pipelines/<name>/<module>.py
        own = f"{PIPELINES}.{parts[1]}"
        for name, line in imports:
            if within(name, PIPELINES) and name != PIPELINES and not within(name, own):
                problems.append(
                    f"{module} ({relative_path}:{line}) imports {name}: "
                    f"pipelines/{parts[1]}/ must not import another pipeline"
                )
    return problems


def source_files() -> list[str]:
    return sorted(path.relative_to(SOURCE_ROOT).as_posix() for path in SOURCE_ROOT.rglob("*.py"))


def violations_of(rule: str) -> list[str]:
    """Every violation in the project's source whose message carries `rule`."""
    return [
        problem
        for relative_path in source_files()
        for problem in layer_violations(relative_path, (SOURCE_ROOT / relative_path).read_text())
        if rule in problem
    ]


def test_the_walk_sees_every_floor() -> None:
    """A moved source tree must not turn the checks below into checks of nothing."""
    files = source_files()
    for floor in (*GROUND_FLOOR, "pipelines", "cli", "app"):
        assert any(path.startswith(f"{floor}/") for path in files), f"no modules found under {floor}/"


def test_the_ground_floor_keeps_no_cli_or_ui_code() -> None:
    problems = violations_of("keeps no CLI or UI code")
    assert not problems, "\n".join(problems)


def test_each_pipeline_stands_apart() -> None:
    problems = violations_of("must not import another pipeline")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("relative_path", "source", "offending"),
    [
        ("rag/example.py", "import click\n", "click"),
        ("llm/example.py", "def serve():\n    from streamlit import session_state\n",
         "streamlit.session_state"),
        ("db/__init__.py", "from click.testing import CliRunner\n", "click.testing.CliRunner"),
        ("synth/example.py", "from thelook_ecommerce_analysis import cli\n",
         "thelook_ecommerce_analysis.cli"),
        ("embed/example.py", "from ..app.charts import bar\n", "thelook_ecommerce_analysis.app.charts.bar"),
        ("pipelines/embeddings/nodes.py", "from ..metrics import glossary\n",
         "thelook_ecommerce_analysis.pipelines.metrics.glossary"),
        ("pipelines/embeddings/pipeline.py",
         "from thelook_ecommerce_analysis.pipelines.metrics.glossary import load\n",
         "thelook_ecommerce_analysis.pipelines.metrics.glossary.load"),
    ],
)  # fmt: skip
def test_a_breach_is_reported_with_the_module_and_the_import(
    relative_path: str, source: str, offending: str
) -> None:
    problems = layer_violations(relative_path, source)
    assert problems, f"{relative_path}: {source!r} went unreported"
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{module_name(relative_path)} ({relative_path}:")
    assert f" imports {offending}: " in problems[0]


@pytest.mark.parametrize(
    ("relative_path", "source"),
    [
        ("rag/example.py", "from thelook_ecommerce_analysis.rag.guard import guard_sql\nimport sqlglot\n"),
        ("rag/example.py", "from thelook_ecommerce_analysis import app_settings\n"),  # not the app package
        ("cli/example.py", "import click\nfrom thelook_ecommerce_analysis.rag import engine\n"),
        ("app/example.py", "import streamlit as st\n"),
        ("pipelines/embeddings/pipeline.py", "from . import nodes\nfrom .nodes import embed\n"),
        ("pipelines/embeddings/nodes.py", "from thelook_ecommerce_analysis.pipelines.embeddings import x\n"),
        ("pipelines/__init__.py", "from .metrics import pipeline\n"),  # the registry of pipelines
    ],
)
def test_what_keeps_to_its_floor_is_not_reported(relative_path: str, source: str) -> None:
    assert layer_violations(relative_path, source) == []
