"""Tables and budget verdicts for ``bench_http.py`` (medians over fresh processes)."""

from __future__ import annotations

import statistics
from typing import Any

Results = dict[tuple[str, str, str], list[dict[str, Any]]]

_TITLES = {
    "seq": "Sequential requests (one at a time)",
    "c50": "Requests at concurrency 50",
    "c500": "Requests at concurrency 500",
}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def _cell(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Median throughput, CPU per unit, peak memory and server CPU share of one cell."""
    return {
        "rate": statistics.median(r["count"] / r["seconds"] for r in runs),
        "cpu_us": statistics.median(r.get("cpu", 0.0) / r["count"] * 1e6 for r in runs),
        "rss_mb": _median(runs, "maxrss_kb") / 1024,
        "server": statistics.median(r["server_cpu"] / r["seconds"] for r in runs),
        "seconds": _median(runs, "seconds"),
        "wall": _median(runs, "process_wall"),
    }


def _ratio(value: float, base: float | None) -> str:
    return "    -" if not base else f"{value / base:5.2f}x"


def _throughput_table(title: str, unit: str, cells: dict[str, dict[str, float]]) -> None:
    raw_httpx = cells.get("httpx")
    raw_aiohttp = cells.get("aiohttp")
    print(f"\n{title}")
    print(
        f"  {'client':<12} {unit + '/s':>11} {'vs httpx':>8} {'vs aiohttp':>10} "
        f"{'CPU µs/' + unit:>12} {'vs httpx':>8} {'peak MB':>8} {'vs httpx':>8} {'server':>6}"
    )
    h = raw_httpx or {}
    a = raw_aiohttp or {}
    for name, cell in cells.items():
        print(
            f"  {name:<12} {cell['rate']:11.0f} {_ratio(cell['rate'], h.get('rate')):>8} "
            f"{_ratio(cell['rate'], a.get('rate')):>10} "
            f"{cell['cpu_us']:12.1f} {_ratio(cell['cpu_us'], h.get('cpu_us')):>8} "
            f"{cell['rss_mb']:8.1f} {_ratio(cell['rss_mb'], h.get('rss_mb')):>8} "
            f"{cell['server']:6.0%}"
        )


def print_budgets(cold: list[tuple[str, float, float]], results: Results) -> bool:
    """Print every table, then each budget with its measured ratio and a verdict.

    Returns:
        Whether every budget was met.
    """
    by: dict[str, dict[str, dict[str, float]]] = {}
    for (scenario, fmt, client), runs in results.items():
        by.setdefault(f"{scenario}:{fmt}", {})[client] = _cell(runs)

    cold_ms = {label: seconds * 1e3 for label, seconds, _ in cold}
    httpx_ms = cold_ms["import httpx"]
    print("\nCold start (in-process time of the snippet; process = whole `python -c` run)")
    for label, seconds, wall in cold:
        print(
            f"  {label:<34} {seconds * 1e3:8.1f} ms  {_ratio(seconds * 1e3, httpx_ms)} of "
            f"import httpx   process {wall * 1e3:6.1f} ms"
        )

    first = by.get("first:openai", {})
    if first:
        base = first["httpx"]["seconds"] if "httpx" in first else None
        print("\nFirst request in a fresh process (from interpreter start to checked reply)")
        for name, cell in first.items():
            print(
                f"  {name:<12} {cell['seconds'] * 1e3:8.1f} ms  "
                f"{_ratio(cell['seconds'], base)} of raw httpx   "
                f"process {cell['wall'] * 1e3:6.1f} ms   peak {cell['rss_mb']:5.1f} MB"
            )
    for scenario, title in _TITLES.items():
        if f"{scenario}:openai" in by:
            _throughput_table(title, "req", by[f"{scenario}:openai"])
    for fmt in ("openai", "gemini", "anthropic"):
        if f"stream:{fmt}" in by:
            _throughput_table(f"Streams of {fmt} chunks (sequential)", "chunk", by[f"stream:{fmt}"])

    verdicts: list[tuple[str, float, float, bool]] = []  # (budget, ratio, limit, higher ok)

    def add(
        label: str, key: str, client: str, baseline: str, field: str, limit: float, up: bool
    ) -> None:
        cells = by.get(key, {})
        if client in cells and baseline in cells:
            verdicts.append((label, cells[client][field] / cells[baseline][field], limit, up))

    add(
        "sequential: full stack CPU/req vs raw httpx",
        "seq:openai",
        "aether",
        "httpx",
        "cpu_us",
        1.3,
        False,
    )
    for c in ("c50", "c500"):
        add(
            f"{c}: aiohttp transport req/s vs raw aiohttp",
            f"{c}:openai",
            "aether-fast",
            "aiohttp",
            "rate",
            0.7,
            True,
        )
        add(
            f"{c}: full stack over httpx req/s vs raw httpx",
            f"{c}:openai",
            "aether",
            "httpx",
            "rate",
            0.9,
            True,
        )
    for fmt in ("openai", "gemini", "anthropic"):
        for limit in (0.5, 0.7):
            add(
                f"stream {fmt}: chunks/s vs raw httpx (>= {limit})",
                f"stream:{fmt}",
                "aether",
                "httpx",
                "rate",
                limit,
                True,
            )
    add(
        "c500: peak memory, full stack vs raw httpx",
        "c500:openai",
        "aether",
        "httpx",
        "rss_mb",
        1.3,
        False,
    )
    add(
        "c500: peak memory, aiohttp transport vs raw httpx",
        "c500:openai",
        "aether-fast",
        "httpx",
        "rss_mb",
        1.3,
        False,
    )
    cold_ratio = cold_ms["import aether + Aether() [openai]"] / httpx_ms
    verdicts.append(
        ("cold start: import aether + Aether() vs import httpx", cold_ratio, 1.5, False)
    )

    print("\nBudgets")
    all_met = True
    for label, ratio, limit, up in verdicts:
        ok = ratio >= limit if up else ratio <= limit
        all_met = all_met and ok
        sign = ">=" if up else "<="
        print(f"  {'met ' if ok else 'MISS'}  {label:<58} {ratio:5.2f}x  (budget {sign} {limit}x)")
    return all_met
