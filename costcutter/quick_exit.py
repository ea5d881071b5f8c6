"""Ending the CLI's process without Python's teardown of its modules.

After a run the main process holds boto3, botocore's models and the resource types: at exit
Python frees them object by object, a tenth of a second or more of CPU that nobody waits for
but the shell. The operating system frees the whole process at once instead."""

import atexit
import os
import sys
import threading


def now(code) -> None:
    """End the process with this exit code (SystemExit's) as a normal exit would, minus the
    teardown: the exit handlers run (logging's flush, multiprocessing's clean-up, removal of
    temporary folders) and the output is flushed first. Returns, for Python to exit as usual,
    when that cannot be done the same way: another thread still running (Python would wait for
    it), an exit code that is a message, or output that cannot be flushed (a closed pipe)."""
    if not isinstance(code, int | None) or _other_threads_running():
        return
    atexit._run_exitfuncs()  # then forgotten: a normal exit after this runs none of them twice
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code or 0)


def _other_threads_running() -> bool:
    main = threading.main_thread()
    return any(thread is not main and not thread.daemon and thread.is_alive() for thread in threading.enumerate())
