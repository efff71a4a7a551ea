"""Protocols: each module in this package registers one experiment design when imported.

Every module here is imported on first use of the package, so adding a protocol is adding a file.
"""

import importlib
import pkgutil

from oversight.protocols.base import HEADLINE_KEYS, PROTOCOLS, ProtocolSpec, register_protocol

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["HEADLINE_KEYS", "PROTOCOLS", "ProtocolSpec", "register_protocol"]
