"""What each Claude family accepts: :data:`MODELS`, read before a request is built.

Claude generations differ in ways a request must respect, or the API answers 400:

* extended thinking: Claude 3.7 and the Claude 4 families think with a fixed
  ``budget_tokens``; Opus 4.6 and Sonnet 4.6 also think adaptively with an effort level; Opus 4.7
  and later think adaptively only (a budget is refused);
* sampling: Opus 4.7 and later take no ``temperature`` or ``top_p`` at all, and from Opus 4.1 on a
  model takes one of them, not both;
* Opus 4.8 takes system messages in the middle of a conversation;
* structured output (``native_output``): Sonnet 4.5, Haiku 4.5, Opus 4.5 and later answer in a
  JSON schema the request gives; the others answer through a tool instead.

Extend the table for a model it does not know (a new release, a fine-tune, a gateway alias)::

    from aether_anthropic import MODELS, ClaudeTraits

    MODELS.register("claude-opus-5", ClaudeTraits(sampling=False, adaptive_thinking=True,
                                                  thinking_budget=False, native_output=True))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from aether.llm.models import ModelTable, ModelTraits

__all__ = ["DEFAULT_TRAITS", "MODELS", "PROVIDER", "ClaudeTraits", "claude_traits"]

PROVIDER = "anthropic"
"""The provider's registered name, as errors and logs give it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaudeTraits(ModelTraits):
    """:class:`~aether.llm.models.ModelTraits` plus what differs between Claude generations.

    A plain ``ModelTraits`` registered in :data:`MODELS` reads as a ``ClaudeTraits`` with these
    defaults.

    Attributes:
        thinking_budget: Takes ``thinking: {"type": "enabled", "budget_tokens": N}``.
        adaptive_thinking: Takes ``thinking: {"type": "adaptive"}`` with
            ``output_config.effort``; reasoning effort is then sent as an effort level, not
            turned into a budget.
        temperature_and_top_p: Takes ``temperature`` and ``top_p`` in one request (from Opus
            4.1 on, one or the other).
        system_messages: Takes ``role: "system"`` messages after the conversation started;
            without it they join the top-level ``system`` prompt.
    """

    thinking_budget: bool = True
    adaptive_thinking: bool = False
    temperature_and_top_p: bool = True
    system_messages: bool = False


_NO_THINKING = ClaudeTraits(reasoning=False)
_BUDGET = ClaudeTraits(reasoning=True)
_BUDGET_ONE_KNOB = ClaudeTraits(reasoning=True, temperature_and_top_p=False)
_BUDGET_ONE_KNOB_JSON = replace(_BUDGET_ONE_KNOB, native_output=True)
_BOTH = ClaudeTraits(
    reasoning=True, adaptive_thinking=True, temperature_and_top_p=False, native_output=True
)
_ADAPTIVE_ONLY = ClaudeTraits(
    sampling=False,
    reasoning=True,
    adaptive_thinking=True,
    thinking_budget=False,
    native_output=True,
)

DEFAULT_TRAITS = ClaudeTraits(reasoning=True)
"""A model :data:`MODELS` does not know: taken to take sampling and a thinking budget, so nothing
is refused on its account (the API says so if it disagrees), and to answer structured output
through a tool, which every Claude model can. Register its row otherwise."""

MODELS = ModelTable(
    {
        # The Claude 3 generation (3, 3.5) does not think; 3.7 introduced extended thinking.
        "claude-3": _NO_THINKING,
        "claude-3-7": _BUDGET,
        "claude-sonnet-4": _BUDGET,
        "claude-opus-4": _BUDGET,
        "claude-opus-4-1": _BUDGET_ONE_KNOB,
        "claude-sonnet-4-5": _BUDGET_ONE_KNOB_JSON,
        "claude-haiku-4-5": _BUDGET_ONE_KNOB_JSON,
        "claude-opus-4-5": _BUDGET_ONE_KNOB_JSON,
        "claude-opus-4-6": _BOTH,
        "claude-sonnet-4-6": _BOTH,
        "claude-opus-4-7": _ADAPTIVE_ONLY,
        "claude-opus-4-8": replace(_ADAPTIVE_ONLY, system_messages=True),
    },
    default=DEFAULT_TRAITS,
)
"""Claude model-name prefix → :class:`ClaudeTraits`; the longest matching prefix wins.

Every Claude model takes images and PDFs and none takes audio. Dated ids
(``claude-sonnet-4-5-20250929``), Bedrock ids (``us.anthropic.claude-...-v1:0``) and Vertex ids
(``claude-...@20250929``) match their family's row.
"""


def claude_traits(model: str) -> ClaudeTraits:
    """The traits of ``model``, as :class:`ClaudeTraits` whatever type its row was given in."""
    # Bedrock and Vertex prefix the family name ("us.anthropic.claude-...").
    start = model.find("claude-")
    traits = MODELS.lookup(model[start:] if start > 0 else model)
    if isinstance(traits, ClaudeTraits):
        return traits
    return ClaudeTraits(**asdict(traits))
