"""Typed answers: the ``Output`` a call asks for, and how a JSON answer is read as its type.

    from pydantic import BaseModel
    from aether import Aether, Output

    class Invoice(BaseModel):
        number: str
        total: float

    invoice = await client.ask("Extract the invoice: ...", output_type=Invoice)
    invoice = await client.ask("...", output_type=Output(Invoice, mode="tool", retries=2))

Any type pydantic validates works: models, dataclasses, TypedDicts, ``list[...]``, unions,
``Literal``, enums, primitives. The model is asked for it in one of three modes:

* ``native``: the provider asks the model for JSON in the schema its own way
  (``LLMRequest.output``); for providers that claim ``structured_output`` and models that
  answer natively.
* ``tool``: one more tool (``final_result`` unless a tool of that name exists) whose
  parameters are the schema, and the model must call it; any provider with tools.
* ``prompted``: the schema goes into the system text and the JSON is read from the answer
  (a fenced ```` ```json ```` block is fine); any provider at all.

Unset, the mode is the first of these the provider and model serve for the call. A provider
says what it serves with its ``capabilities`` and, optionally, two methods:
``supports_native_output(model) -> bool`` (taking a keyword ``with_tools: bool`` too when its
models cannot answer in a schema while they may call tools, like Gemini's before 3) and
``supports_forced_tool_choice(request) -> bool`` (False where the request may not force a
tool, like Anthropic's with extended thinking on: tool mode then gives way to prompted, and
``Output(mode="tool")`` is refused before sending).

A type whose schema is not an object (a list, a union, a primitive) is asked for as
``{"response": <value>}``, since tools and most native formats take objects only; the value
is unwrapped (a bare value is accepted too). An answer that does not validate goes back to the
model with pydantic's errors, up to ``retries`` times. How one call does all this is
:mod:`aether.llm._output_target` (the mode a provider serves), :mod:`aether.llm._output_plan`
(the request, reading and repairing answers), :mod:`aether.llm._output_stream` (partial
values) and :mod:`aether.llm._output_calls` (the calls).
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, is_dataclass
from types import UnionType
from typing import Annotated, Any, Final, Generic, Literal, Union, get_args, get_origin, overload

import pydantic_core
from pydantic import TypeAdapter, ValidationError, create_model
from typing_extensions import TypeVar

__all__ = ["OUTPUT_MODES", "Output", "OutputMode", "TypeShape", "as_output", "extract_json"]

OutputMode = Literal["native", "tool", "prompted"]
"""How the model is asked for a typed answer (see the module docs)."""

OUTPUT_MODES: Final[tuple[OutputMode, ...]] = ("native", "tool", "prompted")

T = TypeVar("T")

_WRAPPER_KEY: Final = "response"
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n(.*?)```", re.DOTALL)
_PARTIAL: Final = "trailing-strings"  # a string still forming shows as far as it came


@dataclass(frozen=True, slots=True, eq=False)
class TypeShape:
    """What asking for one type takes: its validators, schema, name and description.

    Built once per type and shared by every :class:`Output` of it.

    Attributes:
        adapter: Validates the type.
        wrapper: Validates ``{"response": value}``, for a type whose schema is no object.
        schema: The JSON Schema the model is shown (wrapped when ``wrapper`` is set).
        name: A name for the schema, from the type.
        description: The type's docstring.
    """

    adapter: TypeAdapter[Any]
    wrapper: TypeAdapter[Any] | None
    schema: dict[str, Any]
    name: str
    description: str

    def read(self, text: str) -> Any:
        """The value ``text`` holds; the first attempt is the whole text, as JSON.

        Then, when that is not JSON, the JSON found in it (a fence, prose around it); then,
        when values are null where the type has defaults, that JSON without them.

        Raises:
            ValidationError: None of these is a valid value (the errors of the first one
                that parsed).
        """
        try:
            return self._validate(text)
        except ValidationError as first:
            error = first
        candidate = text
        if error.errors(include_url=False)[0]["type"] == "json_invalid":
            extracted = extract_json(text)
            if extracted != text:
                candidate = extracted
                try:
                    return self._validate(extracted)
                except ValidationError as again:
                    error = again
        pruned = _without_nulls(candidate, error)
        if pruned is not None:
            try:
                return self._validate(pruned)
            except ValidationError:
                pass  # the first errors say more than those of a guess
        raise error

    def partial(self, text: str) -> Any:
        """The value the start of an answer holds so far (pydantic's partial JSON).

        Raises:
            ValidationError: What has arrived is not (yet) a valid value.
        """
        if self.wrapper is None:
            return self.adapter.validate_json(text, experimental_allow_partial=_PARTIAL)
        value = self.wrapper.validate_json(text, experimental_allow_partial=_PARTIAL)
        return getattr(value, _WRAPPER_KEY)

    def _validate(self, text: str) -> Any:
        if self.wrapper is None:
            return self.adapter.validate_json(text)
        try:
            return getattr(self.wrapper.validate_json(text), _WRAPPER_KEY)
        except ValidationError as wrapped:
            try:  # the bare value, without {"response": ...} around it
                return self.adapter.validate_json(text)
            except ValidationError:
                raise wrapped from None


class Output(Generic[T]):
    """A typed answer to ask for: the type, and how (pass it as ``output_type=``).

    ``output_type=Invoice`` means ``output_type=Output(Invoice)``; spell ``Output`` out to
    choose the mode, the number of repairs, or the name and description the model sees, and
    keep it to reuse::

        INVOICE = Output(Invoice, mode="tool", retries=2)
        invoice = await client.ask(text, output_type=INVOICE)

    A type that is not a class (a union, a ``Literal``) makes an ``Output[Any]``; parametrize
    it so a type checker knows the answer's type: ``Output[int | str](int | str)``.

    Args:
        type_: What the answer must be: anything pydantic validates.
        mode: ``"native"``, ``"tool"`` or ``"prompted"``; None: the first of them the
            provider and model serve.
        retries: How many times an answer that does not validate is sent back to the model
            with its errors (each one a billed call); None: the client's
            ``ProviderConfig(output_retries=...)``, 1 by default.
        name: The schema's (and in native mode the format's) name, ``[a-zA-Z0-9_-]{1,64}``;
            None: from the type (``Invoice``, ``list_Invoice``).
        description: What the answer is, for the model; None: the type's docstring.
        strict: Hold the model to the schema exactly where the provider can. None: in
            native mode, strict when the schema can be made strict-compatible
            (:func:`~aether.llm.output_schema.strict_json_schema` takes it: no free-form
            dicts, no ``Any``), the provider then doing so; in tool mode, not strict, since
            not every model takes a strict tool. True in tool mode sends the tool strict,
            its schema made strict-compatible.

    Raises:
        TypeError: pydantic cannot validate ``type_`` (or build its JSON Schema).
        ValueError: ``mode``, ``retries`` or ``name`` is not one of the accepted values.
    """

    __slots__ = ("description", "mode", "name", "retries", "shape", "strict", "type")

    @overload
    def __init__(
        self: Output[T],
        type_: type[T],
        *,
        mode: OutputMode | None = None,
        retries: int | None = None,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Output[Any],
        type_: Any,
        *,
        mode: OutputMode | None = None,
        retries: int | None = None,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> None: ...

    def __init__(
        self,
        type_: Any,
        *,
        mode: OutputMode | None = None,
        retries: int | None = None,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> None:
        if isinstance(type_, Output):
            raise TypeError("Output(...) takes a type, not another Output; pass that one.")
        if mode is not None and mode not in OUTPUT_MODES:
            raise ValueError(
                f"Output mode {mode!r} is unknown; use one of {', '.join(OUTPUT_MODES)}, or "
                f"None to let the provider and model decide."
            )
        if retries is not None and (
            isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
        ):
            raise ValueError(
                f"Output retries must be a whole number >= 0 (0: no repair), got {retries!r}."
            )
        if name is not None and not (isinstance(name, str) and _NAME.fullmatch(name)):
            raise ValueError(f"Output name {name!r} must be 1 to 64 letters, digits, '_' or '-'.")
        self.type: Any = type_
        self.mode = mode
        self.retries = retries
        self.strict = strict
        self.shape = _shape_of(type_)
        self.name = name or self.shape.name
        self.description = self.shape.description if description is None else description

    def __repr__(self) -> str:
        options = "".join(
            f", {key}={getattr(self, key)!r}"
            for key in ("mode", "retries", "strict")
            if getattr(self, key) is not None
        )
        return f"Output({_shown(self.type)}{options})"

    @property
    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema the model is shown (``{"response": ...}`` for a non-object type)."""
        return self.shape.schema

    def validate_json(self, text: str | bytes) -> T:
        """The value ``text`` holds, read as the model's answer would be.

        Code fences and prose around the JSON are tolerated, and so is a ``null`` where the
        type has a default (what strict schemas make models send for an optional field).

        Raises:
            pydantic.ValidationError: ``text`` does not hold a valid value.
        """
        value: T = self.shape.read(text if isinstance(text, str) else text.decode())
        return value


