"""Judging protocols, one file each; importing the package registers them all in `JUDGING`."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
