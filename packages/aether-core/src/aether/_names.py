"""Close matches for a name nothing provides: every lookup by name says "did you mean".

A typo in ``LLM_PROVIDER=opnai``, ``AETHER_SESSION_STORE=sqlit`` or ``tools=["ad"]`` is
answered with the installed names closest to it, so the fix is in the message itself.

    >>> did_you_mean(close_matches("opnai", ["openai", "gemini", "fake"]))
    "Did you mean 'openai'? "
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean", "listing"]

# difflib's own default: "opnai"/"openai" scores 0.91, "ad"/"add" 0.8, "redis"/"memory" 0.36.
_CUTOFF = 0.6


def close_matches(name: str, available: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """The names in ``available`` most like ``name``, closest first; case is ignored.

    Args:
        name: What was asked for.
        available: What exists.
        limit: At most this many suggestions.
    """
    by_folded: dict[str, str] = {}
    for candidate in sorted(available):
        by_folded.setdefault(candidate.casefold(), candidate)
    if not by_folded or limit < 1:
        return ()
    folded = name.casefold()
    found = difflib.get_close_matches(folded, by_folded, n=len(by_folded), cutoff=_CUTOFF)
    # difflib breaks ties in reverse alphabetical order; alphabetical reads better.
    found.sort(key=lambda match: (-difflib.SequenceMatcher(None, folded, match).ratio(), match))
    return tuple(by_folded[match] for match in found[:limit])


def did_you_mean(suggestions: Iterable[str]) -> str:
    """``"Did you mean 'a' or 'b'? "`` (with its trailing space), or ``""`` when none."""
    quoted = [repr(name) for name in suggestions]
    if not quoted:
        return ""
    if len(quoted) == 1:
        return f"Did you mean {quoted[0]}? "
    return f"Did you mean {', '.join(quoted[:-1])} or {quoted[-1]}? "


def listing(available: Iterable[str]) -> str:
    """The names sorted and comma-separated, or ``"none"``."""
    return ", ".join(sorted(set(available))) or "none"
