"""The ``aether.openai`` logger: what the provider says about a request it adjusted."""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("aether.openai")
