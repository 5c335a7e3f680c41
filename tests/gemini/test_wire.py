"""The replay helper that rebuilds a recorded request: what it maps, and what it skips aloud."""

from __future__ import annotations

from tests.gemini._wire import project, request_from_record


def test_calls_without_ids_are_paired_by_name_and_media_is_skipped_with_a_reason() -> None:
    body = {
        "system_instruction": {"role": "user", "parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Weather?"}, {"inline_data": {"data": "AAA"}}]},
            {
                "role": "model",
                "parts": [
                    {
                        "function_call": {"name": "w", "args": {"c": "Paris"}},
                        "thoughtSignature": "s",
                    },
                    {"functionCall": {"name": "w", "args": {"c": "Rome"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "w", "response": {"t": 20}}},
                    {"functionResponse": {"name": "w", "response": {"t": 25}}},
                ],
            },
        ],
        "generationConfig": {"temperature": 0.2, "topP": 0.9},
    }
    rebuilt = request_from_record(body, "gemini-x")
    assert rebuilt.request is not None
    calls = rebuilt.request.messages[2].tool_calls
    assert [c.arguments for c in calls] == [{"c": "Paris"}, {"c": "Rome"}]
    # Each result answers its own call, in order, though neither side had an id.
    assert [m.tool_call_id for m in rebuilt.request.messages[3:]] == [c.id for c in calls]
    assert [c.provider_data for c in calls] == [{"thoughtSignature": "s"}, {}]
    assert rebuilt.request.temperature == 0.2
    assert (rebuilt.total_parts, rebuilt.compared_parts) == (6, 5)
    assert any("inlineData" in reason for reason in rebuilt.skipped)
    assert any("topP" in reason for reason in rebuilt.skipped)
    assert rebuilt.expected["system"] == "Be brief."


def test_a_request_with_nothing_mappable_says_so() -> None:
    rebuilt = request_from_record({"contents": [{"role": "user", "parts": [{"text": ""}]}]}, "m")
    assert rebuilt.request is None
    assert any("nothing the contracts carry" in reason for reason in rebuilt.skipped)


def test_project_reads_the_fields_compared() -> None:
    sent = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "generationConfig": {"maxOutputTokens": 5, "candidateCount": 1},
    }
    assert project(sent) == {
        "parts": [("user", {"text": "hi"})],
        "functions": ["a", "b"],
        "toolConfig": {"mode": "ANY"},
        "generation": {"maxOutputTokens": 5},
    }
