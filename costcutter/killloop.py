"""The crash-safety proof (issue 6): a real sweep killed again and again, resumed each time.

A real `costcutter run --no-dry-run --yes` runs as a subprocess against the
fault-injecting moto server (costcutter/faults.py), with every teardown call slowed down,
over several regions seeded with types whose teardowns take several steps: Elastic IPs
associated to instances (disassociate, then release), security groups whose rules name
each other (revoke, then delete), versioned S3 buckets (empty, then delete) and IAM users
with keys, a password and policies (a step for each). Its whole process tree is killed
with SIGKILL at moments spread over the run (see MOMENTS), and the run resumed with
`costcutter run --resume ID --yes` after each. At the end the server's record and the log
must show:

- nothing left of the seeded types;
- every event on disk after each kill still there and unchanged (rows compared by seq),
  and the database whole (PRAGMA integrity_check) after each kill;
- no resource deleted twice: each deletion answered at most once by the server, and at
  most one `deleted` event per resource in the log; every resource done in the log;
- every resume going on from where the kill left it, the last one to exit code 0.

scripts/kill_loop.py runs it by hand, with at least ten kills; tests/test_kill_loop.py
runs a small one in CI. Both take their logic from here, beside the server it drives
(costcutter/faults.py) and the sandbox it seeds (costcutter/sandbox.py).

What "between the steps of a teardown" looks like on disk: a step's `step_done` goes to
the event writer without waiting, and the next step's `step_requested` (or the
`delete_requested`) right after it waits for its commit, so the two nearly always land in
one group commit. A kill between two steps therefore leaves a resource with a
`step_done` whose latest event is the next request; that is what the between-steps
moment waits for, and what a kill is counted as having left.
"""

import collections
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from costcutter import aws, events, registry, sandbox
from costcutter.faults import FaultInjector, Faults, deletions_of
from costcutter.registry import GLOBAL_REGION
from costcutter.store import EventStore

SERVICES = ("ec2", "s3", "iam")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
# The calls of every teardown: slowed down, so that a kill falls in the middle of one.
TEARDOWN_CALLS = ("Terminate*", "Disassociate*", "Release*", "Revoke*", "Deregister*", "Delete*", "Abort*",
                  "Detach*", "Remove*", "Deactivate*")
POLL_SECONDS = 0.01
ResourceKey = tuple[str, str, str, str]  # region, service, resource type, resource id


@dataclasses.dataclass(frozen=True)
class Size:
    """How much to seed: type key -> count, in each region and once for the account."""
    regional: dict[str, int]
    account: dict[str, int]


# The security groups are paired, each pair's rules naming each other; as many Elastic
# IPs as instances are associated to them; each policy is attached to a user.
FULL = Size(regional={"ec2.instances": 4, "ec2.elastic_ips": 4, "ec2.security_groups": 6, "s3.buckets": 3,
                      "ec2.key_pairs": 6, "ec2.amis": 2, "ec2.snapshots": 2, "ec2.volumes": 2},
            account={"iam.users": 8, "iam.groups": 2, "iam.instance_profiles": 2, "iam.roles": 2, "iam.policies": 3})
SMALL = Size(regional={"ec2.instances": 2, "ec2.elastic_ips": 2, "ec2.security_groups": 2, "s3.buckets": 2,
                       "ec2.key_pairs": 2},
             account={"iam.users": 3, "iam.policies": 1})


# Seeding

def seed(regions, size: Size) -> None:
    """Seed each region and the account, then tie the resources together so that their
    teardowns take every step: an address on an instance, groups naming each other, a
    managed policy on a user (besides the key, password and inline policy users come with)."""
    for region in regions:
        made = sandbox.seed(region, size.regional, default_count=0, services=SERVICES)
        ec2 = boto3.client("ec2", region_name=region)
        for address, instance in zip(made.get("ec2.elastic_ips", []), made.get("ec2.instances", [])):
            ec2.associate_address(AllocationId=address, InstanceId=instance)
        groups = made.get("ec2.security_groups", [])
        for group, other in zip(groups[::2], groups[1::2]):
            _name_each_other(ec2, group, other)
    made = sandbox.seed(GLOBAL_REGION, size.account, default_count=0, services=SERVICES)
    iam = boto3.client("iam", region_name=aws.HOME_REGION)
    for policy, user in zip(made.get("iam.policies", []), made.get("iam.users", [])):
        iam.attach_user_policy(UserName=user, PolicyArn=policy)


