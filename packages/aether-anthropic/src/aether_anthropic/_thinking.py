"""Aether's reasoning settings as Anthropic's ``thinking`` (and ``output_config.effort``).

* ``budget_tokens`` is the thinking budget (``{"type": "enabled", "budget_tokens": N}``); 0 turns
  thinking off. It must be at least 1024 and below ``max_tokens``.
* ``effort`` on a model with adaptive thinking (Opus/Sonnet 4.6 and later) is sent as it is:
  ``{"type": "adaptive"}`` with ``output_config: {"effort": ...}``. On the others it is a budget:
  :data:`EFFORT_BUDGETS`. ``minimal`` means no thinking. When ``budget_tokens`` is given too, it
  is the budget (effort still sets the effort level of a model that takes one).
* ``include_thoughts`` is ``thinking.display``: ``summarized`` (the thoughts come back as
  ``reasoning_text``) or ``omitted`` (signed but empty). Unset, the model's own default applies
  (summarized up to Opus 4.6, omitted from Opus 4.7 on).

A ``max_tokens`` the caller left unset is raised to ``budget + default`` when the budget would
not fit below it; an explicit one that leaves no room is refused. With the interleaved-thinking
beta (``anthropic-beta: interleaved-thinking-...``) the budget may exceed ``max_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aether.config import warn_once
from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest
from aether_anthropic._log import logger
from aether_anthropic._models import ClaudeTraits

__all__ = ["EFFORT_BUDGETS", "MIN_BUDGET", "Thinking", "call_thinks", "plan_thinking", "thinks"]

MIN_BUDGET = 1024
"""The smallest ``budget_tokens`` the API takes."""

EFFORT_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}
"""The thinking budget each reasoning effort stands for on a model without adaptive thinking."""


@dataclass(frozen=True)
class Thinking:
    """What the request's reasoning settings put in the body.

    Attributes:
        wire: The ``thinking`` field; None: none is sent.
        effort: ``output_config.effort``; None: none is sent.
        max_tokens: ``max_tokens`` to send, raised to make room for a budget when defaulted.
    """

    wire: dict[str, Any] | None
    effort: str | None
    max_tokens: int


def thinks(thinking: Any) -> bool:
    """Whether a ``thinking`` field (ours, or one from ``provider_options``) turns thinking on."""
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def call_thinks(request: LLMRequest, planned: Thinking) -> bool:
    """Whether the call thinks: by its reasoning settings (``planned``), or ``provider_options``."""
    return thinks(planned.wire) or thinks(request.provider_options.get("thinking"))


def plan_thinking(
    request: LLMRequest,
    *,
    model: str,
    traits: ClaudeTraits,
    default_max_tokens: int,
    interleaved: bool = False,
) -> Thinking:
    """The ``thinking``, effort and ``max_tokens`` for ``request``, checked against ``model``.

    Args:
        request: The call.
        model: The model asked, for errors.
        traits: Its traits.
        default_max_tokens: ``max_tokens`` when the request sets none.
        interleaved: The interleaved-thinking beta is on, so a budget may exceed ``max_tokens``.

    Raises:
        ConfigurationError: Thinking asked of a model that does not think, a budget of a model
            that thinks adaptively only, a budget below 1024, or one that does not fit below
            an explicit ``max_tokens``.
    """
    reasoning = request.reasoning or {}
    effort = reasoning.get("effort")
    budget = reasoning.get("budget_tokens")
    max_tokens = request.max_tokens or default_max_tokens
    level = effort if effort in EFFORT_BUDGETS else None
    source = "budget_tokens"
    if budget is None and level is not None and not traits.adaptive_thinking:
        budget, source = EFFORT_BUDGETS[level], f"effort {level!r}"
    wire: dict[str, Any] | None = None
    if budget:
        _check_budget(budget, model, traits)
        wire = {"type": "enabled", "budget_tokens": budget}
        if budget >= max_tokens and not interleaved:
            max_tokens = _room(request, budget, default_max_tokens, source, model)
    elif budget is None and level is not None:
        _check_thinks(model, traits, f"effort {level!r}")
        wire = {"type": "adaptive"}
    effort_sent = level if traits.adaptive_thinking and wire is not None else None
    include = reasoning.get("include_thoughts")
    if wire is not None and include is not None:
        wire["display"] = "summarized" if include else "omitted"
    elif include and wire is None:
        warn_once(
            logger,
            "include_thoughts",
            "reasoning include_thoughts=True, but thinking is off (no effort or budget_tokens, "
            "or minimal or 0): Anthropic thinks only when asked, so there are no thoughts to "
            "return. Set effort or budget_tokens to turn thinking on.",
        )
    return Thinking(wire=wire, effort=effort_sent, max_tokens=max_tokens)


def _check_thinks(model: str, traits: ClaudeTraits, asked: str) -> None:
    if not traits.reasoning:
        raise ConfigurationError(
            f"The anthropic model {model!r} has no extended thinking, but the call asks for "
            f"reasoning ({asked}). Remove reasoning, or use a model that thinks (Claude 3.7 "
            f"Sonnet, or a Claude 4 model); register its traits in aether_anthropic.MODELS if "
            f"it does think."
        )


def _check_budget(budget: int, model: str, traits: ClaudeTraits) -> None:
    _check_thinks(model, traits, f"a {budget}-token thinking budget")
    if not traits.thinking_budget:
        raise ConfigurationError(
            f"The anthropic model {model!r} thinks adaptively and takes no thinking budget, "
            f"but the call sets reasoning budget_tokens={budget}. Use reasoning={{'effort': "
            f"'low' | 'medium' | 'high'}} instead."
        )
    if budget < MIN_BUDGET:
        raise ConfigurationError(
            f"Anthropic's thinking budget is at least {MIN_BUDGET} tokens, got budget_tokens="
            f"{budget}. Raise it to {MIN_BUDGET} or more, or set it to 0 to turn thinking off."
        )


def _room(
    request: LLMRequest, budget: int, default_max_tokens: int, source: str, model: str
) -> int:
    """``max_tokens`` with room for the budget: raised when defaulted, else an error."""
    if request.max_tokens is None:
        # The answer keeps the room it has without thinking.
        return budget + default_max_tokens
    raise ConfigurationError(
        f"Anthropic's thinking budget must be below max_tokens, but the call asks {model!r} "
        f"for a {budget}-token budget ({source}) with max_tokens={request.max_tokens}. Raise "
        f"max_tokens above {budget}, lower the budget, or leave max_tokens unset (it is then "
        f"raised to make room)."
    )
