"""aether.http's public surface is exactly its __all__, sorted; core never imports httpx."""

from __future__ import annotations

import subprocess
import sys

import aether.http
from tests.support.exports import public_names


def test_all_is_sorted_and_complete() -> None:
    assert aether.http.__all__ == sorted(aether.http.__all__)
    public = public_names(aether.http)
    assert public == set(aether.http.__all__)


def test_import_aether_does_not_import_httpx() -> None:
    code = "import sys, aether; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
