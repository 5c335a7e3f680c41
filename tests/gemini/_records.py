"""Locating and serving the recorded Gemini traffic in ``shared/conformance/gemini``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

API_KEY = "test-gemini-key-123"


def conformance_dir() -> Path:
    """The corpus root: ``AETHER_CONFORMANCE_DIR``, else ``<repo>/../shared/conformance``."""
    override = os.environ.get("AETHER_CONFORMANCE_DIR")
    root = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
    )
    folder = root / "gemini"
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise RuntimeError(
            f"Gemini conformance records not found in {folder}; set AETHER_CONFORMANCE_DIR "
            f"to the directory holding gemini/*.json."
        )
    return folder


def record_files() -> list[Path]:
    return sorted(conformance_dir().glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def model_of(record: dict[str, Any]) -> str:
    """``gemini-2.5-flash`` from ``/v1beta/models/gemini-2.5-flash:generateContent?...``."""
    path = record["request"]["path"].split("?")[0]
    return str(path.split("/models/", 1)[1].split(":", 1)[0])


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
