"""aether.http.json_loads behaves exactly like json.loads, on text and on bytes."""

from __future__ import annotations

import json

import pytest

from aether.http import json_loads

SAME = [
    '{"a": [1, 2.5, null, true]}',
    ' {"a": 1} ',
    '"x"',
    "[]\n",
    "0",
    "-0",
    '{"é": "漢"}',
    '{"a": 1, "a": 2}',  # the last of a repeated key wins
    "[1.0000000000000002, 0.1, 1e400, -1e400, 12345678901234567890123]",
    '{"nan": NaN, "inf": Infinity}',
    '{"lone": "\\ud800", "pair": "\\ud83d\\ude00"}',  # a lone surrogate escape is kept
    "[" * 150 + "]" * 150,  # deeper than the fast parser goes: the standard one reads it
]
# The size of a stream event (256 to 1024 characters, a handful of brackets): each case
# above again, beside a long string.
_PAD = "é" * 300
SAME += [f' {{"pad": "{_PAD}", "v": {text.strip()}}} ' for text in SAME[:-1]]
SAME += ["[" * 120 + f'"{_PAD}"' + "]" * 120, "[" * 140 + f'"{_PAD}"' + "]" * 140]


@pytest.mark.parametrize("text", SAME)
def test_same_result_as_json_loads(text: str) -> None:
    assert repr(json_loads(text)) == repr(json.loads(text))
    as_bytes = text.encode("utf-8")
    assert repr(json_loads(as_bytes)) == repr(json.loads(as_bytes))


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"a": 1}',  # a UTF-8 byte order mark: json.loads refuses it
        '{"a": "é"}'.encode("utf-16"),  # json.loads reads UTF-16 and UTF-32
        '{"a": "é"}'.encode("utf-32"),
    ],
)
def test_bytes_json_loads_reads_or_refuses_alike(body: bytes) -> None:
    try:
        expected = json.loads(body)
    except ValueError as error:
        with pytest.raises(type(error)):
            json_loads(body)
    else:
        assert json_loads(body) == expected


@pytest.mark.parametrize("text", ["", "   ", '{"a": 1} x', '{"a"', "[DONE]", "{} {}"])
def test_same_errors_as_json_loads(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json_loads(text)
    with pytest.raises(json.JSONDecodeError):
        json_loads(text.encode())
