"""Packaging checks for an Aether plugin distribution, run in a clean subprocess.

    from aether.testing import PackagingConformance

    class TestPackaging(PackagingConformance):
        distribution = "aether-acme"

or, from any test: ``check_plugin_packaging("aether-acme").assert_ok()``. One subprocess
loads the installed distribution the way the host does and reports on it:

* ``name``: the distribution is named ``aether-*``;
* ``entry_points``: it declares entry points, each in a group Aether reads, each naming a
  module (the plugin module, not ``module:attribute``);
* ``loads``: its plugin modules import and their hooks run without error;
* ``registers``: the hooks register exactly the names the entry points declare;
* ``no_io``: loading opens no socket, writes no file and starts no process;
* ``not_heavy``: loading imports none of :data:`HEAVY_MODULES` (unless allowed);
* ``import_budget``: loading costs less CPU time than the budget on top of core's import
  (CPU time, not wall time, so a busy machine does not fail the check);
* ``core_version``: it requires ``aether-core`` with a version range the installed core meets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aether.plugins.manager import group_for, kind_for

__all__ = [
    "CHECKS",
    "DEFAULT_IMPORT_BUDGET_MS",
    "HEAVY_MODULES",
    "KNOWN_GROUPS",
    "PackagingConformance",
    "PackagingReport",
    "check_plugin_packaging",
]

CHECKS = (
    "name",
    "entry_points",
    "loads",
    "registers",
    "no_io",
    "not_heavy",
    "import_budget",
    "core_version",
)
DEFAULT_IMPORT_BUDGET_MS = 150.0
KNOWN_GROUPS = tuple(group_for(kind) for kind in ("cache", "provider", "session_store", "tool"))
HEAVY_MODULES = frozenset(
    {
        "torch",
        "tensorflow",
        "jax",
        "numpy",
        "pandas",
        "scipy",
        "sklearn",
        "polars",
        "pyarrow",
        "transformers",
        "matplotlib",
        "cv2",
        "langchain",
        "llama_index",
    }
)
"""Top-level modules a plugin must not import while loading: each costs a host 100+ ms."""

_PROBE = Path(__file__).with_name("_probe.py")


@dataclass
class PackagingReport:
    """What loading one distribution in a clean interpreter showed.

    Attributes:
        problems: Per check (see :data:`CHECKS`), what is wrong; empty lists when it passed.
        import_ms: Wall time of loading the plugin (imports and hooks) after core.
        import_cpu_ms: CPU time of the same; the budget applies to it.
        core_import_ms: Wall time of importing core itself, for comparison.
    """

    distribution: str
    version: str = ""
    core_version: str | None = None
    declared: dict[str, list[str]] = field(default_factory=dict)
    registered: dict[str, list[str]] = field(default_factory=dict)
    import_ms: float = 0.0
    import_cpu_ms: float = 0.0
    core_import_ms: float = 0.0
    new_modules: list[str] = field(default_factory=list)
    io_events: list[str] = field(default_factory=list)
    traceback: str | None = None
    problems: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHECKS})

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not any(self.problems.values())

    def summary(self) -> str:
        """One line for a test report: versions, timings and what was registered."""
        registered = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(self.registered.items()))
        return (
            f"{self.distribution} {self.version}: loaded in {self.import_ms:.1f} ms "
            f"({self.import_cpu_ms:.1f} ms CPU) on top of "
            f"aether-core {self.core_version} ({self.core_import_ms:.1f} ms); "
            f"registered {registered or 'nothing'}"
        )

    def assert_ok(self, *checks: str) -> None:
        """Raise AssertionError listing the problems of ``checks`` (default: all)."""
        found = [
            f"[{check}] {problem}" for check in checks or CHECKS for problem in self.problems[check]
        ]
        if found:
            details = f"\n{self.traceback}" if self.traceback else ""
            raise AssertionError(
                f"{self.distribution} fails the packaging checks:\n- "
                + "\n- ".join(found)
                + details
            )


def _run_probe(
    distribution: str, python: str | os.PathLike[str], path: Iterable[str | os.PathLike[str]]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aether-kit-") as tmp:
        options = Path(tmp, "options.json")
        output = Path(tmp, "report.json")
        options.write_text(
            json.dumps(
                {
                    "distribution": distribution,
                    "path": [os.fspath(p) for p in path],
                    "output": str(output),
                }
            ),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AETHER_", "LLM_"))}
        done = subprocess.run(
            [os.fspath(python), "-I", "-B", str(_PROBE), str(options)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not output.exists():
            raise AssertionError(
                f"The packaging probe for {distribution} crashed (exit {done.returncode}); "
                f"is it installed in {python}?\n{done.stderr[-4000:]}"
            )
        result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        return result


def check_plugin_packaging(
    distribution: str,
    *,
    python: str | os.PathLike[str] | None = None,
    path: Iterable[str | os.PathLike[str]] = (),
    import_budget_ms: float = DEFAULT_IMPORT_BUDGET_MS,
    allow_heavy: Iterable[str] = (),
    extra_groups: Iterable[str] = (),
) -> PackagingReport:
    """Load ``distribution`` in a fresh interpreter and check how it is packaged.

    Args:
        distribution: The installed distribution's name, e.g. ``"aether-acme"``.
        python: The interpreter whose environment holds it; default: this one.
        path: Folders to put first on that interpreter's ``sys.path``.
        import_budget_ms: Most CPU milliseconds loading may take on top of core's import.
        allow_heavy: Modules of :data:`HEAVY_MODULES` this plugin is allowed to import.
        extra_groups: Entry-point groups to accept besides :data:`KNOWN_GROUPS` (kinds a
            plugin registers through ``register_plugins``).
    """
    raw = _run_probe(distribution, python or sys.executable, path)
    report = PackagingReport(
        distribution=raw["name"],
        version=raw["version"],
        core_version=raw["core_version"],
        registered={k: sorted(v) for k, v in raw["registered"].items()},
        import_ms=raw["import_ms"],
        import_cpu_ms=raw["import_cpu_ms"],
        core_import_ms=raw["core_import_ms"],
        new_modules=raw["new_modules"],
        io_events=raw["io"],
        traceback=raw["traceback"],
    )
    for group, name, _ in raw["entry_points"]:
        report.declared.setdefault(group, []).append(name)
    problems = report.problems
    if not report.distribution.lower().startswith("aether-"):
        problems["name"].append(
            f"the distribution is named {report.distribution!r}; name it 'aether-<something>' "
            f"so users can find it (pip search, `aether plugins`)"
        )
    _check_entry_points(raw["entry_points"], {*KNOWN_GROUPS, *extra_groups}, problems)
    if raw["status"] != "loaded":
        problems["loads"].append(
            f"loading failed ({raw['status']}): {raw['error'] or 'no aether.* entry points'}"
        )
    _check_registered(report, problems)
    problems["no_io"] = [f"loading {event}" for event in report.io_events]
    heavy = sorted(set(report.new_modules) & (HEAVY_MODULES - set(allow_heavy)))
    problems["not_heavy"] = [
        f"loading imports {module}; import it inside the function that needs it, or allow it "
        f"explicitly (allow_heavy)"
        for module in heavy
    ]
    if report.import_cpu_ms > import_budget_ms:
        problems["import_budget"].append(
            f"loading took {report.import_cpu_ms:.0f} ms of CPU on top of core's import, over the "
            f"{import_budget_ms:.0f} ms budget; defer imports into the hook or the provider"
        )
    problems["core_version"] = _core_version_problems(raw["requires"], report.core_version)
    return report


def _check_entry_points(
    entry_points: list[list[str]], known: set[str], problems: dict[str, list[str]]
) -> None:
    ours = [ep for ep in entry_points if ep[0].lower().startswith("aether")]
    if not ours:
        problems["entry_points"].append(
            f"no entry point in an Aether group; declare them under one of {sorted(known)}"
        )
    for group, name, value in ours:
        if group not in known:
            problems["entry_points"].append(
                f"entry point {name!r} is in group {group!r}, which Aether does not read; "
                f"use one of {sorted(known)}"
            )
        if ":" in value:
            problems["entry_points"].append(
                f"entry point {group}:{name} points at {value!r}; point it at the plugin "
                f"module (the one with the @hookimpl functions), without ':attribute'"
            )


def _check_registered(report: PackagingReport, problems: dict[str, list[str]]) -> None:
    declared: dict[str, set[str]] = {}
    for group, names in report.declared.items():
        kind = kind_for(group)
        if kind is not None:
            declared.setdefault(kind, set()).update(names)
    if problems["loads"]:
        return
    for kind in sorted({*declared, *report.registered}):
        want, got = declared.get(kind, set()), set(report.registered.get(kind, ()))
        for name in sorted(want - got):
            problems["registers"].append(
                f"{kind} {name!r} is declared as an entry point but its hooks never register it"
            )
        for name in sorted(got - want):
            problems["registers"].append(
                f"{kind} {name!r} is registered but not declared as an entry point, so "
                f"resolving it by name will never load this plugin"
            )


def _core_version_problems(requires: list[str], core_version: str | None) -> list[str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    core = [
        Requirement(r) for r in requires if canonicalize_name(Requirement(r).name) == "aether-core"
    ]
    if not core:
        return ["it does not require aether-core; require it with a version range"]
    specifier = core[0].specifier
    if not str(specifier):
        return [f"it requires {core[0]} without a version range; pin a compatible range"]
    if core_version is None:
        return ["aether-core is not installed"]
    if not specifier.contains(core_version, prereleases=True):
        return [f"it requires aether-core{specifier} but aether-core {core_version} is installed"]
    return []


class PackagingConformance:
    """The packaging checks as tests: set :attr:`distribution` and the suite does the rest."""

    distribution: ClassVar[str]
    """The installed distribution to check, e.g. ``"aether-acme"``."""

    import_budget_ms: ClassVar[float] = DEFAULT_IMPORT_BUDGET_MS
    allow_heavy: ClassVar[tuple[str, ...]] = ()
    extra_groups: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture(scope="class")
    @classmethod
    def packaging_report(cls, request: pytest.FixtureRequest) -> PackagingReport:
        """The report of one probe, shared by the class's tests."""
        report = check_plugin_packaging(
            cls.distribution,
            import_budget_ms=cls.import_budget_ms,
            allow_heavy=cls.allow_heavy,
            extra_groups=cls.extra_groups,
        )
        _remember(request.config, report)
        return report

    def test_is_named_aether_star(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("name")

    def test_declares_entry_points_in_known_groups(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("entry_points")

    def test_loads_in_a_clean_interpreter(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("loads")

    def test_registers_exactly_what_it_declares(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("registers")

    def test_does_no_io_while_loading(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("no_io")

    def test_imports_nothing_heavy(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("not_heavy")

    def test_loads_within_the_import_budget(self, packaging_report: PackagingReport) -> None:
        packaging_report.assert_ok("import_budget")

    def test_installed_core_is_in_the_declared_range(
        self, packaging_report: PackagingReport
    ) -> None:
        packaging_report.assert_ok("core_version")


def _remember(config: pytest.Config, report: PackagingReport) -> None:
    from aether.testing.plugin import REPORTS

    config.stash.setdefault(REPORTS, []).append(report.summary())
