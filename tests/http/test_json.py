"""aether.http.json_loads behaves exactly like json.loads."""

from __future__ import annotations

import json

import pytest

from aether.http import json_loads


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2.5, null, true]}', ' {"a": 1} ', '"x"', "[]\n", "0", '{"é": "漢"}']
)
def test_same_result_as_json_loads(text: str) -> None:
    assert json_loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", "   ", '{"a": 1} x', '{"a"', "[DONE]", "{} {}"])
def test_same_errors_as_json_loads(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json_loads(text)
