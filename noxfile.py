"""Developer sessions: tests on every installed Python, lint, types, and packaging checks.

nox                      # tests on each of 3.10-3.13 found on this machine, lint, typecheck
nox -s packaging         # wheels → fresh venvs, one plugin at a time, `aether plugins --json`
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = False  # run on every Python that is installed


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite."""
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every distribution's source."""
    session.install("-r", "requirements-dev.txt")
    sources = [
        str(src) for package in PACKAGES for src in (package / "src").iterdir() if src.is_dir()
    ]
    session.run("mypy", *sources, "bench")


@nox.session(python="3.11")
def packaging(session: nox.Session) -> None:
    """Build every wheel; for each plugin, a fresh venv with core + that plugin only."""
    session.install("build", "hatchling")
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for package in PACKAGES:
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), str(package))
    core = next(dist.glob("aether_core-*.whl"))
    for wheel in sorted(dist.glob("*.whl")):
        if wheel == core:
            continue
        venv = Path(session.create_tmp()) / f"venv-{wheel.name.split('-')[0]}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        session.run(python, "-m", "pip", "install", "-q", str(core), str(wheel), external=True)
        out = session.run(
            str(venv / "bin" / "aether"), "plugins", "--load", "--json", external=True, silent=True
        )
        listed = {item["distribution"]: item for item in json.loads(str(out))}
        name = wheel.name.split("-")[0].replace("_", "-")
        if listed.get(name, {}).get("status") != "loaded":
            session.error(f"{name} did not load in a fresh environment: {listed.get(name)}")
        session.log(f"{name}: loaded, registered {listed[name]['registered']}")


# --- the plugin author's kit: every plugin, from its wheel, in a fresh environment --------

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "pyproject.toml").exists())


# Kit suites that need a server: (the program, the tests that run the suite against it).
_NEEDS_SERVER = {
    "aether-memory-redis": ("redis-server", ROOT / "tests/memory_redis/test_redis_conformance.py"),
}


def _kit_tests(project: Path) -> Path:
    """Where a plugin's kit tests live: its own tests/ (examples), else tests/kit/."""
    if project.parent.name == "examples":
        return project / "tests"
    suffix = project.name.removeprefix("aether-").replace("-", "_")
    return ROOT / "tests" / "kit" / f"test_kit_{suffix}.py"


def _server_suites(session: nox.Session, project: Path) -> list[str]:
    """The plugin's suites that need a server, when that server is installed here."""
    if project.name not in _NEEDS_SERVER:
        return []
    program, tests = _NEEDS_SERVER[project.name]
    if shutil.which(program) is None:
        session.warn(
            f"{program} is not installed: {project.name} ran only its packaging checks, not "
            f"its store suite ({tests.relative_to(ROOT)}). Install {program} to run it."
        )
        return []
    return [str(tests)]


@nox.session(python="3.11")
def kit(session: nox.Session) -> None:
    """Build every wheel; for each plugin, a fresh venv with core[testing] + that plugin only,
    running the plugin's kit tests (provider/tool/store suites and the packaging checks)."""
    session.install("build", "hatchling")
    dist = Path(session.create_tmp()) / "kit-dist"
    shutil.rmtree(dist, ignore_errors=True)
    for project in [*PACKAGES, *EXAMPLES]:
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), str(project))
    core = next(dist.glob("aether_core-*.whl"))
    plugins = [p for p in [*PACKAGES, *EXAMPLES] if p.name != "aether-core"]
    missing = [p.name for p in plugins if not _kit_tests(p).exists()]
    if missing:
        session.error(f"no kit tests for {', '.join(missing)}: add tests/kit/test_kit_<name>.py")
    for project in plugins:
        wheel = next(dist.glob(f"{project.name.replace('-', '_')}-*.whl"))
        venv = Path(session.create_tmp()) / f"kit-{project.name}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        # The example is its own project (its pyproject holds its pytest settings); the
        # repository's plugins run under the root configuration, which needs pytest-asyncio.
        own_project = project.parent.name == "examples"
        extra = [] if own_project else ["pytest-asyncio"]
        session.run(
            python, "-m", "pip", "install", "-q", f"{core}[testing]", str(wheel), *extra,
            external=True,
        )  # fmt: skip
        tests = [str(_kit_tests(project)), *_server_suites(session, project)]
        rootdir = project if own_project else ROOT
        session.run(
            python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(rootdir),
            *tests, external=True,
        )  # fmt: skip
        session.log(f"{project.name}: passed the kit from its wheel")
