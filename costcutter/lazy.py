"""Modules loaded on first use, so a command that needs none of them (`costcutter --help`)
starts without importing boto3, moto, sqlite-utils and a hundred resource types."""

import contextlib
import importlib
import sys


class LazyModule:
    """Stands for the module `name` and imports it when one of its attributes is first read.

    Unlike importlib's LazyLoader it puts nothing in sys.modules: everyone else imports the
    real module as usual, and the import itself is the import system's, which is safe when
    many threads (a region process's pools) reach for the module at once."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_import(name: str) -> LazyModule:
    return LazyModule(name)


@contextlib.contextmanager
def without(*optional: str):
    """Imports in this block find none of these modules (a None in sys.modules is how the
    import system is told so), unless they are loaded already; afterwards anyone may import
    them. For a library that imports, when installed, modules CostCutter never needs."""
    blocked = [name for name in optional if name not in sys.modules]
    sys.modules.update(dict.fromkeys(blocked))
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
