"""Aether's reference tools, safe to hand to a model: ``get_current_time``, ``http_get``,
``read_file``.

Installed, they resolve by name (``tools=["http_get"]``) and follow the environment; for other
settings build a pack: ``StdTools(root=..., allow_hosts=[...]).tools()``.

* ``http_get`` fetches only public internet addresses: every address the host resolves to is
  checked (IPv6 forms that carry an IPv4 address by that address), the connection is pinned
  to the checked address and its peer verified, each redirect is checked again, proxy
  variables are ignored, and the body is capped and read under one total deadline.
* ``read_file`` reads only inside one folder: the resolved real path (``..`` and symlinks
  followed) must stay inside it; its errors name the path as given, never the host's.
* Every refusal reaches the model as the tool result ``"Error: Refused: ..."`` and fires
  ``tool.error``.

| Variable | Default | Affects |
|---|---|---|
| ``AETHER_HTTP_TOOL_TIMEOUT`` | ``10.0`` | ``http_get`` total deadline in seconds |
| ``AETHER_HTTP_TOOL_MAX_BYTES`` | ``100000`` | ``http_get`` body cap |
| ``AETHER_HTTP_TOOL_ALLOW_HOSTS`` | (none) | comma-separated private hosts ``http_get`` may reach |
| ``AETHER_FILE_TOOL_MAX_BYTES`` | ``200000`` | ``read_file`` cap |
| ``AETHER_FILE_TOOL_ROOT`` | the working directory at call time | the folder ``read_file`` reads |
"""

from aether_tools_std._addresses import blocked_reason, parse_host_address
from aether_tools_std._pack import StdTools

__all__ = ["StdTools", "blocked_reason", "parse_host_address"]
