"""No message is built from wire data except through ``quote_wire``: a static check.

Over ``aether/http`` and the provider packages (the Echo example included), each function is
read for values that come from an answer (*sources*) and for the places text is put into a
message (*sinks*), and a source must not reach a sink except through ``quote_wire``.

Sources: a name bound by ``except ... as`` (unless it catches Aether's own errors only,
whose text is masked when they are built); a parameter named like wire data (``body``,
``headers``, ``data``, ``payload``, ``event``, ...); the result of a call that reads an
answer (``post_json``, ``decode_event``, ``json_loads``, ...); and, within the function, any
name assigned from an expression that holds a source (``detail = payload.get("error")``).
Sinks: an f-string's interpolations, ``%`` and ``.format`` arguments, the first argument of
an ``...Error(...)`` call, and its ``provider_message``, ``request_id``, ``reason`` and
``refusal`` keywords. A source is clean inside a call to ``quote_wire``, to a function of
these packages whose every return value is clean (found here, so ``_summary`` counts because
it returns ``quote_wire(...)``), or to ``type``, ``len``, ``isinstance``, ``bool``, ``int``,
``float`` (no text of the answer survives them).

It is a net with known holes: it does not follow values through containers, attributes set
on objects or other modules, and a source with an unlisted name goes unseen. The canary tests
beside it check every path end to end; this one keeps a new message from quoting the wire
unmasked without anyone deciding so. What it flags that is in fact safe is listed in
:data:`CLEARED` with the reason, and a clearance no longer needed fails the test too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aether.errors

REPO = Path(__file__).resolve().parents[2]
SCOPE = [
    REPO / "packages" / "aether-core" / "src" / "aether" / "http",
    REPO / "packages" / "aether-openai" / "src",
    REPO / "packages" / "aether-gemini" / "src",
    REPO / "packages" / "aether-anthropic" / "src",
    REPO / "examples" / "aether-example-echo" / "src",
]
HELPER = "quote_wire"
WIRE_NAMES = frozenset(
    {
        "answer", "body", "call", "candidate", "chunk", "content", "data", "detail",
        "event", "exc", "error", "headers", "parsed", "payload", "raw", "response",
        "start", "text", "value", "words",
    }
)  # fmt: skip
# Calls whose result is an answer, or a part of one.
SOURCE_CALLS = frozenset(
    {"post_json", "stream_sse", "decode_event", "json_loads", "loads", "aread", "read"}
)
CLEAN_CALLS = frozenset({"type", "len", "isinstance", "bool", "int", "float", "ord"})
MESSAGE_KEYWORDS = frozenset({"provider_message", "request_id", "reason", "refusal"})

_OWN_LIMIT = "a JSONLimitError's problem and setting are Aether's words: a limit, a size"
_CONFIGURED = "the headers and key a provider is configured with, not an answer"
_MASKED = "an attribute of an Aether error, masked by core when the error was built"
CLEARED: dict[tuple[str, str, str], str] = {
    ("_client.py", "_checked_headers", "name"): _CONFIGURED,
    ("_client.py", "_checked_headers", "problem"): _CONFIGURED + " (a code point, a position)",
    ("_settings.py", "header_problem", "found.start()"): _CONFIGURED + " (a position)",
    ("_client.py", "_refused", "error.problem"): _OWN_LIMIT,
    ("_client.py", "_refused", "setting"): _OWN_LIMIT,
    ("_client.py", "decode_event", "exc.problem"): _OWN_LIMIT,
    ("_client.py", "decode_event", "setting"): _OWN_LIMIT,
    ("_transport.py", "create_http_client", "exc"): "an ImportError of a missing package",
    ("_tools.py", "tool_to_wire", "'; '.join(map(str, broken.issues))"): (
        "the issues of the caller's own tool schema, found before anything is sent"
    ),
    ("_provider.py", "_key_rejected", "words or 'Gemini rejected the API key.'"): _MASKED,
    ("_provider.py", "_key_rejected", "exc.request_id"): _MASKED,
    ("_provider.py", "_key_rejected", "exc.provider_message"): _MASKED,
}
"""(file, function, interpolated expression) that the check cannot see is clean: why."""


@dataclass
class Finding:
    path: Path
    function: str
    line: int
    source: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path.name, self.function, self.source)


@dataclass
class _Function:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    path: Path
    text: str
    outer: set[str] = field(default_factory=set)


def _files() -> Iterator[Path]:
    for root in SCOPE:
        for path in sorted(root.rglob("*.py")):
            if path.name != "_quoting.py":  # where quote_wire itself is written
                yield path


def _functions() -> list[_Function]:
    found: list[_Function] = []
    for path in _files():
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(_Function(node, path, text))
    return found


def _ours(caught: ast.expr | None) -> bool:
    """Whether an ``except`` catches Aether's own errors only: masked when they were built."""
    types = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    names = [t.id if isinstance(t, ast.Name) else getattr(t, "attr", None) for t in types]
    return all(name in aether.errors.__all__ for name in names)


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Taint:
    """Which expressions of one function hold wire data."""

    def __init__(self, function: _Function, clean_calls: set[str]) -> None:
        self.clean_calls = clean_calls
        node = function.node
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if node.args.vararg:
            params.append(node.args.vararg)
        self.names = {p.arg for p in params if p.arg in WIRE_NAMES} | function.outer
        for inner in ast.walk(node):
            if isinstance(inner, ast.ExceptHandler) and inner.name and not _ours(inner.type):
                self.names.add(inner.name)
        self._spread(node)

    def _spread(self, node: ast.AST) -> None:
        """Names assigned from tainted expressions are tainted, to a fixed point."""
        changed = True
        while changed:
            changed = False
            for inner in ast.walk(node):
                targets: list[ast.AST] = []
                value: ast.AST | None = None
                if isinstance(inner, ast.Assign):
                    targets, value = list(inner.targets), inner.value
                elif isinstance(inner, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                    targets, value = [inner.target], inner.value
                elif isinstance(inner, (ast.For, ast.AsyncFor, ast.comprehension)):
                    targets, value = [inner.target], inner.iter
                elif isinstance(inner, ast.withitem) and inner.optional_vars is not None:
                    targets, value = [inner.optional_vars], inner.context_expr
                if value is None or not self.holds(value):
                    continue
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and name.id not in self.names:
                            self.names.add(name.id)
                            changed = True

    def holds(self, expr: ast.AST) -> bool:
        """Whether ``expr`` holds wire data that no clean call took out."""
        if isinstance(expr, ast.Call):
            if _callee(expr) in self.clean_calls or _callee(expr) in CLEAN_CALLS:
                return False
            if _callee(expr) in SOURCE_CALLS:
                return True
            parts: list[ast.AST] = [*expr.args, *(k.value for k in expr.keywords)]
            if isinstance(expr.func, ast.Attribute):
                parts.append(expr.func.value)  # data.get("x") reads the answer
            return any(self.holds(part) for part in parts)
        if isinstance(expr, ast.Name):
            return expr.id in self.names
        if isinstance(expr, (ast.Compare, ast.Lambda)):
            return False  # a bool; a lambda is checked as a function of its own
        if isinstance(expr, ast.IfExp):  # the condition is not part of the value
            return self.holds(expr.body) or self.holds(expr.orelse)
        return any(self.holds(child) for child in ast.iter_child_nodes(expr))


def _sinks(node: ast.AST) -> Iterator[ast.expr]:
    """Each expression put into message text; a format's are the values it formats."""
    for sink in _all_sinks(node):
        if not isinstance(sink, ast.JoinedStr) and not _is_format(sink):
            yield sink


def _is_format(expr: ast.AST) -> bool:
    """``"...%s..." % values``."""
    return (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Mod)
        and isinstance(expr.left, ast.Constant)
        and isinstance(expr.left.value, str)
    )


