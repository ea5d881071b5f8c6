"""The orchestrator: one process per region, and inside each region a schedule over the
dependency graph: a resource type starts as soon as everything it depends on is finished,
and independent types run at the same time, each with a thread pool of its own.

Global types (IAM, Route 53, CloudFront) are cleaned once per run, by a job of their own
in a process of its own, besides the regions' (so it never holds a process a region needs);
a global type that depends on regional types waits until the event log shows them finished
in every chosen region.

Nothing here keeps state of its own: what is done, what is left and how a run ended are
read back from the log, which is what makes a run resumable after any kind of stop.
"""

import collections
import dataclasses
import functools
import graphlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from costcutter import aws, engine, events, logs, region_server, registry
from costcutter.config import Settings
from costcutter.plans import Plan
from costcutter.registry import GLOBAL_REGION
from costcutter.reporter import Interrupted, Reporter
from costcutter.store import EventStore, EventWriter

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
POOL_ATTEMPTS = 2
_CROSS_REGION_POLL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Unit:
    region: str
    service: str
    resource_type: str

    @property
    def key(self) -> str:
        return f"{self.service}.{self.resource_type}"


def plan(settings: Settings, applying: Plan | None = None) -> list[Unit]:
    """Every unit a run covers: each regional type in each region, each global type once;
    for an apply, only those its plan would delete something in."""
    types = settings.chosen_types()
    regional = [Unit(region, t.service, t.name) for region in settings.regions for t in types if not t.is_global]
    units = regional + [Unit(GLOBAL_REGION, t.service, t.name) for t in types if t.is_global]
    return units if applying is None else [unit for unit in units if (unit.region, unit.key) in applying.units]


class StopFlag:
    """The stop signal the processes of a sweep share: one byte of shared memory, set and
    read without a lock, so a process that dies can never leave it blocked for the others."""

    def __init__(self, context):
        self._value = context.RawValue("b", 0)

    def set(self) -> None:
        self._value.value = 1

    def is_set(self) -> bool:
        return bool(self._value.value)


@dataclasses.dataclass(frozen=True)
class RegionJob:
    run_id: str
    region: str
    types: tuple[str, ...]          # keys, of the types this job cleans
    regions: tuple[str, ...]        # every region of the run, for global types that wait on them
    regional_types: tuple[str, ...]  # keys of the run's regional types, likewise
    db_path: str
    dry_run: bool
    identity: aws.Identity
    threads: int
    types_at_once: int
    wait_timeout: int
    type_settings: dict
    # An apply's: the ids its plan would delete in this region, by (service, type), and
    # every unit of the run (a global type waits only for the regional units there are).
    planned: dict[tuple[str, str], frozenset[str]] | None = None
    applied_units: frozenset[tuple[str, str]] | None = None


@dataclasses.dataclass
class SweepResult:
    interrupted: bool = False
    crashed_regions: list[str] = dataclasses.field(default_factory=list)


