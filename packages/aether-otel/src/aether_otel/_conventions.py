"""Every attribute, metric and value name aether-otel emits, and the conventions they follow.

The GenAI semantic conventions are still in Development and their names keep moving, so they
are pinned here, in one place: :data:`SEMCONV_VERSION` is the release of the OpenTelemetry
semantic conventions whose GenAI registry these names come from (the one the
``opentelemetry-semantic-conventions`` 0.66b2 package mirrors). Moving to a newer release is
a change to this module alone, and the test suite checks every ``gen_ai.*`` name below against
that package. Names under ``aether.`` are Aether's own.
"""

from __future__ import annotations

from typing import Final

SEMCONV_VERSION: Final = "1.44.0"
"""The OpenTelemetry semantic conventions release followed (GenAI status: Development)."""

SCHEMA_URL: Final = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
"""Set on the tracer and the meter, so back ends know which names to expect."""

# --- GenAI span attributes ----------------------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"

# Opt-in: content, recorded only when capture is on (see aether_otel.instrument).
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"

# General (stable) attributes the GenAI spans use.
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

# --- GenAI values ---------------------------------------------------------------------------

OPERATION_CHAT: Final = "chat"
OPERATION_EXECUTE_TOOL: Final = "execute_tool"
TOOL_TYPE_FUNCTION: Final = "function"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"
OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"

PROVIDER_NAMES: Final = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini"}
"""Aether's provider names → ``gen_ai.provider.name``; any other name is used as it is."""

# --- GenAI metrics --------------------------------------------------------------------------

METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"

TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
"""The bucket boundaries the conventions advise for ``gen_ai.client.token.usage``."""

SECONDS_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
"""The bucket boundaries the conventions advise for the duration histograms."""

# --- Aether's own -----------------------------------------------------------------------------

AETHER_CALL_SPAN: Final = "aether.{kind}"
"""The name of the span around one logical call (``aether.complete``, ``aether.stream``)."""

AETHER_CALL_PROVIDER: Final = "aether.call.provider"
AETHER_CALL_MODEL: Final = "aether.call.model"
AETHER_CALL_MODEL_CALLS: Final = "aether.call.model_calls"
AETHER_CALL_RETRIES: Final = "aether.call.retries"
AETHER_END_REASON: Final = "aether.end_reason"
"""Why a span ended: one of the ``END_*`` values."""
AETHER_ATTEMPT: Final = "aether.attempt"
"""On a model-call span: which attempt of the retry layer it is, from 1."""
AETHER_USAGE_COST: Final = "aether.usage.cost"
"""USD, priced as the client's cost tracking prices it; left out when the price is unknown."""
AETHER_USAGE_INPUT_TOKENS: Final = "aether.usage.input_tokens"
AETHER_USAGE_OUTPUT_TOKENS: Final = "aether.usage.output_tokens"

AETHER_CACHE_HIT: Final = "aether.cache.hit"
"""On a call's span: True when the response cache gave an answer of the call (no model call,
so no ``chat`` span, for that answer); absent otherwise."""

AETHER_RETRY_EVENT: Final = "aether.retry"
"""The span event on a call's span for each retry wait."""
AETHER_RETRY_ATTEMPT: Final = "aether.retry.attempt"
AETHER_RETRY_DELAY: Final = "aether.retry.delay_seconds"

END_COMPLETED: Final = "completed"
END_ERROR: Final = "error"
END_CANCELLED: Final = "cancelled"
END_ABANDONED: Final = "abandoned"
"""A stream its consumer closed before the end: not an error."""
ERROR_CANCELLED: Final = "cancelled"
"""``error.type`` of a cancelled operation (a timeout included)."""
