"""What each Gemini model takes: :data:`MODELS`, a table users extend for new or tuned models.

Gemini 2.5 thinks within a token budget (``thinkingBudget``); Gemini 3 thinks at a level
(``thinkingLevel``) and, per Google, loops or degrades below its own temperature of 1.0.
Gemini 2.0 and older declare tools only in the OpenAPI subset (``parameters``) and have no
``VALIDATED`` function-calling mode. Every model answers in a JSON schema; Gemini 1.5 takes it
only in the OpenAPI subset (``responseSchema``), and before Gemini 3 not in a request that lets
the model call functions. The rows say so per family; a model no row matches gets
:data:`MODELS`'s default, a current model whose limits are left to the API to judge::

    from aether_gemini import MODELS, GeminiTraits

    # tunedModels/my-flash-tune: the path prefix is not part of the name looked up
    MODELS.register("my-flash-tune", GeminiTraits(reasoning=True, thinking_budget=(1, 24576)))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from aether.llm.models import ModelTable, ModelTraits

__all__ = ["MODELS", "GeminiTraits", "traits_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GeminiTraits(ModelTraits):
    """:class:`~aether.llm.models.ModelTraits` plus what only Gemini's models differ in.

    Attributes:
        video_input: Takes video parts (bytes, a URL, or a Files API upload).
        thinking_levels: The ``thinkingLevel`` values the model takes (Gemini 3: effort maps
            to a level); empty: it thinks within a ``thinkingBudget`` instead.
        thinking_budget: The ``(least, most)`` tokens a budget may give, 0 aside; None: not
            checked here, the API judges.
        thinking_off: Thinking can be turned off (a budget of 0, or effort ``minimal`` on a
            budget model).
        json_schema_tools: Tool schemas go in ``parametersJsonSchema``, whole JSON Schema;
            False: in ``parameters``, translated to Gemini's OpenAPI subset.
        validated_mode: Takes function-calling mode ``VALIDATED`` (calls held to their schema
            by constrained decoding), which ``ToolSpec.strict`` and ``allowed_tools`` use.
        default_temperature: Aether's configured default temperature is sent; False: only a
            temperature the caller sets is (the model's own default serves it best).
        json_schema_output: The answer's schema goes in ``responseJsonSchema``, whole JSON
            Schema; False: in ``responseSchema``, translated to Gemini's OpenAPI subset.
        output_with_tools: Answers in a schema (``LLMRequest.output``) in a request that lets
            it call functions; False: Gemini refuses the two together (HTTP 400), so Aether
            refuses them before sending unless ``tool_choice`` is ``none``.
    """

    audio_input: bool = True  # every Gemini model hears
    video_input: bool = True  # and watches
    native_output: bool = True  # every Gemini model answers in a response schema
    thinking_levels: tuple[str, ...] = ()
    thinking_budget: tuple[int, int] | None = None
    thinking_off: bool = True
    json_schema_tools: bool = True
    validated_mode: bool = True
    default_temperature: bool = True
    json_schema_output: bool = True
    output_with_tools: bool = True


# Gemini 2.0 takes responseJsonSchema (recorded: a pydantic schema with $defs and oneOf was
# answered to the letter), but not parametersJsonSchema.
_GEMINI_2_0 = GeminiTraits(json_schema_tools=False, validated_mode=False, output_with_tools=False)
_GEMINI_1_5 = GeminiTraits(
    json_schema_tools=False,
    validated_mode=False,
    json_schema_output=False,
    output_with_tools=False,
)
_ALL_LEVELS = ("minimal", "low", "medium", "high")
_ALIAS = GeminiTraits(reasoning=True, default_temperature=False)
_GEMINI_3 = GeminiTraits(
    reasoning=True, thinking_levels=_ALL_LEVELS, thinking_off=False, default_temperature=False
)

MODELS = ModelTable(
    {
        "gemini-1.5": _GEMINI_1_5,
        "gemini-2.0": _GEMINI_2_0,
        "gemini-2.5-pro": GeminiTraits(
            reasoning=True,
            thinking_budget=(128, 32768),
            thinking_off=False,
            output_with_tools=False,
        ),
        "gemini-2.5-flash": GeminiTraits(
            reasoning=True, thinking_budget=(1, 24576), output_with_tools=False
        ),
        "gemini-2.5-flash-lite": GeminiTraits(
            reasoning=True, thinking_budget=(512, 24576), output_with_tools=False
        ),
        "gemini-3": _GEMINI_3,
        "gemini-3-pro": GeminiTraits(
            reasoning=True,
            thinking_levels=("low", "high"),
            thinking_off=False,
            default_temperature=False,
        ),
        "gemini-3.1-pro": GeminiTraits(
            reasoning=True,
            thinking_levels=("low", "medium", "high"),
            thinking_off=False,
            default_temperature=False,
        ),
        # Google: custom temperature and top-p are ignored, custom penalties are an error.
        "gemini-3.5-flash-lite": GeminiTraits(
            sampling=False, reasoning=True, thinking_levels=_ALL_LEVELS, thinking_off=False
        ),
        # Aliases move between generations: a budget is what 2.5 and 3 both take, and the
        # model's own temperature is what serves 3 (a chosen one is still sent). They name
        # Gemini 3 models now, so a schema and tools together are left to the API to judge.
        "gemini-flash-latest": _ALIAS,
        "gemini-flash-lite-latest": _ALIAS,
        "gemini-pro-latest": GeminiTraits(
            reasoning=True, thinking_off=False, default_temperature=False
        ),
    },
    default=GeminiTraits(reasoning=True),
)
"""Gemini's models by name prefix (longest wins); the default is a current thinking model."""

_BASE_FIELDS = tuple(f.name for f in fields(ModelTraits))


def traits_for(model: str) -> GeminiTraits:
    """The traits of ``model``; a plain ``ModelTraits`` row gets Gemini's defaults for the rest."""
    found = MODELS.lookup(model)
    if isinstance(found, GeminiTraits):
        return found
    return GeminiTraits(**{name: getattr(found, name) for name in _BASE_FIELDS})
