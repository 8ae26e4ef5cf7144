"""Scenario 8: how long the command line takes to answer `--help`, against the interpreter's own start-up.

Each run is a fresh process, timed from outside (start to exit, wall clock): `python -m twosigma --help`,
`python -m twosigma admin --help`, and the baseline `python -c pass`, taken in turn (A B C A B C …) so a drift in
the machine's speed reaches all three alike. Reported: the medians, and for each command the median of its
per-round ratios to the baseline.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

COMMANDS = {
    "help": ["-m", "twosigma", "--help"],
    "group_help": ["-m", "twosigma", "admin", "--help"],
}
BASELINE = ["-c", "pass"]


def _wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def measure(runs: int, warmup: int = 1) -> dict[str, Any]:
    for _ in range(warmup):
        for args in (*COMMANDS.values(), BASELINE):
            _wall(args)
    samples: dict[str, list[float]] = {name: [] for name in (*COMMANDS, "python")}
    for _ in range(runs):
        for name, args in COMMANDS.items():
            samples[name].append(_wall(args))
        samples["python"].append(_wall(BASELINE))
    result: dict[str, Any] = {"runs": runs, "samples": samples}
    for name in samples:
        result[name] = statistics.median(samples[name])
    for name in COMMANDS:
        pairs = zip(samples[name], samples["python"], strict=True)
        result[f"{name}_ratio"] = statistics.median(a / b for a, b in pairs if b)
    result["ratio"] = result["help_ratio"]
    result["metric"] = "wall, vs python -c pass"
    return result
