"""The live view of a sweep, read from the event log like everything else.

At a terminal: an overall bar with the units done and the resources deleted, failed and
kept; under it one line per region (running, waiting on a dependency, queued, done,
failed) that fits the terminal's width; the regions the screen has no room for collapse
into one summary line; each failure is printed above the bars as it is recorded.
Without a terminal (CI, cron): a short status line on stderr every `status_interval`
seconds, so a long sweep never looks hung, and nothing else.
"""

import dataclasses
import logging
import shutil
import sqlite3
import sys
import time

from tqdm import tqdm

from costcutter import events, orchestrator
from costcutter.store import EventStore

log = logging.getLogger(__name__)

RUNNING, WAITING, QUEUED, DONE, FAILED = "running", "waiting", "queued", "done", "failed"
# Which regions get a line of their own when not all fit: those that say most first.
_PRIORITY = {FAILED: 0, RUNNING: 1, WAITING: 2, QUEUED: 3, DONE: 4}
FAILURES_PER_REFRESH = 5  # more than this at once is one line "... and N more"
REGION_WIDTH = 15
BAR_WIDTH = 10
_GONE = (events.DELETED, events.ALREADY_GONE)


@dataclasses.dataclass
class RegionProgress:
    region: str
    units: int                      # planned
    finished: int = 0               # completed, or failed as a whole
    running: list[str] = dataclasses.field(default_factory=list)  # "service.type" of units under way
    deleted: int = 0                # would_delete in a dry run
    failed: int = 0
    kept: int = 0
    crashed: bool = False

    @property
    def state(self) -> str:
        if self.crashed or (self.failed and self.finished >= self.units):
            return FAILED
        if self.finished >= self.units:
            return DONE
        if self.running:
            return RUNNING
        # Some types are over but nothing runs: the rest wait on a dependency (a global type
        # on other regions' units). Nothing started yet: the region waits for a process.
        return WAITING if self.finished else QUEUED


