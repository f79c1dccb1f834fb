"""`thelook pgadmin`: pgAdmin 4 from .venv-pgadmin (`make pgadmin`), against a test database of the session's
embedded server, driven in headless Chromium: log in, see the registered servers and the three schemas,
run a SELECT in the query tool as the read-only role; then Ctrl-C, and nothing is left running.

The servers come from the file the Compose pgadmin service mounts, so both paths show the same servers.
Measured and printed: pgAdmin's first start (settings database, login, servers, then serving).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import pytest
import yaml
from click.testing import CliRunner

from tests.app.test_browser import save_screenshot
from tests.conftest import REPO_ROOT, environment, free_port, make_project, new_database
from thelook_ecommerce_analysis.cli import main
from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.pgadmin import (
    PASSFILE,
    SERVERS_TEMPLATE,
    VENV_NAME,
    PgAdminFiles,
    Role,
    ensure_login,
    pgpass_text,
    prepare,
    render_servers,
)
from thelook_ecommerce_analysis.processes import answers

FIRST_START_TIMEOUT_S = 240
# `thelook` with SIGINT at its default, as a terminal's foreground command has it (env execs the command).
THELOOK_AS_IN_A_TERMINAL = [
    "env", "--default-signal=INT", sys.executable, "-m", "thelook_ecommerce_analysis.cli"
]  # fmt: skip
UI_TIMEOUT_MS = 90_000
SCHEMAS = ("raw_data", "metrics", "embeddings")
READ_ONLY_QUERY = (
    "SELECT current_user AS who,",
    "current_setting('default_transaction_read_only') AS read_only,",
    "count(*) AS schemas",
    "FROM pg_namespace",
    f"WHERE nspname IN {SCHEMAS}",
)
TEMPLATE = json.loads((REPO_ROOT / SERVERS_TEMPLATE).read_text(encoding="utf-8"))
COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKER_ROLES = {
    "reader": Role("postgres", 5432, "thelook", "thelook_reader", ""),
    "owner": Role("postgres", 5432, "thelook", "thelook_owner", ""),
}


def roles_of_environment() -> dict[str, Role]:
    return {role: Role.from_url(database_url(role)) for role in ("reader", "owner")}


# -- the servers both paths register -----------------------------------------------------------------


def test_the_compose_service_mounts_the_template_that_thelook_pgadmin_renders() -> None:
    volumes = COMPOSE["services"]["pgadmin"]["volumes"]
    assert f"./{SERVERS_TEMPLATE.as_posix()}:/pgadmin4/servers.json:ro" in volumes


def test_the_template_is_what_compose_needs_as_it_stands() -> None:
    # Compose mounts the file itself: rendered for the `postgres` service, it is unchanged.
    assert render_servers(TEMPLATE, DOCKER_ROLES, passfile=None) == TEMPLATE


def test_thelook_pgadmin_shows_the_same_servers_pointed_at_its_database() -> None:
    roles = {
        "reader": Role("127.0.0.1", 5433, "thelook_test", "thelook_reader", "r"),
        "owner": Role("127.0.0.1", 5433, "thelook_test", "thelook_owner", "o"),
    }
    rendered = render_servers(TEMPLATE, roles, PASSFILE)
    same = ("Name", "Group", "Comment")
    assert [[entry[key] for key in same] for entry in rendered["Servers"].values()] == [
        [entry[key] for key in same] for entry in TEMPLATE["Servers"].values()
    ]
    reader, owner = rendered["Servers"].values()  # the read-only role first: the default one
    assert (reader["Username"], owner["Username"]) == ("thelook_reader", "thelook_owner")
    for entry in (reader, owner):
        assert (entry["Host"], entry["Port"], entry["DBRestriction"]) == ("127.0.0.1", 5433, "thelook_test")
        assert entry["MaintenanceDB"] == "postgres"  # see render_servers: the first connection goes there
        assert entry["ConnectionParameters"]["passfile"] == PASSFILE
    assert "passfile" not in json.dumps(TEMPLATE)  # the committed file holds no secrets, not even a path


def test_pgpass_lets_libpq_connect_as_each_role(fresh_db: RoleUrls, tmp_path: Path) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(pgpass_text(roles_of_environment()), encoding="utf-8")
    passfile.chmod(0o600)  # libpq ignores a password file others can read
    for role in roles_of_environment().values():
        for database in (role.database, "postgres"):  # the project's, and pgAdmin's maintenance database
            with psycopg.connect(
                host=role.host, port=role.port, dbname=database, user=role.user, passfile=str(passfile)
            ) as connection:
                assert connection.execute("SELECT current_user").fetchone() == (role.user,)


def test_pgpass_escapes_what_libpq_would_split_on() -> None:
    text = pgpass_text({"reader": Role("127.0.0.1", 5433, "thelook", "thelook_reader", "a:b\\c")})
    assert text == "127.0.0.1:5433:*:thelook_reader:a\\:b\\\\c\n"


# -- the login ---------------------------------------------------------------------------------------


def test_the_login_is_made_once_and_kept_private(tmp_path: Path) -> None:
    files = PgAdminFiles(tmp_path / "pgadmin")
    login, created = ensure_login(files)
    assert created
    assert len(login.password) >= 20
    assert files.login_file.stat().st_mode & 0o777 == 0o600
    assert ensure_login(files) == (login, False)


def test_a_settings_database_without_its_login_is_one_clear_error(tmp_path: Path) -> None:
    files = PgAdminFiles(tmp_path / "pgadmin")
    ensure_login(files)
    files.settings_db.touch()
    files.login_file.unlink()
    with pytest.raises(ThelookError) as raised:
        ensure_login(files)
    assert str(raised.value) == (
        f"{files.settings_db} exists but {files.login_file} is gone, so its login is unknown; "
        f"remove {files.root} to start pgAdmin afresh (its saved settings go with it)"
    )


# -- one clear line ----------------------------------------------------------------------------------


def invoke_pgadmin(*arguments: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, ["pgadmin", *arguments], env=env)
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    return result.output.strip()


def test_a_missing_pgadmin_environment_is_one_clear_line() -> None:
    project = make_project()
    output = invoke_pgadmin("--port", str(free_port()), env={"THELOOK_HOME": str(project)})
    assert output == (
        f"error: pgAdmin is not installed: {project / VENV_NAME / 'bin' / 'pgadmin4'} is missing; run "
        f"`make pgadmin` (it installs the pinned pgadmin4 into {project / VENV_NAME}, apart from the "
        "project's packages)"
    )


def test_a_busy_port_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        output = invoke_pgadmin("--port", str(port))
    assert output == (
        f"error: port {port} on 127.0.0.1 is already in use; stop what listens there or pass --port"
    )


def test_a_database_that_does_not_answer_is_one_clear_line(tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}/thelook"
    output = invoke_pgadmin(
        "--port",
        str(free_port()),
        env={
            "THELOOK_READER_URL": f"postgresql://thelook_reader:secret@{nowhere}",
            "DATABASE_URL": f"postgresql://thelook_owner:secret@{nowhere}",
            "THELOOK_PGADMIN_DATA": str(tmp_path / "pgadmin"),
        },
    )
    assert output.startswith(f"error: cannot connect to postgresql://thelook_reader:***@{nowhere}: ")
    assert "secret" not in output
    assert not (tmp_path / "pgadmin").exists()  # checked before anything is written


# -- pgAdmin itself ----------------------------------------------------------------------------------


@dataclass
class RunningPgAdmin:
    process: subprocess.Popen
    port: int
    files: PgAdminFiles
    home: Path
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def read_output(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("pgAdmin is serving at"):
                self.ready.set()


@pytest.fixture(scope="module")
def pgadmin_server(fresh_db: RoleUrls, tmp_path_factory) -> Iterator[RunningPgAdmin]:
    """`thelook pgadmin` started for the first time on a free port, with its own data folder and HOME,
    and Ctrl-C's SIGINT at its default disposition, as in a terminal (a shell running the tests in the
    background may have it ignored, and children inherit that)."""
    assert (REPO_ROOT / VENV_NAME / "bin" / "pgadmin4").is_file(), "run `make pgadmin` first"
    base = tmp_path_factory.mktemp("pgadmin")
    home = base / "home"
    home.mkdir()
    port = free_port()
    running = RunningPgAdmin(
        process=subprocess.Popen(
            [*THELOOK_AS_IN_A_TERMINAL, "pgadmin", "--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, "THELOOK_PGADMIN_DATA": str(base / "data"), "HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ),
        port=port,
        files=PgAdminFiles(base / "data"),
        home=home,
    )
    started = time.perf_counter()
    threading.Thread(target=running.read_output, daemon=True).start()
    try:
        while not running.ready.wait(0.5):
            if running.process.poll() is not None or time.perf_counter() - started > FIRST_START_TIMEOUT_S:
                pytest.fail(f"thelook pgadmin did not serve: {running.output[-3000:]}")
        print(f"\npgAdmin first start to serving: {time.perf_counter() - started:.1f} s")
        yield running
    finally:
        if running.process.poll() is None:
            running.process.terminate()
            running.process.wait(timeout=60)


def tree_entry(page, name: str, depth: int):
    """A node of pgAdmin's object explorer, by its label and depth (server groups are depth 1)."""
    labelled = page.locator(f'.file-name:text-is("{name}")')
    return page.locator(f".file-entry.depth-{depth}").filter(has=labelled).first


