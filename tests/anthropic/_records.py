"""Locating and serving the recorded Anthropic traffic in ``shared/conformance/anthropic``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

API_KEY = "test-anthropic-key-123"


def conformance_dir() -> Path:
    """The corpus root: ``AETHER_CONFORMANCE_DIR``, else ``<repo>/../shared/conformance``."""
    override = os.environ.get("AETHER_CONFORMANCE_DIR")
    root = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
    )
    folder = root / "anthropic"
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise RuntimeError(
            f"Anthropic conformance records not found in {folder}; set AETHER_CONFORMANCE_DIR "
            f"to the directory holding anthropic/*.json."
        )
    return folder


def record_files() -> list[Path]:
    return sorted(conformance_dir().glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def recorded_path(record: dict[str, Any]) -> str:
    """``/v1/messages``, without the ``?beta=true`` the Anthropic SDK's beta client adds."""
    return str(record["request"]["path"]).split("?", 1)[0]


def replay_transport(record: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Serves the recorded response for the recorded request, byte for byte."""
    response = record["response"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            response["status"],
            headers=response["headers"],
            content=response["body_text"].encode("utf-8"),
        )

    return httpx.MockTransport(handler)
