"""Each packaging check fails on a plugin broken in its way, and passes on a good one."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether.testing import PackagingReport, check_plugin_packaging
from tests.support.plugins import EntryPoints, good_provider_code, write_installed

PROVIDERS = "aether.providers"
CORE_RANGE = "aether-core>=0.1,<0.2"


def install(
    site: Path,
    code: str,
    *,
    dist: str = "aether-kitcheck",
    entry_points: EntryPoints | None = None,
    requires: str | None = CORE_RANGE,
    extra_modules: dict[str, str] | None = None,
) -> None:
    package = dist.replace("-", "_")
    module = f"{package}.plugin"
    write_installed(
        site,
        dist,
        "1.0.0",
        entry_points if entry_points is not None else {PROVIDERS: {"kitcheck": module}},
        {module: code},
    )
    if requires:
        metadata = site / f"{package}-1.0.0.dist-info" / "METADATA"
        metadata.write_text(metadata.read_text() + f"Requires-Dist: {requires}\n")
    for name, source in (extra_modules or {}).items():
        (site / f"{name}.py").write_text(source)


def check(site: Path, dist: str = "aether-kitcheck", **options: object) -> PackagingReport:
    return check_plugin_packaging(dist, path=[site], **options)  # type: ignore[arg-type]


def failing(report: PackagingReport) -> set[str]:
    return {name for name, problems in report.problems.items() if problems}


def test_a_good_plugin_passes_every_check(tmp_path: Path) -> None:
    install(tmp_path, good_provider_code("kitcheck"))
    report = check(tmp_path)
    report.assert_ok()
    assert report.registered == {"provider": ["kitcheck"]}
    assert report.declared == {PROVIDERS: ["kitcheck"]}
    assert report.core_version == "0.1.0" and report.import_ms >= 0
    assert "aether-kitcheck 1.0.0: loaded in" in report.summary()


def test_wrong_group_fails_entry_points_and_loading(tmp_path: Path) -> None:
    module = "aether_kitcheck.plugin"
    install(
        tmp_path,
        good_provider_code("kitcheck"),
        entry_points={"aether.provider": {"kitcheck": module}},
    )
    report = check(tmp_path)
    assert failing(report) == {"entry_points", "loads"}
    assert "'aether.provider', which Aether does not read" in report.problems["entry_points"][0]
    with pytest.raises(AssertionError, match=r"\[entry_points\]"):
        report.assert_ok()


def test_entry_point_naming_an_attribute_fails(tmp_path: Path) -> None:
    install(
        tmp_path,
        good_provider_code("kitcheck"),
        entry_points={PROVIDERS: {"kitcheck": "aether_kitcheck.plugin:EchoProvider"}},
    )
    assert "entry_points" in failing(check(tmp_path))


def test_crashing_import_fails_loading(tmp_path: Path) -> None:
    install(tmp_path, 'raise ImportError("needs missinglib")')
    report = check(tmp_path)
    assert failing(report) == {"loads"}
    assert "missinglib" in report.problems["loads"][0]
    assert report.traceback and "ImportError" in report.traceback


def test_heavy_import_fails_unless_allowed(tmp_path: Path) -> None:
    code = "import torch\n" + good_provider_code("kitcheck")
    install(tmp_path, code, extra_modules={"torch": "WEIGHTS = [0.0] * 10\n"})
    report = check(tmp_path)
    assert failing(report) == {"not_heavy"}
    assert "loading imports torch" in report.problems["not_heavy"][0]
    check(tmp_path, allow_heavy=("torch",)).assert_ok()


def test_slow_import_fails_the_budget(tmp_path: Path) -> None:
    # Busy for 0.3 s of CPU: the budget counts CPU time, so sleeping would not count.
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
    install(tmp_path, busy + good_provider_code("kitcheck"))
    report = check(tmp_path, import_budget_ms=100.0)
    assert failing(report) == {"import_budget"}
    assert report.import_cpu_ms >= 300 and "ms of CPU" in report.problems["import_budget"][0]


@pytest.mark.parametrize(
    ("io", "expected"),
    [
        ("open(__file__ + '.log', 'w').close()", "for writing"),
        ("import os\nos.close(os.open(__file__ + '.x', os.O_WRONLY | os.O_CREAT))", "for writing"),
        (
            "import socket\ns = socket.socket()\ntry:\n    s.connect(('127.0.0.1', 9))\n"
            "except OSError:\n    pass\nfinally:\n    s.close()",
            "opens a network connection",
        ),
        (
            "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'], check=True)",
            "starts a subprocess",
        ),
    ],
)
def test_io_at_import_fails(tmp_path: Path, io: str, expected: str) -> None:
    install(tmp_path, io + "\n" + good_provider_code("kitcheck"))
    report = check(tmp_path)
    assert failing(report) == {"no_io"}, report.problems
    assert expected in report.problems["no_io"][0]
    assert "plugin.py" in report.problems["no_io"][0]  # says where


def test_registering_other_names_than_declared_fails(tmp_path: Path) -> None:
    install(tmp_path, good_provider_code("something_else"))
    report = check(tmp_path)
    assert failing(report) == {"registers"}
    problems = " ".join(report.problems["registers"])
    assert "'kitcheck' is declared" in problems and "'something_else' is registered" in problems


def test_a_name_outside_aether_star_fails(tmp_path: Path) -> None:
    install(tmp_path, good_provider_code("kitcheck"), dist="kitcheck-plugin")
    assert failing(check(tmp_path, "kitcheck-plugin")) == {"name"}


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        ("aether-core>=9,<10", "but aether-core 0.1.0 is installed"),
        ("aether-core", "without a version range"),
        (None, "does not require aether-core"),
    ],
)
def test_core_outside_the_declared_range_fails(
    tmp_path: Path, requires: str | None, expected: str
) -> None:
    install(tmp_path, good_provider_code("kitcheck"), requires=requires)
    report = check(tmp_path)
    assert failing(report) == {"core_version"}
    assert expected in report.problems["core_version"][0]


def test_a_distribution_that_is_not_installed_is_reported(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="is it installed"):
        check(tmp_path, "aether-not-installed-anywhere")