def expand(page, name: str, depth: int) -> None:
    entry = tree_entry(page, name, depth)
    entry.wait_for(timeout=UI_TIMEOUT_MS)
    entry.locator(".directory-toggle").click()


@pytest.mark.pgadmin
def test_first_start_says_the_login_once_and_keeps_it_private(pgadmin_server: RunningPgAdmin) -> None:
    files = pgadmin_server.files
    login = yaml.safe_load(files.login_file.read_text(encoding="utf-8"))
    assert f"  password: {login['password']}" in pgadmin_server.lines
    assert pgadmin_server.output.count(login["password"]) == 1
    assert f"pgAdmin is serving at {pgadmin_server.url}" in pgadmin_server.output
    for private in (files.login_file, files.pgpass(login["email"])):
        assert private.stat().st_mode & 0o777 == 0o600, private
    assert files.settings_db.is_file()
    assert list(pgadmin_server.home.iterdir()) == []  # nothing in the home folder


@pytest.mark.pgadmin
def test_pgadmin_shows_the_schemas_and_runs_a_select_as_the_read_only_role(
    browser, pgadmin_server: RunningPgAdmin, tmp_path: Path
) -> None:
    login = yaml.safe_load(pgadmin_server.files.login_file.read_text(encoding="utf-8"))
    database = Role.from_url(database_url("reader")).database
    reader_name, owner_name = (entry["Name"] for entry in TEMPLATE["Servers"].values())
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(pgadmin_server.url)
    page.fill('input[name="email"]', login["email"])
    page.fill('input[name="password"]', login["password"])
    page.click('button[name="internal_button"]')
    opened = time.perf_counter()
    expand(page, "thelook", 1)
    tree_entry(page, owner_name, 2).wait_for(timeout=UI_TIMEOUT_MS)
    expand(page, reader_name, 2)  # connects with the pgpass file: no password is asked for
    expand(page, "Databases", 3)
    expand(page, database, 4)
    expand(page, "Schemas", 5)
    for schema in SCHEMAS:
        tree_entry(page, schema, 6).wait_for(timeout=UI_TIMEOUT_MS)
    print(f"\nlogin to the three schemas in the tree: {time.perf_counter() - opened:.1f} s")

    tree_entry(page, database, 4).click()
    page.get_by_role("button", name="Tools").click()
    page.get_by_role("menuitem", name="Query Tool").click()
    query_tool = page.frame_locator('iframe[id^="id-query-tool"]').last
    editor = query_tool.locator(".cm-content").first
    editor.wait_for(timeout=UI_TIMEOUT_MS)
    editor.click()
    for number, line in enumerate(READ_ONLY_QUERY):
        if number:
            page.keyboard.press("Escape")  # a completion offered while typing must not take the Enter
            page.keyboard.press("Enter")
        page.keyboard.type(line)
    page.keyboard.press("Escape")
    page.keyboard.press("F5")
    cells = query_tool.locator('[role="gridcell"]')
    cells.filter(has_text="thelook_reader").first.wait_for(timeout=UI_TIMEOUT_MS)
    assert [text.strip() for text in cells.all_inner_texts()][-3:] == ["thelook_reader", "on", "3"]
    assert save_screenshot(page, tmp_path, "pgadmin.png").stat().st_size > 20_000
    page.close()


