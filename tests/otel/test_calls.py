"""The call span: what the call's pieces add to it (here, the response cache's hits)."""

from __future__ import annotations

import aether_otel
from aether import Aether
from aether.extensions.llm.caching import CachingProvider
from aether.extensions.llm.fake import FakeProvider
from aether_otel._calls import on_cache_hit
from aether_otel._conventions import AETHER_CACHE_HIT, AETHER_CALL_MODEL_CALLS
from tests.otel.conftest import Recorded, children


async def test_a_span_marks_a_hit(recorded: Recorded) -> None:
    async with Aether(FakeProvider(responses=["once", "a b"]), with_cache=True) as client:
        await client.ask("hi")
        await client.ask("hi")
        [c async for c in client.stream("s")]
        [c async for c in client.stream("s")]
    missed, hit = recorded.named("aether.complete")
    assert AETHER_CACHE_HIT not in (missed.attributes or {})
    assert (hit.attributes or {})[AETHER_CACHE_HIT] is True
    assert (hit.attributes or {})[AETHER_CALL_MODEL_CALLS] == 0  # no model call was made
    assert children(recorded.spans(), hit) == []  # so no chat span under it
    streamed, replayed = recorded.named("aether.stream")
    assert AETHER_CACHE_HIT not in (streamed.attributes or {})
    assert (replayed.attributes or {})[AETHER_CACHE_HIT] is True


async def test_concurrent_hits_mark_their_own_spans(recorded: Recorded) -> None:
    async with Aether(FakeProvider(responses=["x", "y"]), with_cache=True) as client:
        await client.ask("first")
        await client.ask("second")
        await client.ask("first")
    spans = recorded.named("aether.complete")
    assert [(s.attributes or {}).get(AETHER_CACHE_HIT) for s in spans] == [None, None, True]


def test_the_listener_comes_off_with_the_instrumentation(recorded: Recorded) -> None:
    client = Aether(FakeProvider(), with_cache=True)
    layer = client.provider
    assert isinstance(layer, CachingProvider)
    assert on_cache_hit in layer.listeners
    aether_otel.uninstrument()
    assert on_cache_hit not in layer.listeners
    assert len(layer.listeners) == 1  # cost tracking's stays
