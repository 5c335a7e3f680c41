"""The shared corpus of recorded real API traffic: where it is, and replaying a record.

Every provider's conformance tests use these; a provider's own ``_records.py`` adds only
what is particular to its wire format.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx


def conformance_dir(provider: str) -> Path:
    """``<corpus>/<provider>``; the corpus is ``AETHER_CONFORMANCE_DIR``, else
    ``<repo>/../shared/conformance``."""
    override = os.environ.get("AETHER_CONFORMANCE_DIR")
    root = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
    )
    folder = root / provider
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise RuntimeError(
            f"{provider} conformance records not found in {folder}; set "
            f"AETHER_CONFORMANCE_DIR to the directory holding {provider}/*.json."
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
