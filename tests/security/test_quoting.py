"""quote_wire and scrub_exception: every form of a secret masked, before and at any cut."""

from __future__ import annotations

import contextvars
import json
import traceback
from typing import Any

import httpx
import pytest

from aether.http import MaskedError, quote_wire, scrub_exception
from aether.http._quoting import (
    EDGE_CHARS,
    FRAGMENT_CHARS,
    MASK,
    MIN_SECRET_CHARS,
    exchange_secrets,
    secret_forms,
)
from tests.security._canary import CANARY, WIDE_CANARY, assert_clean, echoes, leaked

SECRETS = pytest.mark.parametrize("secret", [CANARY, WIDE_CANARY], ids=["ascii", "smart-quotes"])


@SECRETS
def test_every_form_of_a_secret_is_masked(secret: str) -> None:
    forms = secret_forms(secret)
    assert len(forms) > 10 if secret == WIDE_CANARY else len(forms) > 3
    for form in forms:
        shown = quote_wire(f"before {form} after", [secret])
        assert shown == f"before {MASK} after", form


@SECRETS
def test_the_forms_servers_echo_are_masked(secret: str) -> None:
    for name, echoed in echoes(secret).items():
        shown = quote_wire(echoed, [secret])
        assert MASK in shown, name
        assert_clean(shown)


def test_the_forms_cover_escapes_encodings_and_case() -> None:
    forms = secret_forms(WIDE_CANARY)
    utf8 = WIDE_CANARY.encode()
    expected = {
        WIDE_CANARY,
        json.dumps(WIDE_CANARY)[1:-1],  # \u201c
        json.dumps(WIDE_CANARY)[1:-1].replace("\\u201c", "\\u201C").replace("\\u201d", "\\u201D"),
        repr(utf8)[2:-1],  # \xe2\x80\x9c
        utf8.decode("latin-1"),
        utf8.decode("cp1252", "replace").replace("\ufffd", "\x9d"),
        WIDE_CANARY.lower(),
        WIDE_CANARY.upper(),
    }
    assert expected <= forms


@pytest.mark.parametrize("before", range(60, 130, 3))
def test_masked_before_the_cut_whatever_the_cut_falls(before: int) -> None:
    text = "x" * before + CANARY + " then more text"
    shown = quote_wire(text, [CANARY], limit=100, marker="...")
    assert shown.endswith("...") and len(shown) <= 103
    assert_clean(shown)
    visible = shown.removesuffix("...").rstrip(MASK)
    for size in range(EDGE_CHARS, len(CANARY)):
        assert not visible.endswith(CANARY[:size]), "a piece of the key ends the quote"


def test_a_cut_that_ends_in_a_piece_of_the_key_is_masked() -> None:
    # The server itself cut the key: its first characters end the text.
    for size in range(EDGE_CHARS, FRAGMENT_CHARS + 4):
        assert quote_wire(f"key: {CANARY[:size]}", [CANARY]) == f"key: {MASK}"
        assert quote_wire(f"{CANARY[-size:]} was the key", [CANARY]) == f"{MASK} was the key"


def test_runs_of_the_key_are_masked_anywhere_shorter_pieces_inside_are_not() -> None:
    run = CANARY[10 : 10 + FRAGMENT_CHARS]
    assert quote_wire(f"a {run} b", [CANARY]) == f"a {MASK} b"
    short = CANARY[10 : 10 + FRAGMENT_CHARS - 1]
    assert quote_wire(f"a {short} b", [CANARY]) == f"a {short} b"


def test_short_secrets() -> None:
    assert quote_wire("abc is here", ["abc"]) == "abc is here"  # too short to mask
    assert len("k3y!") == MIN_SECRET_CHARS
    assert quote_wire("the k3y! is here", ["k3y!"]) == f"the {MASK} is here"


def test_surrounding_whitespace_of_a_secret_does_not_hide_it() -> None:
    assert quote_wire(f"b'Bearer {CANARY}'", [CANARY + "\n"]) == f"b'Bearer {MASK}'"


def test_values_of_every_kind_are_quoted() -> None:
    assert quote_wire(f"é {CANARY}".encode(), [CANARY]) == f"é {MASK}"
    assert quote_wire(ValueError(f"bad {CANARY}"), [CANARY]) == f"bad {MASK}"
    assert quote_wire(ValueError(), [CANARY]) == "ValueError"
    assert quote_wire({"k": CANARY}, [CANARY]) == f'{{"k": "{MASK}"}}'
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    assert quote_wire(deep) == "<list that cannot be shown>"

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert quote_wire(Hostile()) == "<Hostile that cannot be shown>"


def test_collapse_limit_and_marker() -> None:
    assert quote_wire("a \n\n b", collapse=True) == "a b"
    assert quote_wire("abcdef", limit=3, marker="...") == "abc..."
    assert quote_wire("abc", limit=3, marker="...") == "abc"


def test_the_secrets_of_the_last_exchange_are_masked_without_being_named() -> None:
    def inside() -> str:
        exchange_secrets((CANARY,))
        return quote_wire(f"finishReason {CANARY}")

    assert contextvars.copy_context().run(inside) == f"finishReason {MASK}"
    # Only in that context: another one (another task) is not affected.
    assert quote_wire(f"finishReason {CANARY}") == f"finishReason {CANARY}"


def test_scrubbing_masks_a_whole_chain_and_drops_request_headers() -> None:
    request = httpx.Request(
        "POST",
        "http://user:pw@api.test/v1/x",
        headers={"authorization": f"Bearer {CANARY}", "x-api-key": CANARY},
    )
    try:
        try:
            try:
                raise ValueError(
                    f"Illegal header value {(f'Bearer {CANARY}' + chr(10)).encode()!r}"
                )
            except ValueError as inner:
                raise OSError(f"wrapped: {inner}") from inner
        except OSError as exc:
            error = httpx.LocalProtocolError(str(exc), request=request)
            error.add_note(f"note {CANARY}")
            raise error from exc
    except httpx.LocalProtocolError as caught:
        outer = caught
    scrub_exception(outer, [CANARY])
    formatted = "".join(traceback.format_exception(outer))
    assert_clean(formatted, repr(outer), repr(outer.__cause__), repr(outer.__cause__.__cause__))
    assert MASK in formatted
    kept = outer.request
    assert "authorization" not in kept.headers and "x-api-key" not in kept.headers
    assert (kept.method, str(kept.url)) == ("POST", "http://api.test/v1/x")


def test_scrubbing_masks_what_exceptions_keep_in_attributes() -> None:
    try:
        f"Bearer {WIDE_CANARY}".encode("ascii")
    except UnicodeEncodeError as caught:
        encode = caught
    assert leaked(repr(encode))
    scrub_exception(encode, [WIDE_CANARY])
    assert_clean(repr(encode), str(encode), repr(encode.object))

    try:
        json.loads("{" + CANARY)
    except json.JSONDecodeError as caught:
        decode = caught
    scrub_exception(decode, [CANARY])
    assert_clean(decode.doc, repr(vars(decode)))


def test_a_chained_exception_that_cannot_be_masked_in_place_is_replaced() -> None:
    class Stubborn(Exception):
        def __str__(self) -> str:
            return f"stubborn {CANARY}"

    try:
        try:
            raise Stubborn
        except Stubborn as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as caught:
        outer = caught
    scrub_exception(outer, [CANARY])
    assert isinstance(outer.__cause__, MaskedError)
    assert str(outer.__cause__) == f"Stubborn: stubborn {MASK}"
    assert outer.__suppress_context__  # still reads as "raised from"
    assert_clean("".join(traceback.format_exception(outer)))
