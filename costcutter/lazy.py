"""Modules loaded on first use, so a command that needs none of them (`costcutter --help`)
starts without importing boto3, moto, sqlite-utils and a hundred resource types."""

import importlib


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
