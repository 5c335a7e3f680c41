"""Cold start: ``import aether`` + ``Aether()`` and the ``aether plugins`` command.

Each figure is the median over fresh interpreter processes, printed with its ratio to a
bare ``python -c pass`` measured in the same run. Run: ``python bench/bench_startup.py``.
The budget is that start-up does not grow with the number of installed-but-unused plugins:
compare ``Aether() [fake]`` against the same with N extra dummy plugins on the path
(``--extra-plugins N`` writes them to a temporary folder first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import print_table, python_seconds

DUMMY_PLUGIN = "raise RuntimeError('an unused plugin must never be imported')\n"


def _write_dummies(root: Path, count: int) -> None:
    for index in range(count):
        package = f"aether_dummy{index}"
        info = root / f"{package}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: aether-dummy{index}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[aether.providers]\ndummy{index} = {package}\n")
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(DUMMY_PLUGIN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--extra-plugins", type=int, default=50)
    args = parser.parse_args()

    env = {**os.environ, "LLM_PROVIDER": "fake"}
    baseline = python_seconds("pass", repeat=args.repeat, env=env)
    httpx = python_seconds("import httpx", repeat=args.repeat, env=env)
    aether = python_seconds("import aether", repeat=args.repeat, env=env)
    client = python_seconds("import aether; aether.Aether()", repeat=args.repeat, env=env)

    with tempfile.TemporaryDirectory() as tmp:
        _write_dummies(Path(tmp), args.extra_plugins)
        crowded = {**env, "PYTHONPATH": tmp}
        client_crowded = python_seconds(
            "import aether; aether.Aether()", repeat=args.repeat, env=crowded
        )
        aether_bin = shutil.which("aether") or str(Path(sys.executable).with_name("aether"))
        from _util import median_seconds

        plugins = median_seconds(
            lambda: subprocess.run(
                [aether_bin, "plugins", "--json"], check=False, env=env, capture_output=True
            ),
            repeat=args.repeat,
        )
        plugins_crowded = median_seconds(
            lambda: subprocess.run(
                [aether_bin, "plugins", "--json"], check=False, env=crowded, capture_output=True
            ),
            repeat=args.repeat,
        )

    ms = 1000.0
    print_table(
        "Cold start (median of fresh processes, ms; ratio to `import httpx`)",
        [
            ("python -c pass", baseline * ms, httpx and baseline / httpx),
            ("import httpx", httpx * ms, None),
            ("import aether", aether * ms, aether / httpx),
            ("import aether; Aether() [fake]", client * ms, client / httpx),
            (
                f"  ... with {args.extra_plugins} unused plugins installed",
                client_crowded * ms,
                client_crowded / httpx,
            ),
            ("aether plugins --json", plugins * ms, plugins / httpx),
            (
                f"  ... with {args.extra_plugins} more plugins",
                plugins_crowded * ms,
                plugins_crowded / httpx,
            ),
        ],
        "ms",
    )
    print(
        f"\nUnused plugins cost Aether() {client_crowded / client:.2f}x (budget: ~1.0x, no growth)."
    )


if __name__ == "__main__":
    main()
