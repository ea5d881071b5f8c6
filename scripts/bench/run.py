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
import dataclasses
import functools
import graphlib
import math
import os
import platform
import re
import shlex
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
from costcutter.faults import FaultInjector, Faults  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1",
           "ap-northeast-1", "ca-central-1", "eu-west-2", "ap-south-1", "us-east-2", "eu-north-1"]
COSTCUTTER = "CostCutter"
SAMPLE_SECONDS = 0.1


@dataclasses.dataclass
class Measure:
    tool: str
    types: tuple[str, ...]
    seeded_by: dict                   # type key -> how many were there to delete, as listed after seeding
    wall: float = 0.0
    exit_code: int = 0
    left: dict = dataclasses.field(default_factory=dict)            # type key -> count
    calls: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # (service, action)
    throttled: int = 0
    peak_mb: float = 0.0
    first_call: float | None = None   # seconds from start to the last region's first call
    missing: str | None = None

    @property
    def seeded(self) -> int:
        return sum(self.seeded_by.values())

    @property
    def deleted(self) -> int:
        return self.seeded - sum(self.left.values())

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
    chosen = {t.key: t for t in types}
    graph = {key: {dep for dep in t.dependencies if dep in chosen} for key, t in chosen.items()}
    longest: dict[str, tuple[int, list[str]]] = {}
    for key in graphlib.TopologicalSorter(graph).static_order():
        t = chosen[key]
        own = 1 + len(t.steps) + (1 if t.wait else 0)
        before = max((longest[dep] for dep in graph[key]), default=(0, []), key=lambda item: item[0])
        longest[key] = (before[0] + own, before[1] + [key])
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
                             throttle=dict(throttling()) if args.throttle else {})
        self.injector = FaultInjector()
        self.first_calls = None

        def wrap(app):
            self.first_calls = FirstCalls(self.injector.around(app))
            return self.first_calls

        self.server, self.endpoint = sandbox.start_server(wrap_app=wrap)
        self.session = aws.make_session(None)

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
            started = time.monotonic()
            with open(Path(folder) / "output.log", "w") as output:
                process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
                result.peak_mb = PeakMemory(process.pid).wait_for(process) / 1024
            result.wall = time.monotonic() - started
            result.exit_code = process.returncode
            result.calls = collections.Counter()
            for (_, service, action), count in self.injector.actions.items():
                result.calls[service, action] += count
            result.throttled = self.injector.counts["throttled"]
            firsts = [self.first_calls.first[r] for r in self.regions if r in self.first_calls.first]
            result.first_call = max(firsts) - started if firsts else None
            if process.returncode not in (0, 1):
                print(f"  {tool} exited {process.returncode}; its output ends:\n"
                      + (Path(folder) / "output.log").read_text()[-1500:], file=sys.stderr)
        result.left = self.left(types)
        return result


def throttling() -> dict:
    """AWS's EC2 limits (costcutter/aws.py has them from AWS's documentation), per region
    and API family, the first pattern that matches a call winning."""
    return {**{f"ec2:{action}": rate for action, rate in aws.EC2_ACTION_RATES.items()},
            **{f"ec2:{prefix}*": aws.EC2_NON_MUTATING_RATE for prefix in aws.READ_ONLY_PREFIXES},
            "ec2:*": aws.EC2_MUTATING_RATE}


