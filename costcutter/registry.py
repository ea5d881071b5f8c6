"""The service registry: what CostCutter can clean, declared as data, and the shared code
that catalogs and deletes any of it.

A resource type is one small module under costcutter/services/<service>/ that declares a
Subresource: its client, how to list it, how to delete one, which error codes mean it is
already gone, and which types must be cleaned before it. From that declaration come the
three functions every handler offers:

    catalog_<resources>(session, region, reporter)                      -> list of ids
    cleanup_<resource>(session, region, resource_id, reporter, dry_run) -> outcome
    cleanup_<resources>(session, region, reporter, dry_run=True)        -> outcomes
"""

import dataclasses
import functools
import heapq
import importlib
import logging
import pkgutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions

from costcutter import aws, events
from costcutter.reporter import Interrupted, Reporter

log = logging.getLogger(__name__)

STOPPED = "stopped"


@dataclasses.dataclass(frozen=True)
class Subresource:
    service: str
    name: str                                   # plural, as in the function names: "instances"
    client: str                                 # the boto3 client name
    list: Callable[..., Iterable[str]]          # (client) -> ids of the resources to clean
    delete: Callable[..., str | None]           # (client, id) -> optional detail for the event
    gone_codes: frozenset[str] = frozenset()    # error codes meaning "it is already gone"
    after: tuple[str, ...] = ()                 # types cleaned before this one: "name" or "service.name"
    retry_codes: frozenset[str] = frozenset()   # transient conflicts (DependencyViolation) retried up to wait_timeout
    settle: Callable[..., None] | None = None   # (client, deleted ids, timeout): wait for AWS to finish

    @property
    def key(self) -> str:
        return f"{self.service}.{self.name}"

    def _client(self, session, region, reporter: Reporter):
        return aws.client(session, self.client, region, pool_size=max(10, reporter.threads * 2))

    def catalog(self, session, region, reporter: Reporter) -> list[str]:
        """The ids of this type in the region, each recorded as cataloged (once per run)."""
        ids = list(dict.fromkeys(self.list(self._client(session, region, reporter))))
        for resource_id in ids:
            if reporter.previous_state(self.service, self.name, resource_id) is None:
                reporter.record(events.CATALOGED, self.service, self.name, resource_id)
        return ids

    def cleanup_one(self, session, region, resource_id: str, reporter: Reporter, dry_run: bool) -> str:
        previous = reporter.previous_state(self.service, self.name, resource_id)
        if previous in events.DONE or (dry_run and previous == events.WOULD_DELETE):
            return previous  # dealt with earlier in this run: never delete twice
        if reporter.stopping:
            return STOPPED
        if dry_run:
            return self._record(reporter, events.WOULD_DELETE, resource_id)
        # On disk before the call goes out, so a crash in between leaves a trace resume can settle.
        self._record(reporter, events.DELETE_REQUESTED, resource_id, durable=True)
        try:
            detail = self._delete_with_retries(self._client(session, region, reporter), resource_id, reporter)
        except botocore.exceptions.ClientError as error:
            code = aws.error_code(error)
            if code in self.gone_codes:
                return self._record(reporter, events.ALREADY_GONE, resource_id, error_code=code)
            return self._record(reporter, events.FAILED, resource_id, error_code=code, message=aws.error_message(error))
        except Exception as error:  # one resource's failure must not stop the others
            log.exception("deleting %s %s in %s", self.key, resource_id, region)
            return self._record(reporter, events.FAILED, resource_id, error_code=aws.error_code(error), message=str(error))
        return self._record(reporter, events.DELETED, resource_id, message=detail)

    def cleanup_all(self, session, region, reporter: Reporter, dry_run: bool = True) -> dict[str, str]:
        """Catalog the region's resources of this type and clean them, several at once.

        Raises Interrupted when asked to stop before every resource was dealt with.
        """
        ids = self.catalog(session, region, reporter)
        with ThreadPoolExecutor(max_workers=reporter.threads, thread_name_prefix=f"{region}-{self.name}") as pool:
            outcomes = dict(zip(ids, pool.map(
                lambda rid: self.cleanup_one(session, region, rid, reporter, dry_run), ids)))
        # A deletion requested by an earlier attempt whose resource no longer exists did happen.
        for resource_id in reporter.pending(self.service, self.name):
            if resource_id not in outcomes:
                outcomes[resource_id] = self._record(reporter, events.DELETED, resource_id,
                                                     message="confirmed gone on resume")
        if STOPPED in outcomes.values():
            raise Interrupted()
        deleted = [rid for rid, outcome in outcomes.items() if outcome == events.DELETED]
        if self.settle and deleted:
            self.settle(self._client(session, region, reporter), deleted, reporter.wait_timeout)
        return outcomes

    def functions(self):
        """The three functions of the pattern, bound to this declaration."""
        return self.catalog, self.cleanup_one, self.cleanup_all

    def _record(self, reporter: Reporter, kind: str, resource_id: str, **fields) -> str:
        reporter.record(kind, self.service, self.name, resource_id, **fields)
        return kind

    def _delete_with_retries(self, client, resource_id, reporter: Reporter):
        deadline = time.monotonic() + reporter.wait_timeout
        delay = 1.0
        while True:
            try:
                return self.delete(client, resource_id)
            except botocore.exceptions.ClientError as error:
                if aws.error_code(error) not in self.retry_codes or time.monotonic() + delay > deadline or reporter.stopping:
                    raise
                log.info("%s %s: %s, retrying in %.0fs", self.key, resource_id, aws.error_code(error), delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)


