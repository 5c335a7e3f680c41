"""An MCP tool's image reaches the model as an image, or as a note where it cannot go."""

from __future__ import annotations

from aether.client import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.parts import ImagePart, TextPart
from aether_mcp import MCPServer
from tests.mcp.conftest import stdio_server
from tests.mcp.test_stdio import tool_results, turn

NOTE = "[image (image/png, 4 bytes) not shown: it cannot be sent in a tool result here]"


class TextResultsOnly(FakeProvider):
    """Takes images in user messages, but not in tool results (as OpenAI's chat API)."""

    name = "text-results"
    capabilities = ProviderCapabilities(image_input=True)


async def test_an_image_reaches_a_provider_that_takes_media_in_tool_results() -> None:
    fake = FakeProvider(responses=[turn(("c1", "picture", {})), "a tiny PNG"])
    async with stdio_server() as server:
        assert await Aether(fake).ask("draw", tools=[server]) == "a tiny PNG"
    (message,) = [m for m in fake.calls[1].messages if m.role == "tool"]
    assert isinstance(message.content, list)
    caption, image = message.content
    assert caption == TextPart(text="a tiny picture")
    assert isinstance(image, ImagePart)
    assert (image.data, image.media_type) == (b"\x89PNG", "image/png")


async def test_an_image_becomes_a_note_for_a_provider_that_does_not_take_it() -> None:
    fake = TextResultsOnly(responses=[turn(("c1", "picture", {})), "no picture"])
    async with stdio_server() as server:
        assert await Aether(fake).ask("draw", tools=[server]) == "no picture"
    assert tool_results(fake, 1) == [f"a tiny picture\n{NOTE}"]


async def test_an_image_over_http_reaches_the_model_and_its_text_event(http_url: str) -> None:
    fake = FakeProvider(responses=[turn(("c1", "picture", {})), "seen"])
    client = Aether(fake)
    shown: list[str] = []
    client.on("tool.complete", lambda event: shown.append(event.result))
    async with MCPServer.http("web", http_url) as server:
        await client.ask("draw", tools=[server])
    (message,) = [m for m in fake.calls[1].messages if m.role == "tool"]
    assert isinstance(message.content, list)
    assert [part.type for part in message.content] == ["text", "image"]
    assert message.media[0].data == b"\x89PNG"
    assert shown == ["a tiny picture\n[image (image/png, 4 bytes)]"]
