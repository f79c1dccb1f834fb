"""`thelook viz`: serve Kedro-Viz for the project, and take its whole process tree down on exit.

`kedro viz run` serves from a CHILD process: stopping only the parent leaves the child listening on the
port (and the next start fails with "address in use"). So the server runs in a process group of its own
(processes.run_server), and every way out of this command (Ctrl-C, SIGTERM from Docker or a service
manager, the server exiting by itself) ends that whole group.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.processes import require_free_port, run_server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4141
HIGHEST_PORT = 49151  # Kedro-Viz refuses the dynamic range above the registered ports


# Kedro-Viz's own command group, called directly: `kedro viz run` would first import the project's
# `cli` module for Kedro project commands, and thelook's cli package is the `thelook` command, not Kedro's.
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


def require_kedro_viz() -> None:
    """One clear line when the kedro-viz package is missing (an environment made without `make setup`)."""
    if importlib.util.find_spec("kedro_viz") is None:
        raise ThelookError(
            f"Kedro-Viz is not installed in {sys.prefix}; `make setup` installs it (kedro-viz is one of "
            "the project's dependencies in pyproject.toml)"
        )


def serve(project: Path, host: str, port: int) -> int:
    """Run Kedro-Viz for `project` until it exits, Ctrl-C or SIGTERM; return its exit status (0 when we
    stopped it). Its process group is gone when this returns."""
    url = f"http://{host}:{port}"

    def say_ready(seconds: float) -> None:
        click.echo(f"Kedro-Viz is serving at {url} (ready after {seconds:.1f} s); Ctrl-C stops it")

    ended = run_server(
        kedro_viz_command(host, port),
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        host=host,
        port=port,
        on_ready=say_ready,
    )
    return ended.status


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
    require_kedro_viz()
    if build_site:
        build_static_site(project)
        return
    require_free_port(host, port)
    click.echo(f"starting Kedro-Viz for {project} on http://{host}:{port} (Ctrl-C stops it)")
    status = serve(project, host, port)
    if status != 0:
        raise ThelookError(f"Kedro-Viz exited with status {status}; its own messages are above")
    click.echo("Kedro-Viz stopped")


if __name__ == "__main__":
    viz_command()
