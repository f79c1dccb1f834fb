"""`thelook viz`: serve Kedro-Viz for the project, and take its whole process tree down on exit.

`kedro viz run` serves from a CHILD process: stopping only the parent leaves the child listening on the
port (and the next start fails with "address in use"). So the server runs in a process group of its own,
and every way out of this command (Ctrl-C, SIGTERM from Docker or a service manager, the server exiting
by itself) ends that whole group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from thelook_ecommerce_analysis.errors import ThelookError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4141
HIGHEST_PORT = 49151  # Kedro-Viz refuses the dynamic range above the registered ports
STOP_GRACE_SECONDS = 10.0


# Kedro-Viz's own command group, called directly: `kedro viz run` would first import the project's
# `cli` module for Kedro project commands, and thelook's cli.py is the `thelook` command, not Kedro's.
KEDRO_VIZ_ENTRY = "from kedro_viz.launchers.cli.main import viz_cli; viz_cli()"


def kedro_viz_command(host: str, port: int) -> list[str]:
    """`kedro viz run` with this interpreter, so that it sees the same packages as `thelook`."""
    return [
        sys.executable,
        "-c",
        KEDRO_VIZ_ENTRY,
        "viz",
        "run",
        "--no-browser",
        "--host",
        host,
        "--port",
        str(port),
    ]


def kedro_viz_build_command() -> list[str]:
    """`kedro viz build`: the same graph as a static site, written to build/ in the project."""
    return [sys.executable, "-c", KEDRO_VIZ_ENTRY, "viz", "build"]


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (checked before starting, for a clear error)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _group_alive(group_id: int) -> bool:
    try:
        os.killpg(group_id, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still exists
        return True
    return True


def stop_process_group(process: subprocess.Popen, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group that `process` leads, wait up to `grace_seconds` for every member to
    exit, then SIGKILL what is left. Waiting on the leader alone is not enough: its children outlive it."""
    group_id = process.pid
    if not _group_alive(group_id):
        process.wait()
        return
    os.killpg(group_id, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, or it lingers as a zombie that keeps the group "alive"
        if not _group_alive(group_id):
            break
        time.sleep(0.1)
    else:
        os.killpg(group_id, signal.SIGKILL)
    process.wait()


def serve(project: Path, host: str, port: int) -> int:
    """Run Kedro-Viz for `project` until it exits, Ctrl-C or SIGTERM; return its exit status (0 when we
    stopped it). Its process group is gone when this returns."""
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    server = subprocess.Popen(
        kedro_viz_command(host, port), cwd=project, env=environment, start_new_session=True
    )
    # SIGTERM becomes KeyboardInterrupt, so that both ways of being stopped take the same path below.
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_process_group(server)
        signal.signal(signal.SIGTERM, previous_handler)


def build_static_site(project: Path) -> None:
    """Run `kedro viz build` in `project`; one clear error if it fails."""
    click.echo(f"building the Kedro-Viz static site of {project} into {project / 'build'}")
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    result = subprocess.run(kedro_viz_build_command(), cwd=project, env=environment, check=False)
    # `kedro viz build` reports some failures (a missing src/, say) and still exits 0: check its output.
    if result.returncode != 0 or not (project / "build" / "index.html").is_file():
        raise ThelookError(
            f"kedro viz build wrote no {project / 'build' / 'index.html'} (exit status {result.returncode}); "
            "its messages are above"
        )
    click.echo(f"static site ready: serve {project / 'build'} from any static web host")


@click.command("viz")
@click.option(
    "--port",
    type=click.IntRange(1, HIGHEST_PORT),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to serve on.",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on (0.0.0.0 inside a container).",
)
@click.option(
    "--build",
    "build_site",
    is_flag=True,
    help="Write a static site into the project's build/ folder (`kedro viz build`) instead of serving.",
)
def viz_command(port: int, host: str, build_site: bool) -> None:
    """Serve Kedro-Viz (the pipelines, their datasets and parameters) until Ctrl-C, or with --build write
    it as a static site that any static web host can serve."""
    from thelook_ecommerce_analysis.config import project_root

    project = project_root()
    (project / "logs").mkdir(exist_ok=True)  # conf/logging.yml writes logs/info.log there
    if build_site:
        build_static_site(project)
        return
    if not port_is_free(host, port):
        raise ThelookError(f"port {port} on {host} is already in use; stop what listens there or pass --port")
    click.echo(f"serving Kedro-Viz for {project} at http://{host}:{port} (Ctrl-C stops it)")
    status = serve(project, host, port)
    if status != 0:
        raise ThelookError(f"Kedro-Viz exited with status {status}; its own messages are above")
    click.echo("Kedro-Viz stopped")


if __name__ == "__main__":
    viz_command()
