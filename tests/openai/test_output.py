"""LLMRequest.output as response_format: strict and not, which models take it, and refusals."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether.errors import ConfigurationError
from aether.llm import strict_json_schema
from aether.llm.contracts import LLMRequest, Message, OutputSpec
from aether_openai import MODELS, OpenAIProvider
from aether_openai import _output as output_module
from aether_openai._request import build_payload
from tests.openai._wire import request_problems


class Invoice(BaseModel):
    number: int
    note: str | None = None


class Counts(BaseModel):
    counts: dict[str, int]


SCHEMA = Invoice.model_json_schema()


def body(output: OutputSpec, model: str = "gpt-4o", **fields: Any) -> dict[str, Any]:
    request = LLMRequest(messages=[Message(role="user", content="go")], output=output, **fields)
    payload = build_payload(request, model=model, stream=False)
    assert request_problems(payload) == []
    return payload


def test_a_strict_output_is_a_strict_json_schema_response_format() -> None:
    output = OutputSpec(name="Invoice", description="The invoice", json_schema=SCHEMA)
    assert body(output)["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "Invoice",
            "description": "The invoice",
            "schema": strict_json_schema(SCHEMA),
            "strict": True,
        },
    }
    assert Invoice.model_json_schema() == SCHEMA  # the request's schema is left as it was


def test_a_loose_output_sends_its_schema_as_given_without_strict() -> None:
    output = OutputSpec(name="Counts", json_schema=Counts.model_json_schema(), strict=False)
    assert body(output)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Counts", "schema": Counts.model_json_schema()},
    }


def test_a_schema_strict_mode_cannot_express_is_refused_by_place() -> None:
    output = OutputSpec(name="Counts", json_schema=Counts.model_json_schema())
    with pytest.raises(ConfigurationError) as info:
        body(output)
    message = str(info.value)
    assert message.startswith("Output 'Counts': The JSON Schema cannot be made strict")
    assert "'additionalProperties' at /properties/counts" in message
    assert "list of key/value objects" in message


@pytest.mark.parametrize("name", ["my answer", "", "x" * 65, "résumé"])
def test_a_name_the_api_does_not_take_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="1 to 64 letters, digits"):
        body(OutputSpec(name=name, json_schema=SCHEMA))


NATIVE = [
    "gpt-4o",
    "gpt-4o-2024-08-06",
    "gpt-4o-mini",
    "gpt-4.1-nano",
    "gpt-4.5-preview",
    "o1",
    "o1-2024-12-17",
    "o3-mini",
    "o3",
    "o4-mini",
    "gpt-5-mini",
    "gpt-5.6-sol",
    "openai/gpt-4o",  # OpenRouter's path
    "llama3.2",  # unknown: an OpenAI-compatible server's model
]
NOT_NATIVE = [
    "gpt-3.5-turbo",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-4o-2024-05-13",
    "chatgpt-4o-latest",
    "o1-mini",
    "o1-preview",
    "gpt-4o-audio-preview",
    "gpt-audio",
]


@pytest.mark.parametrize("model", NATIVE)
def test_models_that_answer_in_a_schema_get_one(model: str) -> None:
    assert OpenAIProvider(api_key="k").supports_native_output(model)
    assert body(OutputSpec(name="Invoice", json_schema=SCHEMA), model)["response_format"]


@pytest.mark.parametrize("model", NOT_NATIVE)
def test_models_that_do_not_are_refused_before_sending(model: str) -> None:
    assert not OpenAIProvider(api_key="k").supports_native_output(model)
    with pytest.raises(ConfigurationError) as info:
        body(OutputSpec(name="Invoice", json_schema=SCHEMA), model)
    message = str(info.value)
    assert f"The openai model {model!r} cannot answer in a JSON schema" in message
    assert "output_type=Output(T, mode='tool') or mode='prompted'" in message
    assert "native_output=True" in message


def test_the_default_model_is_asked_about_when_none_is_named() -> None:
    assert OpenAIProvider(api_key="k").supports_native_output()  # gpt-4o-mini
    assert not OpenAIProvider(api_key="k", default_model="gpt-4-turbo").supports_native_output()


@pytest.fixture
def registered() -> Iterator[None]:
    MODELS.register("acme-json-mode", dataclasses.replace(MODELS.default, native_output=False))
    try:
        yield
    finally:
        MODELS._rows.pop("acme-json-mode")


@pytest.mark.usefixtures("registered")
def test_a_compatible_server_model_is_registered_without_it() -> None:
    assert not OpenAIProvider(api_key="k").supports_native_output("acme-json-mode-7b")
    with pytest.raises(ConfigurationError, match="'acme-json-mode-7b' cannot answer"):
        body(OutputSpec(name="Invoice", json_schema=SCHEMA), "acme-json-mode-7b")


def test_the_strict_schema_is_made_once_and_never_changed_by_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, Any]] = []

    def counting(schema: dict[str, Any]) -> dict[str, Any]:
        made.append(schema)
        return strict_json_schema(schema)

    clear_strict_caches()
    monkeypatch.setattr(output_module, "strict_json_schema", counting)
    output = OutputSpec(name="Invoice", json_schema=SCHEMA)
    overridden = body(
        output,
        provider_options={"response_format": {"json_schema": {"schema": {"title": "Mine"}}}},
    )
    assert overridden["response_format"]["json_schema"]["schema"]["title"] == "Mine"
    for _ in range(2):
        assert body(output)["response_format"]["json_schema"]["schema"] == (
            strict_json_schema(SCHEMA)
        )
    # An equal schema in another spec (one built per call) shares the strict form too.
    again = OutputSpec(name="Invoice", json_schema=SCHEMA)
    assert body(again)["response_format"]["json_schema"]["schema"] == strict_json_schema(SCHEMA)
    assert len(made) == 1
    clear_strict_caches()


def test_the_same_spec_again_costs_no_serialisation_of_its_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every turn of a tool loop sends the same spec: its strict form is found by identity."""
    clear_strict_caches()
    output = OutputSpec(name="Invoice", json_schema=SCHEMA)
    first = body(output)["response_format"]
    dumped: list[object] = []
    real_dumps = json.dumps

    def counting_dumps(value: object, **options: Any) -> str:
        dumped.append(value)
        return real_dumps(value, **options)

    monkeypatch.setattr(json, "dumps", counting_dumps)  # the module reads json.dumps per call
    for _ in range(3):
        assert body(output)["response_format"] == first
    assert dumped == []
    clear_strict_caches()


def clear_strict_caches() -> None:
    output_module._strict_schema.cache_clear()
    output_module._strict_of_text.cache_clear()


def test_a_streamed_request_asks_for_the_format_too() -> None:
    request = LLMRequest(
        messages=[Message(role="user", content="go")],
        output=OutputSpec(name="Invoice", json_schema=SCHEMA),
    )
    payload = build_payload(request, model="gpt-4.1", stream=True)
    assert request_problems(payload) == []
    assert payload["response_format"]["json_schema"]["strict"] is True
    assert payload["stream"] is True
