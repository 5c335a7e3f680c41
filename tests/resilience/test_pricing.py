"""Prices: overrides, the bundled genai-prices data, snapshots, cached and reasoning tokens."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import genai_prices
import pytest

from aether.extensions.llm import cost_tracking
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.pricing import ModelPricing, PriceBook, TimedPricer, snapshot_names
from aether.llm.contracts import LLMRequest, LLMResponse, Message


def library_cost(model: str, **usage: int) -> float:
    return float(genai_prices.calc_price(genai_prices.Usage(**usage), model).total_price)


def test_cost_counts_cached_and_cache_write_tokens_at_their_own_prices() -> None:
    price = ModelPricing(
        input_per_million=3.0,
        output_per_million=15.0,
        cached_input_per_million=0.3,
        cache_write_per_million=3.75,
    )
    # 1000 input = 500 uncached + 400 cache reads + 100 cache writes.
    cost = price.cost(1000, 500, cached_input_tokens=400, cache_write_tokens=100)
    assert cost == pytest.approx((500 * 3.0 + 400 * 0.3 + 100 * 3.75 + 500 * 15.0) / 1e6)


def test_cached_tokens_without_a_cache_price_cost_the_input_price() -> None:
    price = ModelPricing(input_per_million=1.0, output_per_million=2.0)
    assert price.cost(1000, 0, cached_input_tokens=600) == pytest.approx(1000 / 1e6)


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        ("gpt-4o-mini", {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 1000}),
        (
            "claude-3-5-sonnet-20241022",
            {
                "input_tokens": 2000,
                "output_tokens": 100,
                "cache_read_tokens": 500,
                "cache_write_tokens": 700,
            },
        ),
        ("gemini-2.5-flash", {"input_tokens": 10, "output_tokens": 4000}),
        ("o3-mini", {"input_tokens": 50, "output_tokens": 2500}),
    ],
)
def test_library_prices_match_genai_prices_exactly(model: str, usage: dict[str, int]) -> None:
    book = PriceBook()
    cost = book.cost(
        model,
        usage["input_tokens"],
        usage["output_tokens"],
        usage.get("cache_read_tokens", 0),
        usage.get("cache_write_tokens", 0),
    )
    assert cost == pytest.approx(library_cost(model, **usage), rel=1e-9)


def test_reasoning_tokens_are_billed_as_output_tokens() -> None:
    # The contract counts reasoning inside output_tokens, which is how OpenAI, Anthropic and
    # Google bill them: 2500 output tokens of which 2000 reasoning cost 2500 output tokens.
    book = PriceBook()
    cost = book.cost("o3-mini", 50, 2500)
    assert cost == pytest.approx((50 * 1.1 + 2500 * 4.4) / 1e6)


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2099-12-31", "gpt-4o-mini"),  # a snapshot newer than the bundled data
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
    ],
)
def test_dated_snapshots_cost_what_their_model_costs(model: str, base: str) -> None:
    book = PriceBook()
    assert book.cost(model, 1000, 1000) == pytest.approx(book.cost(base, 1000, 1000))
    assert book.cost(model, 1000, 1000) is not None


def test_snapshot_names_go_from_specific_to_general() -> None:
    assert list(snapshot_names("Models/GPT-4o-mini-2024-07-18")) == [
        "models/gpt-4o-mini-2024-07-18",
        "gpt-4o-mini-2024-07-18",
        "gpt-4o-mini",
    ]
    assert list(snapshot_names("claude-3-5-haiku@20241022")) == [
        "claude-3-5-haiku@20241022",
        "claude-3-5-haiku",
    ]
    assert list(snapshot_names("gemini-2.0-flash-001")) == [
        "gemini-2.0-flash-001",
        "gemini-2.0-flash",
    ]


def test_unknown_models_have_no_price_not_a_zero_one() -> None:
    book = PriceBook()
    assert book.cost("my-local-llama", 1000, 1000) is None
    assert book.pricer("") is None


def test_overrides_win_and_cover_snapshots() -> None:
    mine = ModelPricing(input_per_million=100.0, output_per_million=200.0)
    book = PriceBook({"GPT-4o-mini": mine})
    assert book.cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(100.0)
    assert book.cost("gpt-4o-mini-2024-07-18", 0, 1_000_000) == pytest.approx(200.0)
    # An exact snapshot override beats the override of its base name.
    dated = ModelPricing(input_per_million=1.0, output_per_million=1.0)
    book = PriceBook({"gpt-4o-mini": mine, "gpt-4o-mini-2024-07-18": dated})
    assert book.cost("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(1.0)


def test_overrides_alone_when_the_library_is_off() -> None:
    book = PriceBook(
        {"x": ModelPricing(input_per_million=1, output_per_million=1)}, use_library=False
    )
    assert book.cost("gpt-4o-mini", 10, 10) is None
    assert book.cost("x", 10, 10) == pytest.approx(20 / 1e6)


def test_prompt_size_tiers_are_priced_like_genai_prices() -> None:
    book = PriceBook()
    for input_tokens in (1000, 200_000, 200_001, 500_000):
        usage = {"input_tokens": input_tokens, "output_tokens": 1000, "cache_read_tokens": 100}
        expected = library_cost("gemini-2.5-pro", **usage)
        assert book.cost("gemini-2.5-pro", input_tokens, 1000, 100) == pytest.approx(expected)


def test_time_dependent_prices_are_looked_up_per_call() -> None:
    # deepseek-chat has off-peak prices in the bundled data: resolved at each call.
    book = PriceBook()
    cost = book.cost("deepseek-chat", 1000, 1000)
    assert cost == pytest.approx(
        library_cost("deepseek-chat", input_tokens=1000, output_tokens=1000)
    )


def test_each_name_is_resolved_once() -> None:
    book = PriceBook()
    first = book.resolve("gpt-4o-mini-2024-07-18")
    assert isinstance(first, ModelPricing)  # flat prices: totals can be priced at once
    assert book.resolve("gpt-4o-mini-2024-07-18") is first
    assert book.resolve("nope") is None
    assert "nope" in book._cache


def test_model_pricing_rejects_negative_prices() -> None:
    with pytest.raises(ValueError):
        ModelPricing(input_per_million=-1, output_per_million=1)


def test_import_aether_does_not_import_genai_prices() -> None:
    code = (
        "import sys, aether\n"
        "from aether.extensions.llm import builder, cost_tracking, pricing\n"
        "assert 'genai_prices' not in sys.modules, 'imported eagerly'\n"
        "pricing.PriceBook().cost('gpt-4o-mini', 1, 1)\n"
        "assert 'genai_prices' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_import_and_pricing_make_no_network_calls() -> None:
    # A fresh interpreter with every way to open a connection blocked: importing aether,
    # loading genai-prices' bundled data and pricing models must not need the network.
    code = """
