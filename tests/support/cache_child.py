"""A process that asks through a client whose response cache is named by a backend spec.

``python cache_child.py SPEC ANSWER`` builds ``Aether`` with the fake provider answering
ANSWER and ``cache=CacheConfig(backend=SPEC)`` (the backend found through its plugin's entry
point, as in any fresh process), asks one question and streams another, and prints one JSON
line: ``{"text": ..., "stream": [...], "calls": N}``, N being the calls that reached the
provider. A second process on the same backend that prints ``"calls": 0`` was served from the
first one's answers.
"""

from __future__ import annotations

import asyncio
import json
import sys

QUESTION = "What is the capital of France?"
STREAMED = "Name three rivers."


async def _ask(spec: str, answer: str) -> dict[str, object]:
    from aether import Aether
    from aether.extensions.llm._layer import find_layer
    from aether.extensions.llm.builder import ProviderConfig
    from aether.extensions.llm.cache_config import CacheConfig
    from aether.extensions.llm.fake import FakeProvider

    config = ProviderConfig(
        provider="fake", options={"canned_response": answer}, cache=CacheConfig(backend=spec)
    )
    async with Aether(config=config) as client:
        text = await client.ask(QUESTION)
        chunks = [chunk.text async for chunk in client.stream(STREAMED) if chunk.text]
        fake = find_layer(client.provider, FakeProvider)
        assert fake is not None
        backend = getattr(client.provider, "backend", None)
        close = getattr(backend, "aclose", None)
        if close is not None:
            await close()
    return {"text": text, "stream": chunks, "calls": len(fake.calls)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_ask(sys.argv[1], sys.argv[2]))), flush=True)
