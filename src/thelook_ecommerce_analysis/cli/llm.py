"""`thelook llm ...`: the embedded model server, run in the foreground.

`llm_group` is loaded by the `thelook` group (cli/__init__.py) when it runs. The app starts the server as a
child with `python -m thelook_ecommerce_analysis.cli llm serve ...` (llm/local_server.py), which prints a
ThelookError as one `error:` line (the parent shows the last line of the child's log when the start fails).
"""

from __future__ import annotations

from pathlib import Path

import click

from thelook_ecommerce_analysis.llm.local_server import (
    LocalServerSettings,
    default_model_path,
    run_foreground,
)
from thelook_ecommerce_analysis.llm.select import LLMSettings


@click.group()
def llm_group() -> None:
    """The LLM that writes the SQL: Ollama, any OpenAI-compatible server, or the embedded llama.cpp."""


@llm_group.command()
@click.option(
    "--port", type=int, default=None, help="TCP port on 127.0.0.1 [default: $THELOOK_LLM_PORT or 8081]."
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads [default: up to 4].")
@click.option(
    "--context",
    type=click.IntRange(min=512),
    default=None,
    help="Context window in tokens [default: $THELOOK_LLM_CTX or 8192].",
)
@click.option(
    "--model-path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="GGUF to serve; the bundled model's file name is assembled there "
    "[default: $THELOOK_LLM_MODEL_PATH or data/06_models/<the file of $THELOOK_LLM_BUNDLED, 1.5b or 0.5b>].",
)
@click.option("--verbose", is_flag=True, help="Show llama.cpp's own log.")
@click.option("--parent-pid", type=int, default=None, hidden=True, help="Exit when this process ends.")
def serve(
    *,
    port: int | None,
    threads: int | None,
    context: int | None,
    model_path: Path | None,
    verbose: bool,
    parent_pid: int | None,
) -> None:
    """Run llama.cpp's OpenAI-compatible server with the embedded model until Ctrl-C."""
    configured = LLMSettings.from_environment()
    settings = LocalServerSettings(
        model_path=(model_path or default_model_path()).expanduser().resolve(),
        port=port or configured.local_port,
        threads=threads or configured.local_threads,
        context_tokens=context or configured.context_tokens,
    )
    run_foreground(settings, verbose=verbose, parent_pid=parent_pid, announce=click.echo)
