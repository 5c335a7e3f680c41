"""result_content: a tool's parts kept as parts, its text cut, every other result unchanged."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import BaseModel

from aether.errors import ToolExecutionError
from aether.llm.parts import DocumentPart, ImagePart, TextPart
from aether.tools.results import content_text, describe_media, result_content, serialize_result

IMAGE = ImagePart(data=b"\x89PNG1234", media_type="image/png")


class Row(BaseModel):
    id: int


@pytest.mark.parametrize(
    "value",
    ["plain text", {"a": [1, 2]}, [1, "two", None], ("x", 3), Row(id=1), [Row(id=2)], [], 42],
)
def test_a_result_without_parts_is_serialize_results_text(value: Any) -> None:
    assert result_content(value, max_chars=50) == serialize_result(value, max_chars=50)
    assert result_content("x" * 30, max_chars=10) == serialize_result("x" * 30, max_chars=10)


def test_one_part_or_a_list_or_tuple_holding_one_is_a_list_of_parts() -> None:
    assert result_content(IMAGE) == [IMAGE]
    assert result_content(TextPart(text="hi")) == [TextPart(text="hi")]
    assert result_content(("Chart:", IMAGE, "", Row(id=7), [1, 2])) == [
        TextPart(text="Chart:"),
        IMAGE,  # the empty string is left out; other values are their JSON
        TextPart(text='{"id":7}'),
        TextPart(text="[1,2]"),
    ]


def test_the_text_of_parts_shares_one_budget_and_the_media_is_kept() -> None:
    content = result_content(["abcdef", IMAGE, "ghijkl", IMAGE, "mn"], max_chars=8)
    assert isinstance(content, list)
    first, image, cut, image_again = content
    assert first == TextPart(text="abcdef")
    assert image == image_again == IMAGE
    assert isinstance(cut, TextPart)
    assert cut.text.startswith("gh\n[Result cut: the tool returned 14 characters")
    assert "first 8 are shown" in cut.text


def test_a_budget_spent_exactly_still_says_the_rest_was_cut() -> None:
    content = result_content(["abcd", IMAGE, "efgh"], max_chars=4)
    assert isinstance(content, list)
    assert content[:2] == [TextPart(text="abcd"), IMAGE]
    assert isinstance(content[2], TextPart)
    assert content[2].text.startswith("\n[Result cut: the tool returned 8 characters")


def test_a_lazy_item_beside_a_part_is_refused() -> None:
    with pytest.raises(ToolExecutionError, match="an iterator"):
        result_content([IMAGE, itertools.count()])


def test_media_is_described_by_kind_type_and_size_or_where_it_is() -> None:
    assert describe_media(IMAGE) == "image (image/png, 8 bytes)"
    pdf = DocumentPart(url="https://example.com/a.pdf", media_type="application/pdf")
    assert describe_media(pdf) == "document (application/pdf, https://example.com/a.pdf)"
    assert describe_media(DocumentPart(file_id="file-1")) == "document (file file-1)"
    assert content_text("as is") == "as is"
    assert content_text([TextPart(text="a"), IMAGE, TextPart(text="b")]) == (
        "ab\n[image (image/png, 8 bytes)]"
    )
    assert content_text([IMAGE]) == "[image (image/png, 8 bytes)]"
