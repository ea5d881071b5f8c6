"""The schedule inside a region process, with made-up types: a type starts once what it
depends on is over, independent types run at the same time, and a global type waits for
the regional types it depends on in every region, as the event log shows."""

import multiprocessing
import os
import signal
import threading
import time

import pytest

from costcutter import aws, events, orchestrator, registry
from costcutter.registry import Resource, ResourceType, Step

REGIONS = ("us-east-1", "eu-west-1")


def slow_type(service, name, depends_on=(), scope=registry.REGIONAL, seconds=0.3):
    def delete(target, resource):
        time.sleep(seconds)

    return ResourceType(service=service, name=name, client="ec2", list=lambda target: [Resource(f"{name}-1")],
                        steps=(Step("delete", delete),), depends_on=depends_on, scope=scope, doc=f"{name}.",
                        seed=lambda session, region, count: [], missing_id="none")


@pytest.fixture
def fake_registry(monkeypatch):
    def install(*types):
        by_key = {t.key: t for t in types}
        registry.dependency_graph(types)  # the same checks as the real registry
        monkeypatch.setattr(registry, "by_key", lambda: by_key)
        return by_key
    return install


def job(db_path, run_id, region, keys, regional=(), **applying):
    return orchestrator.RegionJob(run_id=run_id, region=region, types=tuple(keys), regions=REGIONS,
                                  regional_types=tuple(regional), db_path=str(db_path), dry_run=False,
                                  identity=aws.Identity(), threads=2, types_at_once=4, wait_timeout=5, type_settings={},
                                  **applying)


def unit_spans(store, run_id, region):
    """resource type -> (seq of unit_started, seq of unit_completed)"""
    spans = {}
    for event in store.events(run_id):
        if event["region"] == region and event["kind"] in (events.UNIT_STARTED, events.UNIT_COMPLETED):
            spans.setdefault(event["resource_type"], []).append(event["seq"])
    return {name: tuple(seqs) for name, seqs in spans.items()}


def sweep(db_path, reporter, the_job):
    orchestrator._RegionSweep(the_job, session=None, reporter=reporter, completed=set()).run()
    reporter.writer.flush()


def test_independent_types_run_at_the_same_time_and_dependents_wait(fake_registry, make_reporter, store, db_path):
    fake_registry(slow_type("fake", "a"), slow_type("fake", "b"), slow_type("fake", "c", depends_on=("a", "b")))
    reporter = make_reporter(REGIONS[0])
    sweep(db_path, reporter, job(db_path, reporter.run_id, REGIONS[0], ["fake.a", "fake.b", "fake.c"]))
    spans = unit_spans(store, reporter.run_id, REGIONS[0])
    # Judged from the log's spans, not the clock: a loaded machine can slow a round, never reorder them.
    assert spans["a"][0] < spans["b"][1] and spans["b"][0] < spans["a"][1]  # a and b overlap
    assert spans["c"][0] > max(spans["a"][1], spans["b"][1])  # c after both


def test_units_the_log_shows_completed_are_not_run_again(fake_registry, make_reporter, store, db_path):
    fake_registry(slow_type("fake", "a"), slow_type("fake", "c", depends_on=("a",)))
    reporter = make_reporter(REGIONS[0])
    the_job = job(db_path, reporter.run_id, REGIONS[0], ["fake.a", "fake.c"])
    orchestrator._RegionSweep(the_job, None, reporter, completed={("fake", "a")}).run()
    reporter.writer.flush()
    assert set(unit_spans(store, reporter.run_id, REGIONS[0])) == {"c"}


def test_a_regional_type_waits_for_its_dependencies_in_its_own_region_only(fake_registry, make_reporter, store,
                                                                          db_path):
    """With more regions than processes, a region that waited for another region's units
    would wait for ever for a region that cannot start until it is done."""
    fake_registry(slow_type("fake", "a", seconds=0), slow_type("fake", "c", depends_on=("a",), seconds=0))
    stop = threading.Event()
    reporter = make_reporter(REGIONS[0], stop_event=stop)
    the_job = job(db_path, reporter.run_id, REGIONS[0], ["fake.a", "fake.c"], regional=["fake.a", "fake.c"])
    thread = threading.Thread(target=sweep, args=(db_path, reporter, the_job), daemon=True)
    thread.start()
    thread.join(timeout=10)
    stuck = thread.is_alive()
    stop.set()  # lets a stuck sweep end
    thread.join(timeout=10)
    assert not stuck, f"{REGIONS[0]} waited for {REGIONS[1]}, which never ran"
    assert set(unit_spans(store, reporter.run_id, REGIONS[0])) == {"a", "c"}