@pytest.mark.pgadmin
def test_a_moved_database_is_registered_again_and_the_old_list_kept(
    pg_urls: RoleUrls, pgadmin_server: RunningPgAdmin
) -> None:
    said: list[str] = []
    moved_from = Role.from_url(database_url("reader")).database
    with new_database(pg_urls), environment(THELOOK_PGADMIN_DATA=str(pgadmin_server.files.root)):
        moved_to = Role.from_url(database_url("reader")).database
        prepare(free_port(), said.append)
    assert any(line.startswith("the database moved: re-registering") for line in said), said
    assert not any("password:" in line for line in said)  # the login was said once, on first start
    assert any(line.startswith("log in as ") for line in said)
    (backup,) = pgadmin_server.files.root.glob("servers-before-*.json")
    before = json.loads(backup.read_text(encoding="utf-8"))["Servers"].values()
    assert [entry["DBRestriction"] for entry in before] == [moved_from, moved_from]
    # What pgAdmin holds now, read from its settings database: the two servers, replaced and not added to.
    with closing(sqlite3.connect(pgadmin_server.files.settings_db)) as settings:
        registered = settings.execute("SELECT name, db_res FROM server ORDER BY id").fetchall()
    assert registered == [(entry["Name"], moved_to) for entry in TEMPLATE["Servers"].values()]


@pytest.mark.pgadmin
def test_ctrl_c_stops_pgadmin_and_leaves_nothing_running(pgadmin_server: RunningPgAdmin) -> None:
    tree = [pgadmin_server.process.pid] + [
        child.pid for child in psutil.Process(pgadmin_server.process.pid).children(recursive=True)
    ]
    assert len(tree) >= 2  # thelook and pgAdmin's server at least
    pgadmin_server.process.send_signal(signal.SIGINT)  # to `thelook pgadmin` only, as a terminal's Ctrl-C
    assert pgadmin_server.process.wait(timeout=60) == 0, pgadmin_server.output[-3000:]
    time.sleep(0.5)  # the output reader takes the last line
    assert pgadmin_server.lines[-1] == "pgAdmin stopped"
    assert not answers("127.0.0.1", pgadmin_server.port)
    alive = [pid for pid in tree if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert alive == []
