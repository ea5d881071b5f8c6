"""Where CostCutter's own files are: the shipped defaults and schemas, and the user's data."""

import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_INSTALLED_ROOT = Path(sys.prefix) / "share" / "costcutter"


def shipped_file(relative: str) -> Path:
    """A file shipped at the top of the repository (config.yaml, schema/...).

    A source checkout or editable install reads it in place; a regular install reads the
    copy setup.cfg puts under <prefix>/share/costcutter.
    """
    for root in (_SOURCE_ROOT, _INSTALLED_ROOT):
        candidate = root / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"CostCutter is installed incompletely: {relative} is missing; reinstall it")


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback)


def user_config_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "costcutter" / "config.yaml"


def default_database() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "costcutter" / "costcutter.db"


def default_log_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "costcutter"
