"""CostCutter against the tools a user would pick instead, on one seeded sandbox, in one command.

    python3 scripts/bench/run.py [--regions 8] [--count 10] [--latency 0.1] [--repetitions 3]

Starts a moto server on 127.0.0.1 behind a latency injector (costcutter/faults.py; per
action with --latency-for 'ec2:TerminateInstances=0.5'; AWS's EC2 rate limits with
--throttle), seeds a scenario without timing it (every type the registry has that moto can
sweep, --count of each, in --regions regions, the global types once), and runs CostCutter
on it; then, on the same scenario seeded again, each peer (aws-nuke, costcutter 0.1.4) on
the types it supports, and CostCutter on just those types for the ratio; all interleaved
over --repetitions. Measures wall time, what is left, API calls per action as the server
counted them, calls per deleted resource, the peak memory of every process of the tool, and
CostCutter's distance from the critical-path limit. Writes docs/benchmarks.md (--out).
Run by hand: it takes minutes to hours, depending on the scenario and the peers.
"""

import argparse
import collections
import compileall
import contextlib
import dataclasses
import functools
import graphlib
import json
import math
import os
import platform
import re
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers as peer_tools  # noqa: E402  (beside this script)
from costcutter import aws, registry, sandbox  # noqa: E402
from costcutter import faults as fault_injection  # noqa: E402
from costcutter.faults import THROTTLED, FaultInjector, Faults  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1",
           "ap-northeast-1", "ca-central-1", "eu-west-2", "ap-south-1", "us-east-2", "eu-north-1"]
COSTCUTTER = "CostCutter"
SAMPLE_SECONDS = 0.1


@dataclasses.dataclass
class Measure:
    tool: str
    types: tuple[str, ...]
    seeded_by_type: dict    # type key -> how many there were to delete, as listed after seeding
    wall: float = 0.0
    exit_code: int = 0
    left: dict = dataclasses.field(default_factory=dict)            # type key -> count
    calls: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # (service, action)
    # (type key, service, action) -> calls, of the requests tagged with the type that sent them (CostCutter's)
    calls_by_type: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    throttled: int = 0
    throttled_failures: int | None = None   # failures in the run's event log that were throttling (CostCutter's)
    rate_bound: tuple[float, str] = (0.0, "")  # seconds the server's rate limits impose, and the bucket that does
    rate_chain: tuple[float, str] = (0.0, "")  # the same along dependent types, and the chain
    server_cpu: float = 0.0   # CPU seconds of the moto server (and injector) during the run: one process
    tool_cpu: float = 0.0     # CPU seconds of the tool's processes
    event_log: dict | None = None  # CostCutter's: process id -> its event log's times (timing/sitecustomize.py)
    peak_mb: float = 0.0
    first_call: float | None = None   # seconds from start to the last region's first call
    missing: str | None = None

    @property
    def seeded(self) -> int:
        return sum(self.seeded_by_type.values())

    def deleted_of(self, keys) -> int:
        return sum(self.seeded_by_type.get(key, 0) - self.left.get(key, 0) for key in keys)

    @property
    def deleted(self) -> int:
        return self.deleted_of(self.types)

    @property
    def event_log_share(self) -> float | None:
        """The busiest process's time writing the event log, as a share of the wall time (%)."""
        return self._event_log_share("append_s")

    @property
    def event_log_cpu_share(self) -> float | None:
        """The same, counting only the CPU its writes took (not their waits for the GIL or a core)."""
        return self._event_log_share("append_cpu_s")

    def _event_log_share(self, measure: str) -> float | None:
        if not self.event_log:
            return None
        return 100 * max(times.get(measure, 0.0) for times in self.event_log.values()) / self.wall

    @property
    def throttled_share(self) -> float:
        return 100 * self.throttled / max(1, sum(self.calls.values()))

    @property
    def per_deleted(self) -> float:
        return sum(self.calls.values()) / self.deleted if self.deleted else math.nan