import socket

def refuse(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args!r}")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
try:  # the block itself works
    socket.create_connection(("example.com", 80))
except AssertionError:
    pass
else:
    raise SystemExit("the socket block is not in effect")

import aether
from aether.extensions.llm.pricing import PriceBook

book = PriceBook({})
cost = book.cost("gpt-4o-mini-2024-07-18", 1000, 500, 200)
assert cost is not None and cost > 0, cost
assert book.cost("claude-3-5-sonnet-20241022", 1000, 500) is not None
assert book.cost("surely-not-a-model", 1000, 500) is None
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_first_call_does_not_load_the_price_data() -> None:
    # Prices are looked up when usage is read (or every few hundred calls), so the first
    # answer of a fresh process does not wait for the price data to load.
    code = (
        "import asyncio, sys\n"
        "from aether import Aether, LLMResponse\n"
        "from aether.extensions.llm.fake import FakeProvider\n"
        "answer = LLMResponse(text='hi', model='gpt-4o-mini', input_tokens=10, output_tokens=5)\n"
        "client = Aether(provider=FakeProvider(responses=[answer]))\n"
        "assert asyncio.run(client.ask('hello')) == 'hi'\n"
        "assert 'genai_prices' not in sys.modules, 'priced on the request path'\n"
        "usage = client.usage\n"
        "assert 'genai_prices' in sys.modules\n"
        "assert usage.total_cost_usd > 0, usage\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _utc(hour: int, minute: int = 0) -> float:
    return datetime(2025, 6, 2, hour, minute, tzinfo=timezone.utc).timestamp()


async def test_time_of_day_prices_are_those_in_force_when_the_call_was_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # deepseek-chat is cheaper off-peak (16:30-00:30 UTC in the bundled data). A call is
    # priced at the next fold, later than it was made: it still costs what it cost then.
    pricer = PriceBook().resolve("deepseek-chat")
    assert isinstance(pricer, TimedPricer)
    peak = pricer.priced_at(1_000_000, 1_000_000, 0, 0, _utc(10))
    off_peak = pricer.priced_at(1_000_000, 1_000_000, 0, 0, _utc(18))
    assert peak is not None and off_peak is not None and off_peak < peak
    # The call is made in the period the real clock is not in, so pricing it "now" would differ.
    now = pricer(1_000_000, 1_000_000, 0, 0)
    made_at, expected = (_utc(10), peak) if now == off_peak else (_utc(18), off_peak)

    answer = LLMResponse(
        text="x", model="deepseek-chat", input_tokens=1_000_000, output_tokens=1_000_000
    )
    layer = CostTrackingProvider(FakeProvider(responses=[answer]))
    monkeypatch.setattr(cost_tracking, "time", lambda: made_at)
    await layer.complete(LLMRequest(messages=[Message(role="user", content="hi")]))
    monkeypatch.undo()
    assert layer.usage.total_cost_usd == pytest.approx(expected)
