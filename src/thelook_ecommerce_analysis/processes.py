"""Servers that a thelook command runs in the foreground (Kedro-Viz, pgAdmin): one process group each, a
line when the port answers, and the whole group taken down on every way out.

Stopping only the process we started is not enough: `kedro viz run` serves from a CHILD process, so the
child kept listening (and the next start failed with "address in use"). So the server runs in a session of
its own, and every way out (Ctrl-C, SIGTERM from Docker or a service manager, the server exiting by itself)
ends that whole group. Ctrl-C reaches only the terminal's foreground group, which the server is not in:
the command stops it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from thelook_ecommerce_analysis.errors import ThelookError

STOP_GRACE_SECONDS = 10.0
# A server bound to every address answers on loopback; that is where a command checks that it is up.
WILDCARD_ADDRESSES = {"0.0.0.0", "", "::"}


@dataclass(frozen=True)
class ServerExit:
    """How a foreground server ended: `stopped` when the command stopped it, else it exited by itself."""

    status: int
    stopped: bool


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (checked before starting, for a clear error)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def require_free_port(host: str, port: int) -> None:
    """One clear line when host:port is taken, before a server is started that would fail less clearly."""
    if not port_is_free(host, port):
        raise ThelookError(f"port {port} on {host} is already in use; stop what listens there or pass --port")


def answers(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    target = "127.0.0.1" if host in WILDCARD_ADDRESSES else host
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((target, port)) == 0


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


def run_server(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    host: str,
    port: int,
    on_ready: Callable[[float], None],
    output: IO[str] | None = None,
) -> ServerExit:
    """Run `command` in a process group of its own until it exits, Ctrl-C or SIGTERM; call `on_ready` with
    the seconds it took once host:port answers. The group is gone when this returns.

    `output` receives the server's stdout and stderr (None: this terminal's)."""
    server = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )
    started = time.monotonic()
    # SIGTERM becomes KeyboardInterrupt, so that both ways of being stopped take the same path below.
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while (status := server.poll()) is None:
            if answers(host, port):
                on_ready(time.monotonic() - started)
                return ServerExit(server.wait(), stopped=False)
            time.sleep(0.2)
        return ServerExit(status, stopped=False)
    except KeyboardInterrupt:
        return ServerExit(0, stopped=True)
    finally:
        stop_process_group(server)
        signal.signal(signal.SIGTERM, previous_handler)
