"""``aether plugins``: what is installed, and whether this ``aether`` is Aether's own."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

__all__ = ["foreign_core", "plugins"]

_FROM_REPOSITORY = (
    "install Aether's core from its repository (pip install ./packages/aether-core in a checkout)"
)
# The running ``aether`` package (this file is aether/cli/_plugins.py).
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def plugins(*, as_json: bool, load: bool, out: TextIO, err: TextIO) -> int:
    """List the installed plugins (``load``: import each and run its hooks); the exit status."""
    from aether.plugins.manager import plugin_manager

    foreign = foreign_core()
    if foreign is not None:
        err.write(f"aether: warning: {foreign}\n")
        err.flush()  # before the listing, where a terminal shows both
    manager = plugin_manager()
    infos = manager.load_all() if load else manager.infos()
    failed = foreign is not None or any(info.status == "failed" for info in infos)
    if as_json:
        json.dump([info.to_dict() for info in infos], out, indent=2)
        out.write("\n")
        return 1 if failed else 0
    if not infos:
        out.write("No Aether plugins installed.\n")
        return 1 if failed else 0
    for info in infos:
        tag = " (built-in)" if info.builtin else ""
        out.write(f"{info.distribution} {info.version}{tag}: {info.status}\n")
        for ep in info.entry_points:
            out.write(f"  {ep.group}: {ep.name} = {ep.value}\n")
        for kind, names in sorted(info.registered.items()):
            out.write(f"  registered {kind}: {', '.join(sorted(names))}\n")
        if info.error:
            out.write(f"  error: {info.error}\n")
            if info.traceback:
                for line in info.traceback.rstrip().splitlines():
                    out.write(f"    {line}\n")
    return 1 if failed else 0


def foreign_core(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
    package_dir: Path | None = None,
) -> str | None:
    """What is wrong when the installed ``aether-core`` is not this ``aether`` package's own.

    The name ``aether-core`` on the public package index belongs to an unrelated project that
    ships its own ``aether`` package and command, so ``pip install aether-core`` can leave its
    metadata (and command) beside, or over, this package. This one is recognised by its
    entry points, whose modules are files of the running package, and, when the
    distribution lists its files (a non-editable install), by owning the running package.

    Args:
        distributions: Where to look; default: every installed distribution.
        package_dir: The running ``aether`` package's folder; default: this one's.

    Returns:
        A message with the fix, or None when the distribution is this package's.
    """
    from aether.plugins.manager import CORE_DISTRIBUTION, _normalize, kind_for

    here = (package_dir or _PACKAGE_DIR).resolve()
    found = importlib.metadata.distributions() if distributions is None else distributions
    core = next(
        (d for d in found if _normalize(d.metadata["Name"] or "") == CORE_DISTRIBUTION), None
    )
    if core is None:
        return (
            f"no distribution named aether-core is installed, so the aether package at {here} "
            f"runs without its metadata: its built-in provider and session store are not "
            f"registered. Fix: {_FROM_REPOSITORY}."
        )
    listed = next((f for f in core.files or () if f.as_posix() == "aether/__init__.py"), None)
    if listed is not None and Path(str(core.locate_file(listed))).resolve().parent != here:
        reason = (
            f"its aether package is at {Path(str(core.locate_file(listed))).parent}, but the "
            f"one running is at {here}"
        )
    elif not any(
        kind_for(ep.group) is not None and _is_module_of(ep.module, here)
        for ep in core.entry_points
    ):
        reason = "it declares none of Aether's entry points (aether.providers: fake, ...)"
    else:
        return None
    return (
        f"the installed distribution named aether-core ({core.version}) is not Aether's core: "
        f"{reason}. That name on the public package index belongs to an unrelated project "
        f"with its own aether package and command. Fix: pip uninstall aether-core, then "
        f"{_FROM_REPOSITORY}."
    )


def _is_module_of(module: str, package_dir: Path) -> bool:
    """Whether the dotted ``module`` is a file of the ``aether`` package in ``package_dir``."""
    top, _, rest = module.partition(".")
    if top != "aether":
        return False
    path = package_dir.joinpath(*rest.split(".")) if rest else package_dir
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