def listed(operation: str, items_key: str, id_key: str, keep: Callable[[dict], bool] | None = None, **params):
    """A `list` for Subresource from data: call `operation` (through its paginator when AWS
    paginates it), take each item of `items_key` that `keep` accepts, yield its `id_key`."""
    def list_ids(client):
        if client.can_paginate(operation):
            pages = client.get_paginator(operation).paginate(**params)
        else:
            pages = [getattr(client, operation)(**params)]
        for page in pages:
            for item in page.get(items_key, []):
                if keep is None or keep(item):
                    yield item[id_key]
    list_ids.__name__ = f"list_{operation}"
    return list_ids


def deleted_by(operation: str, id_param: str):
    """A `delete` for Subresource from data: call `operation` with the id as `id_param`."""
    def delete(client, resource_id):
        getattr(client, operation)(**{id_param: resource_id})
    delete.__name__ = operation
    return delete


def discover() -> list[Subresource]:
    """Every Subresource declared in a module of a package under costcutter/services."""
    import costcutter.services as services_package

    found = {}
    for module_info in pkgutil.walk_packages(services_package.__path__, services_package.__name__ + "."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, Subresource):
                found[value.key] = value
    return list(found.values())


def dependency_order(subresources: list[Subresource]) -> list[Subresource]:
    """Each type after the ones it names in `after`; ties in alphabetical order, so the
    order is the same on every machine."""
    by_key = {s.key: s for s in subresources}
    waiting_on = {}
    for s in subresources:
        needs = {dep if "." in dep else f"{s.service}.{dep}" for dep in s.after}
        unknown = needs - by_key.keys()
        if unknown:
            raise ValueError(f"{s.key} is declared after unknown types: {', '.join(sorted(unknown))}")
        waiting_on[s.key] = needs
    ready = [key for key, needs in waiting_on.items() if not needs]
    heapq.heapify(ready)
    ordered = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for other, needs in waiting_on.items():
            if key in needs:
                needs.discard(key)
                if not needs:
                    heapq.heappush(ready, other)
    if len(ordered) != len(subresources):
        cycle = sorted(k for k, needs in waiting_on.items() if needs)
        raise ValueError(f"resource types depend on each other in a cycle: {', '.join(cycle)}")
    return ordered


@functools.cache
def ordered_subresources() -> tuple[Subresource, ...]:
    return tuple(dependency_order(discover()))


def service_registry() -> dict[str, dict[str, Subresource]]:
    """SERVICE_REGISTRY: service -> {resource type -> Subresource}, in cleaning order."""
    registry: dict[str, dict[str, Subresource]] = {}
    for subresource in ordered_subresources():
        registry.setdefault(subresource.service, {})[subresource.name] = subresource
    return registry


def service_names() -> list[str]:
    return sorted(service_registry())


def __getattr__(name):  # SERVICE_REGISTRY is built on first use, after every service module is importable
    if name == "SERVICE_REGISTRY":
        return service_registry()
    raise AttributeError(name)
