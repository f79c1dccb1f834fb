"""`thelook app`: serve the Streamlit app (app/main.py) on 127.0.0.1:8501.

Streamlit's own runner does the serving; this command fixes the options that matter for a local,
private tool: bound to loopback by default, headless (no browser opened from a server), and no usage
statistics sent anywhere. It checks the database configuration first, so a missing `thelook db start`
is one clear line here rather than a red box in the browser.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from thelook_ecommerce_analysis.config import database_url

ENTRY_SCRIPT = Path(__file__).resolve().parent.parent / "app" / "main.py"
DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"


def streamlit_command(port: int, host: str) -> list[str]:
    """The `streamlit run` command line for the app."""
    return [
        sys.executable, "-m", "streamlit", "run", str(ENTRY_SCRIPT),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # no "Deploy" button on a private tool
    ]  # fmt: skip


@click.command("app")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on (0.0.0.0 in Docker)."
)
def app_command(port: int, host: str) -> None:
    """Serve the chat and dashboard app in the browser at http://HOST:PORT."""
    database_url("reader")  # fails with one line when no database is configured
    click.echo(f"serving the app at http://{host}:{port} (Ctrl+C stops it)")
    environment = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = streamlit_command(port, host)
    # Streamlit takes this process's place: signals (Ctrl+C, a supervisor's SIGTERM) reach it directly
    # and no orphaned server is left behind.
    os.execve(command[0], command, environment)


if __name__ == "__main__":
    app_command()
