"""Sampling settings as the Messages API takes them: ``temperature``, ``top_p``, and the rest.

* ``temperature`` is 0 to 1. The configured default (``AETHER_DEFAULT_TEMPERATURE``) is sent
  only where it cannot break the call: not to a model with fixed sampling, not with thinking on
  (Anthropic then requires 1 or nothing), not beside an explicit ``top_p`` (from Opus 4.1 on a
  model takes one of them), and not above 1.
* An explicit setting the model or the API cannot take is refused before sending: any sampling
  on a fixed-sampling model (Opus 4.7 and later), ``temperature`` other than 1 or ``top_p`` below
  0.95 with thinking on, ``temperature`` and ``top_p`` together where the model takes one.
* Anthropic has no ``seed``, ``presence_penalty`` or ``frequency_penalty``: setting one is an
  error, never a silent drop (a gateway that takes them gets them through ``provider_options``).
"""

from __future__ import annotations

from typing import Any

from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest
from aether.llm.models import check_sampling
from aether_anthropic._models import PROVIDER, ClaudeTraits

__all__ = ["check_thinking_tools", "sampling_fields"]

_MAX_TEMPERATURE = 1.0
_THINKING_TOP_P = 0.95
_NOT_ANTHROPIC = ("seed", "presence_penalty", "frequency_penalty")


def sampling_fields(
    request: LLMRequest, *, model: str, traits: ClaudeTraits, thinking: bool
) -> dict[str, Any]:
    """``temperature`` and ``top_p`` to send for ``request`` (only those set).

    Raises:
        ConfigurationError: ``seed`` or a penalty is set, or an explicit ``temperature`` or
            ``top_p`` the model cannot take (see the module docs).
    """
    _refuse_unknown(request)
    check_sampling(
        PROVIDER, model, traits, {"temperature": request.temperature, "top_p": request.top_p}
    )
    explicit, top_p = request.temperature, request.top_p
    fields: dict[str, Any] = {}
    if explicit is not None:
        if explicit > _MAX_TEMPERATURE:
            raise ConfigurationError(
                f"Anthropic takes a temperature from 0 to 1, got {explicit} (OpenAI's scale "
                f"runs to 2, Anthropic's to 1): lower it to 1 or less."
            )
        if thinking and explicit != 1:
            raise ConfigurationError(
                f"With thinking on, Anthropic takes temperature 1 or none, but the call sets "
                f"temperature={explicit} for {model!r}. Remove the temperature, or turn "
                f"reasoning off."
            )
        fields["temperature"] = explicit
    else:
        default = request.sampling_temperature(traits.sampling and not thinking and top_p is None)
        if default is not None and default <= _MAX_TEMPERATURE:
            fields["temperature"] = default
    if top_p is not None:
        if thinking and top_p < _THINKING_TOP_P:
            raise ConfigurationError(
                f"With thinking on, Anthropic takes top_p from {_THINKING_TOP_P} to 1, got "
                f"{top_p} for {model!r}. Raise it, remove it, or turn reasoning off."
            )
        if explicit is not None and not traits.temperature_and_top_p:
            raise ConfigurationError(
                f"The anthropic model {model!r} takes temperature or top_p, not both; the "
                f"call sets temperature={explicit} and top_p={top_p}. Keep one."
            )
        fields["top_p"] = top_p
    return fields


def _refuse_unknown(request: LLMRequest) -> None:
    given = [name for name in _NOT_ANTHROPIC if getattr(request, name) is not None]
    if given:
        it = "it" if len(given) == 1 else "them"
        example = ", ".join(f"'{name}': ..." for name in given)
        raise ConfigurationError(
            f"Anthropic's Messages API has no {', '.join(given)}: remove {it} from the call. "
            f"A gateway in front of another model that does take {it} gets {it} through "
            f"provider_options={{{example}}}."
        )


def check_thinking_tools(request: LLMRequest, *, model: str, thinking: bool) -> None:
    """Refuse a ``tool_choice`` that forces a tool while thinking is on (the API does).

    Raises:
        ConfigurationError: Thinking is on and ``tool_choice`` is ``required`` or a tool name.
    """
    choice = request.tool_choice
    if thinking and request.tools and choice not in (None, "auto", "none"):
        raise ConfigurationError(
            f"With thinking on, Anthropic lets the model choose its tools: tool_choice may be "
            f"'auto' or 'none', but the call sets tool_choice={choice!r} for {model!r}. Use "
            f"'auto' (and say in the prompt which tool to use), or turn reasoning off."
        )
