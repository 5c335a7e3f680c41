"""``ask``: one question, one answer, with no client to keep.

    from aether import ask

    answer = await ask("What is the meaning of life?")            # the provider LLM_PROVIDER names
    answer = await ask("What is 17 + 25?", "gemini", tools=["add"])  # a provider by name
    answer = await ask("hi", FakeProvider(canned_response="hello"))  # a provider, used as given
    city = await ask("Where is the Louvre?", output_type=City)     # a typed answer

``ask(question, provider)`` is ``Aether(...).ask(question)``: a name or None builds the
client the way ``Aether()`` does (the provider plugin, retry, circuit breaker and cost tracking,
from the environment), a provider object is used as given, and the answer text comes back.
For more than one call keep an :class:`~aether.Aether` instead: it keeps the provider's
connections, the circuit breaker's state and ``usage`` across calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from typing_extensions import TypeVar

from aether._call import CallOptions

# The rest only for annotations: ``aether.llm`` exports this function and is imported while
# ``aether.client`` and ``aether.events`` are still loading, so the client is imported on call.
if TYPE_CHECKING:
    from aether.client import ToolsArg
    from aether.events import EventBus
    from aether.llm.contracts import LLMProvider, ToolChoice
    from aether.llm.output import Output
    from aether.llm.settings import CallSettings

__all__ = ["ask"]

T = TypeVar("T", default=str)  # the answer's type: str unless output_type says otherwise


async def ask(
    question: str,
    provider: LLMProvider | str | None = None,
    *,
    tools: ToolsArg = None,
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: str | Sequence[str] | None = None,
    tool_choice: ToolChoice | None = None,
    allowed_tools: Sequence[str] | None = None,
    max_tool_iterations: int | None = None,
    tool_timeout: float | None = None,
    settings: CallSettings | None = None,
    events: EventBus | None = None,
    output_type: type[T] | Output[T] | None = None,
    cache: bool | None = None,
) -> T:
    """Ask one question and return the final answer text (see :meth:`Aether.ask`).

    A client built here from a name (or from the environment) is closed before returning; a
    provider object passed in stays open, as it is the caller's.

    Args:
        question: The user's question.
        provider: A provider object, used as given (as ``Aether(provider)`` would); a
            provider name (``"openai"``, ``"fake"``, ...) built with the full resilient stack;
            or None: the provider ``LLM_PROVIDER`` names.
        tools: Tools the model may call (registered names, ``Tool`` objects or functions).
        model: Model override for this call; default: the provider's default model.
        temperature: Sampling temperature; default: ``AETHER_DEFAULT_TEMPERATURE``, else 0.7.
        max_tokens: Output cap.
        stop: Stop sequences.
        tool_choice: How the model must use ``tools``.
        allowed_tools: Names among ``tools`` the model may call this time (all stay
            declared).
        max_tool_iterations: The most tool rounds; default: ``AETHER_MAX_TOOL_ITERATIONS``,
            else 10.
        tool_timeout: Seconds each tool call may take; default: each tool's own ``timeout``.
        settings: Call settings (:class:`~aether.llm.settings.CallSettings`): sampling,
            reasoning, caching, ``timeout``, provider options; the keywords above win.
        events: Where the call's lifecycle events go; default: nowhere.
        output_type: Return a value of this type instead of the text: a type pydantic
            validates, or an :class:`~aether.llm.output.Output` (see :meth:`Aether.ask`).
        cache: True: the answer comes from the response cache when it holds it, and is
            stored there, in the backend ``AETHER_CACHE`` names (a persistent one, such as
            ``sqlite:///cache.db``: the memory backend, the default, lasts only this call).
            None or False: no cache.

    Raises:
        TypeError: ``question`` is not a string (use ``Aether().ask(messages)`` for a whole
            conversation), or ``provider`` is neither a provider, a name nor None.
    """
    if not isinstance(question, str):
        raise TypeError(
            f"ask() takes the question as a str, got {type(question).__name__}; for a whole "
            f"conversation, use Aether().ask(messages)."
        )
    call = CallOptions(
        tools=tools,
        model=model,
        temperature=temperature,
        max_tokens=max_tokens,
        stop=stop,
        tool_choice=tool_choice,
        allowed_tools=allowed_tools,
        max_tool_iterations=max_tool_iterations,
        tool_timeout=tool_timeout,
        settings=settings,
        output_type=output_type,
        cache=cache,
    )
    from aether.client import Aether
    from aether.extensions.llm.builder import ProviderConfig

    owned = provider is None or isinstance(provider, str)
    with_cache = True if cache else None  # a client built here has no cache otherwise
    if provider is None:
        client = Aether(events=events, with_cache=with_cache)
    elif isinstance(provider, str):
        client = Aether(
            config=ProviderConfig(provider=provider), events=events, with_cache=with_cache
        )
    else:
        client = Aether(provider, events=events, with_cache=with_cache)
    try:
        answer: T = client._answer(await client._completion(question, call), call)
        return answer
    finally:
        if owned:
            await client.aclose()
