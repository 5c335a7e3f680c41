"""aether-memory-redis runs the packaging checks of the kit.

Its store suite needs a Redis server and runs in ``tests/memory_redis``.
"""

from __future__ import annotations

from aether.testing import PackagingConformance


class TestRedisPackagingKit(PackagingConformance):
    distribution = "aether-memory-redis"
