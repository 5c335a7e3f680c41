"""The headers of one call: its ``extra_headers``, with ``anthropic-beta`` names combined.

``anthropic-beta`` is a comma-separated list. The names a provider was built with, those of
the call's ``extra_headers`` and those the request itself needs (``files-api-2025-04-14`` when
a part is sent by ``file_id``, or the API refuses the ``file`` source) go out as one header.
Some betas change the body's shape: what the request body needs to know is in
:class:`CallHeaders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aether.llm.contracts import LLMRequest
from aether_anthropic._content import FILES_BETA, needs_files_beta
from aether_anthropic._output import STRUCTURED_OUTPUTS_BETA

__all__ = ["BETA_HEADER", "CallHeaders", "call_headers", "pop_betas"]

BETA_HEADER = "anthropic-beta"
_INTERLEAVED = "interleaved-thinking-"


@dataclass(frozen=True)
class CallHeaders:
    """What :func:`call_headers` found.

    Attributes:
        headers: To send beside the client's own; None: none.
        interleaved_thinking: The interleaved-thinking beta is on (a thinking budget may then
            exceed ``max_tokens``).
        structured_outputs_beta: The structured-outputs beta is on (the output format then
            goes in its beta shape, a top-level ``output_format``).
    """

    headers: dict[str, str] | None
    interleaved_thinking: bool
    structured_outputs_beta: bool = False


def pop_betas(headers: dict[str, str]) -> list[str]:
    """Take ``anthropic-beta`` (in any case) out of ``headers``, as a list of names."""
    found: list[str] = []
    for name in [name for name in headers if name.lower() == BETA_HEADER]:
        found += [beta.strip() for beta in headers.pop(name).split(",") if beta.strip()]
    return found


def call_headers(request: LLMRequest, configured: Sequence[str]) -> CallHeaders:
    """The headers of ``request``'s call, its betas after ``configured`` ones, no repeats."""
    headers = dict(request.extra_headers)
    needed = [FILES_BETA] if needs_files_beta(_media(request)) else []
    betas = list(dict.fromkeys([*configured, *pop_betas(headers), *needed]))
    if betas:
        headers[BETA_HEADER] = ",".join(betas)
    return CallHeaders(
        headers=headers or None,
        interleaved_thinking=any(beta.startswith(_INTERLEAVED) for beta in betas),
        structured_outputs_beta=STRUCTURED_OUTPUTS_BETA in betas,
    )


def _media(request: LLMRequest) -> list[object]:
    return [part for message in request.messages for part in message.media]