def covered_types(only: list[str] | None = None) -> list[registry.ResourceType]:
    """Every type moto can take through a sweep (or those named), from the registry."""
    types = [t for t in registry.resource_types() if sandbox.in_sandbox(t)]
    if only:
        unknown = set(only) - {t.key for t in types}
        if unknown:
            raise SystemExit(f"Error: unknown or unsandboxable types: {', '.join(sorted(unknown))}")
        types = [t for t in types if t.key in only]
    return types


def critical_path(types: list[registry.ResourceType]) -> tuple[int, list[str]]:
    """The longest chain of dependent calls: per type one listing, its steps one after
    another (resources of a type in parallel), and one poll of its wait; a type starts when
    what it depends on is done. Returns (calls, the chain); times the latency, the limit."""
    return longest_chain(types, lambda t: 1 + len(t.steps) + (1 if t.wait else 0))


def longest_chain(types: list[registry.ResourceType], cost) -> tuple[float, list[str]]:
    """The chain of dependent types (a type starts when what it depends on is done) whose
    costs add up to the most: (the sum, the chain's keys)."""
    chosen = {t.key: t for t in types}
    graph = {key: {dep for dep in t.dependencies if dep in chosen} for key, t in chosen.items()}
    longest: dict[str, tuple[float, list[str]]] = {}
    for key in graphlib.TopologicalSorter(graph).static_order():
        before = max((longest[dep] for dep in graph[key]), default=(0, []), key=lambda item: item[0])
        longest[key] = (before[0] + cost(chosen[key]), before[1] + [key])
    return max(longest.values(), key=lambda item: item[0], default=(0, []))