def _all_sinks(node: ast.AST) -> Iterator[ast.expr]:
    for inner in ast.walk(node):
        if isinstance(inner, ast.FormattedValue):
            yield inner.value
        elif isinstance(inner, ast.BinOp) and _is_format(inner):
            yield inner.right
        elif isinstance(inner, ast.Call):
            name = _callee(inner)
            if name == "format" and isinstance(inner.func, ast.Attribute):
                yield from inner.args
            if name.endswith("Error"):
                yield from inner.args[:1]
                yield from (k.value for k in inner.keywords if k.arg in MESSAGE_KEYWORDS)


def _clean_functions(functions: list[_Function]) -> set[str]:
    """quote_wire, and every function whose return values are all clean, to a fixed point."""
    clean = {HELPER}
    changed = True
    while changed:
        changed = False
        for function in functions:
            name = function.node.name
            if name in clean:
                continue
            every = _Function(function.node, function.path, function.text, outer=set())
            taint = _Taint(every, clean)
            taint.names |= {a.arg for a in function.node.args.args if a.arg != "self"}
            returns = [
                r.value
                for r in ast.walk(function.node)
                if isinstance(r, ast.Return) and r.value is not None
            ]
            if returns and not any(taint.holds(value) for value in returns):
                clean.add(name)
                changed = True
    return clean


