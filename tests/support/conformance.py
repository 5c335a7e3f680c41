"""The recorded real API traffic in ``tests/recorded``: where it is, and replaying a record.

Every provider's conformance tests use these; a provider's own ``_records.py`` adds only
what is particular to its wire format. The records ship with the repository (their
provenance is in ``tests/recorded/README.md`` and ``NOTICE``), so a fresh clone tests them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

RECORDED = Path(__file__).resolve().parents[1] / "recorded"
"""``tests/recorded``: one folder per provider, a JSON file per recorded exchange."""


def conformance_dir(provider: str) -> Path:
    """``tests/recorded/<provider>``; a missing or empty folder fails loudly, never skips."""
    folder = RECORDED / provider
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise RuntimeError(
            f"{provider} recorded traffic not found in {folder}: the repository ships it, so "
            f"the checkout is incomplete (restore tests/recorded from version control)."
        )
    return folder


def record_files(provider: str) -> list[Path]:
    return sorted(conformance_dir(provider).glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def replay_transport(record: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Serves the recorded response for any request, byte for byte; records each request."""
    response = record["response"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            response["status"],
            headers=response["headers"],
            content=response["body_text"].encode("utf-8"),
        )

    return httpx.MockTransport(handler)
