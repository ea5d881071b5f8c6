"""How the engine records what it does, for one run in one region: every step becomes an
event in the log, through the process's EventWriter (costcutter/store.py)."""

import logging
import threading

from costcutter import events
from costcutter.store import EventStore, EventWriter, new_event

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """The sweep was asked to stop; what is unfinished can be resumed."""


class Reporter:
    """What a handler is given to record events, for one run in one region.

    It also carries what the handler needs to know about the run: how many threads to
    use, how long to wait for AWS, whether to stop, and the states the log already has
    for resources of this region (from an earlier, interrupted attempt of the same run),
    and, for an apply, the ids its plan would delete here.
    """

    def __init__(self, writer: EventWriter, run_id: str, region: str, *, threads: int = 8,
                 wait_timeout: int = 300, history: dict | None = None, steps: dict | None = None,
                 settings: dict | None = None, stop_event=None,
                 planned: dict[tuple[str, str], frozenset[str]] | None = None, first_seen=None):
        self.writer = writer
        self.run_id = run_id
        self.region = region
        self.threads = threads
        self.wait_timeout = wait_timeout
        self.settings = settings or {}
        self._history = history or {}
        self._steps = steps or {}
        self._stop_event = stop_event
        self._planned = planned
        self._load_first_seen = first_seen  # (service, resource_type) -> {id: ISO time}, from the log
        self._first_seen: dict[tuple[str, str], dict[str, str]] = {}
        self._first_seen_lock = threading.Lock()

    def record(self, kind: str, service: str, resource_type: str | None = None, resource_id: str | None = None,
               *, error_code: str | None = None, message: str | None = None, properties: dict | None = None,
               durable: bool = False) -> None:
        event = new_event(self.run_id, kind, region=self.region, service=service, resource_type=resource_type,
                          resource_id=resource_id, error_code=error_code, message=message, properties=properties)
        self.writer.submit(event, durable=durable)
        if kind in (events.FAILED, events.REGION_CRASHED):
            log.warning("%s %s %s %s: %s %s", kind, self.region, resource_type, resource_id, error_code, message)
        else:
            log.debug("%s %s %s %s %s", kind, self.region, resource_type, resource_id, message or "")

    def previous_state(self, service: str, resource_type: str, resource_id: str) -> str | None:
        return self._history.get((service, resource_type, resource_id))

    def steps_done(self, service: str, resource_type: str, resource_id: str) -> set[str]:
        """The steps of a resource's teardown that an earlier attempt of this run finished."""
        return self._steps.get((service, resource_type, resource_id), set())

    def planned(self, service: str, resource_type: str) -> frozenset[str] | None:
        """For an apply, the ids of this type its plan would delete in the region (the only
        ones it may touch); None for any other run, which may touch every one listed."""
        return None if self._planned is None else self._planned.get((service, resource_type), frozenset())

    def first_seen(self, service: str, resource_type: str) -> dict[str, str]:
        """resource id -> when an earlier run of the account first saw it in this region;
        read from the log once per type, the first time it is asked."""
        with self._first_seen_lock:
            key = (service, resource_type)
            if key not in self._first_seen:
                self._first_seen[key] = self._load_first_seen(*key) if self._load_first_seen else {}
            return self._first_seen[key]

    def unfinished(self, service: str, resource_type: str) -> dict[str, str]:
        """Resources an earlier attempt was tearing down with no outcome recorded: id -> state."""
        return {rid: state for (svc, rtype, rid), state in self._history.items()
                if svc == service and rtype == resource_type and state in events.IN_PROGRESS}

    def kept_holdings(self, everywhere: bool = False) -> list[dict]:
        """What the resources kept so far in this run hold, in this region (or everywhere), read
        from the log after everything recorded so far is on disk (EventStore.kept_holdings)."""
        self.writer.flush()
        with EventStore(self.writer.path, read_only=True) as reader:
            return reader.kept_holdings(self.run_id, None if everywhere else self.region)

    @property
    def stopping(self) -> bool:
        return self._stop_event is not None and self._stop_event.is_set()

    def check_stop(self) -> None:
        if self.stopping:
            raise Interrupted()
