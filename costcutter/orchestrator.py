"""The orchestrator: one process per region, the region's resource types in dependency
order, each type's deletions on a thread pool, every step recorded in the event log.

Nothing here keeps state of its own: what is done, what is left and how a run ended are
read back from the log, which is what makes a run resumable after any kind of stop.
"""

import collections
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from costcutter import aws, events, logs, registry
from costcutter.config import Settings
from costcutter.reporter import EventWriter, Interrupted, Reporter
from costcutter.store import EventStore

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
POOL_ATTEMPTS = 2
_PARENT_CHECK_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Unit:
    region: str
    service: str
    resource_type: str


def plan(regions: list[str], services: list[str]) -> list[Unit]:
    """Every (region, service, resource type) a run covers, each region in cleaning order."""
    order = [s for s in registry.ordered_subresources() if s.service in services]
    return [Unit(region, s.service, s.name) for region in regions for s in order]


@dataclasses.dataclass(frozen=True)
class RegionJob:
    run_id: str
    region: str
    units: tuple[tuple[str, str], ...]
    db_path: str
    dry_run: bool
    profile: str | None
    threads: int
    wait_timeout: int


@dataclasses.dataclass
class SweepResult:
    interrupted: bool = False
    crashed_regions: list[str] = dataclasses.field(default_factory=list)


def sweep(store: EventStore, run_id: str, settings: Settings, on_progress=None) -> SweepResult:
    """Sweep settings.regions (resolved, not `all`) in parallel processes, recording the
    run's start and end.

    Ctrl-C (or SIGTERM) asks every region to stop after the deletions in flight; a second
    Ctrl-C stops at once. Either way the run is recorded as interrupted and can be resumed.
    A region process that dies takes the whole pool with it, so the regions it stopped
    get one more go in a fresh pool before the run gives up on them.
    """
    regions = settings.regions
    units = plan(regions, settings.chosen_services())
    jobs = [_job(run_id, region, units, settings) for region in regions]
    context = multiprocessing.get_context("spawn")  # forking a process that has threads is unsafe
    stop, log_queue = context.Event(), context.Queue()
    result = SweepResult()
    store.record(run_id, events.RUN_STARTED, message=f"{len(regions)} regions, {len(units)} units")
    try:
        with logs.QueueForwarder(log_queue):
            for attempt in range(1, POOL_ATTEMPTS + 1):
                result.crashed_regions = []
                with ProcessPoolExecutor(
                        max_workers=max(1, min(settings.max_processes, len(jobs))), mp_context=context,
                        initializer=_init_region_process, initargs=(stop, log_queue, settings.log_level)) as pool:
                    futures = {pool.submit(sweep_region, job): job.region for job in jobs}
                    _wait_for_regions(store, run_id, futures, pool, stop, result, on_progress,
                                      retrying=attempt < POOL_ATTEMPTS)
                jobs = [job for job in jobs if job.region in result.crashed_regions]
                if not jobs or result.interrupted:
                    break
    except BaseException:
        result.interrupted = True
        raise
    finally:
        store.record(run_id, events.RUN_INTERRUPTED if result.interrupted else events.RUN_FINISHED)
    return result


def _wait_for_regions(store, run_id, futures, pool, stop, result: SweepResult, on_progress, retrying) -> None:
    pending = set(futures)
    while pending:
        try:
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                _collect(store, run_id, futures[future], future, result, retrying)
            if on_progress:
                on_progress()
        except KeyboardInterrupt:
            if result.interrupted:
                _kill_region_processes(pool)
                raise
            result.interrupted = True
            stop.set()
            log.warning("interrupted: stopping after the deletions in flight")
            print("\nStopping after the deletions in flight (Ctrl-C again to stop at once)...", flush=True)


def _job(run_id, region, units, settings: Settings) -> RegionJob:
    return RegionJob(
        run_id=run_id, region=region, db_path=str(settings.database_path), dry_run=settings.dry_run,
        units=tuple((u.service, u.resource_type) for u in units if u.region == region),
        profile=settings.aws_profile, threads=settings.threads_per_subresource, wait_timeout=settings.wait_timeout)


def _collect(store, run_id, region, future, result: SweepResult, retrying: bool) -> None:
    error = future.exception()
    if error is None:
        return
    if isinstance(error, BrokenProcessPool):
        then = "retrying the region" if retrying else "resume the run to finish the region"
        message = f"the region's process died, or was stopped when another one died (killed, out of memory); {then}"
    else:
        message = f"the region's process failed: {error!r}"
    log.error("%s: %s", region, message)
    result.crashed_regions.append(region)
    store.record(run_id, events.REGION_CRASHED, region=region, error_code=type(error).__name__, message=message)


def _kill_region_processes(pool: ProcessPoolExecutor) -> None:
    for process in list((pool._processes or {}).values()):
        process.kill()


# In the region processes

_stop_event = None


def _init_region_process(stop, log_queue, log_level):
    global _stop_event
    _stop_event = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides how to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logs.setup_worker(log_queue, log_level)
    _watch_parent(stop)


def _watch_parent(stop):
    """If the main process dies (kill -9), stop after the deletions in flight rather than
    carrying on unobserved."""
    parent = os.getppid()

    def watch():
        while not stop.wait(_PARENT_CHECK_SECONDS):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def sweep_region(job: RegionJob) -> None:
    """Clean one region's units in order, skipping those the log shows completed."""
    with EventStore(job.db_path) as reader:
        history = reader.resource_states(job.run_id, job.region)
        completed = reader.completed_units(job.run_id, job.region)
    writer = EventWriter(job.db_path)
    try:
        reporter = Reporter(writer, job.run_id, job.region, threads=job.threads, wait_timeout=job.wait_timeout,
                            history=history, stop_event=_stop_event)
        session = aws.make_session(job.profile)
        subresources = registry.service_registry()
        for service, resource_type in job.units:
            if (service, resource_type) in completed:
                continue
            if reporter.stopping:
                break
            if not _sweep_unit(subresources[service][resource_type], session, job, reporter):
                break
    finally:
        writer.close()


def _sweep_unit(subresource, session, job: RegionJob, reporter: Reporter) -> bool:
    """Returns False when asked to stop."""
    service, resource_type = subresource.service, subresource.name
    reporter.record(events.UNIT_STARTED, service, resource_type)
    try:
        outcomes = subresource.cleanup_all(session, job.region, reporter, dry_run=job.dry_run)
    except Interrupted:
        return False
    except Exception as error:  # a unit that cannot even be listed must not stop the others
        log.exception("%s %s", job.region, subresource.key)
        reporter.record(events.FAILED, service, resource_type, error_code=aws.error_code(error),
                        message=f"could not clean {subresource.key}: {aws.error_message(error)}", durable=True)
        return True
    counts = sorted(collections.Counter(outcomes.values()).items())
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts) or "nothing found"
    reporter.record(events.UNIT_COMPLETED, service, resource_type, message=summary, durable=True)
    return True
