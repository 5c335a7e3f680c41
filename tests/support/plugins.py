"""Small plugin distributions written on the fly, for plugin-discovery tests.

``write_project`` writes a real hatchling project (built and installed into fresh venvs by the
packaging tests); ``write_installed`` writes an already-installed distribution (``.dist-info``
plus modules) into a folder, for fast in-process tests of the same metadata.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

EntryPoints = Mapping[str, Mapping[str, str]]  # group -> name -> "module"

GOOD_PROVIDER = """
from aether.plugins import hookimpl
from aether.llm.contracts import LLMResponse


class EchoProvider:
    def __init__(self, api_key=None, default_model="echo-1"):
        self.api_key = api_key
        self.default_model = default_model

    async def complete(self, request):
        last = request.messages[-1].content
        return LLMResponse(text=f"echo: {last}", model=self.default_model,
                           input_tokens=1, output_tokens=1, finish_reason="stop")


@hookimpl
def register_providers(register):
    register("{name}", EchoProvider, api_key_env="{key_env}", model_env="{model_env}")
"""

GOOD_TOOL = """
from aether.plugins import hookimpl
from aether.tools import make_tool


def shout(text: str) -> str:
    \"\"\"Repeat the text in capitals.\"\"\"
    return text.upper()


@hookimpl
def register_tools(register):
    register("{name}", make_tool(shout, name="{name}"))
"""

IMPORT_FAILS = """
raise ImportError("this plugin needs a library that is not installed: missinglib")
"""

EXITS_AT_IMPORT = """
import sys

sys.exit(3)
"""

HOOK_EXITS = """
import sys

from aether.plugins import hookimpl


@hookimpl
def register_providers(register):
    register("leaver", object)
    sys.exit("bye")
"""

HOOK_RAISES = """
from aether.plugins import hookimpl


@hookimpl
def register_providers(register):
    register("half", object)
    raise RuntimeError("hook exploded while registering")
"""


def good_provider_code(
    name: str, key_env: str = "ECHO_API_KEY", model_env: str = "ECHO_MODEL"
) -> str:
    return (
        GOOD_PROVIDER.replace("{name}", name)
        .replace("{key_env}", key_env)
        .replace("{model_env}", model_env)
    )


def good_tool_code(name: str) -> str:
    return GOOD_TOOL.replace("{name}", name)


def _entry_points_text(entry_points: EntryPoints) -> str:
    lines = []
    for group, names in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {module}" for name, module in names.items())
        lines.append("")
    return "\n".join(lines)


def write_project(
    root: Path, dist: str, version: str, entry_points: EntryPoints, modules: Mapping[str, str]
) -> Path:
    """A buildable project at ``root/dist`` whose package holds ``modules`` (dotted → code)."""
    project = root / dist
    package = dist.replace("-", "_")
    eps = "\n".join(
        f'[project.entry-points."{group}"]\n'
        + "\n".join(f'{name} = "{module}"' for name, module in names.items())
        for group, names in entry_points.items()
    )
    (project / "src" / package).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "{dist}"
            version = "{version}"
            requires-python = ">=3.10"
            dependencies = ["aether-core>=0.1,<0.2"]

            [tool.hatch.build.targets.wheel]
            packages = ["src/{package}"]

            """
        )
        + eps
        + "\n"
    )
    (project / "src" / package / "__init__.py").write_text("")
    for dotted, code in modules.items():
        parts = dotted.split(".")
        assert parts[0] == package, f"{dotted} must live in package {package}"
        path = project / "src" / Path(*parts).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    return project


def write_installed(
    site: Path, dist: str, version: str, entry_points: EntryPoints, modules: Mapping[str, str]
) -> None:
    """Write an installed distribution (dist-info + modules) into ``site``."""
    package = dist.replace("-", "_")
    info = site / f"{package}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(_entry_points_text(entry_points))
    (site / package).mkdir(exist_ok=True)
    (site / package / "__init__.py").write_text("")
    for dotted, code in modules.items():
        path = site / Path(*dotted.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