def test_a_global_type_waits_for_its_regional_dependencies_in_every_region(fake_registry, make_reporter, store,
                                                                           db_path):
    fake_registry(slow_type("fake", "a"), slow_type("glob", "g", depends_on=("fake.a",), scope=registry.GLOBAL))
    reporter = make_reporter(registry.GLOBAL_REGION)
    the_job = job(db_path, reporter.run_id, registry.GLOBAL_REGION, ["glob.g"], regional=["fake.a"])
    thread = threading.Thread(target=sweep, args=(db_path, reporter, the_job))
    thread.start()
    time.sleep(1.5)
    assert not reporter.events(events.UNIT_STARTED)  # neither region is over with fake.a
    store.record(reporter.run_id, events.UNIT_COMPLETED, region=REGIONS[0], service="fake", resource_type="a")
    time.sleep(1.5)
    assert not reporter.events(events.UNIT_STARTED)  # one region is not enough
    store.record(reporter.run_id, events.FAILED, region=REGIONS[1], service="fake", resource_type="a",
                 message="could not list")  # over, if not cleanly
    thread.join(timeout=10)
    assert [(e["region"], e["resource_type"]) for e in reporter.events(events.UNIT_COMPLETED)
            if e["service"] == "glob"] == [(registry.GLOBAL_REGION, "g")]


def test_in_an_apply_a_global_type_waits_only_for_the_regional_units_of_its_plan(fake_registry, make_reporter,
                                                                                  store, db_path):
    fake_registry(slow_type("fake", "a"), slow_type("glob", "g", depends_on=("fake.a",), scope=registry.GLOBAL))
    reporter = make_reporter(registry.GLOBAL_REGION)
    the_job = job(db_path, reporter.run_id, registry.GLOBAL_REGION, ["glob.g"], regional=["fake.a"],
                  applied_units=frozenset({(REGIONS[0], "fake.a"), (registry.GLOBAL_REGION, "glob.g")}))
    thread = threading.Thread(target=sweep, args=(db_path, reporter, the_job))
    thread.start()
    time.sleep(1.5)
    assert not reporter.events(events.UNIT_STARTED)
    store.record(reporter.run_id, events.UNIT_COMPLETED, region=REGIONS[0], service="fake", resource_type="a")
    thread.join(timeout=10)  # the plan has no fake.a in REGIONS[1]: nothing to wait for there
    assert [(e["region"], e["resource_type"]) for e in reporter.events(events.UNIT_COMPLETED)
            if e["service"] == "glob"] == [(registry.GLOBAL_REGION, "g")]


def test_a_global_type_stops_waiting_when_the_run_stops(fake_registry, make_reporter, db_path):
    fake_registry(slow_type("fake", "a"), slow_type("glob", "g", depends_on=("fake.a",), scope=registry.GLOBAL))
    stop = threading.Event()
    reporter = make_reporter(registry.GLOBAL_REGION, stop_event=stop)
    the_job = job(db_path, reporter.run_id, registry.GLOBAL_REGION, ["glob.g"], regional=["fake.a"])
    thread = threading.Thread(target=sweep, args=(db_path, reporter, the_job))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and not reporter.events(events.UNIT_STARTED)


def test_a_regional_type_may_not_depend_on_a_global_one():
    with pytest.raises(ValueError, match="regional but depends on a global type"):
        registry.dependency_graph([slow_type("glob", "g", scope=registry.GLOBAL),
                                   slow_type("fake", "a", depends_on=("glob.g",))])


def test_a_cycle_is_refused_with_its_members():
    with pytest.raises(ValueError, match="cycle"):
        registry.dependency_graph([slow_type("fake", "a", depends_on=("b",)), slow_type("fake", "b", depends_on=("a",))])


def _watch_the_flag(flag, ready):
    """As a region process watches the stop signal: waiting on it where it can be waited on
    (as on the Event it once was), else polling it."""
    ready.set()
    wait = getattr(flag, "wait", None)
    while not (wait(0.5) if wait else flag.is_set()):
        time.sleep(0.01)


def test_the_stop_flag_is_set_even_after_a_process_watching_it_was_killed():
    """Defect 3 of the survival issue: a multiprocessing Event that a region process was
    waiting on when it was killed blocks every later set() for ever (its condition counts
    the dead sleeper), so Ctrl-C after an out-of-memory kill hung. The flag has no lock."""
    context = multiprocessing.get_context("spawn")
    flag, ready = orchestrator.StopFlag(context), context.Event()
    watcher = context.Process(target=_watch_the_flag, args=(flag, ready), daemon=True)
    watcher.start()
    assert ready.wait(30)
    os.kill(watcher.pid, signal.SIGKILL)
    watcher.join(10)

    setter = threading.Thread(target=flag.set, daemon=True)
    setter.start()
    setter.join(5)

    assert not setter.is_alive() and flag.is_set()


def test_an_interrupt_python_swallowed_where_it_landed_still_stops_the_sweep():
    """Ctrl-C raised inside a finalizer (multiprocessing's, while a pool that lost a process is
    cleaned up) is printed and dropped by Python; the main process still stops the regions."""
    from concurrent.futures import Future

    region = Future()

    class Stop:
        def set(self):
            region.set_result(None)  # the region process, told to stop, finishes

    try:  # as in a finalizer: the KeyboardInterrupt goes nowhere
        orchestrator.INTERRUPTS.handler(signal.SIGINT, None)
    except KeyboardInterrupt:
        pass
    result = orchestrator.SweepResult()
    orchestrator._wait_for_regions(None, "run", {region: "eu-west-1"}, None, Stop(), result, on_progress=None,
                                   on_stopping=None, retrying=False)
    assert result.interrupted