def _name_each_other(ec2, group: str, other: str) -> None:
    for this, that in ((group, other), (other, group)):
        ec2.authorize_security_group_ingress(GroupId=this, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": that}]}])


def swept_types() -> list[registry.ResourceType]:
    return [t for t in registry.resource_types() if t.service in SERVICES]


def inventory(regions) -> set[ResourceKey]:
    """Every resource of the swept types the run would list: what it must delete."""
    session = boto3.Session()
    return {(region, *key.split("."), resource_id) for region in (*regions, GLOBAL_REGION)
            for key, ids in sandbox.inventory(region, SERVICES, session).items() for resource_id in ids}


# Reading the log as the run writes it

class LogWatch:
    """The run's event log as it grows, read through a read-only connection, as
    `costcutter report` reads it: the latest state of each resource, which resources
    finished a step of their teardown, and what the current attempt has written."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.connection: sqlite3.Connection | None = None
        self.run_id: str | None = None
        self.seq = 0                  # the last event read
        self.attempt_start = 0        # the last event on disk when the current attempt started
        self.latest: dict[ResourceKey, tuple[int, str]] = {}
        self.stepped: set[ResourceKey] = set()
        self.kinds: collections.Counter = collections.Counter()  # of the current attempt
        self.last_read: set[str] = set()  # kinds of the events the last read found

    def read(self) -> None:
        """Take in the events written since the last read."""
        self.last_read = set()
        if not self._connected():
            return
        rows = self.connection.execute(
            "SELECT seq, kind, region, service, resource_type, resource_id FROM events "
            "WHERE run_id = ? AND seq > ? ORDER BY seq", [self.run_id, self.seq]).fetchall()
        for seq, kind, *key in rows:
            self.seq = seq
            self.kinds[kind] += 1
            self.last_read.add(kind)
            if key[3] is not None and kind in events.RESOURCE_STATES:
                self.latest[tuple(key)] = (seq, kind)
                if kind == events.STEP_DONE:
                    self.stepped.add(tuple(key))

    def _connected(self) -> bool:
        if self.run_id is not None:
            return True
        if not self.db_path.exists():
            return False
        try:
            self.connection = self.connection or sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro",
                                                                 uri=True, timeout=60)
            run = self.connection.execute("SELECT id FROM runs").fetchone()
        except sqlite3.OperationalError:  # being created: no tables yet
            return False
        self.run_id = run[0] if run else None
        return self.run_id is not None

    def begin_attempt(self) -> None:
        self.read()
        self.attempt_start = self.seq
        self.kinds = collections.Counter()

    def unfinished(self, new: bool = True) -> dict[ResourceKey, str]:
        """Resources whose latest state is a request or a step done, with no outcome yet;
        with new, only those whose latest event the current attempt wrote."""
        return {key: kind for key, (seq, kind) in self.latest.items()
                if kind in events.IN_PROGRESS and (not new or seq > self.attempt_start)}

    def between_steps(self, new: bool = True) -> list[ResourceKey]:
        """Resources with a step of their teardown done and the rest not."""
        return [key for key in self.unfinished(new) if key in self.stepped]

    def done_share(self, total: int) -> float:
        done = sum(kind in events.DONE for _, kind in self.latest.values())
        return done / max(total, 1)

    def rows(self) -> dict[int, tuple]:
        return {row[0]: row for row in self.connection.execute(
            "SELECT * FROM events WHERE run_id = ? ORDER BY seq", [self.run_id])}

    def repeated(self, kind: str) -> dict[ResourceKey, int]:
        """Resources with more than one event of this kind."""
        return {tuple(key): n for *key, n in self.connection.execute(
            "SELECT region, service, resource_type, resource_id, count(*) FROM events WHERE run_id = ? AND kind = ? "
            "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1", [self.run_id, kind])}

    def failures(self) -> list[tuple]:
        return self.connection.execute(
            "SELECT kind, region, service, resource_type, resource_id, error_code, message FROM events "
            "WHERE run_id = ? AND kind IN (?, ?)", [self.run_id, events.FAILED, events.REGION_CRASHED]).fetchall()

    def integrity(self) -> str:
        return "; ".join(line for (line,) in self.connection.execute("PRAGMA integrity_check"))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


# When to kill

@dataclasses.dataclass(frozen=True)
class Moment:
    """A moment to kill at: `comes(watch)` says the log shows it. An early moment comes as
    an attempt starts; any other only once `progress` of the resources are done."""
    name: str
    comes: Callable[[LogWatch], bool]
    early: bool = False
    progress: float = 0.0


MOMENTS = {moment.name: moment for moment in (
    Moment("between steps", lambda watch: bool(watch.between_steps())),
    Moment("deletion in flight", lambda watch: events.DELETE_REQUESTED in watch.unfinished().values()),
    Moment("starting", lambda watch: watch.kinds[events.RUN_STARTED] and not watch.kinds[events.UNIT_STARTED],
           early=True),
    Moment("step in flight", lambda watch: events.STEP_REQUESTED in watch.unfinished().values()),
    Moment("global teardown", lambda watch: any(key[0] == GLOBAL_REGION for key in watch.unfinished())),
    Moment("unit just completed", lambda watch: events.UNIT_COMPLETED in watch.last_read),
    Moment("anywhere", lambda watch: True),
)}
LAST_PROGRESS = 0.7  # the last kill's share of resources done: late, with work still left to resume


def schedule(kills: int) -> list[Moment]:
    """`kills` moments, the kinds in turn (between steps first), each later one at a larger
    share of the resources done, up to LAST_PROGRESS."""
    kinds = list(MOMENTS.values())
    return [dataclasses.replace(kinds[n % len(kinds)], progress=LAST_PROGRESS * (n + 1) / kills)
            for n in range(kills)]


# The loop

@dataclasses.dataclass(frozen=True)
class Kill:
    number: int
    moment: str
    came: bool                  # False: killed after waiting `patience` for the moment
    seconds: float              # into its attempt
    progress: float             # share of the resources done
    # What the log on disk shows unfinished after the kill: deletions and steps requested
    # with no outcome, and how many of those teardowns had a step done (between steps).
    deletions_in_flight: int
    steps_in_flight: int
    between_steps: int

    HEADER = f"{'kill':>4}  {'moment':<26} {'after':>6}  {'done':>5}  unfinished on disk"

    def __str__(self) -> str:
        moment = self.moment if self.came else f"({self.moment}: late)"
        return (f"{self.number:>4}  {moment:<26} {self.seconds:>5.1f}s  {self.progress:>5.0%}  "
                f"{self.deletions_in_flight} deletions, {self.steps_in_flight} steps requested; "
                f"{self.between_steps} between steps")


@dataclasses.dataclass
class Verdict:
    kills: list[Kill] = dataclasses.field(default_factory=list)
    resumes: int = 0
    resources: int = 0
    deletions: int = 0
    events: int = 0
    violations: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        """Each kill, then the totals and the violations."""
        return "\n".join([Kill.HEADER, *map(str, self.kills), self.totals()])

    def totals(self) -> str:
        lines = [f"{len(self.kills)} kills survived, {self.resumes} resumes; {self.resources} resources, "
                 f"{self.deletions} deletions, {self.events} events; {len(self.violations)} violations"]
        return "\n".join(lines + [f"VIOLATION: {violation}" for violation in self.violations])


class KillLoop:
    """One run of the proof. The server behind `injector` must be the one AWS_ENDPOINT_URL
    names, empty; `workdir` gets the event log, the diagnostic log and each attempt's output."""

    def __init__(self, injector: FaultInjector, workdir: Path, moments: list[Moment], *, regions=REGIONS,
                 size: Size = FULL, latency: float = 0.2, patience: float = 4, attempt_timeout: float = 300,
                 say: Callable[[str], None] = lambda line: None):
        self.injector, self.workdir, self.moments = injector, Path(workdir), moments
        self.regions, self.size, self.latency = tuple(regions), size, latency
        self.patience, self.attempt_timeout, self.say = patience, attempt_timeout, say
        self.db_path = self.workdir / "events.db"
        self.watch = LogWatch(self.db_path)
        self.verdict = Verdict()
        self.kept: dict[int, tuple] = {}  # every event on disk after the latest kill, by seq
        self.deletions = deletions_of(swept_types())
        self.output, self.started = self.workdir / "attempt-0.txt", time.monotonic()  # of the current attempt

    def run(self) -> Verdict:
        seed(self.regions, self.size)
        expected = inventory(self.regions)
        self.verdict.resources = len(expected)
        self.say(f"Seeded {len(expected)} resources in {', '.join(self.regions)} and the account.")
        self.injector.configure(Faults(latency={call: self.latency for call in TEARDOWN_CALLS}))
        self.injector.clear()
        self.say(Kill.HEADER)
        self.process = self._start("run", *[arg for region in self.regions for arg in ("--region", region)],
                                   *[arg for service in SERVICES for arg in ("--service", service)],
                                   "--no-dry-run", "--yes")
        try:
            for number, moment in enumerate(self.moments, 1):
                if not self._kill_at(number, moment, len(expected)):
                    break
                self.check_kept(number)
                self.process = self._start("run", "--resume", self.watch.run_id, "--yes")
                self.verdict.resumes += 1
            else:
                self._finish()
            self.judge()
        finally:
            _kill_process_group(self.process)  # nothing left running, whatever went wrong
            self.watch.close()
        return self.verdict

    def _start(self, *args: str) -> subprocess.Popen:
        """The CLI, as a session (and process group) of its own: its region processes too."""
        self.watch.begin_attempt()
        code_root = str(Path(__file__).resolve().parents[1])  # the subprocesses run this very code
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [code_root, os.environ.get("PYTHONPATH")])),
                       "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": "2", "COSTCUTTER_WAIT_TIMEOUT": "60",
                       "COSTCUTTER_LOG_DIR": str(self.workdir)}
        self.output = self.workdir / f"attempt-{self.verdict.resumes}.txt"
        self.started = time.monotonic()
        with open(self.output, "w") as output:
            return subprocess.Popen([sys.executable, "-m", "costcutter", *args, "--db", str(self.db_path)],
                                    env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def _kill_at(self, number: int, moment: Moment, total: int) -> bool:
        """Wait for the moment, then SIGKILL the process tree; False (and a violation) if the
        attempt ended or hung first."""
        came = self._wait_for(moment, total)
        if came is None:
            self._ended_early(number)
            return False
        seconds = time.monotonic() - self.started
        survivors = _kill_process_group(self.process)
        if survivors:
            self.verdict.violations.append(f"kill {number} left processes {survivors} running")
        if not self.injector.wait_until_idle():
            self.verdict.violations.append(f"after kill {number} the server was still answering requests")
        self.watch.read()
        unfinished = self.watch.unfinished(new=False)
        kill = Kill(number, moment.name, came, seconds, self.watch.done_share(total),
                    sum(kind == events.DELETE_REQUESTED for kind in unfinished.values()),
                    sum(kind == events.STEP_REQUESTED for kind in unfinished.values()),
                    len(self.watch.between_steps(new=False)))
        self.verdict.kills.append(kill)
        self.say(str(kill))
        if self.watch.run_id is None:
            self.verdict.violations.append(f"kill {number} came before the run was recorded; nothing to resume")
            return False
        return True

    def _wait_for(self, moment: Moment, total: int) -> bool | None:
        """Poll the log until the moment comes (True), or `patience` seconds after it could
        have come (False); None if the attempt ended, or hung, first."""
        ready_since = time.monotonic() if moment.early else None
        while self.process.poll() is None:
            self.watch.read()
            now = time.monotonic()
            if now - self.started > self.attempt_timeout:
                _kill_process_group(self.process)
                return None
            if ready_since is None and self.watch.done_share(total) >= moment.progress:
                ready_since = now
            if ready_since is not None:
                if moment.comes(self.watch):
                    return True
                if now - ready_since > self.patience:
                    return False
            time.sleep(POLL_SECONDS)
        return None

    def _ended_early(self, number: int) -> None:
        code = self.process.returncode
        if code == -signal.SIGKILL:
            self.verdict.violations.append(f"attempt {self.verdict.resumes} hung: no kill {number} "
                                           f"within {self.attempt_timeout:.0f}s")
        elif code == 0:
            self.verdict.violations.append(f"the run finished before kill {number} of {len(self.moments)}; "
                                           "seed more, or slow the teardowns down")
        else:
            self.verdict.violations.append(f"attempt {self.verdict.resumes} exited {code} before "
                                           f"kill {number}: {self._output_tail()}")

    def check_kept(self, number: int) -> None:
        """Every event on disk before this kill is still there, unchanged; the database is whole."""
        rows = self.watch.rows()
        changed = [seq for seq, row in self.kept.items() if rows.get(seq) != row]
        if changed:
            self.verdict.violations.append(f"after kill {number}, {len(changed)} events written before an "
                                           f"earlier kill are gone or changed (seq {changed[:5]})")
        self.kept = rows
        integrity = self.watch.integrity()
        if integrity != "ok":
            self.verdict.violations.append(f"after kill {number} the database is damaged: {integrity}")

    def _finish(self) -> None:
        try:
            self.process.wait(timeout=self.attempt_timeout)
        except subprocess.TimeoutExpired:
            self.verdict.violations.append(f"the last resume did not finish in {self.attempt_timeout:.0f}s")
            return
        if self.process.returncode != 0:
            self.verdict.violations.append(f"the last resume exited {self.process.returncode}: {self._output_tail()}")

    def _output_tail(self) -> str:
        return " | ".join(self.output.read_text().strip().splitlines()[-5:])

    def judge(self) -> None:
        """The end, from the server's record and the log; adds what is wrong to the violations."""
        self.watch.read()
        if self.watch.run_id is None:
            self.verdict.violations.append(f"no run was recorded in {self.db_path}")
            return
        final = self.watch.rows()
        violations = self.verdict.violations
        self.verdict.events = len(final)
        changed = [seq for seq, row in self.kept.items() if final.get(seq) != row]
        if changed:
            violations.append(f"{len(changed)} events written before the last kill are gone or changed "
                              f"(seq {changed[:5]})")
        left = inventory(self.regions)
        if left:
            violations.append(f"{len(left)} resources left: {_some(left)}")
        # What the log never names went with something else (an instance's root volume).
        with EventStore(self.db_path, read_only=True) as store:
            not_done = {(region, *key) for region in (*self.regions, GLOBAL_REGION)
                        for key, kind in store.resource_states(self.watch.run_id, region).items()
                        if kind not in events.DONE}
        if not_done:
            violations.append(f"{len(not_done)} resources not done in the log: {_some(not_done)}")
        twice_in_log = self.watch.repeated(events.DELETED)
        if twice_in_log:
            violations.append(f"deleted more than once in the log: {_some(twice_in_log)}")
        answered = self.injector.per_resource(self.deletions, answered=True)
        self.verdict.deletions = answered.total()
        twice = {call: n for call, n in answered.items() if n > 1}
        if twice:
            violations.append(f"deleted more than once on the server: {_some(twice)}")
        failures = self.watch.failures()
        if failures:
            violations.append(f"{len(failures)} failures in the log: {_some(failures)}")


def _kill_process_group(process: subprocess.Popen, within: float = 30) -> list[int]:
    """SIGKILL the CLI and every process of its group (its region processes, multiprocessing's
    helpers), and wait until none is left; returns those still alive after `within` seconds."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + within
    while (alive := session_processes(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@dataclasses.dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    group: int
    zombie: bool
    command: str


def processes() -> list[Process]:
    """Every process of this host, from ps(1): its POSIX options work on Linux and macOS
    alike, where /proc does not exist. -ww: whole command lines, whatever COLUMNS says."""
    table = subprocess.run(["ps", "-ww", "-A", "-o", "pid=,ppid=,pgid=,stat=,command="], capture_output=True, text=True,
                           check=True).stdout
    listed = []
    for line in table.splitlines():
        pid, parent, group, state, *command = line.split(None, 4)
        listed.append(Process(int(pid), int(parent), int(group), state.startswith("Z"), " ".join(command)))
    return listed


def session_processes(session: int) -> list[int]:
    """The processes still alive (not zombies) of the process group a CLI started with
    start_new_session leads: the CLI's, its region processes, multiprocessing's helpers."""
    return [p.pid for p in processes() if p.group == session and not p.zombie]


def region_processes(cli: int) -> list[int]:
    """The region processes of a CLI process: the children of its fork server (the one child
    of the CLI that runs multiprocessing.forkserver)."""
    alive = [p for p in processes() if not p.zombie]
    servers = {p.pid for p in alive if p.parent == cli and "multiprocessing.forkserver" in p.command}
    return sorted(p.pid for p in alive if p.parent in servers)


def _some(items, most: int = 5) -> str:
    items = list(items.items() if isinstance(items, dict) else sorted(items))
    return ", ".join(map(str, items[:most])) + (f" and {len(items) - most} more" if len(items) > most else "")
