"""Run as a script (``python -I -B _probe.py <options.json>``): load one plugin and report.

Started by :func:`aether.testing.check_plugin_packaging` in a clean interpreter: it imports
core (timed), then loads the distribution's plugin modules through core's own
:class:`~aether.plugins.PluginManager` under an audit hook, and writes what it saw as JSON.
Only the standard library is used before core is imported, so core's time is measured alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import sysconfig
import time
import traceback
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_IO_EVENTS = {
    "socket.connect": "opens a network connection",
    "socket.bind": "binds a socket",
    "socket.getaddrinfo": "resolves a host name",
    "socket.gethostbyname": "resolves a host name",
    "socket.sendto": "sends on a socket",
    "urllib.Request": "makes an HTTP request",
    "http.client.connect": "makes an HTTP connection",
    "subprocess.Popen": "starts a subprocess",
    "os.system": "runs a shell command",
    "os.exec": "replaces the process",
    "os.posix_spawn": "starts a process",
    "os.spawn": "starts a process",
    "os.fork": "forks the process",
    "os.remove": "deletes a file",
    "os.rename": "renames a file",
    "os.mkdir": "creates a directory",
    "os.rmdir": "deletes a directory",
    "shutil.rmtree": "deletes a directory tree",
}


def _where() -> str:
    """The innermost frame of the plugin's code (not the stdlib's, not this probe's)."""
    stdlib = sysconfig.get_paths()["stdlib"]
    for frame in reversed(traceback.extract_stack()[:-2]):  # minus _where and the hook
        name = frame.filename
        if not (name.startswith(("<", stdlib)) or name == __file__):
            return f"{name}:{frame.lineno}"
    return "?"


def _io_event(event: str, args: tuple[Any, ...]) -> str | None:
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        writes = (
            any(c in mode for c in "wax+")
            if isinstance(mode, str)
            else isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
        )
        return f"opens {path!r} for writing" if writes else None
    what = _IO_EVENTS.get(event)
    if what is None:
        return None
    detail = ", ".join(repr(a) for a in args[:2]) if event.startswith("socket") else ""
    return f"{what} ({event}{': ' + detail if detail else ''})"


def main(options: dict[str, Any]) -> dict[str, Any]:
    sys.path[:0] = options["path"]
    report: dict[str, Any] = {}
    dist = importlib.metadata.distribution(options["distribution"])
    report["name"] = dist.metadata["Name"]
    report["version"] = dist.version
    report["entry_points"] = [[ep.group, ep.name, ep.value] for ep in dist.entry_points]
    report["requires"] = list(dist.requires or [])
    try:
        report["core_version"] = importlib.metadata.version("aether-core")
    except importlib.metadata.PackageNotFoundError:
        report["core_version"] = None

    started, cpu = time.perf_counter(), time.process_time()
    # ``import aether`` is lazy: load the rooms plugins build on, so the budget measures
    # what the plugin adds, not core modules it happens to be the first to import.
    import aether
    import aether.client
    import aether.http
    import aether.memory
    import aether.tools
    from aether.plugins.manager import PluginManager
    from aether.registry import Registry

    report["core_import_ms"] = (time.perf_counter() - started) * 1000
    report["core_import_cpu_ms"] = (time.process_time() - cpu) * 1000
    del aether
    before = set(sys.modules)
    io: list[str] = []
    armed = [True]

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if armed[0]:
            found = _io_event(event, args)
            if found is not None:
                armed[0] = False  # extracting the stack may itself open files
                try:
                    io.append(f"{found} at {_where()}")
                finally:
                    armed[0] = True

    sys.addaudithook(audit)
    started, cpu = time.perf_counter(), time.process_time()
    manager = PluginManager(Registry(), distributions=lambda: [dist])
    infos = manager.load_all()
    report["import_ms"] = (time.perf_counter() - started) * 1000
    report["import_cpu_ms"] = (time.process_time() - cpu) * 1000
    armed[0] = False
    report["io"] = io
    report["new_modules"] = sorted({m.split(".")[0] for m in set(sys.modules) - before})
    info = next((i for i in infos if i.distribution == dist.metadata["Name"]), None)
    report["status"] = None if info is None else info.status
    report["error"] = None if info is None else info.error
    report["traceback"] = None if info is None else info.traceback
    report["registered"] = {} if info is None else info.registered
    return report


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        options = json.load(source)
    result = main(options)
    with open(options["output"], "w", encoding="utf-8") as sink:
        json.dump(result, sink)
