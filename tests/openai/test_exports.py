"""aether_openai's public surface and packaging metadata."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import aether_openai
from aether.llm.models import ModelTable, ModelTraits
from aether_openai import MODELS, OpenAIModelTraits, OpenAIProvider
from tests.support.exports import public_names


def test_all_is_sorted_and_complete() -> None:
    assert aether_openai.__all__ == sorted(aether_openai.__all__)
    assert aether_openai.__all__ == ["MODELS", "OpenAIModelTraits", "OpenAIProvider"]
    public = public_names(aether_openai)
    assert public == set(aether_openai.__all__)
    assert OpenAIProvider.__module__ == "aether_openai._provider"
    assert OpenAIModelTraits.__module__ == "aether_openai._models"
    assert isinstance(MODELS, ModelTable)
    assert issubclass(OpenAIModelTraits, ModelTraits)


def test_entry_point_names_the_plugin_module() -> None:
    eps = importlib.metadata.entry_points(group="aether.providers")
    (openai,) = [ep for ep in eps if ep.name == "openai"]
    assert openai.value == "aether_openai._plugin"
    assert openai.dist is not None and openai.dist.name == "aether-openai"


def test_py_typed_marker_present() -> None:
    assert (Path(aether_openai.__file__).parent / "py.typed").is_file()