class FirstCalls:
    """WSGI middleware outside the injector: when each region was first called."""

    def __init__(self, app):
        self.app, self.first = app, {}

    def __call__(self, environ, start_response):
        found = re.search(r"Credential=[^/]+/\d+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        if found:
            self.first.setdefault(found.group(1), time.monotonic())
        return self.app(environ, start_response)


class Bench:
    def __init__(self, args):
        self.args = args
        self.regions = REGIONS[:args.regions]
        self.faults = Faults(latency={**dict(args.latency_for), "*": args.latency},
                             throttle=throttling() if args.throttle else {}, buckets_per_action=True)
        self.injector = FaultInjector()
        self.first_calls = None

        def wrap(app):
            self.first_calls = FirstCalls(self.injector.around(app))
            return self.first_calls

        self.server, self.endpoint = sandbox.start_server(wrap_app=wrap)
        self.session = aws.make_session(None)
        fault_injection.signing_index()  # read every service's model now, not in a timed run

    def seed(self, types: list[registry.ResourceType]) -> dict[str, int]:
        """A fresh scenario of these types, untimed: --count of each (or its --count-for) in
        every region, the global ones once. Returns how many of each type are there to
        delete, as listed: seeders make some of what they need (an AMI's snapshot) too."""
        self.injector.configure(Faults())
        sandbox.reset_server(self.endpoint)
        aws._clients.clear()
        counts = {t.key: dict(self.args.count_for).get(t.key, self.args.count) for t in types}
        buckets = counts.pop("s3.buckets", 0) if self.args.objects_per_bucket else 0
        for region in self.regions + [registry.GLOBAL_REGION]:
            sandbox.seed(region, counts, default_count=0)
            if buckets and region != registry.GLOBAL_REGION:
                registry.by_key()["s3.buckets"].seed(self.session, region, buckets,
                                                     objects=self.args.objects_per_bucket)
        return self.left(types)

    def left(self, types: list[registry.ResourceType]) -> dict[str, int]:
        """How many of each of these types are listed now, across the regions (and the global ones)."""
        self.injector.configure(Faults())
        keys = {t.key for t in types}
        left = collections.Counter()
        for region in self.regions + [registry.GLOBAL_REGION]:
            for key, ids in sandbox.inventory(region, session=self.session).items():
                if key in keys and ids:
                    left[key] += len(ids)
        return dict(left)

    def measure(self, tool: str, types: list[registry.ResourceType], command) -> Measure:
        result = Measure(tool, tuple(t.key for t in types), self.seed(types))
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            argv, env, cwd = command(Path(folder), self.endpoint, self.regions, result.types)
            self.injector.configure(self.faults)
            self.injector.clear()
            self.first_calls.first.clear()
            started, server_cpu = time.monotonic(), ServerCpu()
            with open(Path(folder) / "output.log", "w") as output:
                process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
                tree = ProcessTree(process.pid)
                tree.wait_for(process)
            result.wall = time.monotonic() - started
            result.server_cpu, result.tool_cpu, result.peak_mb = server_cpu.seconds(), tree.cpu, tree.peak_kb / 1024
            result.exit_code = process.returncode
            result.calls = collections.Counter()
            for (_, service, action), count in self.injector.actions.items():
                result.calls[service, action] += count
            result.calls_by_type = collections.Counter()
            for (_, service, action, key), count in self.injector.tagged.items():
                result.calls_by_type[key, service, action] += count
            result.throttled = self.injector.counts[THROTTLED]
            result.throttled_failures = throttled_failures(Path(folder) / "bench.db")
            buckets = bucket_seconds(self.faults, self.injector)
            result.rate_bound, result.rate_chain = rate_limit_bound(buckets), rate_limit_chain(buckets, types)
            result.event_log = event_log_times(Path(folder) / peer_tools.EVENT_LOG_TIMES)
            firsts = [self.first_calls.first[r] for r in self.regions if r in self.first_calls.first]
            result.first_call = max(firsts) - started if firsts else None
            if process.returncode not in (0, 1):
                print(f"  {tool} exited {process.returncode}; its output ends:\n"
                      + (Path(folder) / "output.log").read_text()[-1500:], file=sys.stderr)
        result.left = self.left(types)
        return result


def throttling() -> dict:
    """AWS's EC2 limits (costcutter/aws.py has them from AWS's documentation), the first
    pattern that matches a call choosing its bucket's size; a bucket per region and action,
    as AWS keeps them (Faults.buckets_per_action)."""
    return {**{f"ec2:{action}": rate for action, rate in aws.EC2_ACTION_RATES.items()},
            **{f"ec2:{prefix}*": aws.EC2_NON_MUTATING_RATE for prefix in aws.READ_ONLY_PREFIXES},
            "ec2:*": aws.EC2_MUTATING_RATE}


def bucket_seconds(faults: Faults, injector: FaultInjector) -> dict[tuple[str, str], float]:
    """(region, bucket) -> the least time the server's rate limits allow for the calls the
    run needed from it (those answered, not the throttled ones): its calls beyond the
    burst, at its sustained rate."""
    calls, rates = collections.Counter(), {}
    for (region, service, action), count in injector.actions.items():
        pattern, rate = faults.pick("throttle", service, action)
        if isinstance(rate, aws.Rate):
            bucket = f"{service}:{action}" if faults.buckets_per_action else pattern
            calls[region, bucket] += count - injector.faulted[region, service, action, THROTTLED]
            rates[region, bucket] = rate
    return {key: max(0.0, (count - rates[key].burst) / rates[key].per_second) for key, count in calls.items()}


def rate_limit_bound(buckets: dict[tuple[str, str], float]) -> tuple[float, str]:
    """The bucket that takes longest: (seconds, "bucket in region")."""
    return max(((seconds, f"{bucket} in {region}") for (region, bucket), seconds in buckets.items()),
               default=(0.0, ""))


def rate_limit_chain(buckets: dict[tuple[str, str], float], types: list[registry.ResourceType]) -> tuple[float, str]:
    """The rate limits along dependencies: a type takes at least as long as the slowest
    bucket of its teardown's actions, and starts when what it depends on is done (AMIs,
    then their snapshots, then volumes). The longest chain of any region: (seconds, chain)."""
    def in_region(region):
        def cost(rtype):
            service, actions = fault_injection.declared_actions(rtype)
            return max((buckets.get((region, f"{service}:{action}"), 0.0) for action in actions), default=0.0)
        return longest_chain(types, cost)

    regions = {region for region, _ in buckets}
    return max(((seconds, f"{' → '.join(chain)} in {region}") for region in regions
                for seconds, chain in [in_region(region)]), default=(0.0, ""))


def throttled_failures(db_path: Path) -> int | None:
    """Failures in a CostCutter run's event log whose error was throttling; None without a log."""
    if not db_path.exists():
        return None
    codes = sorted(aws.THROTTLING_CODES)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return db.execute(f"SELECT count(*) FROM events WHERE kind = 'failed' AND error_code IN "
                          f"({', '.join('?' * len(codes))})", codes).fetchone()[0]


def event_log_times(path: Path) -> dict | None:
    """Process id -> the event log's totals in it (the last line each process wrote); None
    for a tool without the timing."""
    if not path.exists():
        return None
    return {line["pid"]: line for line in map(json.loads, path.read_text().splitlines())}


class ServerCpu:
    """The moto server runs in this process, in threads of its own: its CPU seconds are the
    process's less this (the sampling) thread's (for aws-nuke they include the S3 proxy's).
    One Python process, so at most one core."""

    def __init__(self):
        self.process, self.thread = time.process_time(), time.thread_time()

    def seconds(self) -> float:
        return (time.process_time() - self.process) - (time.thread_time() - self.thread)


class ProcessTree:
    """A process and all its descendants, sampled every SAMPLE_SECONDS from /proc: the
    largest sum of their resident memory (kB), and their CPU seconds (each process's last
    sample: one that lives less than a sample is missed)."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb, self._cpu = pid, 0, {}

    @property
    def cpu(self) -> float:
        return sum(self._cpu.values())

    def wait_for(self, process) -> None:
        while process.poll() is None:
            processes = _processes()
            tree = _tree(self.pid, processes)
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in tree))
            self._cpu.update({pid: processes[pid][1] for pid in tree if pid in processes})
            with contextlib.suppress(subprocess.TimeoutExpired):  # its exit is seen at once, not at the next sample
                process.wait(SAMPLE_SECONDS)


TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used: user and system)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def _tree(root: int, processes: dict[int, tuple[int, float]]) -> list[int]:
    children = collections.defaultdict(list)
    for pid, (parent, _) in processes.items():
        children[parent].append(pid)
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# The report

def span(values, fmt="{:.1f}") -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "-"
    middle = fmt.format(statistics.median(values))
    return middle if len(values) == 1 else f"{middle} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def report(args, measures: dict[str, list[Measure]], missing: dict[str, str], limit, load, command) -> str:
    lines = ["# Benchmarks", "",
             "Measured by `scripts/bench/run.py` (run by hand; never a timed test). Reproduce with:", "",
             f"```bash\n{command}\n```", "",
             f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
             f"({cpu_model()}), Python {platform.python_version()}, {platform.system()} {platform.release()}; "
             f"load average {load[0]:.2f} before and {load[1]:.2f} after (the cores were shared with other work).",
             f"- Scenario: {args.regions} regions × {len(covered_types(args.types))} types × {args.count} of each "
             f"(global types once)"
             + (f", but {', '.join(f'{k} {n}' for k, n in args.count_for)}" if args.count_for else "")
             + (f", {args.objects_per_bucket} keys a bucket" if args.objects_per_bucket else "")
             + f", seeded untimed before each run; {args.latency * 1000:.0f} ms added to every call"
             + (f", {', '.join(f'{p}={s}s' for p, s in args.latency_for)}" if args.latency_for else "")
             + ("; AWS's EC2 throttling on" if args.throttle else "") + f"; {args.repetitions} repetitions, interleaved.",
             "- Wall time: median (min–max); ratios are to CostCutter on the same types in the same run.",
             "- Calls are counted at the server, each under the service it belongs to; deleted = seeded − left, "
             "per type. Server CPU s: the moto server's (one Python process, so one core at most); tool CPU s: "
             "every process of the tool's, sampled every 0.1 s. Event log: the time CostCutter's busiest process "
             "spent in the log's write transactions, as a share of the wall time.", ""]
    for name, why in missing.items():
        lines.append(f"- {name} was not run: {why}.")
    lines += ["", "| tool | types | seeded | wall s | × CostCutter | left | calls | calls / deleted | "
              "throttled | peak MB (all processes) | last region's first call, s | server CPU s | tool CPU s | "
              "event log, % of wall |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, runs in measures.items():
        baseline = measures.get(f"{COSTCUTTER} on the types of {label}")
        ratio = (f"{statistics.median(r.wall for r in runs) / statistics.median(r.wall for r in baseline):.1f}"
                 if baseline else "1.0" if label.startswith(COSTCUTTER) else "-")
        lines.append(f"| {label} | {len(runs[0].types)} | {runs[0].seeded} | {span(r.wall for r in runs)} | {ratio} | "
                     f"{span([sum(r.left.values()) for r in runs], '{:.0f}')} | "
                     f"{span([sum(r.calls.values()) for r in runs], '{:.0f}')} | "
                     f"{span([r.per_deleted for r in runs], '{:.2f}')} | "
                     f"{span([r.throttled_share for r in runs], '{:.1f}')}% | "
                     f"{span([r.peak_mb for r in runs], '{:.0f}')} | {span([r.first_call for r in runs], '{:.2f}')} | "
                     f"{span([r.server_cpu for r in runs], '{:.2f}')} | {span([r.tool_cpu for r in runs], '{:.2f}')} | "
                     f"{span([r.event_log_share for r in runs])} |")
    lines += limits(args, measures.get(COSTCUTTER), limit)
    if args.throttle:
        lines += throttled(measures, args.latency)
    for label, runs in measures.items():
        lines += ["", f"### {label}: what is left, and calls per deleted resource", ""]
        lines += left_and_calls(runs)
        lines += calls_by_type(runs)
    return "\n".join(lines) + "\n"


def limits(args, full: list[Measure] | None, limit) -> list[str]:
    """The full scenario's wall time against the critical-path limit, and against the two
    bounds the machine imposes: the server's CPU (one Python process: one core at most) and
    the CPU of the server and CostCutter together on os.cpu_count() cores."""
    calls, chain = limit
    seconds = calls * args.latency
    if not full or not seconds:
        return []
    wall = statistics.median(r.wall for r in full)
    server = statistics.median(r.server_cpu for r in full)
    both = statistics.median(r.server_cpu + r.tool_cpu for r in full)
    cores = os.cpu_count() or 1
    return ["", f"**Critical-path limit** of the full scenario: {seconds:.1f} s ({calls} dependent calls × "
                f"{args.latency * 1000:.0f} ms: a listing, each step and one poll per type, along "
                f"{' → '.join(chain)}). CostCutter's median wall time is **{wall / seconds:.1f}×** it.",
            "", f"**What the machine allows**: the moto server is one Python process, so its {server:.1f} CPU s "
                f"(median) are a lower bound on the wall time ({wall / server if server else math.nan:.1f}× it); "
                f"server and CostCutter together used {both:.1f} CPU s, {both / cores:.1f} s of this machine's "
                f"{cores} cores ({wall / (both / cores) if both else math.nan:.1f}× it). A wall time near the "
                f"larger of these is bound by CPU, not by the calls' latency."] + event_log_note(full)


def event_log_note(full: list[Measure]) -> list[str]:
    run = median_run(full)
    if not run.event_log:
        return []
    times = run.event_log.values()
    return ["", f"**Event log** (the run with the median wall time): {sum(t['rows'] for t in times)} events in "
                f"{sum(t['appends'] for t in times)} transactions took {sum(t['append_s'] for t in times):.2f} s "
                f"over {len(run.event_log)} processes, the busiest {run.event_log_share:.1f}% of the wall time "
                f"({run.event_log_cpu_share:.1f}% in CPU: the rest waited for the GIL or a core); "
                f"threads waited {sum(t['durable_wait_s'] for t in times):.2f} s in all for "
                f"{sum(t['durable_waits'] for t in times)} durable commits (before deletions)."]


def throttled(measures: dict[str, list[Measure]], latency: float) -> list[str]:
    """With --throttle: for each tool, the share of calls throttled, the throttling errors
    its event log records as failures, and its wall time against the bound: the largest of
    the rate-limit bound, the same along dependencies and the critical-path limit of its types."""
    lines = ["", "### Under throttling", "",
             "Rate-limit bound: for each region and bucket (an EC2 action), the calls the server answered beyond "
             "the bucket's burst, at its sustained rate; the largest over regions and buckets. Along "
             "dependencies: the same summed over a chain of dependent types (each type its slowest bucket), the "
             "longest chain. No run can be faster than these, nor than the critical-path limit: the bound is "
             "the largest.", "",
             "| tool | throttled | throttling failures in the event log | rate-limit bound s (bucket) | "
             "along dependencies s (chain) | critical-path limit s | wall s | × bound |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    by_key = registry.by_key()
    for label, runs in measures.items():
        run = median_run(runs)
        (rate_bound, bucket), (along, chain) = run.rate_bound, run.rate_chain
        calls = critical_path([by_key[key] for key in run.types])[0] * latency
        failures = span([r.throttled_failures for r in runs], "{:.0f}")
        lines.append(f"| {label} | {span([r.throttled_share for r in runs], '{:.1f}')}% | "
                     f"{failures if failures != '-' else '- (no event log)'} | "
                     f"{rate_bound:.1f} ({bucket if rate_bound else 'no bucket runs out'}) | "
                     f"{along:.1f}{f' ({chain})' if along else ''} | {calls:.1f} | "
                     f"{run.wall:.1f} | {run.wall / max(rate_bound, along, calls, 1e-9):.1f} |")
    return lines


def median_run(runs: list[Measure]) -> Measure:
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def left_and_calls(runs: list[Measure]) -> list[str]:
    """Per service (the types' client): resources left, calls per deleted resource, and the
    actions called, from the run with the median wall time."""
    run = median_run(runs)
    by_key = registry.by_key()
    services = collections.defaultdict(lambda: {"types": [], "left": 0})
    for key in run.types:
        service = by_key[key].client
        services[service]["types"].append(key)
        services[service]["left"] += run.left.get(key, 0)
    lines = ["| service | types | left (by type) | deleted | calls | calls / deleted | actions (calls) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for service, info in sorted(services.items()):
        calls = {action: n for (svc, action), n in run.calls.items() if svc == service}
        deleted = run.deleted_of(info["types"])
        lefts = ", ".join(f"{key} {run.left[key]}" for key in info["types"] if run.left.get(key))
        lines.append(f"| {service} | {len(info['types'])} | {info['left']}{f' ({lefts})' if lefts else ''} | "
                     f"{deleted:.0f} | {sum(calls.values())} | "
                     f"{sum(calls.values()) / deleted if deleted else math.nan:.2f} | "
                     f"{most_first(calls)} |")
    others = {f"{svc}:{a}": n for (svc, a), n in run.calls.items() if svc not in services}
    if others:
        lines.append(f"| (other) | | | | {sum(others.values())} | | "
                     f"{most_first(others)} |")
    return lines


def calls_by_type(runs: list[Measure]) -> list[str]:
    """Per type, for a tool whose requests name the type that sent them (CostCutter): its
    calls, deleted and calls per deleted resource, from the run with the median wall time;
    (other): the calls outside any type's work. Nothing for a tool without the tags."""
    run = median_run(runs)
    if not run.calls_by_type:
        return []
    by_key = registry.by_key()
    lines = ["", "By type: each call counted under the type whose work sent it (its listing, teardown and wait); "
                 "an action of another service than the type's is named with it.", "",
             "| type | left | deleted | calls | calls / deleted | actions (calls) |", "| --- | --- | --- | --- | --- | --- |"]
    for key in sorted(set(run.types) | {key for key, _, _ in run.calls_by_type}):
        own = by_key[key].client if key in by_key else None
        calls = {action if service == own else f"{service}:{action}": n
                 for (sender, service, action), n in run.calls_by_type.items() if sender == key}
        deleted = run.deleted_of([key])
        lines.append(f"| {key} | {run.left.get(key, 0)} | {deleted} | {sum(calls.values())} | "
                     f"{sum(calls.values()) / deleted if deleted else math.nan:.2f} | {most_first(calls)} |")
    untagged = run.calls.copy()
    for (_, service, action), n in run.calls_by_type.items():
        untagged[service, action] -= n
    others = {f"{service}:{action}": n for (service, action), n in untagged.items() if n > 0}
    if others:
        lines.append(f"| (other) | | | {sum(others.values())} | | {most_first(others)} |")
    return lines


def most_first(calls: dict[str, int]) -> str:
    """"DeleteVolume 20, DescribeVolumes 2": the most called first, then by name."""
    return ", ".join(f"{action} {n}" for action, n in sorted(calls.items(), key=lambda item: (-item[1], item[0])))


def cpu_model() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8, choices=range(1, len(REGIONS) + 1), metavar="R")
    parser.add_argument("--count", type=int, default=10, metavar="N", help="resources of each type in each region")
    parser.add_argument("--count-for", action="append", default=[], metavar="KEY=N",
                        type=lambda text: (text.rpartition("=")[0], int(text.rpartition("=")[2])),
                        help="another count for one type ('ec2.amis=4')")
    parser.add_argument("--objects-per-bucket", type=int, metavar="N",
                        help="keys in each seeded bucket (two versions each; the seeder's default otherwise)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every call")
    parser.add_argument("--latency-for", action="append", default=[], metavar="PATTERN=SECONDS",
                        type=lambda text: (text.rpartition("=")[0], float(text.rpartition("=")[2])),
                        help="another latency for the calls a pattern covers ('ec2:Terminate*=0.3')")
    parser.add_argument("--throttle", action="store_true", help="throttle as AWS's EC2 limits do")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="run CostCutter only")
    parser.add_argument("--types", action="append", metavar="KEY", help="only these types (service.name)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(argv)
    command = "python3 scripts/bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    load_before = os.getloadavg()[0]
    bench = Bench(args)
    types = covered_types(args.types)
    # As installing it does (pip compiles every module): with PYTHONDONTWRITEBYTECODE set, a
    # checkout's modules would otherwise be compiled again in every process of every run.
    compileall.compile_dir(ROOT / "costcutter", quiet=1)
    costcutter = functools.partial(peer_tools.costcutter_command, ROOT)
    # The full scenario names no --service: the run is what a user would type.
    runs: list[tuple[str, list, object]] = [(COSTCUTTER, types, lambda w, e, r, keys: costcutter(
        w, e, r, keys if args.types else ()))]
    missing = {}
    for peer in [] if args.no_peers else peer_tools.peers(bench.endpoint):
        if peer.missing:
            missing[peer.name] = peer.missing
            print(f"{peer.name}: not run: {peer.missing}", file=sys.stderr)
            continue
        subset = [t for t in types if t.key in peer.types]
        runs.append((f"{COSTCUTTER} on the types of {peer.name}", subset, costcutter))
        runs.append((peer.name, subset, peer.command))
    measures = collections.defaultdict(list)
    try:
        for repetition in range(1, args.repetitions + 1):
            for label, subset, run_command in runs:
                measure = bench.measure(label, subset, run_command)
                measures[label].append(measure)
                print(f"[{repetition}/{args.repetitions}] {label}: {measure.wall:.1f}s, "
                      f"{sum(measure.left.values())} left of {measure.seeded}, {sum(measure.calls.values())} calls, "
                      f"exit {measure.exit_code}", flush=True)
    finally:
        bench.server.stop()
    text = report(args, measures, missing, critical_path(types), (load_before, os.getloadavg()[0]),
                  command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"Wrote {args.out}")
    return measures


if __name__ == "__main__":
    main()
