"""``read_file``: read a text file for the model, confined to one folder (the root).

The path the model gives is joined to the root and fully resolved (``..`` and every symbolic
link in the chain); the result must be the root itself or lie under it, compared by path
components, so ``/data/app-secrets`` is not inside ``/data/app``. Absolute paths and NUL bytes
are refused before anything touches the disk. The file is then opened without following a
final symlink and must be a regular file (no FIFOs or devices that could block or never end);
on Linux the opened descriptor's real path is checked once more, closing the window in which
a path component could be swapped for a link after the check. Every error the system
raises on the way is told in terms of the path the model gave, never the host's path.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import re
import stat
from typing import Final

from aether.errors import ToolExecutionError
from aether_tools_std._content import decode_text, looks_binary, size_text
from aether_tools_std._refusal import refused

__all__ = ["missing_root", "read_text_file"]

_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open; it is refused below
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_WINDOWS_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_PROC_FD: Final = "/proc/self/fd"


def read_text_file(path: str, *, root: str, max_bytes: int) -> str:
    """The text of ``path`` (relative to ``root``), capped at ``max_bytes``, for the model.

    Raises:
        ToolExecutionError: The path is refused (outside the root, absolute, not a regular
            file) or cannot be read; the message says why, for the model, naming only the
            path as given (never where the root lies on the host).
    """
    _check_shape(path)
    try:
        return _read(path, root, max_bytes)
    except OSError as exc:
        raise _os_error(path, root, exc) from exc


def _read(path: str, root: str, max_bytes: int) -> str:
    real_root = os.path.realpath(root)
    if not os.path.isdir(real_root):
        raise missing_root()
    real = os.path.realpath(os.path.join(real_root, path))
    if not _inside(real, real_root):
        raise refused(
            f"{path!r} leads outside the folder read_file may read (through '..' or a "
            f"symbolic link). Only files inside that folder can be read."
        )
    fd = os.open(real, _OPEN_FLAGS)
    try:
        return _read_open(fd, path, real_root, max_bytes)
    finally:
        os.close(fd)


def missing_root() -> ToolExecutionError:
    """The error for a root folder that does not exist (or a working directory deleted)."""
    return ToolExecutionError(
        "The folder read_file is confined to does not exist; the operator must fix "
        "AETHER_FILE_TOOL_ROOT (or the root= setting). No file can be read for now."
    )


def _os_error(path: str, root: str, exc: OSError) -> ToolExecutionError:
    """``exc`` told in terms of the path the model gave.

    An ``OSError``'s own text carries the absolute path it failed on, which would tell the
    model where the root lies on the host; only its ``strerror`` (the system's wording for
    the error number, with no path) is ever shown.
    """
    code = exc.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        if not os.path.isdir(root):
            return missing_root()
        if os.path.islink(os.path.join(root, path)):
            return ToolExecutionError(
                f"{path!r} is a symbolic link to a file that does not exist; check the name."
            )
        return ToolExecutionError(
            f"There is no file {path!r} in the folder read_file reads; check the name."
        )
    if code in (errno.EACCES, errno.EPERM):
        return ToolExecutionError(
            f"{path!r} cannot be read: permission denied. The operator's file permissions "
            f"forbid it; tell the user if it matters."
        )
    if code == errno.EISDIR:
        return _folder(path)
    if code == errno.ELOOP:
        return refused(
            f"{path!r} is a symbolic link read_file cannot follow safely: it loops, or it "
            f"was replaced while being opened."
        )
    if code == errno.ENXIO:
        return _not_regular(path)
    if code == errno.ENAMETOOLONG:
        return ToolExecutionError(f"{path!r} is too long a path for the file system.")
    name = errno.errorcode.get(code, "unknown") if code is not None else "unknown"
    return ToolExecutionError(
        f"{path!r} could not be read: {exc.strerror or 'an operating-system error'} ({name})."
    )


def _check_shape(path: str) -> None:
    if "\x00" in path:
        raise refused("the path contains a NUL byte; give a plain relative path.")
    if not path.strip():
        raise refused("the path is empty; give a file name relative to the folder.")
    try:
        os.fsencode(path)
    except UnicodeError as exc:
        raise refused(
            f"{path!r} holds characters no file name can contain; give a plain relative path."
        ) from exc
    if os.path.isabs(path) or path.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(path):
        raise refused(
            f"{path!r} is an absolute path; give a path relative to the folder read_file "
            f"reads (for example 'notes/todo.txt')."
        )


def _inside(real: str, real_root: str) -> bool:
    if real == real_root:
        return True
    prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
    return real.startswith(prefix)


def _read_open(fd: int, path: str, real_root: str, max_bytes: int) -> str:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise _folder(path)
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path)
    opened = os.path.join(_PROC_FD, str(fd))
    if os.path.islink(opened) and not _inside(os.path.realpath(opened), real_root):
        raise refused(f"{path!r} changed to lead outside the folder while being opened.")
    data = _read_up_to(fd, max_bytes + 1)
    truncated = len(data) > max_bytes
    data = data[:max_bytes]
    if looks_binary(data):
        kind = mimetypes.guess_type(path)[0] or "unknown type"
        return f"[Binary file {path!r} ({kind}, {size_text(info.st_size)}) not shown.]"
    if not data:
        return f"[The file {path!r} is empty.]"
    text, replaced = decode_text(data, None, complete=not truncated)
    notes = []
    if replaced:
        notes.append("[Note: some bytes were not valid UTF-8 and are shown as \ufffd.]")
    if truncated:
        notes.append(
            f"[Truncated: showing the first {size_text(max_bytes)} of "
            f"{size_text(info.st_size)}; the rest was not read.]"
        )
    return "\n".join([text, *notes]) if notes else text


def _folder(path: str) -> ToolExecutionError:
    return ToolExecutionError(f"{path!r} is a folder, not a file; give a file's path.")


def _not_regular(path: str) -> ToolExecutionError:
    return refused(f"{path!r} is not a regular file (a device, FIFO or socket).")


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
