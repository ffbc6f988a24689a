"""Source adapters: one module per source kind, named after the kind (``kind = "zendesk"`` → ``zendesk.py``).

A kind module exposes ``ADAPTER``, its Adapter subclass. Finding kinds by module keeps the list in one place: the
folder itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from shiftboard.adapters.base import Adapter

# Modules in this package that are helpers, not source kinds.
_NOT_KINDS = frozenset({"base", "http"})


@cache
def kinds() -> tuple[str, ...]:
    """Every source kind this installation knows."""
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_") and info.name not in _NOT_KINDS
        )
    )


def adapter_class(kind: str) -> type[Adapter]:
    """The Adapter subclass for ``kind``; KeyError when there is none."""
    if kind not in kinds():
        raise KeyError(kind)
    module = importlib.import_module(f"{__name__}.{kind}")
    return module.ADAPTER
