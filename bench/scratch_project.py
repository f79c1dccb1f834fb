"""What the benchmarks that run the job share: a throwaway copy of this project and a free port for its own
embedded PostgreSQL, so that a benchmark never touches the developer's data or database."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def traversable_temp_dir(prefix: str) -> Path:
    """A temp dir the unprivileged PostgreSQL account can enter (mkdtemp makes 0700 dirs)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def project_copy(raw: Path) -> Path:
    """This project's conf, sql and pyproject.toml in a temp dir, without local credentials; `raw` (the
    generated Parquet files) moves into its data/01_raw."""
    root = traversable_temp_dir("thelook-bench-project-")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copytree(REPO_ROOT / "sql", root / "sql")
    (root / "data").mkdir()
    shutil.move(str(raw), root / "data" / "01_raw")
    return root
