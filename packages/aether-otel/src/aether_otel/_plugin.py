"""The plugin module core loads at the first client: cheap to import, it imports no OTel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aether.plugins.hookspecs import KindRegister, hookimpl

if TYPE_CHECKING:
    from aether import Aether

__all__ = ["instrument_client", "register_plugins"]


@hookimpl
def instrument_client(client: Aether) -> None:
    from aether_otel._setup import seen

    seen(client)


@hookimpl
def register_plugins(register: KindRegister) -> None:
    from aether_otel import instrument

    register("instrumentation", "otel", instrument)
