"""How to decode N candidate queries on a CPU llama.cpp server: parallel slots, or one slot in turn.

Parallel slots (`n_parallel = N`, unified KV cache) decode N sequences in one batch, but each slot keeps
its own prompt cache, so every slot but the one that served the last question evaluates the whole prompt
again. One slot serving the N requests in turn evaluates the prompt once and decodes N times. On a few
CPU cores prompt evaluation dominates (a ~2k-token schema prompt costs 15-30 s; 60 answer tokens 1.5-4 s),
so the second wins there; on a GPU, or with short prompts, the first can. Measured in one run, same prompt:

    .venv/bin/python bench/candidates.py --model 1.5b --candidates 3

prints the wall time of one greedy answer, of N answers through N parallel slots, and of N answers through
one slot in turn, each after the prompt's shared part was cached once.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import httpx

from thelook_ecommerce_analysis.llm.local_server import (
    LocalServerSettings,
    bundled_model,
    default_model_path,
    prepare_model,
)

PORT = 18099
SCHEMA = "\n".join(f"  column_{i} text  values: 'A{i}', 'B{i}', 'C{i}'" for i in range(80))
SYSTEM = (
    "You write one PostgreSQL query that answers a question about a shop.\nTables:\nraw_data.orders\n"
    + SCHEMA
)
ANSWER_TOKENS = 60


def ask(port: int, question: str, temperature: float, seed: int, timings: list[float]) -> None:
    started = time.perf_counter()
    body = {
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
        "temperature": temperature,
        "seed": seed,
        "max_tokens": ANSWER_TOKENS,
    }
    httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=900).raise_for_status()
    timings.append(time.perf_counter() - started)


def serve(model_path: Path, slots: int, threads: int, port: int):
    """A llama.cpp server with `slots` parallel slots sharing one KV cache; keep the object alive."""
    import xllamacpp

    settings = LocalServerSettings(model_path=model_path, port=port, threads=threads)
    params = xllamacpp.CommonParams()
    params.model.path = str(settings.model_path)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = settings.context_tokens * slots
    params.n_parallel = slots
    params.kv_unified = True
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.cache_prompt = True
    params.verbosity = -1
    return xllamacpp.Server(params)


def measure(model_path: Path, candidates: int, threads: int) -> None:
    servers = []  # each stays up until the measurement ends
    for slots, label in ((candidates, f"{candidates} parallel slots"), (1, "1 slot, in turn")):
        port = PORT + slots  # a server of its own per configuration
        servers.append(serve(model_path, slots, threads, port))
        ask(port, "warm the cache: how many orders?", 0.0, 0, [])
        greedy: list[float] = []
        ask(port, "How many orders were cancelled in 2024?", 0.0, 1, greedy)
        many: list[float] = []
        question = "How many orders were returned per month in 2023?"
        started = time.perf_counter()
        if slots > 1:
            threads_ = [
                threading.Thread(target=ask, args=(port, question, 0.0 if i == 0 else 0.7, i, many))
                for i in range(candidates)
            ]
            for thread in threads_:
                thread.start()
            for thread in threads_:
                thread.join()
        else:
            for i in range(candidates):
                ask(port, question, 0.0 if i == 0 else 0.7, i, many)
        wall = time.perf_counter() - started
        print(f"{label:>18}: one greedy answer {greedy[0]:5.1f} s; {candidates} candidates {wall:5.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="bundled model: 0.5b or 1.5b (default: the default)")
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    model = bundled_model(arguments.model)
    path = prepare_model(default_model_path(model))
    print(f"{model.display_name}, {arguments.threads} threads, {ANSWER_TOKENS} answer tokens")
    measure(path, arguments.candidates, arguments.threads)


if __name__ == "__main__":
    main()
