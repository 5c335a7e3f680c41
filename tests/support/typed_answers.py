"""What the loopback servers of the typed-answer tests answer: a value made from the schema they
received (in a response format, a tool's parameters, or the instructions of prompted mode).

A string property ``p`` is ``"<p>"``, an integer the length of its name, a number that plus a
half; a union takes its first branch that is not null. So a test knows the value it must read,
and the value can only be right if the schema reached the server.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["INSTRUCTIONS_MARK", "fenced", "sample", "schema_in_instructions"]

INSTRUCTIONS_MARK = "JSON Schema:\n"
"""What precedes the schema in the system text of prompted mode."""


def sample(schema: dict[str, Any], name: str = "answer", root: dict[str, Any] | None = None) -> Any:
    """The value a model held to ``schema`` gives, as the module says (``name``: its key)."""
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target: Any = root
        for step in ref.removeprefix("#/").split("/"):
            target = target[step]
        return sample(target, name, root)
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []):
            if str(branch.get("type", "")).lower() != "null":
                return sample(branch, name, root)
    kinds = schema.get("type", "")
    if isinstance(kinds, list):  # ["string", "null"]: strict mode's optional field
        kinds = next((kind for kind in kinds if kind != "null"), "null")
    kind = str(kinds).lower()
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: sample(value, key, root) for key, value in properties.items()}
    if kind == "array":
        return [sample(schema.get("items", {}), name, root)]
    if kind == "string":
        return f"<{name}>"
    if kind == "integer":
        return len(name)
    if kind == "number":
        return len(name) + 0.5
    if kind == "boolean":
        return True
    return None


def schema_in_instructions(system_text: str) -> dict[str, Any]:
    """The schema prompted mode wrote into the system text (KeyError-like failure if none)."""
    at = system_text.index(INSTRUCTIONS_MARK) + len(INSTRUCTIONS_MARK)
    schema: dict[str, Any] = json.loads(system_text[at:])
    return schema


def fenced(value: Any) -> str:
    """``value`` as a model answering prompted mode writes it: prose, then a ```json fence."""
    return f"Here it is:\n```json\n{json.dumps(value)}\n```"
