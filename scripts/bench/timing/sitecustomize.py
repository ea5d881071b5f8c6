"""Times CostCutter's event log in every process of a benchmark run, CostCutter unchanged.

scripts/bench/peers.py puts this folder on CostCutter's PYTHONPATH, so every process of the
run (the main one, the fork server and the region processes it forks) imports this first.
When BENCH_EVENT_LOG_TIMES names a file, costcutter.store is patched as it is imported:
EventStore.append (one transaction: the time the log takes to write, elapsed and its thread's CPU) and EventWriter.submit's
durable waits (a thread waiting for a commit before it sends a deletion) are timed, and the
process appends its totals so far to the file as a JSON line whenever an EventWriter closes
and at exit (region processes end with os._exit, so the close is what they leave).
"""

import atexit
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
import time

OUTPUT = os.environ.get("BENCH_EVENT_LOG_TIMES")
_totals = {"append_s": 0.0, "append_cpu_s": 0.0, "appends": 0, "rows": 0, "durable_wait_s": 0.0, "durable_waits": 0}
_lock = threading.Lock()


def _add(**amounts):
    with _lock:
        for name, amount in amounts.items():
            _totals[name] += amount


def _write():
    with _lock:
        if not _totals["appends"] and not _totals["durable_waits"]:
            return
        line = json.dumps({"pid": os.getpid(), **_totals})
    with open(OUTPUT, "a") as output:
        output.write(line + "\n")


def _timed(function, *, durable_only=False, seconds, count, rows=False):
    def timed(self, *args, **kwargs):
        if durable_only and not kwargs.get("durable", args[1] if len(args) > 1 else False):
            return function(self, *args, **kwargs)
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            return function(self, *args, **kwargs)
        finally:
            # A transaction's own CPU, apart from its elapsed time: on a busy machine most of
            # the elapsed is waiting for the GIL or a core while other threads work.
            cpu = {f"{seconds[:-2]}_cpu_s": time.thread_time() - cpu_started} if rows else {}
            _add(**{seconds: time.perf_counter() - started, count: 1}, **cpu,
                 **({"rows": len(args[0])} if rows else {}))
    return timed


def _patch(store):
    store.EventStore.append = _timed(store.EventStore.append, seconds="append_s", count="appends", rows=True)
    store.EventWriter.submit = _timed(store.EventWriter.submit, durable_only=True, seconds="durable_wait_s",
                                      count="durable_waits")
    close = store.EventWriter.close

    def close_and_write(self):
        try:
            return close(self)
        finally:
            _write()

    store.EventWriter.close = close_and_write
    atexit.register(_write)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "costcutter.store":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                _patch(module)

            spec.loader.exec_module = exec_module
        return spec


if OUTPUT:
    sys.meta_path.insert(0, _PatchOnImport())
