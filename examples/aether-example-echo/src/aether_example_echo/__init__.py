"""The Echo API for Aether: a worked example of a third-party plugin.

The Echo API is an imaginary LLM service with a small JSON wire format (see ``_wire``); the
package shows everything a real provider plugin needs: a provider on :mod:`aether.http`, a
tool, a plugin module registering both lazily, and tests that run Aether's plugin kit.
"""

from aether_example_echo._provider import EchoProvider
from aether_example_echo._tools import shout

__all__ = ["EchoProvider", "shout"]