@dataclasses.dataclass
class Snapshot:
    run_id: str
    dry_run: bool
    regions: list[RegionProgress]
    elapsed: float

    def total(self, attribute: str) -> int:
        return sum(getattr(region, attribute) for region in self.regions)

    def states(self, regions=None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for region in self.regions if regions is None else regions:
            counts[region.state] = counts.get(region.state, 0) + 1
        return {state: counts[state] for state in _PRIORITY if state in counts}

    @property
    def deleted_word(self) -> str:
        return "to delete" if self.dry_run else "deleted"

    def counts_text(self) -> str:
        return (f"{self.deleted_word} {self.total('deleted')}, failed {self.total('failed')}, "
                f"kept {self.total('kept')}")


class LogReader:
    """Reads a run's progress from the event log: what each region has finished and is
    running (this attempt's starts only: a resumed run's earlier ones are not running), the
    latest state of every resource, and the failures recorded since the view began."""

    def __init__(self, store: EventStore, run_id: str, planned: dict[str, int], dry_run: bool):
        self._store, self._run_id, self._planned, self._dry_run = store, run_id, planned, dry_run
        self._started = time.monotonic()
        self.last_failure_seq = self._latest_seq()

    def _rows(self, sql: str, params) -> list[dict]:
        return list(self._store.db.query(sql, params))

    def _latest_seq(self, *kinds: str) -> int:
        only = f" AND kind IN ({', '.join('?' for _ in kinds)})" if kinds else ""
        rows = self._rows(f"SELECT max(seq) AS seq FROM events WHERE run_id = ?{only}", [self._run_id, *kinds])
        return rows[0]["seq"] or 0

    def snapshot(self) -> Snapshot:
        attempt = self._latest_seq(events.RUN_STARTED)
        regions = {region: RegionProgress(region, units) for region, units in self._planned.items()}
        for unit in self._rows(
                "SELECT region, service || '.' || resource_type AS key, "
                "max(kind = ?) AS completed, max(kind = ?) AS failed, max(kind = ? AND seq > ?) AS started "
                "FROM events WHERE run_id = ? AND kind IN (?, ?, ?) AND resource_id IS NULL "
                "AND resource_type IS NOT NULL GROUP BY region, service, resource_type",
                [events.UNIT_COMPLETED, events.FAILED, events.UNIT_STARTED, attempt, self._run_id,
                 events.UNIT_STARTED, events.UNIT_COMPLETED, events.FAILED]):
            region = regions.get(unit["region"])
            if region is None:
                continue
            region.failed += unit["failed"]  # a unit that could not even be listed
            if unit["completed"] or unit["failed"]:
                region.finished += 1
            elif unit["started"]:
                region.running.append(unit["key"])
        for row in self._store.summary(self._run_id):
            region = regions.get(row["region"])
            if region is not None:
                self._count(region, row["outcome"], row["count"])
        for row in self._rows("SELECT DISTINCT region FROM events WHERE run_id = ? AND kind = ? AND seq > ?",
                              [self._run_id, events.REGION_CRASHED, attempt]):
            if row["region"] in regions:
                regions[row["region"]].crashed = True
        return Snapshot(self._run_id, self._dry_run, list(regions.values()), time.monotonic() - self._started)

    def _count(self, region: RegionProgress, outcome: str, count: int) -> None:
        if outcome in (_GONE if not self._dry_run else (events.WOULD_DELETE,)):
            region.deleted += count
        elif outcome == events.FAILED:
            region.failed += count
        elif outcome == events.SKIPPED:
            region.kept += count

    def new_failures(self) -> list[dict]:
        rows = self._rows(
            "SELECT seq, kind, region, service, resource_type, resource_id, error_code, message FROM events "
            "WHERE run_id = ? AND kind IN (?, ?) AND seq > ? ORDER BY seq",
            [self._run_id, events.FAILED, events.REGION_CRASHED, self.last_failure_seq])
        if rows:
            self.last_failure_seq = rows[-1]["seq"]
        return rows


# Rendering: pure functions of a snapshot, so a test can look at them at any size.

def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def overall_line(snapshot: Snapshot, width: int) -> str:
    line = tqdm.format_meter(
        snapshot.total("finished"), snapshot.total("units"), snapshot.elapsed, ncols=width,
        prefix=f"run {snapshot.run_id}", postfix=snapshot.counts_text(),
        bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} units {elapsed}{postfix}")
    return _fit(line, width)


def region_line(region: RegionProgress, dry_run: bool, width: int) -> str:
    bar = tqdm.format_meter(region.finished, max(region.units, 1), 0, ncols=BAR_WIDTH, bar_format="{bar}")
    deleted = "to delete" if dry_run else "deleted"
    line = (f"{_fit(region.region, REGION_WIDTH - 1):<{REGION_WIDTH}}{region.state:<8}{bar} "
            f"{region.finished:>3}/{region.units:<3} {deleted} {region.deleted} failed {region.failed} "
            f"kept {region.kept}")
    if region.running:
        line += "  " + ", ".join(sorted(region.running))
    return _fit(line, width)


def collapsed_line(hidden: list[RegionProgress], snapshot: Snapshot, width: int) -> str:
    states = ", ".join(f"{count} {state}" for state, count in snapshot.states(hidden).items())
    return _fit(f"+ {len(hidden)} more regions: {states}", width)


def render(snapshot: Snapshot, width: int, height: int) -> list[str]:
    """The lines of the view: the overall bar, a line per region that fits in `height`
    (a line is left free for the cursor), and a line for the regions that do not."""
    room = max(0, height - 2)
    regions = snapshot.regions
    if len(regions) > room:
        order = {region.region: index for index, region in enumerate(regions)}
        chosen = sorted(regions, key=lambda r: (_PRIORITY[r.state], order[r.region]))[:max(0, room - 1)]
        shown = sorted(chosen, key=lambda r: order[r.region])
        hidden = [region for region in regions if region not in chosen]
    else:
        shown, hidden = regions, []
    lines = [overall_line(snapshot, width)] + [region_line(r, snapshot.dry_run, width) for r in shown]
    if hidden:
        lines.append(collapsed_line(hidden, snapshot, width))
    return lines


def failure_line(failure: dict, width: int) -> str:
    where = " ".join(filter(None, [failure["region"], ".".join(filter(None, [failure["service"],
                                                                           failure["resource_type"]])),
                                   failure["resource_id"]]))
    what = ": ".join(filter(None, [failure["error_code"], failure["message"]]))
    return _fit(f"! {where}: {what}", width)


def status_line(snapshot: Snapshot) -> str:
    """One line for a log that no person watches live."""
    states = ", ".join(f"{count} {state}" for state, count in snapshot.states().items())
    minutes, seconds = divmod(int(snapshot.elapsed), 60)
    return (f"costcutter: run {snapshot.run_id}: {snapshot.total('finished')}/{snapshot.total('units')} units; "
            f"regions: {states}; {snapshot.counts_text()}; {minutes}m{seconds:02d}s")


# The views

class TerminalView:
    """Positioned tqdm lines, one per rendered line, redrawn from the log; failures go
    above them through tqdm.write."""

    def __init__(self, reader: LogReader, stream, size=shutil.get_terminal_size):
        self._reader, self._stream, self._size = reader, stream, size
        columns, rows = size()
        # tqdm shows no bar on the last line of the screen; the number of lines is fixed at the
        # start, and a taller window later shows no more.
        self._rows = rows - 1
        self._slots = len(render(reader.snapshot(), columns - 1, self._rows))
        self._lines = [tqdm(total=0, position=i, bar_format="{desc}", file=stream, leave=True, dynamic_ncols=True)
                       for i in range(self._slots)]

    def update(self) -> None:
        columns, height = self._size()
        width = columns - 1  # a line as wide as the terminal would wrap at its last column
        self._show_failures(width)
        lines = render(self._reader.snapshot(), width, min(height - 1, self._rows))
        for holder, text in zip(self._lines, lines + [""] * (self._slots - len(lines))):
            holder.set_description_str(text, refresh=False)
            holder.refresh()

    def _show_failures(self, width: int) -> None:
        failures = self._reader.new_failures()
        for failure in failures[-FAILURES_PER_REFRESH:]:
            tqdm.write(failure_line(failure, width), file=self._stream)
        if len(failures) > FAILURES_PER_REFRESH:
            tqdm.write(f"! ... and {len(failures) - FAILURES_PER_REFRESH} more failures (see `costcutter report`)",
                       file=self._stream)

    def note(self, text: str) -> None:
        tqdm.write(text, file=self._stream)

    def close(self) -> None:
        for holder in self._lines:
            holder.close()


class StatusLines:
    """A status line every `interval` seconds, and none for a sweep shorter than that."""

    def __init__(self, reader: LogReader, stream, interval: float, clock=time.monotonic):
        self._reader, self._stream, self._interval, self._clock = reader, stream, interval, clock
        self._next = clock() + interval

    def update(self) -> None:
        if self._clock() < self._next:
            return
        self._next = self._clock() + self._interval
        print(status_line(self._reader.snapshot()), file=self._stream, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def close(self) -> None:
        pass


class Silent:
    """-q: nothing while the sweep runs."""

    def update(self) -> None:
        pass

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


class LiveView:
    """What the CLI hands the orchestrator as on_progress: a view that never stops a
    sweep (a log busy for a moment is shown at the next refresh)."""

    def __init__(self, view):
        self._view = view

    def update(self) -> None:
        try:
            self._view.update()
        except sqlite3.Error as error:
            log.debug("progress not refreshed: %s", error)

    def note(self, text: str) -> None:
        self._view.note(text)

    def close(self) -> None:
        self._view.close()


def live_view(store: EventStore, run_id: str, settings, quiet: bool = False, stream=None,
              units: list | None = None) -> LiveView:
    """The view that suits where stderr goes: bars at a terminal, status lines elsewhere.
    `units` are the run's (an apply's are its plan's), by default all its settings choose."""
    stream = stream or sys.stderr
    if quiet:
        return LiveView(Silent())
    planned: dict[str, int] = {}
    for unit in orchestrator.plan(settings) if units is None else units:
        planned[unit.region] = planned.get(unit.region, 0) + 1
    reader = LogReader(store, run_id, planned, settings.dry_run)
    if stream.isatty():
        return LiveView(TerminalView(reader, stream))
    return LiveView(StatusLines(reader, stream, settings.status_interval))
