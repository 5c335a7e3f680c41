"""``Tool``: a Python function an LLM can call, with its schema and validator built once.

    tool = make_tool(add, description="Add two numbers")
    tool.spec                         # ToolSpec(name="add", description=..., parameters=...)
    await tool.run({"a": 2, "b": 3})  # 5: validated first; a sync function runs in a thread

Building is the expensive part (pydantic generates the model and schema); do it once.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, final

from pydantic import ValidationError

from aether.errors import ConfigurationError, ToolArgumentsError, ToolError, ToolExecutionError
from aether.llm.contracts import RAW_ARGUMENTS_KEY, ToolSpec
from aether.tools.schema import build_arguments_schema, describe_function

__all__ = ["RAW_ARGUMENTS_KEY", "Tool", "make_tool"]


# The intersection of what OpenAI, Anthropic and Gemini accept as a function name.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_MAX_INPUT_REPR = 80


@final
class Tool:
    """A function the model may call, described by a JSON Schema generated from its signature.

    Build one with :func:`make_tool` or :func:`~aether.tools.register_tool`. The schema and the
    argument validator are computed here, once; each call only validates and runs.

    Args:
        function: A sync or async function with named, annotated parameters.
        name: What the model calls it; default: the function's ``__name__``.
        description: What it does, for the model; default: the docstring's summary and body.
        timeout: Seconds a call may take before the model is told it timed out; None: no limit.

    Raises:
        ConfigurationError: The name is not one every provider accepts, or a parameter cannot
            be described as JSON Schema.
    """

    __slots__ = (
        "_arguments",
        "_is_async",
        "_spec",
        "_validate",
        "description",
        "function",
        "name",
        "timeout",
    )

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"A tool must be a function, got {function!r}.")
        name = name if name is not None else getattr(function, "__name__", "")
        if not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"Tool name {name!r} is not accepted by every provider: use 1-64 letters, "
                f"digits, '_' or '-', starting with a letter or '_' (pass name=...)."
            )
        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f"Tool {name!r}: timeout must be > 0 seconds, got {timeout}.")
        doc_description, param_docs = describe_function(function)
        self.name: str = name
        self.description: str = description if description is not None else doc_description
        self.function: Callable[..., Any] = function
        self.timeout: float | None = timeout
        self._arguments = build_arguments_schema(function, name=name, descriptions=param_docs)
        self._validate = self._arguments.model.__pydantic_validator__.validate_python
        self._is_async = _is_async_callable(function)
        self._spec = ToolSpec(
            name=name, description=self.description, parameters=self._arguments.parameters
        )

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, function={_qualname(self.function)})"

    @property
    def spec(self) -> ToolSpec:
        """The tool as providers see it (the same object every time; do not mutate)."""
        return self._spec

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments object."""
        return self._spec.parameters

    @property
    def is_async(self) -> bool:
        """True when the function is a coroutine function (it then runs on the event loop)."""
        return self._is_async

    def bind(self, arguments: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validate ``arguments`` against the signature; return positional and keyword args.

        Only arguments the model gave are passed, so the function's own defaults apply.

        Raises:
            ToolArgumentsError: The arguments were not a JSON object, or do not match the
                signature (wrong types, missing or unexpected names). Its message is written
                for the model to correct itself.
        """
        if len(arguments) == 1 and isinstance(raw := arguments.get(RAW_ARGUMENTS_KEY), str):
            raise ToolArgumentsError(
                f"The arguments for tool {self.name!r} were not a JSON object: "
                f"{_short(raw)}. Call {self.name!r} again with one JSON object holding its "
                f"parameters."
            )
        try:
            # The core validator itself: model_validate is a Python wrapper around it, and
            # this runs on every tool call.
            validated = self._validate(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(
                f"Invalid arguments for tool {self.name!r}: {_describe(exc)}. Call "
                f"{self.name!r} again with arguments matching its parameters."
            ) from exc
        values, given_fields = validated.__dict__, validated.model_fields_set
        # A plain loop, not a dict comprehension: this runs on every tool call, and before
        # Python 3.12 a comprehension is a nested function call of its own.
        given: dict[str, Any] = {}
        for field, param in self._arguments.names:
            if field in given_fields:
                given[param] = values[field]
        positional_only = self._arguments.positional_only
        if not positional_only:
            return [], given
        args = [given.pop(param) for param in positional_only if param in given]
        return args, given

    async def run(self, arguments: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        """Validate ``arguments``, then call the function and return what it returned.

        A sync function runs in a worker thread (``asyncio.to_thread``) so the event loop
        stays responsive. On timeout the caller gets an error at once; a sync function's
        thread cannot be interrupted and finishes in the background.

        Args:
            arguments: The arguments object the model sent.
            timeout: Seconds before giving up; default: the tool's own ``timeout``.

        Raises:
            ToolArgumentsError: See :meth:`bind`; the function was not called.
            ToolExecutionError: The function raised (the exception is the ``__cause__``) or
                timed out.
        """
        args, kwargs = self.bind(arguments)
        limit = timeout if timeout is not None else self.timeout
        if limit is None:
            return await self._call(args, kwargs)
        try:
            return await asyncio.wait_for(self._call(args, kwargs), limit)
        except asyncio.TimeoutError as exc:
            raise ToolExecutionError(
                f"Tool {self.name!r} did not finish within {limit:g}s and was abandoned. "
                f"Try simpler arguments, or answer without it."
            ) from exc

    async def _call(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            if self._is_async:
                return await self.function(*args, **kwargs)
            # to_thread, not a bare run_in_executor: it runs the function in a copy of the
            # caller's contextvars (tracing spans, request ids), which costs next to nothing
            # beside the hop to the worker thread and back.
            result = await asyncio.to_thread(self.function, *args, **kwargs)
            if inspect.isawaitable(result):  # a sync callable that returned a coroutine
                result = await result
        except ToolError:
            raise  # the tool chose what to tell the model
        except Exception as exc:
            raise ToolExecutionError(
                f"Tool {self.name!r} raised {type(exc).__name__}: {exc}"
            ) from exc
        return result


def make_tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Tool:
    """Build a :class:`Tool` without registering it (pass it in ``tools=[...]``, or hand it to
    a tool pack's ``register`` callback)."""
    return Tool(function, name=name, description=description, timeout=timeout)


def _is_async_callable(function: Callable[..., Any]) -> bool:
    while isinstance(function, functools.partial):
        function = function.func
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004
    return not inspect.isroutine(function) and inspect.iscoroutinefunction(call)


def _qualname(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{qualname}" if module else qualname


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        kind = item["type"]
        if kind == "extra_forbidden":
            text = f"{where}: unexpected argument"
        elif kind == "missing":
            text = f"{where}: required but missing"
        else:
            text = f"{where}: {item['msg']} (got {_short(item['input'])})"
        parts.append(text)
    return "; ".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_INPUT_REPR:
        text = text[: _MAX_INPUT_REPR - 3] + "..."
    return text
