"""aether-tools-std runs the plugin author's kit: the tool-pack suite and the packaging checks."""

from __future__ import annotations

from aether.testing import PackagingConformance, ToolPackConformance


class TestStdToolsKit(ToolPackConformance):
    distribution = "aether-tools-std"
    refusals = (
        ("http_get", {"url": "http://127.0.0.1:9/admin"}),
        ("http_get", {"url": "http://169.254.169.254/latest/meta-data/"}),
        ("http_get", {"url": "file:///etc/passwd"}),
        ("read_file", {"path": "../../../../etc/passwd"}),
        ("get_current_time", {"timezone": "Mars/Olympus_Mons"}),
    )


class TestStdToolsPackagingKit(PackagingConformance):
    distribution = "aether-tools-std"
