"""``aether_anthropic.MODELS``: what each Claude family takes, and how a user extends it."""

from __future__ import annotations

import pytest

from aether.llm.models import ModelTable, ModelTraits
from aether_anthropic import MODELS, ClaudeTraits
from aether_anthropic._models import DEFAULT_TRAITS, claude_traits


@pytest.mark.parametrize(
    "model",
    ["claude-3-haiku-20240307", "claude-3-5-sonnet-latest", "claude-3-opus-20240229"],
)
def test_the_claude_3_generation_does_not_think(model: str) -> None:
    traits = claude_traits(model)
    assert (traits.reasoning, traits.sampling) == (False, True)


@pytest.mark.parametrize(
    "model",
    [
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-20250514",
        "claude-opus-4-1-20250805",
        "claude-sonnet-4-5",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5",
    ],
)
def test_budget_thinkers(model: str) -> None:
    traits = claude_traits(model)
    assert (traits.reasoning, traits.thinking_budget, traits.adaptive_thinking) == (
        True,
        True,
        False,
    )
    assert traits.sampling


@pytest.mark.parametrize(
    ("model", "both"),
    [
        ("claude-3-7-sonnet-20250219", True),
        ("claude-sonnet-4-0", True),
        ("claude-opus-4-20250514", True),
        ("claude-opus-4-1", False),
        ("claude-sonnet-4-5-20250929", False),
        ("claude-haiku-4-5", False),
        ("claude-sonnet-4-6", False),
    ],
)
def test_from_opus_4_1_on_temperature_or_top_p(model: str, both: bool) -> None:
    assert claude_traits(model).temperature_and_top_p is both


def test_the_4_6_models_think_both_ways_and_later_opus_adaptively_only() -> None:
    for model in ("claude-opus-4-6", "claude-sonnet-4-6"):
        traits = claude_traits(model)
        assert traits.adaptive_thinking and traits.thinking_budget and traits.sampling
    for model in ("claude-opus-4-7", "claude-opus-4-8"):
        traits = claude_traits(model)
        assert traits.adaptive_thinking and not traits.thinking_budget
        assert not traits.sampling, "Opus 4.7 and later take no temperature or top_p"
    assert claude_traits("claude-opus-4-8").system_messages
    assert not claude_traits("claude-opus-4-7").system_messages


@pytest.mark.parametrize(
    "model",
    [
        "us.anthropic.claude-opus-4-8-v1:0",
        "anthropic.claude-opus-4-8-20260528-v1:0",
        "claude-opus-4-8@20260528",
        "publishers/anthropic/models/claude-opus-4-8",
    ],
)
def test_cloud_ids_find_their_family(model: str) -> None:
    assert claude_traits(model) == claude_traits("claude-opus-4-8")


def test_every_claude_takes_images_and_pdfs_and_none_audio() -> None:
    for model in ("claude-3-haiku", "claude-sonnet-4-5", "claude-opus-4-8", "claude-unknown"):
        traits = claude_traits(model)
        assert (traits.image_input, traits.document_input, traits.audio_input) == (
            True,
            True,
            False,
        )


def test_an_unknown_model_gets_the_documented_default() -> None:
    assert isinstance(MODELS, ModelTable)
    assert MODELS.default is DEFAULT_TRAITS
    assert claude_traits("claude-future-9") == DEFAULT_TRAITS
    # Nothing is refused on an unknown model's account: it thinks by budget and samples.
    assert ClaudeTraits(reasoning=True) == DEFAULT_TRAITS


def test_a_plain_row_a_user_registers_reads_as_claude_traits() -> None:
    MODELS.register("claude-test-plain", ModelTraits(sampling=False, reasoning=True))
    traits = claude_traits("claude-test-plain-2")
    assert isinstance(traits, ClaudeTraits)
    assert (traits.sampling, traits.reasoning, traits.thinking_budget) == (False, True, True)
    MODELS.register("claude-test-adaptive", ClaudeTraits(adaptive_thinking=True))
    assert claude_traits("claude-test-adaptive").adaptive_thinking
