"""How long `thelook generate` takes and how much memory it needs, per size.

Goal (issue 3): the public-size set (100,000 users) in under 60 s on 2 cores with peak RSS under 2 GB.
Each size runs in a fresh Python process, so its peak RSS is its own (not the benchmark's, nor a
previous size's) and imports count as a user would feel them. The snapshot is cut at the horizon, the
largest one a seed gives.

    .venv/bin/python bench/generate.py [--users 10000 100000] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

GOAL_SECONDS = 60
GOAL_PEAK_RSS_MB = 2048

CHILD = """
import json, resource, sys, time
from pathlib import Path
from thelook_ecommerce_analysis.synth import HORIZON, generate
started = time.perf_counter()
folder, users, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = generate(folder, users=users, seed=seed, as_of=HORIZON, progress=False)
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": peak_kb / 1024}))
"""


def measure(users: int, seed: int) -> dict:
    """Generate `users` in a child process; its own timing and peak RSS, plus the process's wall time."""
    with tempfile.TemporaryDirectory(prefix="thelook-bench-") as folder:
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", CHILD, folder, str(users), str(seed)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        )
        wall = time.perf_counter() - started
        size_mb = sum(entry.stat().st_size for entry in os.scandir(folder)) / 2**20
    return {**json.loads(child.stdout), "process_seconds": wall, "files_mb": size_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args()
    print(f"thelook generate benchmark: {os.cpu_count()} CPUs, as of the horizon, seed {options.seed}")
    print(f"{'users':>9} {'generate s':>11} {'process s':>10} {'peak RSS MB':>12} {'files MB':>9}  rows")
    for users in options.users:
        result = measure(users, options.seed)
        rows = ", ".join(f"{table} {count:,}" for table, count in result["rows"].items())
        print(
            f"{users:>9,} {result['seconds']:>11.1f} {result['process_seconds']:>10.1f} "
            f"{result['peak_rss_mb']:>12.0f} {result['files_mb']:>9.1f}  {rows}"
        )
        if users == 100_000:
            within = result["process_seconds"] < GOAL_SECONDS and result["peak_rss_mb"] < GOAL_PEAK_RSS_MB
            print(f"          goal {GOAL_SECONDS} s / {GOAL_PEAK_RSS_MB} MB: {'met' if within else 'MISSED'}")


if __name__ == "__main__":
    main()
