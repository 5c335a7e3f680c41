"""Tables and budget verdicts for ``bench_http.py`` (medians over rounds, with min-max)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from _http_clients import BASELINES

Cell = tuple[str, str, str, str, int]
"""(scenario, protocol, wire format, client, requests or streams)."""
Results = dict[tuple[str, str, str, str], list[dict[str, Any]]]
"""Each cell's worker results, one per round, keyed by (scenario, protocol, format, client)."""

REFERENCE = "httpx-100ka"
"""The baseline the default path is held to: raw httpx with the openai SDK's pool."""
_TITLES = {
    "seq": "sequential requests (one at a time)",
    "c50": "requests at concurrency 50",
    "c500": "requests at concurrency 500",
}


def _summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Median throughput (and its range), CPU per unit, peak memory, connections, server CPU."""
    rates = [r["count"] / r["seconds"] for r in runs]
    return {
        "rate": statistics.median(rates),
        "rate_min": min(rates),
        "rate_max": max(rates),
        "cpu_us": statistics.median(r.get("cpu", 0.0) / r["count"] * 1e6 for r in runs),
        "rss_mb": statistics.median(r["maxrss_kb"] for r in runs) / 1024,
        "new_per_1k": statistics.median(
            r.get("new", 0) * 1000 / r.get("requests", 1) for r in runs
        ),
        "server": statistics.median(r["server_cpu"] / r["seconds"] for r in runs),
        "seconds": statistics.median(r["seconds"] for r in runs),
        "wall": statistics.median(r["process_wall"] for r in runs),
    }


def _ratio(value: float, base: float | None) -> str:
    return "    -" if not base else f"{value / base:5.2f}x"


def _table(title: str, unit: str, cells: dict[str, dict[str, float]]) -> None:
    ref = cells.get(REFERENCE, {})
    raw = {name: cells[name] for name in BASELINES if name in cells}
    best = max(raw, key=lambda name: raw[name]["rate"]) if raw else None
    best_rate = raw[best]["rate"] if best else None
    print(f"\n{title}" + (f"   (best raw baseline: {best})" if best else ""))
    print(
        f"  {'client':<19} {unit + '/s':>7} {'[min-max]':>15} {'vs best':>7} {'vs 100ka':>8} "
        f"{'CPU µs/' + unit:>12} {'vs 100ka':>8} {'peak MB':>7} {'vs 100ka':>8} "
        f"{'conn/1k':>7} {'server':>6}"
    )
    for name, cell in cells.items():
        spread = f"[{cell['rate_min']:.0f}-{cell['rate_max']:.0f}]"
        print(
            f"  {name:<19} {cell['rate']:7.0f} {spread:>15} {_ratio(cell['rate'], best_rate):>7} "
            f"{_ratio(cell['rate'], ref.get('rate')):>8} {cell['cpu_us']:12.1f} "
            f"{_ratio(cell['cpu_us'], ref.get('cpu_us')):>8} {cell['rss_mb']:7.1f} "
            f"{_ratio(cell['rss_mb'], ref.get('rss_mb')):>8} {cell['new_per_1k']:7.1f} "
            f"{cell['server']:6.0%}"
        )


@dataclass(frozen=True)
class Budget:
    """``client``'s ``field`` over ``baseline``'s in one table must be >= (``up``) or <= limit."""

    label: str
    table: str
    client: str
    baseline: str
    field: str
    limit: float
    up: bool


def _default_path(client: str) -> list[Budget]:
    """What the default (httpx) transport must do over HTTPS; also used to judge candidates."""
    return [
        Budget("https c500: req/s vs raw httpx (100 kept alive)", "c500:https:openai",
               client, REFERENCE, "rate", 1.0, True),
        Budget("https c50: req/s vs raw httpx (100 kept alive)", "c50:https:openai",
               client, REFERENCE, "rate", 1.0, True),
        Budget("https sequential: CPU/req vs raw httpx (100 kept alive)", "seq:https:openai",
               client, REFERENCE, "cpu_us", 1.0, False),
        Budget("https c500: peak memory vs raw httpx (100 kept alive)", "c500:https:openai",
               client, REFERENCE, "rss_mb", 1.3, False),
    ]  # fmt: skip


BUDGETS = [
    *_default_path("aether"),
    *(
        Budget(f"https {c}: aiohttp transport req/s vs raw aiohttp", f"{c}:https:openai",
               "aether-aiohttp", "aiohttp", "rate", 0.8, True)
        for c in ("c50", "c500")
    ),
    Budget("https c500: aiohttp transport peak memory vs raw httpx (100ka)", "c500:https:openai",
           "aether-aiohttp", REFERENCE, "rss_mb", 1.3, False),
    *(
        Budget(f"https stream {fmt}: chunks/s vs raw httpx", f"stream:https:{fmt}",
               "aether", REFERENCE, "rate", 0.7, True)
        for fmt in ("openai", "gemini", "anthropic")
    ),
]  # fmt: skip
"""Every budget; the script fails when one that was measured is missed."""


def _verdicts(budgets: list[Budget], by: dict[str, dict[str, dict[str, float]]]) -> bool:
    all_met = True
    for b in budgets:
        cells = by.get(b.table, {})
        if b.client not in cells or b.baseline not in cells:
            continue
        ratio = cells[b.client][b.field] / cells[b.baseline][b.field]
        ok = ratio >= b.limit if b.up else ratio <= b.limit
        all_met = all_met and ok
        sign = ">=" if b.up else "<="
        print(f"  {'met ' if ok else 'MISS'}  {b.label:<62} {ratio:6.3f}x  ({sign} {b.limit}x)")
    return all_met


def print_report(cold: list[tuple[str, float, float]], results: Results, server: str) -> bool:
    """Print every table, then each budget with its measured ratio and a verdict.

    Returns:
        Whether every budget was met.
    """
    by: dict[str, dict[str, dict[str, float]]] = {}
    for (scenario, proto, fmt, client), runs in results.items():
        by.setdefault(f"{scenario}:{proto}:{fmt}", {})[client] = _summary(runs)

    cold_ms = {label: seconds * 1e3 for label, seconds, _ in cold}
    httpx_ms = cold_ms["import httpx"]
    print("\nCold start (in-process time of the snippet; process = whole `python -c` run)")
    for label, seconds, wall in cold:
        print(
            f"  {label:<34} {seconds * 1e3:8.1f} ms  {_ratio(seconds * 1e3, httpx_ms)} of "
            f"import httpx   process {wall * 1e3:6.1f} ms"
        )
    first = by.get("first:https:openai", {})
    if first:
        base = first[REFERENCE]["seconds"] if REFERENCE in first else None
        print("\nFirst HTTPS request in a fresh process (from interpreter start to checked reply)")
        for name, cell in first.items():
            print(
                f"  {name:<15} {cell['seconds'] * 1e3:8.1f} ms  "
                f"{_ratio(cell['seconds'], base)} of raw httpx   "
                f"process {cell['wall'] * 1e3:6.1f} ms   peak {cell['rss_mb']:5.1f} MB"
            )
    for proto in ("http", "https"):
        for scenario, title in _TITLES.items():
            cells = by.get(f"{scenario}:{proto}:openai")
            if cells:
                _table(f"{proto.upper()}, {title}; {server}", "req", cells)
        for fmt in ("openai", "gemini", "anthropic"):
            if f"stream:{proto}:{fmt}" in by:
                title = f"{proto.upper()}, sequential streams of {fmt} chunks; {server}"
                _table(title, "chunk", by[f"stream:{proto}:{fmt}"])

    print("\nBudgets")
    budgets = list(BUDGETS)
    budgets.append(
        Budget("cold start: import aether + Aether() vs import httpx", "cold", "aether",
               "httpx", "ms", 1.5, False)
    )  # fmt: skip
    by["cold"] = {
        "aether": {"ms": cold_ms["import aether + Aether() [openai]"]},
        "httpx": {"ms": httpx_ms},
    }
    all_met = _verdicts(budgets, by)
    for candidate in ("aether-100ka", "aether-h2"):
        if any(candidate in cells for cells in by.values()):
            print(f"\nThe default path's budgets, if {candidate}'s pool were the default")
            _verdicts(_default_path(candidate), by)
    return all_met