class PeakMemory:
    """The largest sum of resident memory (kB) of a process and all its descendants,
    sampled every SAMPLE_SECONDS from /proc."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, 0

    def wait_for(self, process) -> float:
        while process.poll() is None:
            self.peak = max(self.peak, sum(_rss_kb(pid) for pid in _tree(self.pid)))
            time.sleep(SAMPLE_SECONDS)
        return self.peak


def _tree(root: int) -> list[int]:
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
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
             + ", seeded untimed before each run; {args.latency * 1000:.0f} ms added to every call"
             + (f", {', '.join(f'{p}={s}s' for p, s in args.latency_for)}" if args.latency_for else "")
             + ("; AWS's EC2 throttling on" if args.throttle else "") + f"; {args.repetitions} repetitions, interleaved.",
             "- Wall time: median (min–max); ratios are to CostCutter on the same types in the same run.", ""]
    for name, why in missing.items():
        lines.append(f"- {name} was not run: {why}.")
    lines += ["", "| tool | types | seeded | wall s | × CostCutter | left | calls | calls / deleted | "
              "throttled | peak MB (all processes) | last region's first call, s |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, runs in measures.items():
        baseline = measures.get(f"{COSTCUTTER} on the types of {label}")
        ratio = (f"{statistics.median(r.wall for r in runs) / statistics.median(r.wall for r in baseline):.1f}"
                 if baseline else "1.0" if label.startswith(COSTCUTTER) else "-")
        total_calls = [sum(r.calls.values()) for r in runs]
        lines.append(f"| {label} | {len(runs[0].types)} | {runs[0].seeded} | {span(r.wall for r in runs)} | {ratio} | "
                     f"{span([sum(r.left.values()) for r in runs], '{:.0f}')} | {span(total_calls, '{:.0f}')} | "
                     f"{span([r.per_deleted for r in runs], '{:.2f}')} | "
                     f"{span([100 * r.throttled / max(1, c) for r, c in zip(runs, total_calls)], '{:.1f}')}% | "
                     f"{span([r.peak_mb for r in runs], '{:.0f}')} | {span([r.first_call for r in runs], '{:.2f}')} |")
    calls, chain = limit
    seconds = calls * args.latency
    full = measures.get(COSTCUTTER)
    if full and seconds:
        wall = statistics.median(r.wall for r in full)
        lines += ["", f"**Critical-path limit** of the full scenario: {seconds:.1f} s ({calls} dependent calls × "
                      f"{args.latency * 1000:.0f} ms: a listing, each step and one poll per type, along "
                      f"{' → '.join(chain)}). CostCutter's median wall time is **{wall / seconds:.1f}×** it."]
    for label, runs in measures.items():
        lines += ["", f"### {label}: what is left, and calls per deleted resource", ""]
        lines += left_and_calls(runs)
    return "\n".join(lines) + "\n"


def left_and_calls(runs: list[Measure]) -> list[str]:
    """Per service (the types' client): resources left, calls per deleted resource, and the
    actions called, from the run with the median wall time."""
    run = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    by_key = registry.by_key()
    services = collections.defaultdict(lambda: {"types": 0, "left": 0, "seeded": 0})
    for key in run.types:
        service = by_key[key].client
        services[service]["types"] += 1
        services[service]["left"] += run.left.get(key, 0)
        services[service]["seeded"] += run.seeded_by.get(key, 0)
    lines = ["| service | types | left (by type) | deleted | calls | calls / deleted | actions (calls) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for service, info in sorted(services.items()):
        calls = {action: n for (svc, action), n in run.calls.items() if svc == service}
        deleted = info["seeded"] - info["left"]
        lefts = ", ".join(f"{key} {run.left[key]}" for key in run.types if by_key[key].client == service
                          and run.left.get(key))
        lines.append(f"| {service} | {info['types']} | {info['left']}{f' ({lefts})' if lefts else ''} | "
                     f"{deleted:.0f} | {sum(calls.values())} | "
                     f"{sum(calls.values()) / deleted if deleted else math.nan:.2f} | "
                     f"{', '.join(f'{a} {n}' for a, n in sorted(calls.items(), key=lambda item: -item[1]))} |")
    others = {f"{svc}:{a}": n for (svc, a), n in run.calls.items() if svc not in services}
    if others:
        lines.append(f"| (other) | | | | {sum(others.values())} | | "
                     f"{', '.join(f'{a} {n}' for a, n in sorted(others.items(), key=lambda item: -item[1]))} |")
    return lines


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
