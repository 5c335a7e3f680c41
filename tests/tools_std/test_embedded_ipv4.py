"""IPv6 addresses that carry an IPv4 address are judged by it; reserved IPv6 space is refused.

Two kinds of table: literal addresses as people write them (each reason checked), and every
embedding form built from a list of IPv4 addresses, so each form is proven to decode the IPv4
address from the right bits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from aether_tools_std import blocked_reason

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


def _v6(text: str) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(text)


@pytest.mark.parametrize(
    ("address", "reason", "carried"),
    [
        # IPv4-mapped, ::ffff:a.b.c.d
        ("::ffff:127.0.0.1", "a loopback address", "127.0.0.1"),
        ("::ffff:7f00:1", "a loopback address", "127.0.0.1"),
        ("0:0:0:0:0:ffff:10.1.2.3", "a private-network address", "10.1.2.3"),
        ("::ffff:169.254.169.254", "a cloud metadata service address", "169.254.169.254"),
        ("::ffff:0.0.0.0", "an unspecified ('this network') address", "0.0.0.0"),
        ("::ffff:100.64.0.1", "a carrier-grade NAT (shared) address", "100.64.0.1"),
        # IPv4-translated (RFC 2765), ::ffff:0:a.b.c.d
        ("::ffff:0:127.0.0.1", "a loopback address", "127.0.0.1"),
        ("::ffff:0:7f00:1", "a loopback address", "127.0.0.1"),
        ("::ffff:0:10.0.0.1", "a private-network address", "10.0.0.1"),
        ("::ffff:0:c0a8:101", "a private-network address", "192.168.1.1"),
        ("::ffff:0:169.254.169.254", "a cloud metadata service address", "169.254.169.254"),
        ("::ffff:0:224.0.0.1", "a multicast address", "224.0.0.1"),
        # IPv4-compatible (deprecated), ::a.b.c.d
        ("::127.0.0.1", "a loopback address", "127.0.0.1"),
        ("::10.0.0.1", "a private-network address", "10.0.0.1"),
        ("::172.16.0.1", "a private-network address", "172.16.0.1"),
        ("::2", "an unspecified ('this network') address", "0.0.0.2"),
        # NAT64, well-known prefix
        ("64:ff9b::127.0.0.1", "a loopback address", "127.0.0.1"),
        ("64:ff9b::a00:1", "a private-network address", "10.0.0.1"),
        ("64:ff9b::169.254.169.254", "a cloud metadata service address", "169.254.169.254"),
        ("64:ff9b::240.0.0.1", "a reserved address", "240.0.0.1"),
        # NAT64, local-use prefix
        ("64:ff9b:1::10.0.0.1", "a private-network address", "10.0.0.1"),
        ("64:ff9b:1::7f00:1", "a loopback address", "127.0.0.1"),
        # 6to4, IPv4 in bits 16-48
        ("2002:7f00:1::", "a loopback address", "127.0.0.1"),
        ("2002:a00:1::1", "a private-network address", "10.0.0.1"),
        ("2002:c0a8:101:5::1", "a private-network address", "192.168.1.1"),
        ("2002:a9fe:a9fe::1", "a cloud metadata service address", "169.254.169.254"),
        ("2002::1", "an unspecified ('this network') address", "0.0.0.0"),
        ("2002:c058:6301::1", "a reserved (6to4 relay) address", "192.88.99.1"),
        # Teredo: server in bits 32-64, client inverted in the last 32 bits
        ("2001:0:4136:e378:8000:63bf:3f57:fefe", "a private-network address", "192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address", "127.0.0.1"),
        ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "a private-network address", "10.0.0.1"),
        ("2001:0:4136:e378::5601:5601", "a cloud metadata service address", "169.254.169.254"),
        # ISATAP interface IDs, under any prefix
        ("2a00:1450:4001:81c:0:5efe:a00:1", "a private-network address", "10.0.0.1"),
        ("2a00:1450:4001:81c:200:5efe:7f00:1", "a loopback address", "127.0.0.1"),
    ],
)
def test_a_carried_ipv4_address_refuses_the_ipv6_address(
    address: str, reason: str, carried: str
) -> None:
    found = blocked_reason(_v6(address))
    assert found is not None
    assert found.startswith(f"{reason} carried as {carried} inside ")
    assert found.endswith(" IPv6 address")


_OUTSIDE = "a reserved address (outside the global unicast range 2000::/3)"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::", "the unspecified address"),
        ("::1", "a loopback address"),
        ("::1:0:0:1", "a reserved address (::/8)"),
        ("0:0:0:1::1", "a reserved address (::/8)"),
        ("::ffff:1:0:0", "a reserved address (::/8)"),
        ("100::1", "a discard-only address"),
        ("100:0:0:1::1", _OUTSIDE),
        ("64:ff9b:1::808:808", "a local-use NAT64 address"),
        ("2001:db8::1", "a documentation address"),
        ("2001:db8:85a3::8a2e:370:7334", "a documentation address"),
        ("3fff::1", "a documentation address"),
        ("fec0::1", "a site-local address"),
        ("feff::1", "a site-local address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("fc00::1", "a unique-local (private) address"),
        ("fd12:3456::1", "a unique-local (private) address"),
        ("ff02::1", "a multicast address"),
        ("ff0e::101", "a multicast address"),
        ("2001:2::1", "a benchmarking address"),
        ("2001:10::1", "a reserved (ORCHID) address"),
        ("2001:20::1", "a reserved (ORCHIDv2) address"),
        ("2001:1::1", "a reserved (IETF protocol) address"),
        ("4000::1", _OUTSIDE),
        ("5f00::1", _OUTSIDE),
        ("e000::1", _OUTSIDE),
        ("fd00:ec2::254", "a cloud metadata service address"),
        ("fd00:ec2::254%eth0", "a cloud metadata service address"),
    ],
)
def test_reserved_ipv6_space_is_refused(address: str, reason: str) -> None:
    found = blocked_reason(_v6(address))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize(
    "address",
    [
        "2001:4860:4860::8888",
        "2606:4700:4700::1111",
        "2a00:1450:4001:81c::200e",
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "64:ff9b::1.1.1.1",
        "::ffff:8.8.8.8",
        "::ffff:0:8.8.8.8",  # IPv4-translated 8.8.8.8
        "::8.8.8.8",  # IPv4-compatible 8.8.8.8
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server 65.54.227.120, client 8.8.8.8
        "2a00:1450:4001:81c:200:5efe:808:808",  # ISATAP of 8.8.8.8 under a public prefix
    ],
)
def test_public_ipv6_addresses_pass(address: str) -> None:
    assert blocked_reason(_v6(address)) is None


_TEREDO_SERVER = int(V4("65.54.227.120"))
_PUBLIC = int(V4("8.8.8.8"))

# Each form, built from an IPv4 address exactly as its specification lays it out:
# (test id, the form as messages name it, builder).
FORMS: list[tuple[str, str, Callable[[int], int]]] = [
    ("mapped", "an IPv4-mapped", lambda v4: 0xFFFF << 32 | v4),
    ("translated", "an IPv4-translated", lambda v4: 0xFFFF << 48 | v4),
    ("compatible", "an IPv4-compatible", lambda v4: v4),
    ("nat64", "a NAT64", lambda v4: int(_v6("64:ff9b::")) | v4),
    ("nat64-local", "a local-use NAT64", lambda v4: int(_v6("64:ff9b:1::")) | v4),
    ("6to4", "a 6to4", lambda v4: 0x2002 << 112 | v4 << 80),
    (
        "teredo-client",
        "a Teredo",
        lambda v4: 0x2001_0000 << 96 | _TEREDO_SERVER << 64 | (~v4 & 0xFFFF_FFFF),
    ),
    (
        "teredo-server",
        "a Teredo",
        lambda v4: 0x2001_0000 << 96 | v4 << 64 | (~_PUBLIC & 0xFFFF_FFFF),
    ),
    ("isatap", "an ISATAP", lambda v4: int(_v6("2a00:1450:4001:81c::")) | 0x5EFE << 32 | v4),
]
_FORM_IDS = [form_id for form_id, _, _ in FORMS]
_DECISIVE = [entry for entry in FORMS if entry[0] != "nat64-local"]

REFUSED_V4 = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.100.100.200",
    "100.64.0.1",
    "0.0.0.9",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
]


@pytest.mark.parametrize(("form_id", "form", "build"), FORMS, ids=_FORM_IDS)
@pytest.mark.parametrize("v4", REFUSED_V4)
def test_every_form_is_refused_as_its_ipv4_address_would_be(
    form_id: str, form: str, build: Callable[[int], int], v4: str
) -> None:
    inner = V4(v4)
    expected = blocked_reason(inner)
    assert expected is not None
    assert blocked_reason(V6(build(int(inner)))) == (
        f"{expected} carried as {inner} inside {form} IPv6 address"
    )


@pytest.mark.parametrize(
    ("form_id", "form", "build"), _DECISIVE, ids=[entry[0] for entry in _DECISIVE]
)
@pytest.mark.parametrize("v4", ["8.8.8.8", "1.1.1.1", "93.184.216.34"])
def test_every_form_carrying_a_public_address_passes(
    form_id: str, form: str, build: Callable[[int], int], v4: str
) -> None:
    assert blocked_reason(V6(build(int(V4(v4))))) is None


def test_local_use_nat64_is_refused_even_around_a_public_address() -> None:
    """Its translator is a private network's own, and its prefix length is not known."""
    found = blocked_reason(_v6("64:ff9b:1::8.8.8.8"))
    assert found is not None and found.startswith("a local-use NAT64 address")
