"""`costcutter --help` starts without loading what only the commands need."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costcutter import guards, registry
from costcutter.faults import Faults

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "moto", "sqlite_utils", "costcutter.registry", "costcutter.services", "tqdm", "tabulate")


def test_help_imports_neither_boto3_nor_the_registry():
    finished = subprocess.run([sys.executable, "-X", "importtime", "-m", "costcutter", "--help"],
                              capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert finished.returncode == 0 and "Usage: costcutter" in finished.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in finished.stderr.splitlines() if "|" in line}
    assert "costcutter.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in HEAVY or name.startswith(HEAVY)}


def test_a_lazy_module_is_whole_for_every_thread_at_once(tmp_path, monkeypatch):
    """Region processes import the CLI too (multiprocessing's spawn), then reach for the same
    modules from many threads at once: each must see the module whole, even while another
    thread is still importing it. (importlib's LazyLoader, used before, showed the others a
    module without its attributes.)"""
    from concurrent.futures import ThreadPoolExecutor

    from costcutter.lazy import lazy_import

    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.3)\nANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lazy = lazy_import("slow_to_import")
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: lazy.ANSWER, range(8)))
    assert found == [42] * 8
    monkeypatch.delitem(sys.modules, "slow_to_import")


PROBE = '''
import sys

HEAVY = ("boto3", "costcutter.orchestrator", "costcutter.services.ec2.instances")


def first_job():
    """What a region process has before its first job, and the model files its first EC2 client reads."""
    import botocore.loaders
    from costcutter import aws
    loaded = [name for name in HEAVY if name in sys.modules]
    reads, read = [], botocore.loaders.JSONFileLoader.load_file
    botocore.loaders.JSONFileLoader.load_file = lambda self, path: reads.append(path) or read(self, path)
    aws.client(aws.make_session(None), "ec2", "eu-west-1")
    return loaded, reads
'''

SWEEP = '''
from concurrent.futures import ProcessPoolExecutor
from costcutter import region_server
import probe

{start}
with ProcessPoolExecutor(1, mp_context=region_server.context()) as pool:
    print(repr(pool.submit(probe.first_job).result()))
'''
STARTS = {"told-at-start": 'region_server.start(["ec2"])',
          # as the CLI does: the server starts before the configuration is read, and is told the types after
          "told-later": 'region_server.start_early()\nregion_server.choose(["ec2.key_pairs", "s3.buckets"])'}


@pytest.mark.parametrize("start", STARTS)
def test_a_region_process_starts_with_boto3_the_types_and_their_models_loaded(tmp_path, start):
    (tmp_path / "probe.py").write_text(PROBE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    finished = subprocess.run([sys.executable, "-c", SWEEP.format(start=STARTS[start])], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)
    assert finished.returncode == 0, finished.stderr
    loaded, reads = eval(finished.stdout)
    assert loaded == ["boto3", "costcutter.orchestrator", "costcutter.services.ec2.instances"]
    assert reads == []  # the EC2 model came with the process, read once by the server it forked from


FROZEN_PROBE = '''
def first_job():
    """Whether what the server loaded is frozen in this region process: the EC2 model, as its clients read it."""
    import gc

    from costcutter import aws
    model = aws._LOADER.load_service_model("ec2", "service-2", api_version=None)
    gc.collect()
    return gc.get_freeze_count() > 0, not any(found is model for found in gc.get_objects())
'''


def test_a_region_process_never_collects_what_the_server_loaded(tmp_path):
    """What the server loaded lives as long as the region processes: frozen before they
    fork, so their collections never walk it (nor copy its pages from the server's)."""
    (tmp_path / "probe.py").write_text(FROZEN_PROBE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    finished = subprocess.run([sys.executable, "-c", SWEEP.format(start=STARTS["told-at-start"])],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert eval(finished.stdout) == (True, True)


def test_the_alias_is_read_while_the_identity_is_asked(fault_server):
    """Two calls of which neither needs the other's answer go at once: at 1 s a call, the
    account checked with its alias takes about one call's time, not two."""
    from costcutter import aws, config

    endpoint, injector = fault_server
    settings, session = config.load(), aws.make_session(None)
    guards.checked_account(session, aws.account_id(session), settings)  # moto makes its IAM backend at the first call
    injector.configure(Faults(latency={"sts:GetCallerIdentity": 1.0, "iam:ListAccountAliases": 1.0}))
    started = time.monotonic()
    account_id, alias_read = guards.identified(session)
    account = guards.checked_account(session, account_id, settings, alias_read=alias_read)
    took = time.monotonic() - started
    assert account == guards.Account("123456789012", None)
    assert 1.0 <= took < 1.6, f"{took:.2f} s"


def test_all_regions_are_read_while_the_identity_is_asked(fault_server, tmp_path):
    """`regions: all` asks EC2 for the enabled regions alongside the identity and the alias:
    at 1 s a call, a run starts in about one call's time, not three."""
    from costcutter import aws, config, lifecycle
    from costcutter.store import EventStore

    endpoint, injector = fault_server
    settings, session = config.load(None, {"regions": "all", "services": "ec2.key_pairs"}), aws.make_session(None)
    # Untimed: moto makes its IAM and EC2 backends at their first calls, and the types are imported.
    guards.checked_account(session, aws.account_id(session), settings)
    aws.enabled_regions(session)
    settings.chosen_types()
    injector.configure(Faults(latency={"sts:GetCallerIdentity": 1.0, "iam:ListAccountAliases": 1.0,
                                       "ec2:DescribeRegions": 1.0}))
    with EventStore(tmp_path / "events.db") as store:
        started = time.monotonic()
        with lifecycle.started(store, settings, confirm=lambda *_: None) as run:
            took = time.monotonic() - started
    assert "eu-west-1" in run.settings.regions and len(run.settings.regions) > 10
    assert 1.0 <= took < 1.8, f"{took:.2f} s"


CHECK_CONFIGURATION = '''
import sys
from costcutter import config

settings = config.load(None, {"services": "ec2,s3.buckets,lambda.functions", "excluded_services": "ec2.key_pairs",
                              "filters": {"ec2.instances": {"keep": [{"tag": "owner"}]}}})
print(sorted(name for name in sys.modules if name.startswith("costcutter.services")))
'''


def test_a_configuration_is_checked_without_importing_the_types():
    """Its names are checked against the declarations' source: the hundred type modules are
    imported (with sqlite-utils) by what runs the types, not by what checks the names."""
    finished = subprocess.run([sys.executable, "-c", CHECK_CONFIGURATION], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert eval(finished.stdout) == []


def test_the_names_read_from_source_are_the_registry_s():
    assert registry.declared() == {t.key: t.service for t in registry.resource_types()}


def test_a_server_started_for_a_run_that_is_refused_does_not_stay(tmp_path):
    """The CLI starts the region server before it reads the configuration; when the
    configuration is refused, the server stops instead of waiting to be told the types."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    finished = subprocess.run([sys.executable, "-m", "costcutter", "run", "--service", "ec2.no_such_type"],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert finished.returncode == 2 and "'ec2.no_such_type' is not a service or type" in finished.stderr
    deadline = time.monotonic() + 10
    while _processes_told(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_told(str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # nor its folder


def _processes_told(text: str) -> list[int]:
    """The processes whose environment holds this text (a region server's, by its folder)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if text.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone, or not ours
            continue
    return found


# Loaded first by every Python process of the CLI below (sitecustomize): marks what the CLI's exit ran.
EXIT_PROBE = '''
import atexit, os, sys
from pathlib import Path


class _TornDown:
    """Freed when Python tears its modules down, at the end of a normal exit."""
    marks, in_the_cli = Path(os.environ["EXIT_MARKS"]), False

    def __del__(self):
        if self.in_the_cli:
            (self.marks / "torn down").touch()


def _exit_handler():
    _held.in_the_cli = sys.argv[0].endswith("__main__.py")  # not the region server, nor the resource tracker
    if _held.in_the_cli:
        (_held.marks / "exit handlers ran").touch()


_held = _TornDown()
atexit.register(_exit_handler)
'''


@pytest.mark.parametrize("argv, code", [
    (["run", "--region", "eu-west-1", "--service", "ec2.key_pairs"], 0),
    (["run", "--service", "ec2.no_such_type"], 2),
])
def test_the_cli_exits_without_tearing_its_modules_down(sandbox_endpoint, tmp_path, argv, code):
    """After a command the CLI ends at once: its exit code, its whole output and its exit
    handlers as ever, without the tenth of a second Python spends freeing boto3 and the types."""
    probe, marks = tmp_path / "probe", tmp_path / "marks"
    probe.mkdir(), marks.mkdir()
    (probe / "sitecustomize.py").write_text(EXIT_PROBE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(probe), str(ROOT)]), "EXIT_MARKS": str(marks),
           "XDG_STATE_HOME": str(tmp_path)}
    finished = subprocess.run([sys.executable, "-m", "costcutter", *argv, "--db", str(tmp_path / "runs.db")],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert finished.returncode == code, finished.stderr
    if code == 0:
        assert finished.stdout.splitlines()[-1].startswith("This was a dry run")
    assert sorted(path.name for path in marks.iterdir()) == ["exit handlers ran"]


TYPES_WHEN_ANSWERED = '''
import sys
from costcutter import aws, config, lifecycle
from costcutter.store import EventStore

asked = aws.account_id


def account_id(session, alongside=None):
    answer = asked(session, alongside)
    print(sorted(name for name in sys.modules if name.startswith("costcutter.services.")))
    return answer


aws.account_id = account_id
settings = config.load(None, {{"services": "ec2.key_pairs", "regions": "eu-west-1"}})
with EventStore({db!r}) as store, lifecycle.started(store, settings, confirm=lambda *_: None) as run:
    print(run.settings.services)
'''


def test_the_types_are_imported_while_the_identity_is_asked(fault_server, tmp_path):
    """The hundred type modules, which the sweep needs once the guards passed, are imported
    while the main process waits for AWS to say whose the credentials are, not after."""
    endpoint, injector = fault_server
    injector.configure(Faults(latency={"sts:GetCallerIdentity": 1.0}))
    finished = subprocess.run([sys.executable, "-c", TYPES_WHEN_ANSWERED.format(db=str(tmp_path / "events.db"))],
                              capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": endpoint})
    assert finished.returncode == 0, finished.stderr
    imported_when_answered, chosen = map(eval, finished.stdout.splitlines())
    assert "costcutter.services.ec2.key_pairs" in imported_when_answered
    assert len(imported_when_answered) > 100 and chosen == ["ec2.key_pairs"]
