"""``StdTools``: the three reference tools, configured once, handed to a model as ``Tool`` objects.

    from aether_tools_std import StdTools

    pack = StdTools(root="/srv/docs", allow_hosts=["wiki.internal"], http_timeout=5)
    answer = await client.ask("Summarise README.md", tools=pack.tools())

The model only ever chooses each tool's own argument (a URL, a path, a time zone); limits,
the root folder and the allow-list are the operator's, set here or by environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final, final

from aether.errors import ConfigurationError
from aether.tools import Tool, make_tool
from aether_tools_std import _settings
from aether_tools_std._files import missing_root, read_text_file
from aether_tools_std._time import current_time

__all__ = ["StdTools"]

_HTTP_DESCRIPTION: Final = (
    "Fetch a public web page or file over http(s) and return its status, content type and "
    "text. Only public internet addresses can be fetched; long bodies are truncated and "
    "binary content is described instead of shown."
)
_FILE_DESCRIPTION: Final = (
    "Read a text file from the local folder this tool is confined to. Give a path relative "
    "to that folder. Long files are truncated and binary files are described instead of shown."
)
_TIME_DESCRIPTION: Final = "Get the current date, time and weekday in a time zone."


@final
class StdTools:
    """The reference tool pack: ``get_current_time``, ``http_get`` and ``read_file``.

    Each setting left as None is read from the environment at every call (see the table in
    :mod:`aether_tools_std`), so ``StdTools()`` follows the environment; a value given here
    wins over the environment.

    Args:
        root: The only folder ``read_file`` reads. Default: ``AETHER_FILE_TOOL_ROOT``, else the
            current working directory *at call time*.
        allow_hosts: Private host names or IP addresses ``http_get`` may reach although they
            resolve to loopback/private/link-local addresses (cloud metadata addresses are
            refused even then). Default: ``AETHER_HTTP_TOOL_ALLOW_HOSTS``, else none. An empty
            list allows none, whatever the environment says.
        http_timeout: Total seconds one ``http_get`` call may take. Default:
            ``AETHER_HTTP_TOOL_TIMEOUT``, else 10.
        http_max_bytes: Body bytes ``http_get`` returns. Default:
            ``AETHER_HTTP_TOOL_MAX_BYTES``, else 100000.
        http_max_redirects: Redirects ``http_get`` follows, each checked again. Default 5.
        file_max_bytes: Bytes ``read_file`` returns. Default: ``AETHER_FILE_TOOL_MAX_BYTES``,
            else 200000.

    Raises:
        ConfigurationError: A limit is not positive, or an allowed host is not a bare name.
    """

    __slots__ = (
        "_allow_hosts",
        "_file_max_bytes",
        "_http_max_bytes",
        "_http_max_redirects",
        "_http_timeout",
        "_root",
    )

    def __init__(
        self,
        *,
        root: str | os.PathLike[str] | None = None,
        allow_hosts: Iterable[str] | None = None,
        http_timeout: float | None = None,
        http_max_bytes: int | None = None,
        http_max_redirects: int = _settings.DEFAULT_MAX_REDIRECTS,
        file_max_bytes: int | None = None,
    ) -> None:
        _settings.check_positive("http_timeout", http_timeout)
        _settings.check_positive("http_max_bytes", http_max_bytes)
        _settings.check_positive("file_max_bytes", file_max_bytes)
        if http_max_redirects < 0:
            raise ConfigurationError(
                f"http_max_redirects must be >= 0, got {http_max_redirects!r}."
            )
        self._root = os.fspath(root) if root is not None else None
        self._allow_hosts = (
            _settings.normalize_hosts(allow_hosts) if allow_hosts is not None else None
        )
        self._http_timeout = http_timeout
        self._http_max_bytes = http_max_bytes
        self._http_max_redirects = http_max_redirects
        self._file_max_bytes = file_max_bytes

    def __repr__(self) -> str:
        root = "<cwd or env>" if self._root is None else repr(self._root)
        return f"StdTools(root={root})"

    def tools(self) -> list[Tool]:
        """The three tools, bound to this pack's settings, ready for ``tools=[...]``."""
        return [
            make_tool(self.get_current_time, description=_TIME_DESCRIPTION),
            make_tool(self.http_get, description=_HTTP_DESCRIPTION),
            make_tool(self.read_file, description=_FILE_DESCRIPTION),
        ]

    async def http_get(self, url: str) -> str:
        """Fetch ``url`` (the ``http_get`` tool); refusals raise ``ToolExecutionError``.

        Args:
            url: The http:// or https:// URL to fetch.
        """
        # Imported here: httpx and the HTTP machinery cost ~40 ms, which an application
        # that only tells the time should not pay when the pack loads.
        from aether_tools_std._http import fetch

        return await fetch(
            url,
            timeout=_settings.http_timeout(self._http_timeout),
            max_bytes=_settings.http_max_bytes(self._http_max_bytes),
            allow=_settings.allow_hosts(self._allow_hosts),
            max_redirects=self._http_max_redirects,
        )

    def read_file(self, path: str) -> str:
        """Read ``path`` under the root (the ``read_file`` tool); refusals raise
        ``ToolExecutionError``.

        Args:
            path: The file's path, relative to the folder the tool reads.
        """
        try:
            root = _settings.file_root(self._root)
        except OSError as exc:  # the working directory (the default root) was deleted
            raise missing_root() from exc
        return read_text_file(
            path, root=root, max_bytes=_settings.file_max_bytes(self._file_max_bytes)
        )

    def get_current_time(self, timezone: str = "UTC") -> str:
        """The current time in ``timezone`` (the ``get_current_time`` tool).

        Args:
            timezone: An IANA time zone name, such as 'UTC', 'Europe/Paris' or 'Asia/Tokyo'.
        """
        return current_time(timezone)
