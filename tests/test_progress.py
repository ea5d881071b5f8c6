"""The live view: read from the event log, drawn to fit an 80-column terminal, and a
status line instead where stderr is not a terminal."""

import io
import os
import re
import subprocess
import sys

import pytest

from costcutter import config, events, orchestrator, progress, sandbox
from costcutter.faults import Faults
from costcutter.store import new_event

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WIDTH, HEIGHT = 80, 24
RUN_ID = "t3strun5"


def region(name, units=20, finished=0, running=(), deleted=0, failed=0, kept=0, crashed=False):
    return progress.RegionProgress(name, units, finished, list(running), deleted, failed, kept, crashed)


def many_regions(count):
    """`count` regions, a few in each state, with long names of running types."""
    regions = []
    for n in range(count):
        name = f"xx-region-{n}"
        kind = n % 5
        if kind == 0:
            regions.append(region(name, finished=20, deleted=123))
        elif kind == 1:
            regions.append(region(name, finished=7, running=["ec2.transit_gateway_vpc_attachments",
                                                              "elasticache.replication_groups"], deleted=9999))
        elif kind == 2:
            regions.append(region(name, finished=12))
        elif kind == 3:
            regions.append(region(name))
        else:
            regions.append(region(name, finished=20, failed=3, kept=2))
    return progress.Snapshot(RUN_ID, False, regions, elapsed=754)


def test_every_line_fits_80_columns_and_the_regions_beyond_the_screen_collapse_into_one():
    snapshot = many_regions(38)
    lines = progress.render(snapshot, WIDTH, HEIGHT)
    assert len(lines) == HEIGHT - 1  # one line left for the cursor
    assert all(len(line) <= WIDTH for line in lines), [line for line in lines if len(line) > WIDTH]
    assert lines[0].startswith(f"run {RUN_ID}") and "deleted" in lines[0] and "failed" in lines[0] \
        and "kept" in lines[0] and "units" in lines[0]
    shown = [line.split()[0] for line in lines[1:-1]]
    collapsed = lines[-1]
    match = re.fullmatch(r"\+ (\d+) more regions: (.*)", collapsed)
    assert match, collapsed
    assert int(match.group(1)) + len(shown) == 38
    hidden_states = dict((state, int(n)) for n, state in re.findall(r"(\d+) (\w+)", match.group(2)))
    assert sum(hidden_states.values()) == int(match.group(1))
    # The regions that say most get the lines: every failed and running one, and no done one while any is hidden.
    states = {r.region: r.state for r in snapshot.regions}
    assert {r for r, s in states.items() if s in ("failed", "running")} <= set(shown)
    assert "done" not in {states[r] for r in shown}
    assert shown == sorted(shown, key=[r.region for r in snapshot.regions].index)  # in the run's order


def test_a_few_regions_each_get_a_line_that_says_its_state():
    snapshot = many_regions(5)
    lines = progress.render(snapshot, WIDTH, HEIGHT)
    assert len(lines) == 6 and not lines[-1].startswith("+")
    assert [line.split()[1] for line in lines[1:]] == ["done", "running", "waiting", "queued", "failed"]
    assert all(len(line) <= WIDTH for line in lines)
    assert "20/20" in lines[1] and "deleted 123" in lines[1]
    assert lines[2].endswith("…")  # the names of the running types, cut to fit


def test_a_short_terminal_still_shows_the_overall_bar_and_the_collapsed_line():
    lines = progress.render(many_regions(10), WIDTH, 3)
    assert len(lines) == 2
    assert lines[0].startswith("run ") and lines[1].startswith("+ 10 more regions")


@pytest.fixture
def logged_run(store):
    """A run with four regions in the log, each in another state, and two failures."""
    run_id = store.create_run({}, "123456789012", dry_run=False)

    def record(kind, region=None, service=None, type_=None, resource_id=None, **fields):
        store.append([new_event(run_id, kind, region=region, service=service, resource_type=type_,
                                resource_id=resource_id, **fields)])

    record(events.RUN_STARTED)
    for name in ("instances", "volumes"):                       # us-east-1: done
        record(events.UNIT_STARTED, "us-east-1", "ec2", name)
        record(events.DELETED, "us-east-1", "ec2", name, f"{name}-1")
        record(events.UNIT_COMPLETED, "us-east-1", "ec2", name)
    record(events.UNIT_STARTED, "eu-west-1", "ec2", "instances")  # eu-west-1: running
    record(events.SKIPPED, "eu-west-1", "ec2", "instances", "i-kept", message="termination protection")
    record(events.UNIT_COMPLETED, "us-west-2", "ec2", "instances")  # us-west-2: waiting on a dependency
    record(events.UNIT_STARTED, "ap-south-1", "ec2", "instances")   # ap-south-1: failed
    record(events.FAILED, "ap-south-1", "ec2", "instances", "i-123", error_code="OperationNotPermitted",
           message="The instance may not be terminated")
    record(events.REGION_CRASHED, "ap-south-1", error_code="BrokenProcessPool", message="the region's process died")
    planned = {"us-east-1": 2, "eu-west-1": 2, "us-west-2": 2, "ap-south-1": 2, "sa-east-1": 2}
    return run_id, planned


