"""Statuses polled once for many: for a teardown that waits in the middle of its steps (a
SageMaker notebook stopped before its deletion), each resource on its own thread.

The threads of one type in one region share one listing per round: a thread that asks
after a listing started (and so after its own change was made) takes that listing's
answer; only a thread that needs a newer one lists again, while the others wait for it.
So a wait costs one call per round for the region, not one per resource.
"""

import threading
import time
import weakref
from collections.abc import Callable, Mapping


class SharedStatuses:
    """`listing(target)` -> {id: status} of every resource of the type in the target's region."""

    def __init__(self, listing: Callable[..., Mapping[str, str]]):
        self._listing = listing
        self._guard = threading.Lock()
        # Per client (one per session and region): its lock, and its latest listing (started, statuses).
        self._locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._latest: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def status(self, target, resource_id: str, after: float) -> tuple[str | None, float]:
        """The resource's status (None: not listed) from a listing that started after `after`
        (a time.monotonic()), and when that listing started: pass it as `after` next time."""
        client = target.client
        with self._guard:
            lock = self._locks.setdefault(client, threading.Lock())
        with lock:
            started, statuses = self._latest.get(client, (float("-inf"), {}))
            if started <= after:
                started = time.monotonic()
                statuses = dict(self._listing(target))
                self._latest[client] = (started, statuses)
        return statuses.get(resource_id), started
