"""The names in ``aether_otel._conventions`` are the pinned release's, and the README says which."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.semconv import schemas
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes, server_attributes

import aether_otel
from aether_otel import _conventions

README = Path(__file__).parents[2] / "packages" / "aether-otel" / "README.md"


def _registry() -> dict[str, str]:
    """Every attribute and metric name the pinned package defines, by its constant's name."""
    found: dict[str, str] = {}
    for module in (gen_ai_attributes, gen_ai_metrics, error_attributes, server_attributes):
        found.update({k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)})
    return found


def test_every_conventions_name_is_the_pinned_one() -> None:
    registry = _registry()
    ours = {
        name: value
        for name, value in vars(_conventions).items()
        if name.isupper()
        and isinstance(value, str)
        and value.startswith(("gen_ai.", "error.", "server."))
    }
    assert len(ours) > 30
    renamed = {
        "METRIC_TOKEN_USAGE": "GEN_AI_CLIENT_TOKEN_USAGE",
        "METRIC_OPERATION_DURATION": "GEN_AI_CLIENT_OPERATION_DURATION",
        "METRIC_TIME_TO_FIRST_CHUNK": "GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK",
    }
    for name, value in ours.items():
        assert registry[renamed.get(name, name)] == value, name


def test_values_are_the_conventions_values() -> None:
    assert gen_ai_attributes.GenAiOperationNameValues.CHAT.value == _conventions.OPERATION_CHAT
    assert (
        gen_ai_attributes.GenAiOperationNameValues.EXECUTE_TOOL.value
        == _conventions.OPERATION_EXECUTE_TOOL
    )
    assert gen_ai_attributes.GenAiTokenTypeValues.INPUT.value == _conventions.TOKEN_TYPE_INPUT
    assert gen_ai_attributes.GenAiTokenTypeValues.OUTPUT.value == _conventions.TOKEN_TYPE_OUTPUT
    assert gen_ai_attributes.GenAiOutputTypeValues.JSON.value == _conventions.OUTPUT_TYPE_JSON
    known = {value.value for value in gen_ai_attributes.GenAiProviderNameValues}
    assert set(_conventions.PROVIDER_NAMES.values()) <= known


def test_the_pinned_version_is_a_published_schema_and_named_in_the_readme() -> None:
    published = {value.value for value in schemas.Schemas}
    assert aether_otel.SCHEMA_URL in published
    assert aether_otel.SCHEMA_URL.endswith(aether_otel.SEMCONV_VERSION)
    assert f"v{aether_otel.SEMCONV_VERSION}" in README.read_text()