def as_output(output_type: Any) -> Output[Any]:
    """``output_type`` as an :class:`Output` (a type is wrapped, an ``Output`` kept)."""
    if isinstance(output_type, Output):
        return output_type
    try:
        return _default_output(output_type)
    except TypeError:
        if _is_hashable(output_type):
            raise  # pydantic cannot validate it: the error says why
        return Output(output_type)


@functools.lru_cache(maxsize=512)
def _default_output(output_type: Any) -> Output[Any]:
    # Shared by every call with this type: internal only, never handed to the caller.
    return Output(output_type)


def _is_hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# --- the type's shape, built once per type ---------------------------------------------------


def _shape_of(type_: Any) -> TypeShape:
    if not _is_hashable(type_):  # an Annotated with unhashable metadata: built each time
        return _build_shape(type_)
    return _cached_shape(type_)


@functools.lru_cache(maxsize=512)
def _cached_shape(type_: Any) -> TypeShape:
    return _build_shape(type_)


def _build_shape(type_: Any) -> TypeShape:
    if type_ is None:
        raise TypeError("output_type=None asks for no typed answer; leave it out instead.")
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(type_)
        schema = adapter.json_schema()
    except Exception as exc:  # pydantic's many schema errors; the cause says which
        raise TypeError(
            f"output_type={_shown(type_)} is not a type Aether can ask for: pydantic cannot "
            f"validate it or build its JSON Schema ({type(exc).__name__}: {exc}). Use a "
            f"pydantic model, a dataclass, a TypedDict (from typing_extensions before Python "
            f"3.12), list[...], a union, Literal, an enum or a primitive type."
        ) from exc
    name = _type_name(type_)
    wrapper: TypeAdapter[Any] | None = None
    if not (schema.get("type") == "object" and "properties" in schema):
        model = create_model(f"{name}_answer", **{_WRAPPER_KEY: (type_, ...)})  # type: ignore[call-overload]
        wrapper = TypeAdapter(model)
        inner = dict(schema)
        definitions = inner.pop("$defs", None)
        schema = {
            "type": "object",
            "properties": {_WRAPPER_KEY: inner},
            "required": [_WRAPPER_KEY],
        }
        if definitions:
            schema["$defs"] = definitions  # ``#/$defs/...`` references resolve from the root
    return TypeShape(adapter, wrapper, schema, name, _description(type_))


