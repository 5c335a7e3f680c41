"""option_seconds / option_int: a factory's options, as spec text or values, with clear errors."""

from __future__ import annotations

import math

import pytest

from aether.errors import ConfigurationError
from aether.extensions.memory import InMemorySessionStore
from aether.memory.factory import create_session_store, option_int, option_seconds
from aether.registry import Registry


@pytest.mark.parametrize(
    ("value", "expected"), [("30", 30.0), (" 1.5 ", 1.5), ("0", 0.0), (2, 2.0), (0.25, 0.25)]
)
def test_seconds_from_text_or_a_number(value: str | float, expected: float) -> None:
    seconds = option_seconds(value, option="timeout", owner="Acme cache")
    assert seconds == expected
    assert isinstance(seconds, float)


def test_seconds_that_are_not_a_number_name_the_owner_option_and_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        option_seconds("soon", option="timeout", owner="Acme cache")
    assert str(caught.value) == "The Acme cache's timeout must be a number of seconds, got 'soon'."
    assert caught.value.__cause__ is None  # float()'s own message adds nothing


@pytest.mark.parametrize("value", ["-1", "inf", "nan", -0.5, math.inf])
def test_seconds_out_of_range_are_refused(value: str | float) -> None:
    with pytest.raises(ConfigurationError) as caught:
        option_seconds(value, option="ttl", owner="Acme cache")
    assert str(caught.value) == f"The Acme cache's ttl must be finite and >= 0, got {value!r}."


def test_what_zero_means_is_said_in_the_range_error() -> None:
    with pytest.raises(ConfigurationError, match=r"finite and >= 0 \(0: no expiry\), got '-1'"):
        option_seconds("-1", option="ttl", owner="Acme cache", zero="no expiry")
    with pytest.raises(ConfigurationError, match=r">= 0 \(0: no bound\), got '-3'"):
        option_int("-3", option="max_entries", owner="Acme cache", zero="no bound")


@pytest.mark.parametrize(("value", "expected"), [("100", 100), ("0", 0), (" 7 ", 7), (3, 3)])
def test_integers_from_text_or_a_number(value: str | int, expected: int) -> None:
    assert option_int(value, option="retries", owner="Acme store") == expected


@pytest.mark.parametrize("value", ["many", "1.5", ""])
def test_integers_that_are_not_whole_numbers_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        option_int(value, option="retries", owner="Acme store")
    assert str(caught.value) == f"The Acme store's retries must be an integer, got {value!r}."


def test_a_negative_integer_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        option_int("-1", option="retries", owner="Acme store")
    assert str(caught.value) == "The Acme store's retries must be >= 0, got '-1'."


def test_a_third_party_factory_reads_its_spec_options_with_them() -> None:
    built: dict[str, float | int] = {}

    def create_acme_store(
        location: str | None = None, *, timeout: str = "5", retries: str = "2"
    ) -> InMemorySessionStore:
        built["timeout"] = option_seconds(timeout, option="timeout", owner="acme session store")
        built["retries"] = option_int(retries, option="retries", owner="acme session store")
        return InMemorySessionStore()

    registry = Registry()
    registry.add("session_store", "acme", create_acme_store)
    create_session_store("acme://db?timeout=1.5&retries=0", registry=registry)
    assert built == {"timeout": 1.5, "retries": 0}
    with pytest.raises(ConfigurationError, match="The acme session store's timeout"):
        create_session_store("acme://db?timeout=soon", registry=registry)
