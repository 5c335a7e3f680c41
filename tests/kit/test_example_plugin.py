"""The worked example plugin, built as a wheel and installed in a fresh venv, passes the kit."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.support.venvs import (
    PACKAGES,
    REPO,
    Venv,
    _copy_distribution,
    build_wheel,
    dependency_closure,
    make_venv,
)

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "aether-example-echo"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("example")
    wheels = [build_wheel(PACKAGES / "aether-core", root / "wheels")]
    wheels.append(build_wheel(EXAMPLE, root / "wheels"))
    made = make_venv(root / "venv")
    made.pip_install(*wheels)
    _expose(made, ("httpx", "pytest", "packaging"))
    return made


def _expose(env: Venv, roots: tuple[str, ...]) -> None:
    """Make ``roots`` and their dependencies importable in ``env``, offline.

    What ``pip install aether-core[testing]`` would bring; make_venv exposes only the
    dependencies of its roots, not the roots themselves.
    """
    folder = env.path / "aether-kit-deps"
    folder.mkdir()
    for dist in dependency_closure(roots):
        _copy_distribution(dist, folder)
    site = env.run(
        [env.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    Path(site, "aether-kit-deps.pth").write_text(str(folder) + "\n")


def test_the_example_passes_the_kit_from_its_wheel(env: Venv, tmp_path: Path) -> None:
    # A copy of the example's tests, away from the source tree: only the wheel is importable.
    shutil.copytree(EXAMPLE / "tests", tmp_path / "tests")
    shutil.copy(EXAMPLE / "pyproject.toml", tmp_path / "pyproject.toml")
    done = env.run(
        [env.python, "-m", "pytest", "-q", "-rA", "--rootdir", tmp_path, tmp_path / "tests"],
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    # Nothing failed, skipped or xfailed: the last line counts passes, and the tests of what
    # the example does not claim (answers in a schema), which the kit names.
    summary = re.search(r"^(\d+) passed, 2 unclaimed in [\d.]+s$", out.strip().splitlines()[-1])
    assert summary and int(summary.group(1)) >= 50, out
    assert "does not claim: structured_output (2 kit tests of TestEchoProvider" in out, out
    for suite in ("TestEchoProvider", "TestEchoTools", "TestEchoPackaging"):
        assert f"test_echo_kit.py::{suite}::" in out, f"{suite} did not run"
    assert "aether-example-echo 0.1.0: loaded in" in out  # the kit's pytest plugin reported
    assert "registered provider: echo; tool: shout" in out


def test_the_kits_guard_is_active_in_the_fresh_venv(env: Venv, tmp_path: Path) -> None:
    (tmp_path / "test_dropped.py").write_text(
        "from aether.testing import ToolPackConformance\n\n"
        "class TestDropped(ToolPackConformance):\n"
        "    distribution = 'aether-example-echo'\n"
        "    test_refusals_come_back_as_content = None\n"
    )
    done = env.run(
        [
            env.python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            tmp_path,
            tmp_path,
        ],
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "aether_kit_suite_intact[TestDropped]" in out
    assert "removes the kit test ToolPackConformance.test_refusals_come_back_as_content" in out


TEXT_ONLY_ECHO = """
from aether.llm import ProviderCapabilities
from aether.testing import ProviderConformance, WireFormat, sse_event
from aether_example_echo import EchoProvider


class TextOnlyEcho(EchoProvider):
    capabilities = ProviderCapabilities(tools=False)


def _usage(usage):
    return {"in": usage.input_tokens, "out": usage.output_tokens}


class TextWire(WireFormat):  # no tool answers to describe, no stubs
    def text_response(self, text, usage):
        return {"id": "r1", "text": text, "stop": "end", "usage": _usage(usage)}

    def stream_response(self, deltas, usage):
        pieces = [sse_event({"delta": d}) for d in deltas]
        return [*pieces, sse_event({"stop": "end", "usage": _usage(usage)})]


class TestTextOnlyEcho(ProviderConformance):
    wire = TextWire()

    def make_provider(self, http_client, api_key):
        return TextOnlyEcho(api_key, http_client=http_client)
"""


def test_a_provider_without_tools_passes_and_is_named_in_the_fresh_venv(
    env: Venv, tmp_path: Path
) -> None:
    (tmp_path / "test_text_only.py").write_text(textwrap.dedent(TEXT_ONLY_ECHO))
    done = env.run(
        [env.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", tmp_path,
         tmp_path],
        check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    # No xfail, no skip: the tool and structured-output tests are counted apart, and named.
    assert re.search(r"^\d+ passed, 4 unclaimed in [\d.]+s$", out.strip().splitlines()[-1]), out
    named = (
        "aether kit: TextOnlyEcho does not claim: structured_output, tools (4 kit tests of "
        "TestTextOnlyEcho"
    )
    assert f"{named} unclaimed)" in out, out