def sweep(store: EventStore, run_id: str, settings: Settings, on_progress=None, on_stopping=None,
          applying: Plan | None = None) -> SweepResult:
    """Sweep settings.regions (resolved, not `all`) in parallel processes, recording the
    run's start and end.

    Ctrl-C (or SIGTERM) asks every region to stop after the deletions in flight (and calls
    on_stopping); a second Ctrl-C stops at once. Either way the run is recorded as
    interrupted and can be resumed. A region process that dies takes the whole pool with
    it, so the regions it stopped get one more go in a fresh pool before the run gives up.
    An apply (`applying` its plan) covers only the plan's units and resources.
    """
    units = plan(settings, applying)
    jobs = _jobs(run_id, units, settings, applying)
    context = region_server.context()
    stop, log_queue = StopFlag(context), context.Queue()
    result = SweepResult()
    store.record(run_id, events.RUN_STARTED, message=f"{len(settings.regions)} regions, {len(units)} units")
    try:
        with logs.QueueForwarder(log_queue):
            for attempt in range(1, POOL_ATTEMPTS + 1):
                result.crashed_regions = []
                with ProcessPoolExecutor(
                        max_workers=_processes(jobs, settings.max_processes), mp_context=context,
                        initializer=_init_region_process,
                        initargs=(stop, log_queue, settings.log_level, dict(os.environ))) as pool:
                    futures = {pool.submit(sweep_region, job): job.region for job in jobs}
                    _wait_for_regions(store, run_id, futures, pool, stop, result, on_progress, on_stopping,
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


def _processes(jobs: list[RegionJob], max_processes: int) -> int:
    """max_processes regions at once, and the global job in a process of its own. Sharing
    the regions' processes, it had to start last (it waits for regional types of every
    region, IAM's instance profiles for EC2's instances, so it must not hold a process a
    region needs), and then waited for a region to end: its types that wait for no region
    (IAM users, Route 53 zones) with it."""
    regional = sum(job.region != GLOBAL_REGION for job in jobs)
    return max(1, min(max_processes, regional) + (len(jobs) - regional))


def _jobs(run_id: str, units: list[Unit], settings: Settings, applying: Plan | None) -> list[RegionJob]:
    """The global job, then one job per region: submitted first, the global job takes the
    process kept for it (_processes), and the regions it waits for run in the others."""
    by_region = collections.defaultdict(list)
    for unit in units:
        by_region[unit.region].append(unit.key)
    regional = tuple(dict.fromkeys(u.key for u in units if u.region != GLOBAL_REGION))
    return [RegionJob(run_id=run_id, region=region, types=tuple(keys), regions=tuple(settings.regions),
                      regional_types=regional, db_path=str(settings.database_path), dry_run=settings.dry_run,
                      identity=settings.identity, threads=settings.threads_per_resource_type,
                      types_at_once=settings.resource_types_at_once, wait_timeout=settings.wait_timeout,
                      type_settings=settings.type_settings(),
                      planned=applying.ids_in(region) if applying else None,
                      applied_units=applying.units if applying else None)
            for region, keys in sorted(by_region.items(), key=lambda item: item[0] != GLOBAL_REGION)]


class Interrupts:
    """Ctrl-C and SIGTERM in the main process, counted before KeyboardInterrupt is raised (the
    handler lifecycle.sweep installs): Python swallows one raised inside a finalizer (as
    multiprocessing's are, while a broken pool is cleaned up), and the count still shows it."""

    def __init__(self):
        self.received = self.handled = 0

    def handler(self, signum, frame):
        self.received += 1
        raise KeyboardInterrupt()

    def raise_missed(self) -> None:
        if self.received > self.handled:
            raise KeyboardInterrupt()


INTERRUPTS = Interrupts()


def _wait_for_regions(store, run_id, futures, pool, stop, result: SweepResult, on_progress, on_stopping,
                      retrying) -> None:
    pending = set(futures)
    while pending:
        try:
            INTERRUPTS.raise_missed()
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                _collect(store, run_id, futures[future], future, result, retrying)
            if on_progress:
                on_progress()
        except KeyboardInterrupt:
            INTERRUPTS.handled = INTERRUPTS.received
            if result.interrupted:
                _kill_region_processes(pool)
                raise
            result.interrupted = True
            stop.set()
            log.warning("interrupted: stopping after the deletions in flight")
            if on_stopping:
                on_stopping()


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

class _RegionStop:
    """What a region process checks before each deletion: the sweep's shared stop flag,
    or a stop of its own (SIGTERM to this process, or the main process gone)."""

    def __init__(self, shared: StopFlag):
        self.shared, self.local = shared, False

    def set(self) -> None:
        self.local = True

    def is_set(self) -> bool:
        return self.local or self.shared.is_set()


_stop: _RegionStop | None = None
_job_running = threading.Lock()  # held while a job runs, so a stopped process exits only between jobs


def _init_region_process(stop, log_queue, log_level, environment):
    global _stop
    # The environment of the sweep, not the one the fork server started with, as a spawned process would have.
    os.environ.clear()
    os.environ.update(environment)
    _stop = _RegionStop(stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides how to stop on Ctrl-C
    # SIGTERM (to the process group, from timeout(1) or systemd, or from the pool when
    # another process died) stops this region after the deletions in flight; the job then
    # returns as usual, and the process ends when the pool says so.
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop.set())
    logs.setup_worker(log_queue, log_level)
    threading.Thread(target=_exit_when_orphaned, name="parent-watch", daemon=True).start()


def _exit_when_orphaned() -> None:
    """If the main process dies (kill -9), stop rather than carry on unobserved or wait
    for work forever. Watched through multiprocessing's sentinel of the process that started
    this one, the main process: the parent, the fork server, lives as long as its children."""
    multiprocessing.parent_process().join()
    _stop_then_exit("the main process is gone")


def _stop_then_exit(why: str) -> None:
    """Stop after the deletions in flight, then exit: never in the middle of a deletion,
    whose outcome would then be unknown."""
    log.warning("%s: stopping after the deletions in flight", why)
    _stop.set()

    def exit_between_jobs():
        with _job_running:
            os._exit(0)

    threading.Thread(target=exit_between_jobs, name="exit", daemon=True).start()


def sweep_region(job: RegionJob) -> None:
    """Clean one region's types (or the run's global types) over their dependency graph,
    skipping the units the log shows completed."""
    with _job_running:
        with EventStore(job.db_path) as reader:
            history = reader.resource_states(job.run_id, job.region)
            steps = reader.steps_done(job.run_id, job.region)
            completed = reader.completed_units(job.run_id, job.region)
        writer = EventWriter(job.db_path)
        try:
            reporter = Reporter(writer, job.run_id, job.region, threads=job.threads, wait_timeout=job.wait_timeout,
                                history=history, steps=steps, settings=job.type_settings, stop_event=_stop,
                                planned=job.planned, first_seen=functools.partial(_first_seen, job))
            _RegionSweep(job, aws.make_session(job.identity), reporter, completed).run()
        finally:
            writer.close()


def _first_seen(job: RegionJob, service: str, resource_type: str) -> dict[str, str]:
    with EventStore(job.db_path, read_only=True) as reader:
        return reader.first_seen(job.run_id, job.region, service, resource_type)


class _RegionSweep:
    """The schedule of one job: types start when what they depend on is finished."""

    def __init__(self, job: RegionJob, session, reporter: Reporter, completed: set[tuple[str, str]]):
        self.job, self.session, self.reporter = job, session, reporter
        self.types = {key: registry.by_key()[key] for key in job.types}
        self.completed = {f"{service}.{name}" for service, name in completed}
        self.unclean: set[str] = set()  # finished with failures, or could not be cleaned at all

    def run(self) -> None:
        graph = {key: {dep for dep in t.dependencies if dep in self.types} for key, t in self.types.items()}
        sorter = graphlib.TopologicalSorter(graph)
        sorter.prepare()
        running = {}
        with ThreadPoolExecutor(max_workers=self.job.types_at_once, thread_name_prefix=self.job.region) as pool:
            while sorter.is_active():
                ready = [] if self.reporter.stopping else sorter.get_ready()
                for key in ready:
                    if key in self.completed:
                        sorter.done(key)
                    else:
                        running[pool.submit(self.sweep_unit, self.types[key])] = key
                if not running:
                    if ready:
                        continue  # only completed units were ready: look again
                    break  # stopping, and nothing in flight
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    key = running.pop(future)
                    if future.result() == engine.STOPPED:
                        continue
                    sorter.done(key)

    def sweep_unit(self, rtype: registry.ResourceType) -> str:
        """Clean one type; returns its outcome: clean, unclean, or STOPPED."""
        service, name = rtype.service, rtype.name
        if not self._wait_for_other_regions(rtype):
            return engine.STOPPED
        waited_for = tuple(sorted(dep for dep in rtype.dependencies if dep in self.unclean))
        self.reporter.record(events.UNIT_STARTED, service, name)
        try:
            outcomes = engine.cleanup_all(rtype, self.session, self.job.region, self.reporter,
                                          dry_run=self.job.dry_run, waited_for=waited_for)
        except Interrupted:
            return engine.STOPPED
        except Exception as error:  # a unit that cannot even be listed must not stop the others
            log.exception("%s %s", self.job.region, rtype.key)
            self.reporter.record(events.FAILED, service, name, error_code=aws.error_code(error),
                                 message=f"could not clean {rtype.key}: {aws.error_message(error)}", durable=True)
            self.unclean.add(rtype.key)
            return "unclean"
        counts = sorted(collections.Counter(outcomes.values()).items())
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts) or "nothing found"
        self.reporter.record(events.UNIT_COMPLETED, service, name, message=summary, durable=True)
        if events.FAILED in outcomes.values():
            self.unclean.add(rtype.key)
            return "unclean"
        return "clean"

    def _wait_for_other_regions(self, rtype: registry.ResourceType) -> bool:
        """A global type waits until the regional types it depends on are over in every
        region, as the log shows; False when the run is stopping first. A regional type waits
        for its own region only, which its schedule does: with more regions than processes,
        waiting for a region not yet started would wait for ever."""
        if not rtype.is_global:
            return True
        needed = {(region, dep) for dep in rtype.dependencies if dep in self.job.regional_types
                  for region in self.job.regions}
        if self.job.applied_units is not None:
            needed &= self.job.applied_units
        if not needed:
            return True
        with EventStore(self.job.db_path, read_only=True) as reader:
            while not needed <= reader.finished_units(self.job.run_id):
                if self.reporter.stopping:
                    return False
                time.sleep(_CROSS_REGION_POLL_SECONDS)
        return True
