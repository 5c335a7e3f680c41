"""aether-memory-redis runs the packaging checks of the kit.

Its store suite and the session guarantees need a Redis server, so they run in
``tests/memory_redis`` (whose fixture starts one).
"""

from __future__ import annotations

from aether.testing import PackagingConformance


class TestRedisPackagingKit(PackagingConformance):
    distribution = "aether-memory-redis"
