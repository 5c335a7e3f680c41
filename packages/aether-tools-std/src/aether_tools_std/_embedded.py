"""The IPv4 addresses an IPv6 address carries, found so they can be checked like any other.

Traffic to ``::ffff:127.0.0.1`` reaches 127.0.0.1 through the host's own IPv4 stack; traffic
to ``64:ff9b::a00:1`` is translated by a NAT64 gateway to 10.0.0.1; 6to4 and Teredo relays
unwrap the IPv4 address they find inside. Judging only the IPv6 address would let each of
these reach a private network, so every form that embeds an IPv4 address is decoded here:

| Form | Prefix | Where the IPv4 address sits |
|---|---|---|
| IPv4-mapped | ``::ffff:0:0/96`` | last 32 bits |
| IPv4-translated (RFC 2765) | ``::ffff:0:0:0/96`` | last 32 bits |
| IPv4-compatible (deprecated) | ``::/96`` | last 32 bits |
| NAT64, well-known prefix (RFC 6052) | ``64:ff9b::/96`` | last 32 bits |
| NAT64, local use (RFC 8215) | ``64:ff9b:1::/48`` | last 32 bits, if the operator used a /96 |
| 6to4 (RFC 3056) | ``2002::/16`` | bits 16-48 |
| Teredo (RFC 4380) | ``2001::/32`` | server in bits 32-64, client inverted in the last 32 |
| ISATAP (RFC 5214) | any, interface ID ``0:5efe`` | last 32 bits |
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

__all__ = ["Carried", "carried_ipv4"]

_V6 = ipaddress.IPv6Network
_V4 = ipaddress.IPv4Address

_MAPPED: Final = _V6("::ffff:0:0/96")
_TRANSLATED: Final = _V6("::ffff:0:0:0/96")
_COMPATIBLE: Final = _V6("::/96")
_NAT64: Final = _V6("64:ff9b::/96")
_NAT64_LOCAL: Final = _V6("64:ff9b:1::/48")
_SIX_TO_FOUR: Final = _V6("2002::/16")
_TEREDO: Final = _V6("2001::/32")

# ISATAP interface IDs: 0000:5efe or 0200:5efe, with or without the group bit (0100, 0300).
_ISATAP_MASK: Final = 0xFCFF_FFFF << 32
_ISATAP_ID: Final = 0x0000_5EFE << 32
_LOW_64: Final = (1 << 64) - 1
_LOW_32: Final = 0xFFFF_FFFF


@dataclass(frozen=True, slots=True)
class Carried:
    """IPv4 addresses found inside an IPv6 address, and what they mean for it.

    Attributes:
        form: The form with its article, for messages ("an IPv4-mapped", "a Teredo").
        addresses: The IPv4 addresses it carries (Teredo carries two).
        decisive: Traffic to the IPv6 address goes to (or is translated to) these addresses,
            so when they are public the IPv6 address is too. False when the IPv6 prefix still
            decides where traffic goes (local-use NAT64, ISATAP): a private IPv4 address
            inside still refuses it, a public one does not make it public.
    """

    form: str
    addresses: tuple[ipaddress.IPv4Address, ...]
    decisive: bool


def carried_ipv4(address: ipaddress.IPv6Address) -> tuple[Carried, ...]:
    """Every IPv4 address ``address`` carries, by form; empty when it embeds none.

    ``::`` and ``::1`` are not IPv4-compatible addresses: they are the unspecified and
    loopback addresses of IPv6 itself.
    """
    value = int(address)
    last = _V4(value & _LOW_32)
    found: list[Carried] = []
    if address in _MAPPED:
        found.append(Carried("an IPv4-mapped", (last,), decisive=True))
    elif address in _TRANSLATED:
        found.append(Carried("an IPv4-translated", (last,), decisive=True))
    elif address in _COMPATIBLE and value > 1:
        found.append(Carried("an IPv4-compatible", (last,), decisive=True))
    elif address in _NAT64:
        found.append(Carried("a NAT64", (last,), decisive=True))
    elif address in _NAT64_LOCAL:
        found.append(Carried("a local-use NAT64", (last,), decisive=False))
    elif address in _SIX_TO_FOUR:
        found.append(Carried("a 6to4", (_V4((value >> 80) & _LOW_32),), decisive=True))
    elif address in _TEREDO:
        server, client = _V4((value >> 64) & _LOW_32), _V4(~value & _LOW_32)
        found.append(Carried("a Teredo", (server, client), decisive=True))
    if value & _LOW_64 & _ISATAP_MASK == _ISATAP_ID:
        found.append(Carried("an ISATAP", (last,), decisive=False))
    return tuple(found)
