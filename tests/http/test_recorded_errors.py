"""Every recorded error answer keeps the provider's own words, whole, before Aether's hint.

The records in ``tests/recorded`` are real answers of the three APIs; each one whose ``kind``
names an error is replayed through its provider, as a call and as a stream, and the message
the API wrote must open the error's text verbatim, with Aether's hint after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.errors import ProviderError
from aether.extensions.llm.factory import create_provider
from aether.llm.contracts import LLMProvider, LLMRequest, Message
from tests.support.conformance import load, record_files, replay_transport

KEY = "sk-recorded-errors-77"  # not the placeholder some records quote
REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m")


def _error_records() -> list[Path]:
    found = [
        path
        for name in ("openai", "gemini", "anthropic")
        for path in record_files(name)
        if any("error" in kind for kind in load(path)["kind"])
    ]
    assert len(found) >= 12, "the recorded error answers are missing"
    return found


def _provider_message(record: dict[str, Any]) -> str:
    error = record["expect"]["error"]
    message = error.get("message")
    assert isinstance(message, str) and message, record["source"]
    return message


async def _call(provider: LLMProvider, streaming: bool) -> None:
    if streaming:
        async for _ in provider.stream(REQUEST):
            pass
    else:
        await provider.complete(REQUEST)


@pytest.mark.parametrize("path", _error_records(), ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_the_providers_words_come_first_and_whole(path: Path, streaming: bool) -> None:
    record = load(path)
    name, status = record["provider"], record["response"]["status"]
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=replay_transport(record, seen))
    provider = create_provider(name, api_key=KEY, http_client=client)
    with pytest.raises(ProviderError) as info:
        await _call(provider, streaming)
    await client.aclose()
    message = _provider_message(record)
    text = str(info.value)
    opening = f"[{name} HTTP {status}] {message}"
    assert text.startswith(opening), (text, message)
    assert info.value.provider_message == message
    hint = text[len(opening) :]
    assert len(hint.strip(" .")) > 20, "Aether's hint follows the provider's words"
    assert len(seen) == 1
