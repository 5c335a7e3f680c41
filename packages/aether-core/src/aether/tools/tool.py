"""``Tool``: something an LLM can call, with its schema and validator built once.

    tool = make_tool(add, description="Add two numbers")
    tool.spec                         # ToolSpec(name="add", description=..., parameters=...)
    await tool.run({"a": 2, "b": 3})  # 5: validated first; a sync function runs in a thread

    weather = Tool.from_schema("get_weather", {"type": "object", "properties": {...}},
                               description="Current weather", function=call_weather_api)

Building is the expensive part (pydantic generates the model and schema); do it once.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, final

from pydantic import ValidationError

from aether.errors import ConfigurationError, ToolArgumentsError, ToolError, ToolExecutionError
from aether.http._json import DEFAULT_MAX_JSON_DEPTH, deeper_than
from aether.llm.contracts import RAW_ARGUMENTS_KEY, ToolSpec
from aether.tools._threads import run_in_worker
from aether.tools.arguments import check_shape, short_repr
from aether.tools.schema import ArgumentsSchema, build_arguments_schema, describe_function
from aether.tools.validation import SchemaValidator

__all__ = ["RAW_ARGUMENTS_KEY", "Tool", "make_tool"]


# The intersection of what OpenAI, Anthropic and Gemini accept as a function name.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


@final
class Tool:
    """A function the model may call, described by a JSON Schema generated from its signature.

    Build one with :func:`make_tool` or :func:`~aether.tools.register_tool`, or, when the
    schema comes from elsewhere (an MCP server, an OpenAPI document, a recorded request),
    with :meth:`from_schema`. The schema and the argument validator are computed here, once;
    each call only validates and runs.

    Args:
        function: A sync or async function with named, annotated parameters. Generator
            functions are refused: a tool returns its whole result at once.
        name: What the model calls it; default: the function's ``__name__``.
        description: What it does, for the model; default: the docstring's summary and body.
        timeout: Seconds a call may take before the model is told it timed out; None: no limit.
        strict: Ask the provider to hold the model to the schema exactly
            (:attr:`ToolSpec.strict <aether.llm.contracts.ToolSpec.strict>`); the schema must
            then meet that provider's strict-mode rules, which the provider checks.

    Raises:
        ConfigurationError: The name is not one every provider accepts, or a parameter cannot
            be described as JSON Schema.
        TypeError: ``function`` is not callable, or is a generator function.
    """

    __slots__ = (
        "_arguments",
        "_is_async",
        "_schema",
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
        strict: bool = False,
    ) -> None:
        if not callable(function):
            raise TypeError(f"A tool must be a function, got {function!r}.")
        name = name if name is not None else getattr(function, "__name__", "")
        _check_callable(name or _qualname(function), function)
        _check_name(name)
        doc_description, param_docs = describe_function(function)
        arguments = build_arguments_schema(function, name=name, descriptions=param_docs)
        self._setup(
            name=name,
            description=description if description is not None else doc_description,
            parameters=arguments.parameters,
            function=function,
            timeout=timeout,
            strict=strict,
            arguments=arguments,
            schema=None,
        )

    @classmethod
    def from_schema(
        cls,
        name: str,
        parameters: Mapping[str, Any],
        *,
        description: str = "",
        function: Callable[[dict[str, Any]], Any] | None = None,
        timeout: float | None = None,
        strict: bool = False,
    ) -> Tool:
        """A tool declared by its JSON Schema, run by ``function`` or by the caller.

        With a ``function``, the tool loop validates the model's arguments against
        ``parameters`` (see :mod:`aether.tools.validation` for the keywords checked), then
        calls ``function(arguments)`` with the arguments object as ONE dict: a private copy,
        whatever its property names (``from``, ``content-type``...). Sync or async, like any
        tool; its return value becomes the result the model reads.

        Without a ``function`` the tool is *deferred*: the model may call it, but Aether
        cannot run it. The tool loop then stops and raises
        :class:`~aether.tools.DeferredToolCallsError` with the calls for the caller to run
        and the conversation to continue.

        Args:
            name: What the model calls it (1-64 letters, digits, ``_`` or ``-``).
            parameters: The JSON Schema of the arguments object. A missing ``type`` is taken
                as ``"object"``; the schema is copied.
            description: What it does, for the model.
            function: Runs a call: ``function(arguments: dict) -> result``; None: deferred.
            timeout: Seconds a call may take; None: no limit.
            strict: See :class:`Tool`.

        Raises:
            ConfigurationError: The name is not accepted by every provider, ``parameters`` is
                not a JSON object schema, or (with a function) one of its ``$ref`` does not
                resolve or loops.
            TypeError: ``function`` is not callable, or is a generator function.
        """
        _check_name(name)
        if function is not None:
            if not callable(function):
                raise TypeError(f"Tool {name!r}: function must be callable, got {function!r}.")
            _check_callable(name, function)
        schema = _object_schema(name, parameters)
        tool = object.__new__(cls)
        tool._setup(
            name=name,
            description=description,
            parameters=schema,
            function=function,
            timeout=timeout,
            strict=strict,
            arguments=None,
            # Only a tool that runs here needs its arguments checked here.
            schema=SchemaValidator(schema, tool=name) if function is not None else None,
        )
        return tool

    def _setup(
        self,
        *,
        name: str,
        description: str,
        parameters: dict[str, Any],
        function: Callable[..., Any] | None,
        timeout: float | None,
        strict: bool,
        arguments: ArgumentsSchema | None,
        schema: SchemaValidator | None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f"Tool {name!r}: timeout must be > 0 seconds, got {timeout}.")
        self.name: str = name
        self.description: str = description
        self.function: Callable[..., Any] | None = function
        self.timeout: float | None = timeout
        self._arguments = arguments
        self._schema = schema
        self._validate = (
            arguments.model.__pydantic_validator__.validate_python if arguments else None
        )
        self._is_async = function is not None and _is_async_callable(function)
        self._spec = ToolSpec(
            name=name, description=description, parameters=parameters, strict=strict
        )

    def _renamed(self, name: str) -> Tool:
        """This tool under another name (a registry alias), sharing everything else."""
        _check_name(name)
        clone = object.__new__(Tool)
        for slot in Tool.__slots__:
            setattr(clone, slot, getattr(self, slot))
        clone.name = name
        clone._spec = self._spec.model_copy(update={"name": name})
        return clone

    def __repr__(self) -> str:
        if self.function is None:
            return f"Tool(name={self.name!r}, deferred)"
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
    def strict(self) -> bool:
        """Whether providers are asked to hold the model to the schema exactly."""
        return self._spec.strict

    @property
    def is_async(self) -> bool:
        """True when the function is a coroutine function (it then runs on the event loop)."""
        return self._is_async

    @property
    def deferred(self) -> bool:
        """True for a tool declared without a function: its calls are the caller's to run."""
        return self.function is None

    def bind(self, arguments: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validate ``arguments``; return the positional and keyword arguments of the function.

        For a function tool, only arguments the model gave are passed, so the function's own
        defaults apply. For a schema tool, the one positional argument is a copy of the
        arguments object.

        Raises:
            ToolArgumentsError: The arguments were not a JSON object, are nested too deeply or
                too large (:mod:`aether.tools.arguments`), or do not match the signature or
                schema (wrong types, missing or unexpected names). Its message is written for
                the model to correct itself.
        """
        if len(arguments) == 1 and isinstance(raw := arguments.get(RAW_ARGUMENTS_KEY), str):
            raise ToolArgumentsError(
                f"The arguments for tool {self.name!r} were not a JSON object: "
                f"{short_repr(raw)}. Call {self.name!r} again with one JSON object holding "
                f"its parameters."
            )
        # Before any validator walks them: those recurse, and the model's data may not end.
        check_shape(self.name, arguments)
        schema = self._arguments
        if schema is None or self._validate is None:
            return self._bind_schema(arguments)
        try:
            # The core validator itself: model_validate is a Python wrapper around it, and
            # this runs on every tool call.
            validated = self._validate(arguments)
        except ValidationError as exc:
            raise self._invalid(_describe(exc)) from exc
        values, given_fields = validated.__dict__, validated.model_fields_set
        # A plain loop, not a dict comprehension: this runs on every tool call, and before
        # Python 3.12 a comprehension is a nested function call of its own.
        given: dict[str, Any] = {}
        for field, param in schema.names:
            if field in given_fields:
                given[param] = values[field]
        positional_only = schema.positional_only
        if not positional_only:
            return [], given
        args = [given.pop(param) for param in positional_only if param in given]
        return args, given

    def _bind_schema(self, arguments: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        if self._schema is not None:
            problems = self._schema.errors(arguments)
            if problems:
                raise self._invalid("; ".join(problems))
        # A copy: the function may change it, and the call's arguments go back to the model.
        return [copy.deepcopy(dict(arguments))], {}

    def _invalid(self, problems: str) -> ToolArgumentsError:
        return ToolArgumentsError(
            f"Invalid arguments for tool {self.name!r}: {problems}. Call {self.name!r} again "
            f"with arguments matching its parameters."
        )

    async def run(self, arguments: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        """Validate ``arguments``, then call the function and return what it returned.

        A sync function runs in a worker thread so the event loop stays responsive. On
        timeout the caller gets an error at once. A thread cannot be stopped: a sync
        function's thread is abandoned, runs on until the function returns, and a warning is
        logged on the ``aether.tools`` logger. It is a daemon thread, so it never keeps the
        process from exiting.

        Args:
            arguments: The arguments object the model sent.
            timeout: Seconds before giving up; default: the tool's own ``timeout``.

        Raises:
            ToolArgumentsError: See :meth:`bind`; the function was not called.
            ToolExecutionError: The function raised (the exception is the ``__cause__``) or
                timed out, or the tool is deferred (it has no function to run).
        """
        if self.function is None:
            raise ToolExecutionError(
                f"Tool {self.name!r} was declared from a schema without a function, so it "
                f"cannot be run here; its caller runs it and answers the call with a tool "
                f"message."
            )
        args, kwargs = self.bind(arguments)
        limit = timeout if timeout is not None else self.timeout
        if limit is None:
            return await self._call(self.function, args, kwargs)
        try:
            return await asyncio.wait_for(self._call(self.function, args, kwargs), limit)
        except asyncio.TimeoutError as exc:
            raise ToolExecutionError(
                f"Tool {self.name!r} did not finish within {limit:g}s and was abandoned. "
                f"Try simpler arguments, or answer without it."
            ) from exc

    async def _call(
        self, function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        try:
            if self._is_async:
                return await function(*args, **kwargs)
            # Daemon worker threads, not asyncio.to_thread: an abandoned call must not keep
            # asyncio.run() or the interpreter from exiting (see aether.tools._threads).
            result = await run_in_worker(self.name, function, *args, **kwargs)
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
    strict: bool = False,
) -> Tool:
    """Build a :class:`Tool` without registering it (pass it in ``tools=[...]``, or hand it to
    a tool pack's ``register`` callback)."""
    return Tool(function, name=name, description=description, timeout=timeout, strict=strict)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"Tool name {name!r} is not accepted by every provider: use 1-64 letters, "
            f"digits, '_' or '-', starting with a letter or '_' (pass name=...)."
        )


def _check_callable(name: str, function: Callable[..., Any]) -> None:
    """Refuse generator functions: yielded items would never reach the model."""
    target: Any = function
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isroutine(target) and not isinstance(target, type):
        target = type(target).__call__  # a callable object: its method is what runs
    if inspect.isasyncgenfunction(target):
        kind = "an async generator function"
    elif inspect.isgeneratorfunction(target):
        kind = "a generator function"
    else:
        return
    raise TypeError(
        f"Tool {name!r} is {kind}, but a tool returns its whole result at once: the model "
        f"would never see the items it yields. Collect them and return a list instead."
    )


# The depth a server's JSON may have (aether.http's default): a schema deeper than any answer
# could be read back is a mistake, whatever the interpreter's recursion limit.
_MAX_SCHEMA_DEPTH = DEFAULT_MAX_JSON_DEPTH


def _object_schema(name: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A private copy of ``parameters``, checked to be a JSON object schema."""
    if not isinstance(parameters, Mapping):
        raise ConfigurationError(
            f"Tool {name!r}: parameters must be a JSON Schema of the arguments object, such "
            f"as {{'type': 'object', 'properties': {{...}}}}; got {type(parameters).__name__}."
        )
    if deeper_than(parameters, _MAX_SCHEMA_DEPTH):  # measured without recursion
        raise ConfigurationError(
            f"Tool {name!r}: parameters is not a JSON document a provider takes (it nests "
            f"deeper than {_MAX_SCHEMA_DEPTH} levels); flatten the schema, or use $defs and $ref."
        )
    try:
        # Through JSON: a private copy, and proof the schema can be sent to a provider.
        schema: dict[str, Any] = json.loads(json.dumps(parameters, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigurationError(
            f"Tool {name!r}: parameters is not a JSON document ({type(exc).__name__}: {exc}); "
            f"a tool schema must be plain JSON (dicts, lists, strings, numbers, booleans)."
        ) from None
    if "type" not in schema:
        schema = {"type": "object", **schema}
    kind = schema["type"]
    if kind != "object":
        raise ConfigurationError(
            f"Tool {name!r}: parameters must describe an object (type 'object'), since a "
            f"model sends a tool's arguments as one JSON object; got type {kind!r}. Wrap the "
            f"value in a property."
        )
    schema.setdefault("properties", {})
    return schema


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
            text = f"{where}: {item['msg']} (got {short_repr(item['input'])})"
        parts.append(text)
    return "; ".join(parts)
