"""Shared helpers for the benchmark scripts: timing, medians and a ratio table."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def median_seconds(fn: Callable[[], object], *, repeat: int = 7) -> float:
    """The median wall time of ``fn()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def python_seconds(code: str, *, repeat: int = 7, env: dict[str, str] | None = None) -> float:
    """Median wall time of ``python -c code`` in a fresh interpreter (process start included)."""
    return median_seconds(
        lambda: subprocess.run([sys.executable, "-c", code], check=True, env=env), repeat=repeat
    )


def print_table(title: str, rows: Sequence[tuple[str, float, float | None]], unit: str) -> None:
    """Rows of (label, value, ratio to baseline or None for the baseline itself)."""
    print(f"\n{title}")
    width = max(len(label) for label, _, _ in rows)
    for label, value, ratio in rows:
        shown = "baseline" if ratio is None else f"{ratio:5.2f}x"
        print(f"  {label:<{width}}  {value:10.3f} {unit}  {shown}")
