"""Fresh virtual environments for packaging tests, built offline.

Wheels are built from the working tree without build isolation; third-party dependencies are
not downloaded but exposed to the new environment through a ``.pth`` file pointing at a folder
holding exactly the dependency closure copied from the running environment. So the new
environment contains only what a user who ran ``pip install <those wheels>`` would have.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = REPO / "packages"

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_wheel(project: Path, out: Path) -> Path:
    """Build ``project``'s wheel into ``out`` with the running environment's build backend."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(project),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    built = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob("*.whl"))
    return built[-1]


def dependency_closure(roots: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """Installed distributions required (transitively, extras ignored) by ``roots``."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = [_normalize(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # excluded by an environment marker, or optional
        seen[name] = dist
        for requirement in dist.requires or []:
            if "extra ==" in requirement.replace('"', "").replace("'", ""):
                continue
            match = _NAME.match(requirement)
            if match:
                todo.append(_normalize(match.group(1)))
    return list(seen.values())


def _copy_distribution(dist: importlib.metadata.Distribution, target: Path) -> None:
    base = Path(str(dist.locate_file("")))
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    for top in tops:
        source = base / top
        dest = target / top
        if dest.exists() or not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(
                source, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, dest)


@dataclass
class Venv:
    """A virtual environment made by :func:`make_venv`."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def bin(self, name: str) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin") / name

    def run(
        self, args: Sequence[str | Path], *, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AETHER_", "LLM_"))}
        full_env.pop("PYTHONPATH", None)
        full_env.update(env or {})
        return subprocess.run(
            [str(a) for a in args],
            env=full_env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def pip_install(self, *wheels: Path) -> None:
        self.run(
            [
                self.python,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-index",
                *[str(w) for w in wheels],
            ]
        )


def make_venv(path: Path, *, deps_of: Iterable[str] = ("aether-core",)) -> Venv:
    """A fresh venv whose site sees copies of ``deps_of``'s dependencies (not the roots)."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    roots = {_normalize(r) for r in deps_of}
    deps = path / "aether-test-deps"
    deps.mkdir()
    for dist in dependency_closure(roots):
        if _normalize(dist.metadata["Name"]) not in roots:
            _copy_distribution(dist, deps)
    made = Venv(path)
    site = made.run(
        [made.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    Path(site, "aether-test-deps.pth").write_text(str(deps) + "\n")
    return made
