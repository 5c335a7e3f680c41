"""Through the whole client: a session that succeeds once, then fails after retries against a
server echoing the key, leaves no piece of the key in the error, any event, any log record
(DEBUG and up) or the SQLite session database."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from aether import Aether
from aether.errors import ServerError
from aether.events import ALL_EVENTS
from aether.extensions.llm.retrying import set_testing
from aether_memory_sqlite import SQLiteSessionStore
from tests.security._canary import CANARY, assert_clean, assert_error_clean, echoes, payload_texts
from tests.security._providers import WIRE_IDS, WIRES, Wire, sse
from tests.security._server import Answer, scripted
from tests.support.loopback import Request


@pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_a_failed_session_ask_leaves_no_key_anywhere(
    wire: Wire, stream: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def script(request: Request, key: str) -> Answer:
        if len(server.requests) == 1:  # the first ask succeeds, so the store holds a turn
            if stream:
                return Answer(200, chunks=[sse(*wire.events()) + wire.done])
            return Answer(200, httpx.Response(200, json=wire.answer()).content)
        error = {"message": " | ".join(echoes(key).values()), "type": "server_error"}
        body = json.dumps({"error": error, "request_id": key}).encode()
        return Answer(500, body, {"x-request-id": key})

    seen: list[object] = []
    async with (
        scripted(script) as server,
        SQLiteSessionStore(tmp_path / "sessions.db") as store,
        Aether(wire.provider(server.root, CANARY), memory_store=store, with_retry=True) as client,
    ):
        for name in ALL_EVENTS:
            client.on(name, seen.append)
        session = client.session("alice")
        with set_testing(True):
            if stream:
                assert "".join([c.text async for c in session.stream("hi")]) == "hello"
                with pytest.raises(ServerError) as info:
                    async for _ in session.stream("again"):
                        pass
            else:
                assert await session.ask("hi") == "hello"
                with pytest.raises(ServerError) as info:
                    await session.ask("again")
        assert len(server.requests) == 4  # one answer, then a failure retried twice
        assert len(await session.history()) == 2

    assert info.value.attempts == 3
    assert_error_clean(info.value)
    events = [event for event in seen if getattr(event, "error", None) is not None]
    assert len(events) >= 3  # each retry, and the error itself
    assert_clean(*payload_texts(seen))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert caplog.records
    assert_clean(*(formatter.format(record) for record in caplog.records))
    assert_clean(*_database_files(tmp_path))


def _database_files(folder: Path) -> list[str]:
    """The database and its journals, each read as text."""
    files = [path for path in folder.iterdir() if path.name.startswith("sessions.db")]
    assert files
    return [path.read_bytes().decode("latin-1") for path in files]
