"""The diagnostic log: costcutter.log, rotated at 10 MB with 5 backups.

It is for debugging and separate from the event log. Region processes send their
records to the main process over a queue, so only one process ever rotates the file.
"""

import logging
import logging.handlers
import sys
from pathlib import Path

from costcutter import paths

LOG_FILE = "costcutter.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(processName)s %(threadName)s %(name)s: %(message)s"
_NOISY = ("boto3", "botocore", "urllib3", "s3transfer", "werkzeug", "moto")


def _quiet_libraries():
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates costcutter.log 0600, so its backups (renamed from it) are 0600 too."""

    def _open(self):
        return self._builtin_open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,
                                  opener=paths.private_opener)


def setup_main(log_dir: Path, level: str) -> Path:
    """Log to the rotating file; returns its path. Raises OSError when the folder is unusable."""
    root = logging.getLogger()
    root.setLevel(level)
    _quiet_libraries()
    paths.private_folder(log_dir)
    handler = _PrivateRotatingFileHandler(log_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.handlers = [handler]
    return log_dir / LOG_FILE


class QueueForwarder:
    """Writes what region processes send over log_queue through the main process's handlers."""

    def __init__(self, log_queue):
        self._listener = logging.handlers.QueueListener(log_queue, *logging.getLogger().handlers,
                                                        respect_handler_level=True)

    def __enter__(self):
        self._listener.start()
        return self

    def __exit__(self, *exc):
        self._listener.stop()


def setup_worker(log_queue, level: str) -> None:
    root = logging.getLogger()
    root.handlers = [logging.handlers.QueueHandler(log_queue)]
    root.setLevel(level)
    _quiet_libraries()


class _AboveTheBars(logging.Handler):
    """Writes records on stderr through tqdm, so they scroll above the live view's bars."""

    def emit(self, record):
        try:
            from tqdm import tqdm  # here: `costcutter --help` must not load it
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging's own contract: a handler never raises
            self.handleError(record)


def echo_to_stderr(level: str) -> None:
    """-v: the diagnostic log's records (the region processes' too) also on stderr."""
    handler = _AboveTheBars(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(processName)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
