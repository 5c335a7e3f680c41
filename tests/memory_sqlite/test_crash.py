"""Durability: SIGKILL at random points, and several processes writing one file at once."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CHILD = str(Path(__file__).with_name("_child.py"))
ROUNDS = 200


def _check_database(path: Path) -> dict[str, set[str]]:
    """Integrity ok, every turn whole, no stray rows; returns the turn ids per session."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "aether_turns" not in tables:  # killed before the schema was committed
            assert "aether_messages" not in tables
            return {}
        turns = conn.execute(
            "SELECT session_id, turn_no, turn_id, message_count FROM aether_turns"
        ).fetchall()
        found: dict[str, set[str]] = {}
        for session_id, turn_no, turn_id, count in turns:
            rows = conn.execute(
                "SELECT seq, message FROM aether_messages WHERE session_id = ? AND turn_no = ? "
                "ORDER BY seq",
                (session_id, turn_no),
            ).fetchall()
            assert [seq for seq, _ in rows] == list(range(count)), turn_id
            marks = (f'"{turn_id} ', f'"{turn_id}-c"')  # every message names its own turn
            assert all(any(m in message for m in marks) for _, message in rows), turn_id
            found.setdefault(session_id, set()).add(turn_id)
        (stray,) = conn.execute(
            "SELECT count(*) FROM aether_messages m WHERE NOT EXISTS (SELECT 1 FROM "
            "aether_turns t WHERE t.session_id = m.session_id AND t.turn_no = m.turn_no)"
        ).fetchone()
        assert stray == 0
        return found
    finally:
        conn.close()


def test_sigkill_never_loses_an_acknowledged_turn_nor_leaves_half_of_one(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(1234)
    zygote = subprocess.Popen(
        [sys.executable, CHILD, "zygote", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    acked: dict[str, set[str]] = {}
    killed_mid_run = 0
    try:
        for _ in range(ROUNDS):
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            pid = None
            wanted = rng.randint(0, 4)  # acks to wait for before the kill (0: during start-up)
            seen = 0
            while pid is None or seen < wanted:
                kind, *rest = zygote.stdout.readline().split()
                if kind == "child":
                    pid = int(rest[0])
                elif kind == "ack":
                    acked.setdefault(rest[0], set()).add(rest[1])
                    seen += 1
                else:
                    raise AssertionError(f"unexpected line {kind} {rest}")
            time.sleep(rng.uniform(0, 0.002))  # land the kill anywhere in the next append
            os.kill(pid, signal.SIGKILL)
            while True:
                kind, *rest = zygote.stdout.readline().split()
                if kind == "dead":
                    assert int(rest[0]) == pid
                    break
                assert kind == "ack"
                acked.setdefault(rest[0], set()).add(rest[1])
            found = _check_database(path)
            for session, turn_ids in acked.items():
                missing = turn_ids - found.get(session, set())
                assert not missing, f"acknowledged turns lost: {sorted(missing)[:5]}"
            killed_mid_run += wanted > 0
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=10)
        zygote.stdout.close()
    assert sum(len(ids) for ids in acked.values()) >= killed_mid_run > 0


def test_several_processes_append_to_one_file(tmp_path: Path) -> None:
    path = tmp_path / "multi.db"
    writers = [
        subprocess.Popen([sys.executable, CHILD, "writer", str(path), f"w{index}", "40"])
        for index in range(4)
    ]
    try:
        codes = [writer.wait(timeout=60) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    assert codes == [0, 0, 0, 0]
    found = _check_database(path)
    assert found["shared"] == {f"w{i}-{n}" for i in range(4) for n in range(40)}
    for index in range(4):
        assert found[f"w{index}"] == {f"w{index}-{n}" for n in range(40)}
