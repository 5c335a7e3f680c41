"""Tools as Chat Completions function definitions, and ``tool_choice``.

A strict tool (``ToolSpec(strict=True)``) is sent with ``function.strict: true``, after its
schema is checked against OpenAI's strict-mode rules
(:func:`aether.llm.output_schema.strict_schema_issues`, the check every schema
:func:`~aether.llm.strict_json_schema` returns passes): every object has
``additionalProperties: false`` and lists all its properties in ``required`` (an optional one
allows ``null`` instead), every value has a type, the root is an object, ``$ref`` stands alone,
and none of the keywords strict mode rejects appear. A schema that breaks them is a
:class:`~aether.errors.ConfigurationError` naming the tool, the place and the rule, rather than
a 400 from the API; a schema that passes is remembered, so a tool loop checks it once. The
schema is sent as written (a hand-written schema is the author's to fix; core's structured
output makes its own schemas strict before they get here).

``LLMRequest.allowed_tools`` becomes the ``allowed_tools`` form of ``tool_choice``: the whole
tool list stays in the prompt (and in its cache) while the model may call only those named.
"""

from __future__ import annotations

from typing import Any

from aether.errors import BadRequestError, ConfigurationError
from aether.llm.contracts import LLMRequest, ToolChoice, ToolSpec
from aether.llm.output_schema import strict_schema_issues as strict_issues
from aether.tools.json_schema import SchemaIssue
from aether.tools.transform import ToolSchemaCache
from aether_openai._mapping import PROVIDER

__all__ = ["check_allowed_tools", "strict_issues", "tool_choice_to_wire", "tool_to_wire"]

_BUILTIN_CHOICES = frozenset({"auto", "none", "required"})


class _BrokenRules(Exception):
    def __init__(self, issues: list[SchemaIssue]) -> None:
        self.issues = issues


def _checked(parameters: dict[str, Any]) -> tuple[dict[str, Any], list[SchemaIssue]]:
    issues = strict_issues(parameters)
    if issues:
        raise _BrokenRules(issues)  # nothing is cached: the next request is refused too
    return parameters, []


_STRICT = ToolSchemaCache(_checked)


def tool_to_wire(spec: ToolSpec) -> dict[str, Any]:
    """A :class:`ToolSpec` as a ``function`` tool definition.

    Raises:
        ConfigurationError: The tool is strict and its schema breaks strict-mode rules.
    """
    function: dict[str, Any] = {"name": spec.name, "parameters": spec.parameters}
    if spec.description:
        function["description"] = spec.description
    if spec.strict:
        try:
            function["parameters"] = _STRICT.parameters(spec)
        except _BrokenRules as broken:
            raise ConfigurationError(
                f"Tool {spec.name!r} is strict, but its parameters break OpenAI's strict-mode "
                f"rules: {'; '.join(map(str, broken.issues))}. Fix the schema (for one pydantic "
                f"generated, aether.llm.strict_json_schema does), or send the tool with "
                f"strict=False."
            ) from None
        function["strict"] = True
    return {"type": "function", "function": function}


def check_allowed_tools(request: LLMRequest) -> None:
    """Raise when ``request.allowed_tools`` names a tool the request does not offer.

    Raises:
        BadRequestError: An unknown name, a ``tool_choice`` naming a tool that is not allowed,
            or ``tool_choice="required"`` with no tool allowed.
    """
    allowed = request.allowed_tools
    if allowed is None:
        return
    offered = [tool.name for tool in request.tools]
    unknown = [name for name in allowed if name not in offered]
    choice = request.tool_choice
    problem = ""
    if unknown:
        problem = f"allowed_tools names {unknown}, which the request does not offer"
    elif choice is not None and choice not in _BUILTIN_CHOICES and choice not in allowed:
        problem = f"tool_choice names {choice!r}, which allowed_tools does not allow"
    elif choice == "required" and not allowed:
        problem = "tool_choice='required' needs a tool, but allowed_tools allows none"
    if problem:
        raise BadRequestError(
            f"{problem}; the tools offered are {offered}. Allow only tools the request offers.",
            provider=PROVIDER,
        )


def tool_choice_to_wire(
    choice: ToolChoice | None, allowed: list[str] | None = None
) -> str | dict[str, Any] | None:
    """``tool_choice`` on the wire; None: leave it out (the API's default, ``auto``).

    ``auto``/``none``/``required`` are sent as they are and any other string names one tool.
    With ``allowed`` (``LLMRequest.allowed_tools``) ``auto`` and ``required`` become the
    ``allowed_tools`` form with that mode; allowing no tool at all is ``none``.
    """
    if choice == "none":
        return choice
    if choice is not None and choice not in _BUILTIN_CHOICES:
        return {"type": "function", "function": {"name": choice}}
    if allowed is None:
        return choice
    if not allowed:
        return "none"
    return {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required" if choice == "required" else "auto",
            "tools": [{"type": "function", "function": {"name": name}} for name in allowed],
        },
    }
