"""``wrap_providers`` and ``provider_name``: reaching the bare providers of any stack, those of
a fallback chain included, and taking the wrappers out again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from aether.errors import ServerError
from aether.extensions.llm import FallbackProvider, FallbackTarget, find_layer, wrap_providers
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm._layer import ProviderLayer, provider_name
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.circuit_breaker import CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.registry import PROVIDER_KIND
from aether.extensions.llm.retrying import RetryingProvider, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message
from aether.registry import Registry

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):
        yield


class Seen(ProviderLayer):
    """A wrapper of one's own: says which provider each call reached, by the name it was given."""

    __slots__ = ("log", "name_given")

    def __init__(self, inner: LLMProvider, name: str | None, log: list[str]) -> None:
        super().__init__(inner)
        self.name_given = name
        self.log = log

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.log.append(f"{self.name_given} complete")
        return await self.inner.complete(request)

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.log.append(f"{self.name_given} stream")
        return self.inner.stream(request)


class Wrapper:
    """The ``wrap`` callable: a :class:`Seen` around each provider, remembering each."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.made: list[Seen] = []

    def __call__(self, provider: LLMProvider, name: str | None) -> LLMProvider:
        seen = Seen(provider, name, self.log)
        self.made.append(seen)
        return seen


def types_of(provider: object) -> list[type]:
    found = []
    while provider is not None:
        found.append(type(provider))
        provider = getattr(provider, "inner", None)
    return found


def registry_with(*names: str) -> Registry:
    """A registry where each of ``names`` is the fake provider (a name of one's own choice)."""
    registry = Registry()
    for name in names:
        registry.register(PROVIDER_KIND, name)(FakeProvider)
    return registry


# --- plain stacks ---------------------------------------------------------------------------


async def test_a_plain_stack_gets_the_wrapper_directly_around_its_provider() -> None:
    fake = FakeProvider(responses=["ok"])
    built = build_provider(ProviderConfig(circuit_breaker=None), provider=fake)
    wrap = Wrapper()
    wrapped, undo = wrap_providers(built, wrap)
    assert wrapped is built
    assert types_of(built) == [CostTrackingProvider, RetryingProvider, Seen, FakeProvider]
    assert wrap.made[0].name_given == "fake"  # the provider's own name, as nothing else says
    assert (await built.complete(REQUEST)).text == "ok"
    assert wrap.log == ["fake complete"]
    undo()
    assert types_of(built) == [CostTrackingProvider, RetryingProvider, FakeProvider]


async def test_the_default_stack_calls_through_the_wrapper_on_its_fused_path() -> None:
    built = build_provider(ProviderConfig(provider="spare"), registry=registry_with("spare"))
    assert type(built) is DefaultStack
    wrap = Wrapper()
    wrap_providers(built, wrap)
    assert types_of(built)[-2:] == [Seen, FakeProvider]
    # The registered name, which the breaker carries; FakeProvider itself says "fake".
    assert wrap.made[0].name_given == "spare"
    await built.complete(REQUEST)
    assert [chunk.text async for chunk in built.stream(REQUEST)][-1] == ""
    assert wrap.log == ["spare complete", "spare stream"]


def test_a_name_given_by_the_caller_wins_over_the_stacks() -> None:
    built = build_provider(provider=FakeProvider())
    wrap = Wrapper()
    wrap_providers(built, wrap, name="configured")
    assert wrap.made[0].name_given == "configured"


async def test_a_bare_provider_is_replaced_by_its_wrapper_which_the_caller_keeps() -> None:
    fake = FakeProvider(responses=["ok"])
    wrap = Wrapper()
    wrapped, undo = wrap_providers(fake, wrap)
    assert isinstance(wrapped, Seen) and wrapped.inner is fake
    assert (await wrapped.complete(REQUEST)).text == "ok"
    undo()  # nothing of the caller's to put back: the caller drops its wrapper itself
    assert wrapped.inner is fake


def test_a_wrap_that_returns_the_provider_leaves_the_stack_as_it_was() -> None:
    built = build_provider(provider=FakeProvider())
    before = types_of(built)
    wrapped, undo = wrap_providers(built, lambda provider, name: provider)
    assert wrapped is built and types_of(built) == before
    undo()
    assert types_of(built) == before


def test_a_stack_that_loops_on_itself_is_left_alone() -> None:
    class Loop(ProviderLayer):
        pass

    loop = Loop(FakeProvider())
    loop.inner = loop  # type: ignore[assignment]
    wrap = Wrapper()
    wrap_providers(loop, wrap)  # type: ignore[arg-type]  # a layer that only loops
    assert wrap.made == []


# --- fallback chains ------------------------------------------------------------------------


def chain_config() -> ProviderConfig:
    return ProviderConfig(
        provider="fake",
        options={"responses": [ServerError("busy", status_code=503)]},
        retry=None,
        fallbacks=[
            ProviderConfig(provider="spare", model="spare-model"),
            # No layers of its own: the target holds the bare provider itself.
            ProviderConfig(provider="last", circuit_breaker=None, retry=None),
        ],
    )


async def test_every_stack_of_a_fallback_chain_is_followed() -> None:
    built = build_provider(chain_config(), registry=registry_with("fake", "spare", "last"))
    chain = find_layer(built, FallbackProvider)
    assert chain is not None
    wrap = Wrapper()
    wrapped, _ = wrap_providers(built, wrap)
    assert wrapped is built
    assert [seen.name_given for seen in wrap.made] == ["fake", "spare", "last"]
    assert types_of(chain.inner)[-2:] == [Seen, FakeProvider]
    assert types_of(chain.fallbacks[0].provider)[-2:] == [Seen, FakeProvider]
    assert isinstance(chain.fallbacks[1].provider, Seen)  # the bare target, swapped whole
    assert chain.fallbacks[1].name == "last"  # the rest of the target is kept
    # The first provider fails, the first fallback answers: both calls were seen.
    assert (await built.complete(REQUEST)).text == "You said: hi"
    assert wrap.log == ["fake complete", "spare complete"]


async def test_undo_restores_every_stack_of_the_chain() -> None:
    built = build_provider(chain_config(), registry=registry_with("fake", "spare", "last"))
    chain = find_layer(built, FallbackProvider)
    assert chain is not None
    before = [types_of(chain.inner), *(types_of(t.provider) for t in chain.fallbacks)]
    targets = chain.fallbacks
    wrap = Wrapper()
    _, undo = wrap_providers(built, wrap)
    undo()
    after = [types_of(chain.inner), *(types_of(t.provider) for t in chain.fallbacks)]
    assert after == before
    assert chain.fallbacks[1] is targets[1]  # the very target that was swapped
    await built.complete(REQUEST)
    assert wrap.log == []
    undo()  # twice is harmless
    assert [types_of(chain.inner), *(types_of(t.provider) for t in chain.fallbacks)] == before


def test_a_bare_first_provider_of_a_chain_is_swapped_in_inner_and_primary() -> None:
    first, second = FakeProvider(), FakeProvider(default_model="second-model")
    chain = FallbackProvider([first, FallbackTarget(second, name="backup")])
    wrap = Wrapper()
    _, undo = wrap_providers(chain, wrap)
    assert [seen.name_given for seen in wrap.made] == ["fake", "backup"]
    wrapper, spare = wrap.made
    assert stacks(chain) == [wrapper, wrapper, spare]
    assert chain.primary.name == "fake"
    undo()
    assert stacks(chain) == [first, first, second]


def stacks(chain: FallbackProvider) -> list[object]:
    """What the chain calls: its first provider (as ``inner`` and as its first target say),
    then each fallback."""
    return [chain.inner, chain.primary.provider, *(t.provider for t in chain.fallbacks)]


def test_undo_leaves_alone_a_wrapper_replaced_meanwhile() -> None:
    built = build_provider(ProviderConfig(circuit_breaker=None), provider=FakeProvider())
    retry = find_layer(built, RetryingProvider)
    assert retry is not None
    _, undo = wrap_providers(built, Wrapper())
    someone_elses = FakeProvider()
    retry.inner = someone_elses
    undo()
    assert retry.inner is someone_elses


def test_a_layer_shared_by_two_stacks_of_a_chain_is_wrapped_once() -> None:
    shared = RetryingProvider(FakeProvider())
    chain = FallbackProvider([shared, FallbackTarget(shared, name="again", model="other")])
    wrap = Wrapper()
    wrap_providers(chain, wrap)
    assert len(wrap.made) == 1
    assert types_of(shared) == [RetryingProvider, Seen, FakeProvider]


# --- provider_name --------------------------------------------------------------------------


def test_provider_name_is_the_first_name_walking_inner() -> None:
    built = build_provider(ProviderConfig(provider="spare"), registry=registry_with("spare"))
    assert provider_name(built) == "spare"  # the breaker's: the registered name
    assert provider_name(find_layer(built, RetryingProvider)) == "fake"  # the provider's own
    unnamed = CircuitBreakerProvider(RetryingProvider(object()))  # type: ignore[arg-type]
    assert provider_name(unnamed) is None
