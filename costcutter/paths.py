"""Where CostCutter's own files are: the shipped defaults and schemas, and the user's data.

The user's data (the event log, the diagnostic log) names the account's resources, so what
CostCutter creates is for its owner only: folders 0700, files 0600. What exists already
keeps the mode the user gave it.
"""

import errno
import os
import sys
from pathlib import Path

import platformdirs

_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_INSTALLED_ROOT = Path(sys.prefix) / "share" / "costcutter"
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


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


# The user's folders as each system has them: the XDG ones on Linux ($XDG_CONFIG_HOME/costcutter,
# $XDG_DATA_HOME/costcutter, $XDG_STATE_HOME/costcutter), ~/Library/Application Support/costcutter
# on macOS, %LOCALAPPDATA%\costcutter on Windows. platformdirs reads the variables at each call.
APP_NAME = "costcutter"


def user_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.yaml"


def default_database() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "costcutter.db"


def default_log_dir() -> Path:
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def private_folder(path: str | os.PathLike) -> Path:
    """Make the folder and any missing parents (0700, as XDG asks); existing ones are left as they are."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    if not path.is_dir():
        if path.parent != path:
            private_folder(path.parent)
        path.mkdir(mode=PRIVATE_FOLDER_MODE, exist_ok=True)
    return path


def private_opener(path: str, flags: int) -> int:
    """An opener for open(): a file it creates is 0600; an existing file keeps its mode."""
    return os.open(path, flags, PRIVATE_FILE_MODE)


def private_file(path: str | os.PathLike) -> Path:
    """Create the file, empty and 0600, unless it exists: then it is left as it is."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    return Path(path)
