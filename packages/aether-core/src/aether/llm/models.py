"""What a provider's models accept, in one table per provider that a user can extend.

A default must never break a call: OpenAI's reasoning models take only their own temperature,
Anthropic's extended thinking requires 1. Each provider keeps a :class:`ModelTable` of
:class:`ModelTraits` by model-name prefix, reads it when it builds a request, drops a
*defaulted* setting the model does not take, and refuses an *explicit* one with a clear error
before anything is sent (:func:`check_sampling`). A model the table does not know gets the
table's default traits. Extend a provider's table for a fine-tune or a new model::

    from aether_openai import MODELS
    MODELS.register("ft:o4-mini", ModelTraits(sampling=False, reasoning=True))
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from aether.errors import ConfigurationError

__all__ = ["ModelTable", "ModelTraits", "check_sampling"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelTraits:
    """What one family of models accepts.

    Attributes:
        sampling: Takes temperature, top_p and the penalties (reasoning models often do not).
        reasoning: Takes reasoning settings (effort or a thinking budget).
        image_input: Takes image parts.
        document_input: Takes document (PDF) parts.
        audio_input: Takes audio parts.
        native_output: Answers in a JSON schema the request gives (``LLMRequest.output``);
            without it, structured output uses a tool or instructions instead.
    """

    sampling: bool = True
    reasoning: bool = False
    image_input: bool = True
    document_input: bool = True
    audio_input: bool = False
    native_output: bool = False


class ModelTable:
    """Model-name prefix → :class:`ModelTraits`; the longest matching prefix wins.

    Args:
        rows: The provider's known models.
        default: Traits of a model no row matches.
    """

    def __init__(self, rows: Mapping[str, ModelTraits], *, default: ModelTraits) -> None:
        self._rows = dict(rows)
        self.default = default
        self._lock = threading.Lock()
        # model -> its row's traits, or None for "the default": looked up on every request, and
        # a scan of every row costs more than the rest of choosing what to send.
        self._found: dict[str, ModelTraits | None] = {}

    def __repr__(self) -> str:
        return f"ModelTable({len(self._rows)} rows, default={self.default!r})"

    def register(self, prefix: str, traits: ModelTraits) -> None:
        """Add or replace the traits of models whose name starts with ``prefix``."""
        if not prefix:
            raise ValueError("A model prefix must not be empty; set ModelTable.default instead.")
        with self._lock:
            self._rows[prefix] = traits
            self._found = {}

    def lookup(self, model: str) -> ModelTraits:
        """The traits of ``model`` (a ``models/`` or ``vendor/`` path prefix is ignored)."""
        found = self._found
        if model in found:
            row = found[model]
            return self.default if row is None else row
        name = model.rsplit("/", 1)[-1]
        best: tuple[int, ModelTraits] | None = None
        for prefix, traits in list(self._rows.items()):
            if name.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), traits)
        if len(found) < 4096:  # bounded: model names come from callers
            found[model] = best[1] if best is not None else None
        return best[1] if best is not None else self.default


_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


def check_sampling(
    provider: str, model: str, traits: ModelTraits, explicit: Mapping[str, object]
) -> None:
    """Refuse, before sending, a sampling setting the caller set for a model that rejects it.

    Args:
        provider: The provider's name, for the message.
        model: The model, for the message.
        traits: The model's traits.
        explicit: The request's sampling settings the caller set (None values are unset).

    Raises:
        ConfigurationError: ``traits.sampling`` is False and one of temperature, top_p,
            presence_penalty or frequency_penalty is set.
    """
    if traits.sampling:
        return
    given = [name for name in _SAMPLING if explicit.get(name) is not None]
    if given:
        raise ConfigurationError(
            f"The {provider} model {model!r} takes no {', '.join(given)} (its sampling is "
            f"fixed); remove {'it' if len(given) == 1 else 'them'} from the call. If the model "
            f"does take them, register its traits on the provider's model table."
        )