def findings(functions: list[_Function]) -> list[Finding]:
    clean = _clean_functions(functions)
    found: list[Finding] = []
    for function in functions:
        taint = _Taint(function, clean)
        for sink in _sinks(function.node):
            if taint.holds(sink):
                source = ast.get_source_segment(function.text, sink) or ast.dump(sink)
                found.append(Finding(function.path, function.node.name, sink.lineno, source))
    return found


def test_no_message_quotes_wire_data_but_through_quote_wire() -> None:
    found = findings(_functions())
    flagged = [f for f in found if f.key not in CLEARED]
    assert not flagged, "\n".join(
        f"{f.path.relative_to(REPO)}:{f.line} in {f.function}: {f.source}" for f in flagged
    )
    stale = set(CLEARED) - {f.key for f in found}
    assert not stale, f"cleared but no longer flagged, remove: {sorted(stale)}"


def _check(source: str) -> list[str]:
    tree = ast.parse(source)
    functions = [
        _Function(node, Path("example.py"), source)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return [f.source for f in findings(functions)]


def test_the_check_sees_wire_data_reach_a_message() -> None:
    assert _check(
        "def f(body):\n"
        "    detail = body.get('error')\n"
        "    raise ProviderError(f'failed: {detail}')\n"
    ) == ["detail"]
    assert _check(
        "def f(x):\n"
        "    try:\n"
        "        x()\n"
        "    except OSError as exc:\n"
        "        raise ProviderError('failed: %s' % exc)\n"
    ) == ["exc"]
    assert _check("def f(headers):\n    return AError(request_id=headers['x-request-id'])\n") == [
        "headers['x-request-id']"
    ]


def test_the_check_lets_quoted_and_shapeless_values_through() -> None:
    assert (
        _check(
            "def shown(text):\n"
            "    return quote_wire(text, limit=10)\n"
            "def f(body, provider):\n"
            "    detail = body.get('error')\n"
            "    raise ProviderError(\n"
            "        f'{provider}: {shown(detail)} {quote_wire(detail)} {len(body)} '\n"
            "        f'{type(detail).__name__}'\n"
            "    )\n"
        )
        == []
    )


def test_aether_errors_caught_are_clean_other_exceptions_are_not() -> None:
    source = (
        "def f(g):\n"
        "    try:\n"
        "        g()\n"
        "    except ConfigurationError as exc:\n"
        "        raise ConfigurationError(f'Output: {exc}')\n"
        "    except (OSError, ProviderError) as other:\n"
        "        raise ConfigurationError(f'Output: {other}')\n"
    )
    assert _check(source) == ["other"]
