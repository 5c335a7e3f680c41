"""Every Python block in README.md runs as written, offline, so the README cannot drift.

Three kinds of block, told apart by what they hold:

- a file of the plugin sketch (its first line is a ``# path`` comment, beside the
  ``# pyproject.toml`` TOML block): the files are written into a project that is built and
  installed into a scratch folder, and a fresh interpreter then finds the plugin through its
  entry point and builds its provider by name;
- a test (it defines ``test_*``): run by plain ``pytest`` in an empty folder, with only what
  ``aether-core[testing]`` installs;
- anything else: a script run in a fresh interpreter with ``LLM_PROVIDER=fake``. Top-level
  ``await`` runs as in ``python -m asyncio`` or a notebook cell.

Every block is one of these; a block none of them runs fails the count test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_FILE_HEADER = re.compile(r"^# ((?:[\w.-]+/)*[\w.-]+\.(?:py|toml))\s*$")

# Runs a file whose top level may ``await`` (as a notebook cell or ``python -m asyncio`` does).
_RUNNER = textwrap.dedent(
    """
    import ast, asyncio, sys
    path = sys.argv[1]
    code = compile(open(path).read(), path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, {"__name__": "__main__"})
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    """
)


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    code: str

    @property
    def path(self) -> str | None:
        """The file this block is, when its first line names one (``# src/x/plugin.py``)."""
        match = _FILE_HEADER.match(self.code.splitlines()[0]) if self.code else None
        return match.group(1) if match else None

    @property
    def is_test(self) -> bool:
        return re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def _blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2))
        for match in _FENCE.finditer(text)
    ]


BLOCKS = _blocks()
PYTHON = [block for block in BLOCKS if block.language == "python"]
SKETCH = [block for block in BLOCKS if block.path is not None]
TESTS = [block for block in PYTHON if block.is_test and block.path is None]
SCRIPTS = [block for block in PYTHON if not block.is_test and block.path is None]


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment a newcomer's shell would have, minus anything that reaches a network."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AETHER_", "OPENAI_", "GEMINI_", "ANTHROPIC_", "LLM_"))
        and key not in {"PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"}
    }
    env.update(LLM_PROVIDER="fake", HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    # A block that would reach a real API by mistake fails at once instead (port 9: discard).
    for prefix in ("OPENAI", "GEMINI", "ANTHROPIC"):
        env[f"{prefix}_BASE_URL"] = "http://127.0.0.1:9"
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_every_python_block_is_run() -> None:
    assert len(PYTHON) >= 10, "README.md should show the API in Python blocks"
    # A block tagged another way would escape every test below.
    escaped = [
        str(b) for b in BLOCKS if b.language.lower() in {"py", "python3", "pycon", "ipython"}
    ]
    assert not escaped, f"tag these blocks ```python so they are run: {escaped}"
    sketch_files = {block.path for block in SKETCH}
    assert {"pyproject.toml", "src/aether_ollama/plugin.py"} <= sketch_files, sketch_files
    assert TESTS, "the 'Testing your application' example is missing"
    assert any(block.path == "pyproject.toml" for block in SKETCH), "no plugin sketch"


@pytest.mark.parametrize("block", SCRIPTS, ids=str)
def test_script_block_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    runner = tmp_path / "run_block.py"
    runner.write_text(_RUNNER, encoding="utf-8")
    done = _run([sys.executable, str(runner), str(script)], tmp_path, _env(tmp_path))
    assert done.returncode == 0, f"{block} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("block", TESTS, ids=str)
def test_testing_example_passes_under_plain_pytest(block: Block, tmp_path: Path) -> None:
    (tmp_path / "test_readme_example.py").write_text(block.code, encoding="utf-8")
    # An empty config: pytest's own defaults, as in a new project (no asyncio_mode = auto).
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    done = _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path, _env(tmp_path)
    )
    assert done.returncode == 0, f"{block} failed under plain pytest:\n{done.stdout}\n{done.stderr}"
    assert re.search(r"\b\d+ passed\b", done.stdout), done.stdout


@pytest.mark.slow
def test_plugin_sketch_installs_and_registers(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for block in SKETCH:
        assert block.path is not None
        target = project / block.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code, encoding="utf-8")
    site = tmp_path / "site"
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(project),
        ],
        tmp_path,
        _env(tmp_path),
    )
    assert install.returncode == 0, f"the plugin sketch does not install:\n{install.stderr}"
    check = textwrap.dedent(
        """
        import sys
        from importlib.metadata import entry_points
        names = {ep.name for ep in entry_points(group="aether.providers")}
        assert "ollama" in names, names
        from aether.extensions.llm.factory import create_provider
        provider = create_provider()  # LLM_PROVIDER=ollama
        built = getattr(provider, "inner", provider)  # a complete-only provider is wrapped
        assert type(built).__module__ == "aether_ollama.provider", type(built)
        """
    )
    env = _env(tmp_path) | {"PYTHONPATH": str(site), "LLM_PROVIDER": "ollama"}
    done = _run([sys.executable, "-c", check], tmp_path, env)
    assert done.returncode == 0, f"the sketch's provider is not found by name:\n{done.stderr}"
