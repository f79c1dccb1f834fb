"""A total wall-clock deadline for one call to a model server: connect, first byte and the whole answer.

httpx's timeouts bound each socket operation, not the call: a server that sends one byte every few seconds
never trips a read timeout and keeps the caller waiting forever. So every LLM request runs inside a
`CallDeadline`, which

- gives each request httpx timeouts no longer than what is left of the budget (connect at most
  `CONNECT_TIMEOUT_S`), so a server that accepts and then stays silent fails at the deadline, and
- arms a timer that, at the deadline, shuts down every socket the call opened (found through httpcore's
  `trace` request extension), so a blocked read returns at once whatever phase the call is in: headers
  trickled byte by byte, a body that never ends, or a body that ends only when the connection closes.

The call then raises `LLMDeadlineExceeded`, whose wording lives here and nowhere else. Each call gets its
own short-lived httpx client (`client_options()`), so connections are never shared between calls and the
timer can only cut its own call's sockets.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
import time
from typing import Any

import httpx

from thelook_ecommerce_analysis.llm.base import LLMUnavailable

DEFAULT_LLM_TIMEOUT_S = 120.0
"""THELOOK_LLM_TIMEOUT's default: an uncached 3k-token prompt on 2 CPU cores takes tens of seconds, and
Ollama may first load the model, so a minute can be honest work; two are not."""

CONNECT_TIMEOUT_S = 5.0
"""A server that has not accepted the connection within this is not there (or is behind a black hole)."""

HEALTH_TIMEOUT_S = 1.0
"""Whole budget of a health check: choosing a provider must not make the user wait."""

RAISE_TIMEOUT_HINT = "it may be busy or still loading the model; retry, or raise THELOOK_LLM_TIMEOUT"
HEALTH_HINT = "is a language model server listening there, and is it healthy?"

# httpcore reports each new connection's stream in these trace events (plain TCP, then TLS when https).
_STREAM_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


def deadline_message(seconds: float, where: str, hint: str = RAISE_TIMEOUT_HINT) -> str:
    """The one line that says a model server overran its budget: the budget, the address, what to do."""
    return f"the language model did not answer within {seconds:g} s (deadline) at {where}: {hint}"


class LLMDeadlineExceeded(LLMUnavailable):
    """The whole call (connect, first byte, full answer) took longer than its budget."""

    def __init__(self, seconds: float, where: str, hint: str = RAISE_TIMEOUT_HINT) -> None:
        super().__init__(deadline_message(seconds, where, hint))
        self.seconds = seconds
        self.where = where


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for all calls: building one per client costs ~20 ms (the CA bundle is parsed)."""
    return httpx.create_ssl_context()


def _shut(connection: socket.socket) -> None:
    """Wake whatever thread is blocked on `connection`: shutdown, unlike close, interrupts a blocked recv."""
    with contextlib.suppress(OSError):  # already closed or never connected: nothing is blocked on it
        connection.shutdown(socket.SHUT_RDWR)


class CallDeadline:
    """The budget of one call to a model server, enforced on every socket the call opens.

    Use as a context manager around the call, build the call's client with `client_options()`, and turn
    a failure into `exceeded()` when `overran(error)` says the budget caused it.
    """

    def __init__(self, seconds: float, where: str, hint: str = RAISE_TIMEOUT_HINT) -> None:
        self.seconds = seconds
        self.where = where
        self.hint = hint
        self._expires = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._cut = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> CallDeadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left; never zero, since httpx reads a zero timeout as "fail at once" on some paths."""
        return max(self._expires - time.monotonic(), 0.001)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `httpx.Client` (and `ollama.Client`, which passes them on)."""
        return {
            "timeout": self._timeout(),
            "event_hooks": {"request": [self._arm]},
            "verify": _shared_ssl_context(),
        }

    def overran(self, error: BaseException | None = None) -> bool:
        """Whether the budget ended the call: it is spent, or `error` is a timeout other than connect's
        (read, write and pool timeouts are all the budget's remainder)."""
        if self._cut or time.monotonic() >= self._expires:
            return True
        return isinstance(error, httpx.TimeoutException) and not isinstance(error, httpx.ConnectTimeout)

    def exceeded(self) -> LLMDeadlineExceeded:
        return LLMDeadlineExceeded(self.seconds, self.where, self.hint)

    def _timeout(self) -> httpx.Timeout:
        remaining = self.remaining()
        return httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT_S, remaining))

    def _arm(self, request: httpx.Request) -> None:
        """httpx request hook: this request's timeouts from what is left, and a trace to see its sockets."""
        request.extensions["timeout"] = self._timeout().as_dict()
        request.extensions["trace"] = self._trace

    def _trace(self, event_name: str, info: dict[str, Any]) -> None:
        if event_name not in _STREAM_EVENTS:
            return
        connection = info["return_value"].get_extra_info("socket")
        if connection is None:
            return
        with self._lock:
            self._sockets.append(connection)
            cut = self._cut
        if cut:  # connected just as the timer fired
            _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self._cut = True
            sockets = list(self._sockets)
        for connection in sockets:
            _shut(connection)
