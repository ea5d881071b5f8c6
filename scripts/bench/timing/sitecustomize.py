"""Times CostCutter's event log, and tags its requests with their type, in every process of a
benchmark run, CostCutter unchanged.

scripts/bench/peers.py puts this folder on CostCutter's PYTHONPATH, so every process of the
run (the main one, the fork server and the region processes it forks) imports this first.
Modules are patched as they are imported, so nothing is imported sooner than CostCutter would.

When BENCH_TAG_TYPES is set, each request carries the key of the resource type whose work sent
it (faults.TAG_HEADER, added after signing), for the server to count calls per type: a type is
set on the thread that sweeps its unit (its listing, batch deletions and wait), carried into
the thread pools that thread submits to (the teardown of each resource, a bucket's emptying),
and is absent for calls outside any type (the identity check, the account's aliases).

When BENCH_EVENT_LOG_TIMES names a file, costcutter.store is patched:
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
import weakref

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


# Tagging requests with their type

TAG_HEADER = "X-Bench-Type"   # costcutter.faults.TAG_HEADER (importing it here would import boto3 sooner)
_sending = threading.local()   # .type: the key of the type whose work this thread does


def _as_type(key, function, *args, **kwargs):
    before = getattr(_sending, "type", None)
    _sending.type = key
    try:
        return function(*args, **kwargs)
    finally:
        _sending.type = before


def _tag_units(orchestrator):
    sweep_unit = orchestrator._RegionSweep.sweep_unit

    def sweep_unit_as_its_type(self, rtype):
        return _as_type(rtype.key, sweep_unit, self, rtype)

    orchestrator._RegionSweep.sweep_unit = sweep_unit_as_its_type


def _carry_type(thread):
    submit = thread.ThreadPoolExecutor.submit

    def submit_as_the_submitters_type(self, fn, /, *args, **kwargs):
        key = getattr(_sending, "type", None)
        if key is None:
            return submit(self, fn, *args, **kwargs)
        return submit(self, _as_type, key, fn, *args, **kwargs)

    thread.ThreadPoolExecutor.submit = submit_as_the_submitters_type


def _tag_header(request, **_):
    key = getattr(_sending, "type", None)
    if key is not None:
        request.headers[TAG_HEADER] = key


def _tag_clients(aws):
    client, tagged = aws.client, weakref.WeakSet()

    def tagging_client(*args, **kwargs):
        made = client(*args, **kwargs)
        # before-send: after signing, so the header is not signed; once per (cached) client, as
        # registering costs more than the call it tags (botocore inspects the handler's signature)
        if made not in tagged:
            made.meta.events.register("before-send", _tag_header, unique_id="bench-type-header")
            tagged.add(made)
        return made

    aws.client = tagging_client


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, patches):
        self.patches = patches   # module name -> function patching the module once imported

    def find_spec(self, name, path, target=None):
        if name not in self.patches:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                self.patches[name](module)

            spec.loader.exec_module = exec_module
        return spec


_patches = {}
if OUTPUT:
    _patches["costcutter.store"] = _patch
if os.environ.get("BENCH_TAG_TYPES"):
    _patches.update({"costcutter.orchestrator": _tag_units, "costcutter.aws": _tag_clients,
                     "concurrent.futures.thread": _carry_type})
for _name in [name for name in _patches if name in sys.modules]:   # imported before this was
    _patches.pop(_name)(sys.modules[_name])
if _patches:
    sys.meta_path.insert(0, _PatchOnImport(_patches))