def _type_name(type_: Any) -> str:
    """A schema name for ``type_``: ``Invoice``, ``list_Invoice``, ``int_or_str``."""
    origin = get_origin(type_)
    if origin is Annotated:
        return _type_name(get_args(type_)[0])
    if origin is Literal:
        name = "choice"
    elif origin is Union or origin is UnionType:
        name = "_or_".join(_type_name(arg) for arg in get_args(type_))
    elif origin is not None:
        arguments = "_".join(_type_name(arg) for arg in get_args(type_) if arg is not Ellipsis)
        name = f"{_type_name(origin)}_{arguments}" if arguments else _type_name(origin)
    else:
        name = getattr(type_, "__name__", None) or "answer"
    cleaned = _NOT_NAME.sub("_", name).strip("_")[:64]
    return cleaned or "answer"


def _description(type_: Any) -> str:
    if not isinstance(type_, type):
        return ""
    doc = vars(type_).get("__doc__")  # the type's own, not one inherited from BaseModel
    if not isinstance(doc, str) or (is_dataclass(type_) and doc.startswith(f"{type_.__name__}(")):
        return ""  # dataclasses write their signature there when there is no docstring
    return inspect.cleandoc(doc)


def _shown(type_: Any) -> str:
    return type_.__qualname__ if isinstance(type_, type) and not get_args(type_) else repr(type_)


# --- reading an answer -----------------------------------------------------------------------


def extract_json(text: str) -> str:
    """The JSON in a text answer: a fenced block's body, else from the first ``{``/``[`` on."""
    match = _FENCE.search(text)
    if match is not None:
        return match.group(1).strip()
    starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
    if not starts:
        return text.strip()
    start = min(starts)
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start : end + 1] if end > start else text[start:]


def _without_nulls(text: str, error: ValidationError) -> str | None:
    """``text`` without the ``null`` values the errors point at, or None if there are none.

    A strict schema makes every property required, an optional one nullable, so models send
    ``null`` where the type has a default; dropping the key lets the default apply.
    """
    places = [e["loc"] for e in error.errors(include_url=False) if e.get("input", 0) is None]
    if not places:
        return None
    try:
        data = pydantic_core.from_json(text)
    except ValueError:
        return None
    dropped = [_drop_null(data, loc) for loc in places]
    return pydantic_core.to_json(data).decode() if any(dropped) else None


def _drop_null(data: Any, loc: tuple[int | str, ...]) -> bool:
    # Steps that are not keys of the data (a union member's name) are passed over.
    parent: tuple[dict[str, Any], str] | None = None
    current = data
    for step in loc:
        if isinstance(current, dict) and isinstance(step, str) and step in current:
            parent, current = (current, step), current[step]
        elif (
            isinstance(current, list)
            and isinstance(step, int)
            and -len(current) <= step < len(current)
        ):
            parent, current = None, current[step]
    if parent is None or current is not None:
        return False
    del parent[0][parent[1]]
    return True
