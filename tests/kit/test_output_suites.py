"""Both provider suites check a structured-output claim, and each check fails when broken.

The HTTP suite runs on an OpenAI provider that maps ``LLMRequest.output`` to
``response_format`` here (through ``provider_options``), so the kit's checks are proven on a
mapping this file controls (the bundled providers run them in their own kit tests); the broken
providers drop or change one thing each. The non-HTTP suite's checks run on providers built
on FakeProvider.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any, ClassVar

import httpx
import pytest

from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether.testing import ProviderConformance, ProviderContractConformance
from aether.testing._claims import NotClaimed
from aether_openai import OpenAIProvider
from tests.kit.test_kit_openai import ChatCompletionsWire


class NativeOpenAI(OpenAIProvider):
    """OpenAI with ``LLMRequest.output`` sent as ``response_format``."""

    capabilities = ProviderCapabilities(structured_output=True)

    def _mapped(self, request: LLMRequest) -> LLMRequest:
        if request.output is None:
            return request
        spec = request.output
        schema = {"name": spec.name, "schema": spec.json_schema, "strict": spec.strict}
        options = {"response_format": {"type": "json_schema", "json_schema": schema}}
        return request.model_copy(update={"output": None, "provider_options": options})

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await super().complete(self._mapped(request))

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMStreamChunk, None]:
        async for chunk in super().stream(self._mapped(request)):
            yield chunk


class DropsTheSchema(NativeOpenAI):
    def _mapped(self, request: LLMRequest) -> LLMRequest:
        return request.model_copy(update={"output": None})


class ReformatsTheJson(NativeOpenAI):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await super().complete(request)
        compact = json.dumps(json.loads(response.text), separators=(",", ":"))
        return response.model_copy(update={"text": compact})


class ClaimsNothing(OpenAIProvider):
    capabilities = ProviderCapabilities()


class NoNativeModels(NativeOpenAI):
    def supports_native_output(self, model: str | None = None) -> bool:
        return (model or "").startswith("gpt-4o-2024")


def http_suite(provider: type[OpenAIProvider], model: str | None = None) -> ProviderConformance:
    class Suite(ProviderConformance):
        wire = ChatCompletionsWire()
        output_model: ClassVar[str | None] = model

        def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> Any:
            return provider(api_key=api_key, http_client=http_client)

    return Suite()


def test_a_provider_that_maps_the_schema_passes() -> None:
    suite = http_suite(NativeOpenAI)
    suite.test_complete_answers_in_the_schema()
    suite.test_stream_answers_in_the_schema()


def test_a_provider_that_does_not_send_the_schema_fails() -> None:
    suite = http_suite(DropsTheSchema)
    for test in (
        suite.test_complete_answers_in_the_schema,
        suite.test_stream_answers_in_the_schema,
    ):
        with pytest.raises(AssertionError, match="does not carry the answer's schema"):
            test()


def test_a_provider_that_changes_the_json_fails() -> None:
    with pytest.raises(AssertionError, match="must be the JSON the API returned"):
        http_suite(ReformatsTheJson).test_complete_answers_in_the_schema()


def test_a_model_that_cannot_answer_natively_is_named_with_the_fix() -> None:
    with pytest.raises(AssertionError, match="set output_model on your suite"):
        http_suite(NoNativeModels).test_complete_answers_in_the_schema()
    http_suite(NoNativeModels, "gpt-4o-2024-08-06").test_complete_answers_in_the_schema()


def test_a_provider_that_does_not_claim_it_is_not_held_to_it() -> None:
    with pytest.raises(NotClaimed, match="does not claim structured_output"):
        http_suite(ClaimsNothing).test_complete_answers_in_the_schema()


# --- the suite for providers that do not speak HTTP ------------------------------------------


class Answers(FakeProvider):
    """Claims structured output and answers what it is scripted with, every time."""

    capabilities = ProviderCapabilities(structured_output=True)


def contract_suite(answer: Any) -> ProviderContractConformance:
    class Suite(ProviderContractConformance):
        def make_provider(self, api_key: str) -> FakeProvider:
            return Answers(answer)

    return Suite()


GOOD = {"city": "Paris", "temperature_celsius": 21}


def test_the_contract_suite_passes_an_answer_in_the_schema() -> None:
    suite = contract_suite(GOOD)
    suite.test_complete_answers_in_the_schema()
    suite.test_stream_answers_in_the_schema()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("It is sunny in Paris, 21 °C.", "the answer is not JSON"),
        ([GOOD], "the answer is list, not an object"),
        ({"city": "Paris"}, r"the schema asks for \['city', 'temperature_celsius'\]"),
        ({**GOOD, "humidity": 0.4}, "and no others"),
        ({"city": "Paris", "temperature_celsius": "21"}, "must be a number"),
    ],
)
def test_the_contract_suite_fails_an_answer_off_the_schema(answer: Any, message: str) -> None:
    suite = contract_suite(answer)
    for test in (
        suite.test_complete_answers_in_the_schema,
        suite.test_stream_answers_in_the_schema,
    ):
        with pytest.raises(AssertionError, match=message):
            test()
