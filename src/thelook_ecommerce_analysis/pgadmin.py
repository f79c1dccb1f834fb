"""`thelook pgadmin`: pgAdmin 4 without Docker, on 127.0.0.1:5050, with the thelook database registered.

pgAdmin comes from PyPI (`pgadmin4`), whose dependencies are pinned exactly and clash with the project's
(Flask, SQLAlchemy, psycopg...), so it lives in a virtual environment of its own, `.venv-pgadmin`, made by
`make pgadmin` from requirements-pgadmin.lock (hash-checked). Everything pgAdmin keeps (its settings
database, sessions, logs, file storage) goes into one folder, data/pgadmin, never the home folder:
pgAdmin reads `config_local.py` from its import path, and this module writes one there on every start.

On first start it creates pgAdmin's login (an email and a generated password, printed once and kept in
data/pgadmin/login.yml, readable by its owner only) and registers the database from the same template the
Compose pgadmin service mounts (docker/pgadmin/servers.json): the read-only role first, the owner role
second. Passwords never enter pgAdmin's database: a pgpass file in the user's pgAdmin storage folder,
rewritten on every start from the current credentials, lets it connect without asking.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from thelook_ecommerce_analysis.config import (
    OWNER_ROLE,
    READER_ROLE,
    URL_ENVIRONMENT_VARIABLES,
    database_url,
    paths,
    project_root,
)
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.processes import require_free_port, run_server

DEFAULT_HOST = "127.0.0.1"
VENV_NAME = ".venv-pgadmin"
SERVERS_TEMPLATE = Path("docker") / "pgadmin" / "servers.json"
LOGIN_EMAIL = "admin@thelook.example"  # a reserved domain: pgAdmin wants an email, nothing is ever sent
PASSFILE = "/pgpass"  # in server mode pgAdmin resolves it inside the user's storage folder
# Which role's URL fills each template entry, by the role name the template was written with.
ROLE_OF_TEMPLATE_USER = {READER_ROLE: "reader", OWNER_ROLE: "owner"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Login:
    email: str
    password: str


@dataclass(frozen=True)
class PgAdminFiles:
    """Where one pgAdmin instance keeps everything (config.ProjectPaths.pgadmin_data)."""

    root: Path

    @property
    def config_local(self) -> Path:
        return self.root / "config_local.py"

    @property
    def settings_db(self) -> Path:
        return self.root / "pgadmin4.db"

    @property
    def log(self) -> Path:
        return self.root / "pgadmin4.log"

    @property
    def console_log(self) -> Path:
        """What pgAdmin prints (its start banner, Werkzeug's warnings), kept out of the terminal."""
        return self.root / "console.log"

    @property
    def sessions(self) -> Path:
        return self.root / "sessions"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def login_file(self) -> Path:
        return self.root / "login.yml"

    @property
    def registered_servers(self) -> Path:
        """The servers.json last loaded into pgAdmin: a different rendering means the database moved."""
        return self.root / "servers.json"

    def user_storage(self, email: str) -> Path:
        """pgAdmin's storage folder for `email`, named by pgAdmin's own rule (paths.preprocess_username)."""
        name = email.replace("@", "_").replace("/", "slash").replace("\\", "slash")
        if not name or name[0].isdigit():
            name = f"pga_user_{name}"
        return self.storage / name

    def pgpass(self, email: str) -> Path:
        return self.user_storage(email) / PASSFILE.lstrip("/")


@dataclass(frozen=True)
class Role:
    """One role's connection, from its URL."""

    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Role:
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            database=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


def pgadmin_files() -> PgAdminFiles:
    return PgAdminFiles(paths().pgadmin_data)


def venv_bin(project: Path) -> Path:
    """The pgAdmin virtual environment's scripts; one clear line when `make pgadmin` has not made it."""
    bin_dir = project / VENV_NAME / "bin"
    for script in ("pgadmin4", "pgadmin4-cli"):
        if not (bin_dir / script).is_file():
            raise ThelookError(
                f"pgAdmin is not installed: {bin_dir / script} is missing; run `make pgadmin` (it installs "
                f"the pinned pgadmin4 into {project / VENV_NAME}, apart from the project's packages)"
            )
    return bin_dir


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT: set it anyway
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def config_local_text(files: PgAdminFiles, host: str, port: int) -> str:
    """pgAdmin's config_local.py: server mode on host:port, every file under `files.root`, and nothing
    that reaches out of this machine (upgrade check, Gravatar, LLM features, server discovery)."""
    settings = {
        "SERVER_MODE": True,
        "DEFAULT_SERVER": host,
        "DEFAULT_SERVER_PORT": port,
        "DATA_DIR": str(files.root),
        "LOG_FILE": str(files.log),
        "SQLITE_PATH": str(files.settings_db),
        "SESSION_DB_PATH": str(files.sessions),
        "STORAGE_DIR": str(files.storage),
        "AZURE_CREDENTIAL_CACHE_DIR": str(files.root / "azurecredentialcache"),
        "KERBEROS_CCACHE_DIR": str(files.root / "krbccache"),
        "UPGRADE_CHECK_ENABLED": False,
        "SHOW_GRAVATAR_IMAGE": False,
        "LLM_ENABLED": False,
        "AUTO_DISCOVER_SERVERS": False,
    }
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    header = "# Written by `thelook pgadmin` on every start (edits are overwritten).\n"
    return header + "\n".join(lines) + "\n"


def render_servers(template: dict, roles: dict[str, Role], passfile: str | None) -> dict:
    """The template's servers pointed at `roles` (by the role each entry was written for): host, port,
    user, the one database shown, and `passfile` in the connection parameters when given. Names, groups
    and comments stay the template's, so the Compose service and `thelook pgadmin` show the same servers.

    The maintenance database (pgAdmin's first connection) stays the template's `postgres`: on connecting,
    pgAdmin reads pg_stat_gssapi and pg_replication_slots, which sql/init.sql closes to the read-only role
    in the project's database, and a refused read there fails the whole connection in pgAdmin 9."""
    rendered = json.loads(json.dumps(template))
    for entry in rendered["Servers"].values():
        role = roles[ROLE_OF_TEMPLATE_USER[entry["Username"]]]
        entry.update(
            Host=role.host,
            Port=role.port,
            Username=role.user,
            DBRestriction=role.database,
        )
        if passfile:
            entry.setdefault("ConnectionParameters", {})["passfile"] = passfile
    return rendered


def _pgpass_field(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace(":", "\\:")


def pgpass_text(roles: dict[str, Role]) -> str:
    """A libpq password file with one line per role (`:` and `\\` escaped as libpq wants), for any
    database of its server: a role's password belongs to the cluster, and pgAdmin first connects to the
    template's maintenance database, not the project's."""
    lines = []
    for role in roles.values():
        host, port, user, password = map(_pgpass_field, (role.host, role.port, role.user, role.password))
        lines.append(f"{host}:{port}:*:{user}:{password}")
    return "\n".join(lines) + "\n"


def read_login(files: PgAdminFiles) -> Login | None:
    import yaml  # not at the top: `thelook --help` imports this module for its default port

    if not files.login_file.exists():
        return None
    document = yaml.safe_load(files.login_file.read_text(encoding="utf-8")) or {}
    return Login(email=str(document["email"]), password=str(document["password"]))


def ensure_login(files: PgAdminFiles) -> tuple[Login, bool]:
    """The instance's login, created (and saved 0600 before pgAdmin sees it) when there is none yet;
    True when created now. A settings database whose login file is gone cannot be logged into: say so."""
    if login := read_login(files):
        return login, False
    if files.settings_db.exists():
        raise ThelookError(
            f"{files.settings_db} exists but {files.login_file} is gone, so its login is unknown; "
            f"remove {files.root} to start pgAdmin afresh (its saved settings go with it)"
        )
    import yaml

    login = Login(email=LOGIN_EMAIL, password=secrets.token_urlsafe(18))
    write_private(files.login_file, yaml.safe_dump({"email": login.email, "password": login.password}))
    return login, True


def pgadmin_environment(files: PgAdminFiles) -> dict[str, str]:
    """The environment for pgAdmin's processes: config_local.py found on the import path, no bytecode
    written into the data folder, and thelook's database URLs (with their passwords) left out."""
    environment = {
        name: value for name, value in os.environ.items() if name not in URL_ENVIRONMENT_VARIABLES.values()
    }
    environment.update(PYTHONPATH=str(files.root), PYTHONDONTWRITEBYTECODE="1")
    return environment


@dataclass(frozen=True)
class PgAdminInstance:
    """One installed pgAdmin (its scripts) with one data folder (its files) and the environment for both."""

    bin_dir: Path
    files: PgAdminFiles
    env: dict[str, str]

    @property
    def server_command(self) -> list[str]:
        return [str(self.bin_dir / "pgadmin4")]

    def cli(self, arguments: list[str], success: str, extra_env: dict[str, str] | None = None) -> None:
        """Run `pgadmin4-cli ARGUMENTS`; its chatter goes to the console log, a failure is one line.

        Some of its commands print an error and still exit 0 (load-servers catches every exception), so
        success is the exit status AND the line `success` that the command prints when it worked."""
        result = subprocess.run(
            [str(self.bin_dir / "pgadmin4-cli"), *arguments],
            cwd=self.files.root,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        output = (result.stdout + result.stderr).strip()
        with self.files.console_log.open("a", encoding="utf-8") as log:
            log.write(f"--- pgadmin4-cli {arguments[0]} (exit status {result.returncode})\n{output}\n")
        if result.returncode != 0 or success not in output:
            last = output.splitlines()[-1] if output else "no output"
            raise ThelookError(
                f"pgadmin4-cli {arguments[0]} failed ({last}); its whole output is in "
                f"{self.files.console_log}"
            )


def create_settings(pgadmin: PgAdminInstance, login: Login) -> None:
    """pgAdmin's settings database, with `login` as its first user (pgAdmin reads it from PGADMIN_SETUP_*).
    A half-made one is removed: pgAdmin would take it for an old database and ask for a user on stdin."""
    initial_user = {"PGADMIN_SETUP_EMAIL": login.email, "PGADMIN_SETUP_PASSWORD": login.password}
    try:
        pgadmin.cli(["setup-db"], success="Application Initialisation", extra_env=initial_user)
    except ThelookError:
        pgadmin.files.settings_db.unlink(missing_ok=True)
        raise


def register_servers(pgadmin: PgAdminInstance, login: Login, servers: dict, say: Say) -> None:
    """Load `servers` into pgAdmin unless that very list is what it holds already. When the database moved
    (another port, database or role), the previous list is saved beside it and replaced."""
    files = pgadmin.files
    previous = None
    if files.registered_servers.exists() and files.settings_db.exists():
        previous = json.loads(files.registered_servers.read_text(encoding="utf-8"))
    if previous == servers:
        return
    pending = files.root / "servers.pending.json"
    pending.write_text(json.dumps(servers, indent=2) + "\n", encoding="utf-8")
    load = ["load-servers", str(pending), "--user", login.email]
    if previous is not None:
        backup = files.root / f"servers-before-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        pgadmin.cli(["dump-servers", str(backup), "--user", login.email], success="dumped to")
        say(f"the database moved: re-registering its servers (the previous list is saved in {backup})")
        load.append("--replace")
    pgadmin.cli(load, success="Added ")
    pending.replace(files.registered_servers)
    names = " and ".join(entry["Name"] for entry in servers["Servers"].values())
    first = next(iter(servers["Servers"].values()))
    say(f"registered {names}: database {first['DBRestriction']} on {first['Host']}:{first['Port']}")


def prepare(port: int, say: Say, host: str = DEFAULT_HOST) -> PgAdminInstance:
    """Everything before pgAdmin starts: checks (installed, port free, database reachable), its files,
    its login (said once, when created) and the registered servers."""
    project = project_root()
    bin_dir = venv_bin(project)
    require_free_port(host, port)
    roles = {role: Role.from_url(database_url(role)) for role in ("reader", "owner")}
    from thelook_ecommerce_analysis.db.admin import connect  # psycopg: imported only when it is needed

    connect(database_url("reader")).close()  # one clear line now, not a red box in pgAdmin later
    files = pgadmin_files()
    files.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    files.console_log.write_text("", encoding="utf-8")  # this start's output only (pgAdmin's log rotates)
    files.config_local.write_text(config_local_text(files, host, port), encoding="utf-8")
    first_start = not files.settings_db.exists()
    if first_start:
        say(f"first start: creating pgAdmin's settings in {files.root} (about half a minute)")
    login, created = ensure_login(files)
    if created:
        say(f"pgAdmin login, shown this once (kept in {files.login_file}, readable by you only):")
        say(f"  email:    {login.email}")
        say(f"  password: {login.password}")
    else:
        say(f"log in as {login.email} (the password is in {files.login_file})")
    pgadmin = PgAdminInstance(bin_dir, files, pgadmin_environment(files))
    if first_start:
        create_settings(pgadmin, login)
    template = json.loads((project / SERVERS_TEMPLATE).read_text(encoding="utf-8"))
    register_servers(pgadmin, login, render_servers(template, roles, PASSFILE), say)
    write_private(files.pgpass(login.email), pgpass_text(roles))
    return pgadmin


def serve(port: int, say: Say, host: str = DEFAULT_HOST) -> None:
    """Run pgAdmin on host:port until Ctrl-C or SIGTERM; its whole process group is gone on return."""
    pgadmin = prepare(port, say, host)
    url = f"http://{host}:{port}"
    say(f"starting pgAdmin 4 on {url} (its output goes to {pgadmin.files.console_log})")

    def say_ready(seconds: float) -> None:
        say(f"pgAdmin is serving at {url} (ready after {seconds:.1f} s); Ctrl-C stops it")

    with pgadmin.files.console_log.open("a", encoding="utf-8") as console:
        ended = run_server(
            pgadmin.server_command,
            cwd=pgadmin.files.root,
            env=pgadmin.env,
            host=host,
            port=port,
            on_ready=say_ready,
            output=console,
        )
    if not ended.stopped:
        raise ThelookError(
            f"pgAdmin exited by itself (status {ended.status}); see {pgadmin.files.console_log} "
            f"and {pgadmin.files.log}"
        )
    say("pgAdmin stopped")
