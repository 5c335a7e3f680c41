"""Which IP addresses a model-driven fetcher may connect to, and how hosts spell addresses.

A URL the model chose must not reach the machine it runs on, its private network or the
cloud's metadata service. Every address is checked, including the IPv4 address hidden inside
IPv6 forms (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4, Teredo, ISATAP: see
:mod:`aether_tools_std._embedded`), and hosts written as numbers the way ``inet_aton`` reads
them (``2130706433``, ``0x7f.1``, ``017700000001``) are decoded before any resolver sees them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, TypeAlias

from aether_tools_std._embedded import carried_ipv4

__all__ = ["METADATA_REASON", "IPAddress", "blocked_reason", "parse_host_address"]

METADATA_REASON: Final = "a cloud metadata service address"

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Cloud instance-metadata endpoints (AWS, GCP, Azure, OpenStack, Oracle; AWS over IPv6).
_METADATA: Final = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)

# Checked in order, so the first match gives the most telling reason.
_BLOCKED_V4: Final[tuple[tuple[_V4, str], ...]] = (
    (_V4("0.0.0.0/8"), "an unspecified ('this network') address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("10.0.0.0/8"), "a private-network address"),
    (_V4("172.16.0.0/12"), "a private-network address"),
    (_V4("192.168.0.0/16"), "a private-network address"),
    (_V4("169.254.0.0/16"), "a link-local address"),
    (_V4("100.64.0.0/10"), "a carrier-grade NAT (shared) address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
    (_V4("192.0.0.0/24"), "a reserved (IETF protocol) address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("192.88.99.0/24"), "a reserved (6to4 relay) address"),
)

# Checked after the IPv4 addresses an IPv6 address carries (see _embedded), so the forms
# judged by what they carry (``::ffff:…``, ``::a.b.c.d``) never reach the ``::/8`` entry.
_BLOCKED_V6: Final[tuple[tuple[_V6, str], ...]] = (
    (_V6("::/128"), "the unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address"),
    (_V6("fc00::/7"), "a unique-local (private) address"),
    (_V6("ff00::/8"), "a multicast address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address (a private network's translator)"),
    (_V6("::/8"), "a reserved address (::/8)"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("2001:2::/48"), "a benchmarking address"),
    (_V6("2001:10::/28"), "a reserved (ORCHID) address"),
    (_V6("2001:20::/28"), "a reserved (ORCHIDv2) address"),
    (_V6("2001::/23"), "a reserved (IETF protocol) address"),
)

# Every routable IPv6 unicast address lies here; the rest is reserved or special-purpose.
_GLOBAL_UNICAST: Final = _V6("2000::/3")

# ASCII only: str.isdigit() and int() also accept other scripts' digits and underscores.
_HEX: Final = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL: Final = re.compile(r"0[0-7]+")
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be connected to (e.g. ``"a loopback address"``), or None.

    Only globally routable unicast addresses pass. An IPv6 address that carries an IPv4
    address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``,
    IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4
    ``2002::/16``, Teredo ``2001::/32``, ISATAP) is refused when that IPv4 address would be,
    with a reason naming it: ``"a loopback address carried as 127.0.0.1 inside an
    IPv4-mapped IPv6 address"``.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(address.packed)  # drop the %zone before comparing
    if address in _METADATA:
        return METADATA_REASON
    if isinstance(address, ipaddress.IPv4Address):
        for network, reason in _BLOCKED_V4:
            if address in network:
                return reason
        return None if address.is_global else "a non-public address"
    return _blocked_v6(address)


def _blocked_v6(address: ipaddress.IPv6Address) -> str | None:
    carried = carried_ipv4(address)
    for form in carried:
        for inner in form.addresses:
            reason = blocked_reason(inner)
            if reason is not None:
                return f"{reason} carried as {inner} inside {form.form} IPv6 address"
    if any(form.decisive for form in carried):
        return None  # traffic goes to the public IPv4 address it carries
    for network, reason in _BLOCKED_V6:
        if address in network:
            return reason
    if address not in _GLOBAL_UNICAST:
        return "a reserved address (outside the global unicast range 2000::/3)"
    return None if address.is_global else "a non-public address"


def parse_host_address(host: str) -> IPAddress | None:
    """The IP address a URL host denotes when it is written as one, else None (a name).

    Accepts what the system resolver would also take as a number, so a check cannot be
    bypassed by spelling: IPv6 with or without brackets, dotted IPv4, and the ``inet_aton``
    forms with 1 to 4 parts, each decimal, octal (leading ``0``) or hex (``0x``): ``127.1``,
    ``2130706433``, ``0x7f.0.0.1``, ``017700000001``. A trailing dot is ignored.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        text = text.replace("%25", "%", 1)  # a URL-encoded zone separator
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    if text.endswith("."):
        text = text[:-1]
    return _parse_inet_aton(text)


def _parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _parse_number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = 0
    for n in leading:
        value = value << 8 | n
    value = value << (8 * (5 - len(numbers))) | last
    return ipaddress.IPv4Address(value)


def _parse_number(part: str) -> int | None:
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)  # a bare "0x" is 0 to inet_aton
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part, 10)
    return None
