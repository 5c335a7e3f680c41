"""``aether.llm.models``: per-provider model tables, and sampling a model does not take."""

from __future__ import annotations

import pytest

from aether.errors import ConfigurationError
from aether.llm.models import ModelTable, ModelTraits, check_sampling

REASONING = ModelTraits(sampling=False, reasoning=True)


def test_the_longest_prefix_wins_and_unknown_models_get_the_default() -> None:
    table = ModelTable({"o": REASONING, "o4-mini-ft": ModelTraits()}, default=ModelTraits())
    assert table.lookup("o3") is REASONING
    assert table.lookup("o4-mini-ft-2025") == ModelTraits()
    assert table.lookup("models/o1") is REASONING  # a path prefix is ignored
    assert table.lookup("gpt-4o") is table.default


def test_a_user_extends_the_table() -> None:
    table = ModelTable({}, default=ModelTraits())
    table.register("my-tune", REASONING)
    assert table.lookup("my-tune-v2") is REASONING
    with pytest.raises(ValueError, match="must not be empty"):
        table.register("", REASONING)


def test_sampling_set_for_a_fixed_sampling_model_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"'o3' takes no temperature, top_p"):
        check_sampling("openai", "o3", REASONING, {"temperature": 0.2, "top_p": 0.9})
    check_sampling("openai", "o3", REASONING, {"temperature": None})  # unset is fine
    check_sampling("openai", "gpt-4o", ModelTraits(), {"temperature": 0.2})


def test_a_lookup_is_remembered_until_the_table_changes() -> None:
    table = ModelTable({"o": REASONING}, default=ModelTraits())
    assert table.lookup("o3") is REASONING
    assert table.lookup("gpt-4o") is table.default
    table.register("o3", ModelTraits())  # a longer prefix now wins
    assert table.lookup("o3") == ModelTraits()
    table.default = ModelTraits(sampling=False)  # the default is read, not remembered
    assert table.lookup("gpt-4o") is table.default
