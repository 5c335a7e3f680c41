"""``read_file`` against a real temporary tree: every way out of the root is refused.

Layout (``tmp``)::

    data/app/                 the root
        notes.txt             "inside"
        sub/deep.txt          "deep"
        link_in.txt -> notes.txt
        link_out.txt -> ../../outside.txt
        link_secrets -> ../app-secrets
        link_up -> ..
        chain1 -> chain2 -> ../../outside.txt
        relative_chain -> sub/hop -> ../../app-secrets/key.txt
    data/app-secrets/key.txt  "secret" (a sibling whose name starts with the root's)
    outside.txt               "outside"
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aether.errors import ToolExecutionError
from aether.events import TOOL_ERROR, EventBus
from aether.events import ToolError as ToolErrorEvent
from aether.llm.contracts import ToolCall
from aether.tools import dispatch_tool
from aether_tools_std import StdTools


@pytest.fixture
def root(tmp_path: Path) -> Path:
    app = tmp_path / "data" / "app"
    (app / "sub").mkdir(parents=True)
    (app / "notes.txt").write_text("inside")
    (app / "sub" / "deep.txt").write_text("deep")
    secrets = tmp_path / "data" / "app-secrets"
    secrets.mkdir()
    (secrets / "key.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    (app / "link_in.txt").symlink_to("notes.txt")
    (app / "link_out.txt").symlink_to("../../outside.txt")
    (app / "link_secrets").symlink_to("../app-secrets")
    (app / "link_up").symlink_to("..")
    (app / "chain2").symlink_to("../../outside.txt")
    (app / "chain1").symlink_to("chain2")
    (app / "sub" / "hop").symlink_to("../../app-secrets/key.txt")
    (app / "relative_chain").symlink_to("sub/hop")
    (app / "abs_link").symlink_to(tmp_path / "outside.txt")
    return app


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("notes.txt", "inside"),
        ("./notes.txt", "inside"),
        ("sub/deep.txt", "deep"),
        ("sub/../notes.txt", "inside"),
        ("link_in.txt", "inside"),
        ("link_up/app/notes.txt", "inside"),  # leaves and re-enters: the real path is inside
    ],
)
def test_files_inside_the_root_are_read(root: Path, path: str, text: str) -> None:
    assert StdTools(root=root).read_file(path) == text


@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        "../../outside.txt",
        "../app-secrets/key.txt",
        "sub/../../app-secrets/key.txt",
        "link_out.txt",
        "abs_link",
        "link_secrets/key.txt",
        "link_up/app-secrets/key.txt",
        "link_up/../outside.txt",
        "chain1",
        "relative_chain",
        "sub/hop",
        "..",
    ],
)
def test_every_escape_is_refused(root: Path, path: str) -> None:
    with pytest.raises(ToolExecutionError, match=r"^Refused: .* leads outside the folder"):
        StdTools(root=root).read_file(path)


@pytest.mark.parametrize(
    ("make_path", "why"),
    [
        (lambda root: str(root / "notes.txt"), "absolute path"),
        (lambda root: "/etc/passwd", "absolute path"),
        (lambda root: "C:\\Windows\\win.ini", "absolute path"),
        (lambda root: "\\\\server\\share", "absolute path"),
        (lambda root: "notes.txt\x00.png", "NUL byte"),
        (lambda root: "  ", "empty"),
    ],
)
def test_absolute_empty_and_nul_paths_are_refused(root: Path, make_path: object, why: str) -> None:
    assert callable(make_path)
    with pytest.raises(ToolExecutionError, match=r"^Refused: ") as caught:
        StdTools(root=root).read_file(make_path(root))
    assert why in str(caught.value)


def test_the_secret_never_appears_in_refusals(root: Path) -> None:
    for path in ("link_secrets/key.txt", "../app-secrets/key.txt"):
        with pytest.raises(ToolExecutionError) as caught:
            StdTools(root=root).read_file(path)
        assert "secret\n" not in str(caught.value) and str(root.parent) not in str(caught.value)


def test_a_root_given_through_a_symlink_works(root: Path, tmp_path: Path) -> None:
    (tmp_path / "root_link").symlink_to(root)
    tools = StdTools(root=tmp_path / "root_link")
    assert tools.read_file("notes.txt") == "inside"
    with pytest.raises(ToolExecutionError, match="leads outside"):
        tools.read_file("link_secrets/key.txt")


def test_fifos_are_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(ToolExecutionError, match="not a regular file"):
        StdTools(root=root).read_file("pipe")


def test_folders_and_missing_files_are_clear_errors(root: Path) -> None:
    tools = StdTools(root=root)
    with pytest.raises(ToolExecutionError, match="'sub' is a folder"):
        tools.read_file("sub")
    with pytest.raises(ToolExecutionError, match=r"There is no file 'nope\.txt'"):
        tools.read_file("nope.txt")


def test_a_missing_root_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ToolExecutionError, match="does not exist"):
        StdTools(root=tmp_path / "gone").read_file("x.txt")


def test_large_files_are_capped_with_a_notice(root: Path) -> None:
    (root / "big.txt").write_text("b" * 5000)
    result = StdTools(root=root, file_max_bytes=100).read_file("big.txt")
    assert result == "b" * 100 + (
        "\n[Truncated: showing the first 100 bytes of 5,000 bytes; the rest was not read.]"
    )


def test_a_multibyte_character_cut_by_the_cap_is_dropped_not_garbled(root: Path) -> None:
    (root / "accents.txt").write_text("é" * 10, encoding="utf-8")
    result = StdTools(root=root, file_max_bytes=5).read_file("accents.txt")
    assert result.startswith("éé\n[Truncated") and "\ufffd" not in result


def test_binary_files_are_described(root: Path) -> None:
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    assert StdTools(root=root).read_file("image.png") == (
        "[Binary file 'image.png' (image/png, 266 bytes) not shown.]"
    )


def test_encoding_errors_are_replaced_and_noted(root: Path) -> None:
    (root / "latin1.txt").write_bytes("café ok".encode("latin-1"))
    result = StdTools(root=root).read_file("latin1.txt")
    assert (
        result == "caf\ufffd ok\n[Note: some bytes were not valid UTF-8 and are shown as \ufffd.]"
    )


def test_utf16_with_a_bom_and_empty_files(root: Path) -> None:
    (root / "wide.txt").write_text("wide text", encoding="utf-16")
    (root / "empty.txt").write_bytes(b"")
    tools = StdTools(root=root)
    assert tools.read_file("wide.txt") == "wide text"
    assert tools.read_file("empty.txt") == "[The file 'empty.txt' is empty.]"


def test_the_default_root_is_the_working_directory_at_call_time(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = StdTools()
    monkeypatch.chdir(root / "sub")
    assert tools.read_file("deep.txt") == "deep"
    with pytest.raises(ToolExecutionError, match="leads outside"):
        tools.read_file("../notes.txt")
    monkeypatch.chdir(root)
    assert tools.read_file("notes.txt") == "inside"


async def test_a_refusal_is_a_tool_result_and_fires_tool_error(root: Path) -> None:
    bus = EventBus()
    errors: list[ToolErrorEvent] = []
    bus.on(TOOL_ERROR, errors.append)
    call = ToolCall(id="r1", name="read_file", arguments={"path": "link_secrets/key.txt"})
    result = await dispatch_tool(call, StdTools(root=root).tools(), events=bus)
    assert result.content.startswith("Error: Refused: 'link_secrets/key.txt' leads outside")
    assert "secret" not in result.content.replace("link_secrets", "")
    assert [event.call.id for event in errors] == ["r1"]
