"""The public names of a module, for tests that keep ``__all__`` honest."""

from __future__ import annotations

from types import ModuleType


def public_names(module: ModuleType) -> set[str]:
    """Names a user can import from ``module`` that are not private, submodules or pytest's.

    Read through ``dir()``, so the names a module builds on first access (a PEP 562
    ``__getattr__``, listed by its ``__dir__``) count too. pytest's assertion rewriting adds
    ``@py_builtins``-style names to the modules of a distribution that provides a pytest
    plugin (aether-core does), hence the ``@`` filter.
    """
    return {
        name
        for name in dir(module)
        if not name.startswith(("_", "@"))
        and not isinstance(getattr(module, name), ModuleType)
        and name != "annotations"
    }