def test_the_state_of_each_region_is_read_from_the_log(store, logged_run):
    run_id, planned = logged_run
    reader = progress.LogReader(store, run_id, planned, dry_run=False)
    reader.last_failure_seq = 0
    snapshot = reader.snapshot()
    states = {r.region: r.state for r in snapshot.regions}
    assert states == {"us-east-1": "done", "eu-west-1": "running", "us-west-2": "waiting", "ap-south-1": "failed",
                      "sa-east-1": "queued"}
    by_name = {r.region: r for r in snapshot.regions}
    assert (by_name["us-east-1"].deleted, by_name["eu-west-1"].kept, by_name["ap-south-1"].failed) == (2, 1, 1)
    assert by_name["eu-west-1"].running == ["ec2.instances"]
    assert [f["kind"] for f in reader.new_failures()] == [events.FAILED, events.REGION_CRASHED]
    assert reader.new_failures() == []  # each failure once


def test_the_terminal_view_prints_failures_above_the_bars_as_they_come(store, logged_run):
    run_id, planned = logged_run
    buffer = io.StringIO()
    reader = progress.LogReader(store, run_id, planned, dry_run=False)
    view = progress.TerminalView(reader, buffer, size=lambda: (WIDTH, HEIGHT))
    view.update()
    assert "! ap-south-1" not in buffer.getvalue()  # recorded before the view started: the summary says them
    store.record(run_id, events.FAILED, region="eu-west-1", service="ec2", resource_type="volumes",
                 resource_id="vol-0123", error_code="VolumeInUse", message="vol-0123 is attached to i-kept " * 5)
    view.update()
    view.close()
    screen = ANSI.sub("", buffer.getvalue()).replace("\r", "\n")
    lines = [line for line in screen.split("\n") if line.strip()]
    assert all(len(line) < WIDTH for line in lines), [line for line in lines if len(line) >= WIDTH]
    failure = next(line for line in lines if line.startswith("! "))
    assert failure.startswith("! eu-west-1 ec2.volumes vol-0123: VolumeInUse: vol-0123 is attached")
    assert failure.endswith("…")
    assert any(line.startswith("eu-west-1") and "running" in line for line in lines)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_status_lines_come_every_interval_and_not_before(store, logged_run):
    run_id, planned = logged_run
    stream, clock = io.StringIO(), Clock()
    view = progress.StatusLines(progress.LogReader(store, run_id, planned, dry_run=False), stream, 5, clock=clock)
    view.update()
    clock.now += 4.9
    view.update()
    assert stream.getvalue() == ""
    clock.now += 0.2
    view.update()
    view.update()
    (line,) = stream.getvalue().splitlines()
    assert line.startswith(f"costcutter: run {run_id}: 3/10 units; regions: 1 failed, 1 running, 1 waiting, "
                           "1 queued, 1 done; deleted 2, failed 1, kept 1; ")


def costcutter(*args, **environment):
    return subprocess.run([sys.executable, "-m", "costcutter", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **environment}, timeout=300)


def test_without_a_terminal_a_sweep_writes_status_lines_to_stderr_and_no_bar(fault_server, db_path):
    _, injector = fault_server
    for region_name in ("us-east-1", "eu-west-1"):
        sandbox.seed(region_name, default_count=1, services=("ec2",))
    # Slow listings, so the sweep outlasts the status interval however fast the machine is.
    injector.configure(Faults(latency={"ec2:Describe*": 0.3}))
    args = ("run", "--db", db_path, "--region", "us-east-1,eu-west-1", "--service", "ec2")
    result = costcutter(*args, COSTCUTTER_STATUS_INTERVAL="1")
    assert result.returncode == 0, result.stderr
    status = [line for line in result.stderr.splitlines() if line.startswith("costcutter: run ")]
    assert status, result.stderr
    assert re.fullmatch(r"costcutter: run \w{8}: \d+/\d+ units; regions: .*; to delete \d+, failed 0, kept 0; "
                        r"\d+m\d\ds", status[-1])
    assert "\r" not in result.stderr and "\x1b" not in result.stderr and "|" not in result.stderr  # no bar
    assert "Run " in result.stdout and "would_delete" in result.stdout

    quiet = costcutter(*args, "-q", COSTCUTTER_STATUS_INTERVAL="1")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "would_delete" in quiet.stdout and "This was a dry run" not in quiet.stdout


def test_the_live_view_suits_where_stderr_goes(store, logged_run):
    run_id, _ = logged_run
    settings = config.load(flags={"regions": "us-east-1", "services": "ec2"})

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(progress.live_view(store, run_id, settings, stream=io.StringIO())._view, progress.StatusLines)
    assert isinstance(progress.live_view(store, run_id, settings, stream=Terminal())._view, progress.TerminalView)
    assert isinstance(progress.live_view(store, run_id, settings, quiet=True)._view, progress.Silent)


def test_the_view_counts_the_units_it_is_given_as_an_apply_does(store, logged_run):
    """An apply runs only its plan's units: the view's totals are those, not every unit its
    settings would choose."""
    run_id, _ = logged_run
    settings = config.load(flags={"regions": "us-east-1,eu-west-1", "services": "ec2"})
    planned = [unit for unit in orchestrator.plan(settings) if unit.region == "eu-west-1"][:2]

    reader = progress.live_view(store, run_id, settings, stream=io.StringIO(), units=planned)._view._reader

    assert {region.region: region.units for region in reader.snapshot().regions} == {"eu-west-1": 2}
