"""Modules loaded on first use, so a command that needs none of them (`costcutter --help`)
starts without importing boto3, moto, sqlite-utils and a hundred resource types."""

import importlib
import importlib.util
import sys


def lazy_import(name: str):
    """The module `name`, executed when one of its attributes is first read: the same module
    object for everyone, as `import` would give."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
