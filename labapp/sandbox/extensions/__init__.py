"""Emulator extensions: APIs moto lacks that labs need (one module per service).

Each module defines `apply()`, which patches moto in place (new operations on a service's response
and backend classes). They run in the emulator process only, after moto's environment is configured,
from `moto_patches.apply()`. Adding a service is adding a file; each extension has its own tests in
tests/sandbox/extensions/.
"""

import importlib
import pkgutil


def apply_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}").apply()
