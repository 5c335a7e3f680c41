"""Every error the system raises under ``read_file`` reaches the model as a tool error that
names the path it gave, never where the root lies on the host.

Most errors are real (a loop, a dangling link, a socket, a name too long); the races are
real too, a file or folder swapped for a link just before the open. Errors the test cannot
cause as root (permission denied, a failing disk) are raised by a stand-in for ``os.open`` or
``os.read``, carrying the absolute path just as the real ones do.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aether.errors import ToolExecutionError
from aether.llm.contracts import ToolCall
from aether.tools import dispatch_tool
from aether_tools_std import StdTools

OnOpen = Callable[[str, Callable[[], None]], None]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    app = tmp_path / "data" / "app"
    (app / "sub").mkdir(parents=True)
    (app / "notes.txt").write_text("inside")
    (app / "sub" / "deep.txt").write_text("deep")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "deep.txt").write_text("outside deep")
    (tmp_path / "outside.txt").write_text("outside")
    return app


@pytest.fixture
def on_open(monkeypatch: pytest.MonkeyPatch) -> OnOpen:
    """Run an action just before the open of the file whose name ends with a given suffix."""
    real_open = os.open

    def install(suffix: str, action: Callable[[], None]) -> None:
        pending = [action]

        def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if pending and os.fspath(path).endswith(suffix):
                pending.pop()()
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)

    return install


def read_error(root: Path, path: str) -> ToolExecutionError:
    """The error ``read_file(path)`` raised, checked to name no host path."""
    with pytest.raises(ToolExecutionError) as caught:
        StdTools(root=root).read_file(path)
    error = caught.value
    assert type(error) is ToolExecutionError
    for host_path in {str(root.parent.parent), os.path.realpath(root.parent.parent)}:
        assert host_path not in str(error)
    assert path in str(error) or repr(path) in str(error)
    return error


def test_a_file_swapped_for_a_link_before_the_open_is_refused(
    root: Path, tmp_path: Path, on_open: OnOpen
) -> None:
    def swap() -> None:
        (root / "notes.txt").unlink()
        (root / "notes.txt").symlink_to(tmp_path / "outside.txt")

    on_open("/notes.txt", swap)
    error = read_error(root, "notes.txt")
    assert str(error) == (
        "Refused: 'notes.txt' is a symbolic link read_file cannot follow safely: it loops, "
        "or it was replaced while being opened."
    )
    assert isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.ELOOP


async def test_the_race_reaches_the_model_as_a_clean_tool_result(
    root: Path, tmp_path: Path, on_open: OnOpen
) -> None:
    def swap() -> None:
        (root / "notes.txt").unlink()
        (root / "notes.txt").symlink_to(tmp_path / "outside.txt")

    on_open("/notes.txt", swap)
    call = ToolCall(id="r1", name="read_file", arguments={"path": "notes.txt"})
    result = await dispatch_tool(call, StdTools(root=root).tools())
    assert result.content.startswith("Error: Refused: 'notes.txt' is a symbolic link")
    assert str(tmp_path) not in result.content and "OSError" not in result.content
    assert "outside" not in result.content


def test_a_folder_swapped_for_a_link_before_the_open_is_refused(
    root: Path, tmp_path: Path, on_open: OnOpen
) -> None:
    def swap() -> None:
        (root / "sub" / "deep.txt").unlink()
        (root / "sub").rmdir()
        (root / "sub").symlink_to(tmp_path / "outside")

    on_open("/sub/deep.txt", swap)
    error = read_error(root, "sub/deep.txt")
    assert str(error) == (
        "Refused: 'sub/deep.txt' changed to lead outside the folder while being opened."
    )


def test_a_symlink_loop_is_refused(root: Path) -> None:
    (root / "loop").symlink_to("loop")
    (root / "ping").symlink_to("pong")
    (root / "pong").symlink_to("ping")
    for path in ("loop", "ping"):
        assert "cannot follow safely: it loops" in str(read_error(root, path))


def test_a_dangling_symlink_says_its_target_is_missing(root: Path) -> None:
    (root / "dangling").symlink_to("missing.txt")
    assert str(read_error(root, "dangling")) == (
        "'dangling' is a symbolic link to a file that does not exist; check the name."
    )


def test_a_file_used_as_a_folder_is_no_file(root: Path) -> None:
    assert str(read_error(root, "notes.txt/more")) == (
        "There is no file 'notes.txt/more' in the folder read_file reads; check the name."
    )


def test_a_socket_is_not_a_regular_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)  # a short relative name: socket paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("sock")
        error = read_error(root, "sock")
    assert str(error) == "Refused: 'sock' is not a regular file (a device, FIFO or socket)."


def test_a_name_too_long_for_the_file_system(root: Path) -> None:
    assert "too long a path" in str(read_error(root, "n" * 300))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EACCES, "'notes.txt' cannot be read: permission denied."),
        (errno.EPERM, "'notes.txt' cannot be read: permission denied."),
        (errno.EISDIR, "'notes.txt' is a folder, not a file; give a file's path."),
        (errno.EMFILE, "'notes.txt' could not be read: Too many open files (EMFILE)."),
        (errno.EIO, "'notes.txt' could not be read: Input/output error (EIO)."),
    ],
)
def test_open_errors_name_only_the_given_path(
    root: Path, monkeypatch: pytest.MonkeyPatch, code: int, expected: str
) -> None:
    def failing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        raise OSError(code, os.strerror(code), os.fspath(path))  # as the real one: a host path

    with monkeypatch.context() as patch:
        patch.setattr(os, "open", failing_open)
        error = read_error(root, "notes.txt")
    assert str(error).startswith(expected)


def test_read_errors_name_only_the_given_path(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_read(fd: int, size: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with monkeypatch.context() as patch:  # only for this call: pytest itself reads files
        patch.setattr(os, "read", failing_read)
        error = read_error(root, "notes.txt")
    assert str(error) == "'notes.txt' could not be read: Input/output error (EIO)."


def test_an_error_without_a_number_is_still_a_tool_error(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fstat(fd: int) -> os.stat_result:
        raise OSError(f"cannot stat {root}/notes.txt")

    with monkeypatch.context() as patch:  # only for this call: pytest itself uses fstat
        patch.setattr(os, "fstat", failing_fstat)
        error = read_error(root, "notes.txt")
    assert str(error) == "'notes.txt' could not be read: an operating-system error (unknown)."


def test_a_path_no_file_name_can_hold_is_refused(root: Path) -> None:
    error = read_error(root, "\ud800.txt")
    assert str(error) == (
        "Refused: '\\ud800.txt' holds characters no file name can contain; give a plain "
        "relative path."
    )


def test_a_deleted_working_directory_is_a_missing_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    for tools in (StdTools(), StdTools(root="relative/root")):
        with pytest.raises(ToolExecutionError) as caught:
            tools.read_file("notes.txt")
        assert type(caught.value) is ToolExecutionError
        assert str(caught.value).startswith("The folder read_file is confined to does not exist")
        assert str(tmp_path) not in str(caught.value)
