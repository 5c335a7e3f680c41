"""What typed answers cost: ``output_type`` over a plain ask, and partial values over plain text.

    python bench/bench_output.py            # about four minutes on 2 cores
    python bench/bench_output.py --quick    # fewer rounds, for a smoke run

1. **Per call.** ``Aether(OpenAIProvider).ask("...", output_type=Invoice)`` against the same
   ask without it, the answer served by ``httpx.MockTransport`` (no socket: the client's own
   work is what is timed), set against what the same feature costs hand-written code in the
   same run: an ``httpx`` call that sends the schema and reads the answer with
   ``Invoice.model_validate_json``, against the same call without them. Budget: the typed ask
   costs at most 1.2x the plain ask's ratio of it, i.e. ``(typed / plain ask) <= 1.2 x (typed
   / plain by hand)``. The microseconds each adds are printed too. Measured in the mode Aether
   picks for the model (native, where the provider maps ``response_format``, else tool) and in
   tool mode.
2. **Per streamed chunk.** ``stream_output`` (a validated partial value after each chunk)
   against ``stream_text`` (the text deltas) over the same canned stream of JSON text deltas.
   Budget: at most 2x per chunk.

CPU time per call, the best of interleaved rounds (A B A B, so drift hits both; other load on
the machine only ever adds time, so the best round is the cost itself). Exit status 1 when a
budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import BaseModel

from aether import Aether, Output
from aether.llm import OutputMode
from aether_openai import OpenAIProvider

CALL_BUDGET = 1.2
CHUNK_BUDGET = 2.0
MODEL = "gpt-4o-mini"
PROMPT = "Extract the invoice: A-1 for Ada, 12.50 EUR, unpaid."
URL = "https://api.openai.com/v1/chat/completions"


class Invoice(BaseModel):
    """An invoice, as printed."""

    number: str
    customer: str
    total: float
    paid: bool


class Line(BaseModel):
    sku: str
    quantity: int
    price: float


class Order(BaseModel):
    """An order and its lines."""

    customer: str
    lines: list[Line] = []


INVOICE = {"number": "A-1", "customer": "Ada", "total": 12.5, "paid": False}
ORDER = {
    "customer": "Ada",
    "lines": [{"sku": f"SKU-{i:03d}", "quantity": i % 7 + 1, "price": 1.25 * i} for i in range(40)],
}


def _completion(message: dict[str, Any]) -> bytes:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    usage = {"prompt_tokens": 30, "completion_tokens": 20, "total_tokens": 50}
    body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL}
    return json.dumps({**body, "choices": [choice], "usage": usage}).encode()


_TEXT = _completion({"content": "A-1 for Ada, 12.50, unpaid."})
_NATIVE = _completion({"content": json.dumps(INVOICE)})
_CALL = {"id": "call_1", "type": "function"}
_TOOL = _completion(
    {
        "content": None,
        "tool_calls": [
            {**_CALL, "function": {"name": "final_result", "arguments": json.dumps(INVOICE)}}
        ],
    }
)


def _answer(request: httpx.Request) -> httpx.Response:
    """The canned answer the request asks for: in the schema, through the tool, or text."""
    body = request.content
    if (
        b'"text/event-stream"' in request.headers.get("accept", "").encode()
        or b'"stream":true' in body
    ):
        return _stream_answer()
    if b'"response_format"' in body:
        content = _NATIVE
    elif b'"tools"' in body:
        content = _TOOL
    else:
        content = _TEXT
    return httpx.Response(200, headers={"content-type": "application/json"}, content=content)


def _sse(delta: str) -> bytes:
    chunk = {"id": "c", "model": MODEL, "choices": [{"index": 0, "delta": {"content": delta}}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _pieces(text: str, size: int = 6) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


_DELTAS = _pieces(json.dumps(ORDER))
_END = {"id": "c", "model": MODEL, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
_USAGE = {
    "id": "c",
    "model": MODEL,
    "choices": [],
    "usage": {"prompt_tokens": 9, "completion_tokens": 99},
}
_STREAM = b"".join(
    [*map(_sse, _DELTAS), f"data: {json.dumps(_END)}\n\n".encode(),
     f"data: {json.dumps(_USAGE)}\n\n".encode(), b"data: [DONE]\n\n"]
)  # fmt: skip


def _stream_answer() -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=_STREAM)


def _client() -> Aether:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    provider = OpenAIProvider(api_key="sk-bench", http_client=http, default_model=MODEL)
    # The whole default stack, as Aether() builds it from the environment.
    return Aether(provider, with_retry=True, with_circuit_breaker=True)


def _mode_for(client: Aether) -> OutputMode:
    provider = client.provider
    while not isinstance(provider, OpenAIProvider):
        provider = provider.inner  # type: ignore[attr-defined]
    native = provider.capabilities.structured_output and provider.supports_native_output(MODEL)
    return "native" if native else "tool"


class _ByHand:
    """What a careful hand-written client does: schema dumped once, the answer validated."""

    def __init__(self, mode: str) -> None:
        self.http = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
        schema = Invoice.model_json_schema()
        self.extra: dict[str, Any]
        if mode == "native":
            spec = {"name": "Invoice", "schema": schema}
            self.extra = {"response_format": {"type": "json_schema", "json_schema": spec}}
        else:
            function = {"name": "final_result", "parameters": schema}
            self.extra = {
                "tools": [{"type": "function", "function": function}],
                "tool_choice": {"type": "function", "function": {"name": "final_result"}},
            }
        self.mode = mode

    async def call(self, typed: bool) -> Any:
        body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
        if typed:
            body.update(self.extra)
        headers = {"authorization": "Bearer sk-bench"}
        response = await self.http.post(URL, json=body, headers=headers)
        message = response.json()["choices"][0]["message"]
        if not typed:
            return message["content"]
        if self.mode == "native":
            return Invoice.model_validate_json(message["content"])
        return Invoice.model_validate_json(message["tool_calls"][0]["function"]["arguments"])


async def _seconds(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls


async def _interleaved(
    runs: dict[str, Callable[[], Awaitable[Any]]], rounds: int, calls: int
) -> dict[str, float]:
    for run in runs.values():  # warm-up: imports, schemas, caches, pools
        for _ in range(200):
            await run()
    seen: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            seen[name].append(await _seconds(run, calls))
    return {name: min(values) for name, values in seen.items()}


async def _per_call(
    mode: OutputMode | None, rounds: int, calls: int
) -> tuple[OutputMode, dict[str, float]]:
    client = _client()
    chosen = mode or _mode_for(client)
    output: Output[Invoice] | type[Invoice] = Output(Invoice, mode=mode) if mode else Invoice
    by_hand = _ByHand(chosen)
    invoice = Invoice.model_validate(INVOICE)
    assert await client.ask(PROMPT, output_type=output) == invoice
    assert await by_hand.call(True) == invoice
    times = await _interleaved(
        {
            "ask": lambda: client.ask(PROMPT),
            "ask typed": lambda: client.ask(PROMPT, output_type=output),
            "hand": lambda: by_hand.call(False),
            "hand typed": lambda: by_hand.call(True),
        },
        rounds,
        calls,
    )
    return chosen, times


async def _per_chunk(rounds: int, calls: int) -> dict[str, float]:
    client = _client()

    async def text() -> None:
        async for _ in client.stream_text(PROMPT):
            pass

    async def partials() -> None:
        async for _ in client.stream_output(PROMPT, output_type=Order):
            pass

    last = [value async for value in client.stream_output(PROMPT, output_type=Order)][-1]
    assert last == Order.model_validate(ORDER)
    times = await _interleaved({"stream_text": text, "stream_output": partials}, rounds, calls)
    return {name: seconds / len(_DELTAS) for name, seconds in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    args = parser.parse_args()
    rounds, calls, streams = (5, 200, 20) if args.quick else (30, 300, 30)
    missed = 0
    print(f"Per call: client CPU, best of {rounds} interleaved rounds of {calls} calls")
    modes: tuple[OutputMode | None, ...] = (None, "tool")
    for mode in modes:
        chosen, t = asyncio.run(_per_call(mode, rounds, calls))
        ours, theirs = t["ask typed"] / t["ask"], t["hand typed"] / t["hand"]
        ratio = ours / theirs
        verdict = "met" if ratio <= CALL_BUDGET else "MISS"
        missed += verdict == "MISS"
        label = f"{chosen} mode" + (" (chosen for the model)" if mode is None else "")
        print(f"\n  {label}")
        for name in ("ask", "ask typed", "hand", "hand typed"):
            print(f"    {name:<11} {t[name] * 1e6:8.1f} us")
        print(f"    typed / plain: {ours:.3f} (ask), {theirs:.3f} (by hand)")
        added, by_hand = t["ask typed"] - t["ask"], t["hand typed"] - t["hand"]
        print(f"    added: {added * 1e6:5.1f} us by output_type, {by_hand * 1e6:5.1f} us by hand")
        print(f"    ratio {ratio:.3f}x; budget <= {CALL_BUDGET}x: {verdict}")

    t = asyncio.run(_per_chunk(rounds, streams))
    ratio = t["stream_output"] / t["stream_text"]
    verdict = "met" if ratio <= CHUNK_BUDGET else "MISS"
    missed += verdict == "MISS"
    print(f"\nPer streamed chunk ({len(_DELTAS)} JSON text deltas, a partial Order after each)")
    print(f"    stream_text    {t['stream_text'] * 1e6:8.2f} us")
    print(f"    stream_output  {t['stream_output'] * 1e6:8.2f} us")
    print(f"    ratio {ratio:.2f}x; budget <= {CHUNK_BUDGET}x: {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
