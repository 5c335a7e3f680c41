"""Check a URL before anything connects to it, and pin the connection to the checked address.

The host is resolved once, here; every address it resolves to must be public (or the host
explicitly allowed). The request then goes to that address, with the original name in the
``Host`` header and as the TLS server name, so a second DNS answer (rebinding) cannot send the
connection somewhere else and certificates are still verified against the name. Once
connected, the peer address the socket reports is compared with the checked one before
anything is read (:meth:`Target.check_peer`), so a connection that went anywhere else is
never used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final

import httpx

from aether.errors import ToolExecutionError
from aether_tools_std._addresses import (
    METADATA_REASON,
    IPAddress,
    blocked_reason,
    parse_host_address,
)
from aether_tools_std._refusal import refused

__all__ = ["Target", "check_url", "resolve_host"]

_SCHEMES: Final = frozenset({"http", "https"})
_USER_AGENT: Final = "aether-tools-std/0.1 (http_get)"


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, looked up in a worker thread (never on the loop).

    Tests replace this function to simulate DNS answers.
    """
    infos = await asyncio.to_thread(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the checks, and the one address it may be fetched from.

    Attributes:
        url: The URL as given (after parsing).
        address: The checked address the connection must go to.
        host: The host as sent on the wire (ASCII; IDNA-encoded for international names).
        is_literal: The URL named an IP address rather than a host name.
    """

    url: httpx.URL
    address: IPAddress
    host: str
    is_literal: bool

    def build_request(self, client: httpx.AsyncClient) -> httpx.Request:
        """A GET for :attr:`url` that connects to :attr:`address` and nowhere else."""
        pinned = self.url.copy_with(host=str(self.address))
        headers = {
            # The original authority, so virtual hosting works on the pinned connection.
            "Host": self.url.netloc.decode("ascii"),
            "User-Agent": _USER_AGENT,
            "Accept": "*/*",
            # Compressed bodies could expand far past the cap before it is checked.
            "Accept-Encoding": "identity",
        }
        extensions: dict[str, str] = {}
        if self.url.scheme == "https" and not self.is_literal:
            extensions["sni_hostname"] = self.host  # TLS name and certificate check
        return client.build_request("GET", pinned, headers=headers, extensions=extensions)

    def check_peer(self, response: httpx.Response) -> None:
        """Refuse ``response`` unless its connection went to :attr:`address`.

        The request is pinned, so this never fails in practice; it checks the address the
        socket actually connected to, so no change in how the connection is made can
        quietly hand the model a response from an address that was never checked.

        Raises:
            ToolExecutionError: The connection's peer is unknown or another address.
        """
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        connected = _peer_address(peer)
        if connected is None or connected != _canonical(self.address):
            shown = connected if connected is not None else "an unknown address"
            raise refused(
                f"{self.url} was checked at {self.address} but the connection went to "
                f"{shown}; the response was discarded."
            )


async def check_url(text: str, *, allow: frozenset[str]) -> Target:
    """Parse ``text`` and decide whether it may be fetched; resolve its host if needed.

    Args:
        text: The URL the model asked for (or a redirect led to).
        allow: Normalised host names and addresses an operator allowed despite being
            private (cloud metadata addresses stay refused even then).

    Raises:
        ToolExecutionError: The URL is refused; the message says why, for the model.
    """
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise refused(f"{text!r} is not a valid URL ({exc}).") from exc
    if url.scheme not in _SCHEMES:
        shown = url.scheme or "(none)"
        raise refused(
            f"{text!r} has scheme {shown!r}; http_get fetches only http:// and https:// URLs."
        )
    if url.userinfo:
        raise refused(f"{_safe(url)} carries a user name or password; give a URL without one.")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise refused(f"{text!r} has no host name.")
    literal = parse_host_address(host)
    allowed = (str(literal) if literal is not None else host.rstrip(".")) in allow
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = await _resolve(host, url.port or (443 if url.scheme == "https" else 80))
    for address in addresses:
        reason = blocked_reason(address)
        if reason is None or (allowed and not reason.startswith(METADATA_REASON)):
            continue
        where = f"{address}" if literal is not None else f"{host!r} resolves to {address}"
        raise refused(
            f"{_safe(url)} points to {reason} ({where}). http_get fetches only public internet "
            f"addresses, so this URL cannot be fetched; tell the user if it matters. (An "
            f"operator can allow named private hosts with AETHER_HTTP_TOOL_ALLOW_HOSTS.)"
        )
    return Target(url=url, address=addresses[0], host=host, is_literal=literal is not None)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = await resolve_host(host, port)
    except (OSError, UnicodeError) as exc:
        raise ToolExecutionError(
            f"The host {host!r} could not be resolved ({exc}); check the URL's spelling."
        ) from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer))
        except ValueError as exc:
            raise refused(f"{host!r} resolved to {answer!r}, which is not an IP address.") from exc
    if not addresses:
        raise ToolExecutionError(f"The host {host!r} has no addresses; check the URL.")
    return addresses


def _peer_address(peer: object) -> IPAddress | None:
    """The address in a socket's peer tuple, as :func:`_canonical` spells it, or None."""
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return None
    try:
        return _canonical(ipaddress.ip_address(peer[0]))
    except ValueError:
        return None


def _canonical(address: IPAddress) -> IPAddress:
    """``address`` without its IPv6 zone, and IPv4-mapped addresses as the IPv4 they map.

    A dual-stack socket reports an IPv4 peer as ``::ffff:a.b.c.d``, and a URL naming
    ``[::ffff:a.b.c.d]`` may be connected over IPv4: either way it is the same peer.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(address.packed)
    return address


def _safe(url: httpx.URL) -> str:
    """The URL without its user information, for messages."""
    return str(url.copy_with(userinfo=b"")) if url.userinfo else str(url)
