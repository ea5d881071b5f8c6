"""The command line: run, report, runs, services, demo."""

import contextlib
import csv
import dataclasses
import functools
import itertools
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import click
from tqdm import tqdm

from costcutter import __version__, aws, config, events, lifecycle, logs, orchestrator, registry, sandbox, scope
from costcutter.config import ConfigError, Settings
from costcutter.registry import GLOBAL_REGION
from costcutter.store import EventStore, StoreError
from costcutter.tables import format_table

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEMO_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE


def friendly_errors(command):
    """Known problems become one line and exit code 2; anything else one line and exit 1,
    with the traceback kept in the diagnostic log, never on the screen."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ConfigError, StoreError, aws.AwsSetupError, lifecycle.RunRefused) as error:
            raise UsageProblem(str(error)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went away (`costcutter report --csv - | head`)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(EXIT_FAILED) from None
        except Exception as error:
            log.exception("unexpected error")
            raise click.ClickException(f"unexpected error: {error!r}; the diagnostic log has the details") from None
    return wrapper


def store_options(command):
    # Plain text, not click.Path: config and the store check the paths, in one line that says
    # what to do, whether they came from a flag, a variable or a config file.
    command = click.option("--db", metavar="PATH", help="The event log (SQLite) to use.")(command)
    command = click.option("--config", "config_file", metavar="PATH",
                           help="Config file (default ./costcutter.yaml, then $XDG_CONFIG_HOME/costcutter/config.yaml).")(command)
    return command


# Click's way to show the help of a group called without a command; not a mistake.
_HELP_FOR_NO_ARGUMENTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


@contextlib.contextmanager
def _usage_error_in_one_line(ctx: click.Context):
    """Click shows a usage error under the command's usage and a hint, on four lines; like
    every other error of CostCutter's, it is one line here, the hint in it."""
    try:
        yield
    except click.UsageError as error:
        if isinstance(error, _HELP_FOR_NO_ARGUMENTS):
            raise
        message = error.format_message()
        ended = message if message.rstrip(")").endswith((".", "?")) else message + "."
        raise UsageProblem(f"{ended} Try '{ctx.command_path} --help' for help.") from None


class _Command(click.Command):
    def parse_args(self, ctx, args):
        with _usage_error_in_one_line(ctx):
            return super().parse_args(ctx, args)


class _Group(click.Group):
    command_class = _Command

    def parse_args(self, ctx, args):
        with _usage_error_in_one_line(ctx):
            return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        with _usage_error_in_one_line(ctx):
            return super().resolve_command(ctx, args)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costcutter")
def cli():
    """Find the AWS resources that cost money and delete them, in every region, resumably.

    Dry run by default. Every action is recorded in a SQLite event log, so any run can be
    reported on, exported, and resumed after Ctrl-C, a crash or a reboot.
    """
    root = logging.getLogger()
    if not root.handlers:  # until a command sets up the diagnostic log, records go nowhere, never to the screen
        root.addHandler(logging.NullHandler())


# run

@cli.command()
@store_options
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Region to sweep (repeatable, or comma-separated); `all` for every enabled region.")
@click.option("--service", "services", multiple=True, metavar="SERVICE",
              help="Service (ec2) or type (ec2.instances) to sweep (repeatable); see `costcutter services`.")
@click.option("--exclude-service", "excluded", multiple=True, metavar="SERVICE",
              help="Service or type not to sweep (repeatable).")
@click.option("--older-than", multiple=True, metavar="AGE",
              help="Delete only what is older than AGE: 30m, 12h, 7d (created, or first seen by a run).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
              help="Delete only what has this tag (repeatable: every one of them).")
@click.option("--exclude-tag", "excluded_tags", multiple=True, metavar="KEY=VALUE",
              help="Keep what has this tag (repeatable).")
@click.option("--exclude-id", "excluded_ids", multiple=True, metavar="ID",
              help="Keep this resource, by id or ARN (repeatable).")
@click.option("--dry-run/--no-dry-run", default=None, help="Only list what would be deleted (the default).")
@click.option("--yes", is_flag=True, help="Confirm a real deletion without the prompt.")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue an interrupted run with its own configuration.")
@friendly_errors
def run(config_file, db, regions, services, excluded, older_than, tags, excluded_tags, excluded_ids, dry_run, yes,
        resume_id):
    """Sweep the chosen regions and services (a dry run unless --no-dry-run)."""
    selection = {"regions": _listed(regions), "services": _listed(services), "excluded_services": _listed(excluded),
                 "dry_run": dry_run,
                 "filters": _flag_filters(older_than=older_than, tag=tags, exclude_tag=excluded_tags,
                                          exclude_id=excluded_ids)}
    resuming = resume_id is not None  # `--resume ""` too: an empty run id must never start a new run
    if resuming and any(value is not None for value in selection.values()):
        raise UsageProblem("--resume continues a run with the configuration it started with; drop --region, "
                           "--service, --exclude-service, --older-than, --tag, --exclude-tag, --exclude-id and "
                           "--dry-run/--no-dry-run")
    settings = config.load(config_file, {**selection, "database": db})
    _setup_logging(settings)
    confirm = functools.partial(_confirm, yes=yes)
    with EventStore(settings.database_path, check_integrity=True, create=not resuming) as store:
        if not resuming:
            with lifecycle.started(store, settings, confirm) as started:
                raise SystemExit(_sweep(store, started))
        with lifecycle.resumed(store, resume_id, settings, confirm) as resumed:
            if resumed is None:
                click.echo(f"Run {resume_id} already finished; there is nothing to resume. "
                           f"See `costcutter report {resume_id}`.")
                raise SystemExit(EXIT_OK)
            click.echo(f"Resuming run {resume_id}.")
            raise SystemExit(_sweep(store, resumed))


def _listed(values: tuple[str, ...]) -> str | None:
    """A repeatable flag as one comma-separated text, read by config like a COSTCUTTER_*
    variable; None when the flag is absent. A blank value (an empty shell variable) makes it
    blank, which config refuses: it must never be taken for no flag, that is for `all`."""
    if not values:
        return None
    return "" if any(not value.strip() for value in values) else ",".join(values)


# flag -> (the rule condition each value becomes, the list of `filters.all` it goes in, what a value is)
_FILTER_FLAGS = {"older_than": ("older_than", "select", "an age like 7d"),
                 "tag": ("tag", "select", "KEY=VALUE"),
                 "exclude_tag": ("tag", "keep", "KEY=VALUE"),
                 "exclude_id": ("ids", "keep", "an id or ARN")}


def _flag_filters(**flags: tuple[str, ...]) -> dict | None:
    """The scope flags as rules of `filters.all`, which config adds to the file's; None when none is given."""
    block: dict[str, list] = {}
    for flag, values in flags.items():
        condition, rules, wanted = _FILTER_FLAGS[flag]
        option = "--" + flag.replace("_", "-")
        for value in values:
            if not value.strip():
                raise UsageProblem(f"{option} is empty; pass {wanted}")
            argument = [value] if condition == "ids" else value
            try:
                scope.matcher(condition, argument)
            except scope.RuleError as error:
                raise UsageProblem(f"{option}: {error}") from None
            block.setdefault(rules, []).append({condition: argument})
    return {scope.ALL: block} if block else None


def _confirm(account: str, regions: list[str], yes: bool) -> None:
    if yes:
        return
    if not _at_a_terminal():
        raise UsageProblem("refusing to delete without confirmation: there is no terminal to ask at; "
                           "pass --yes to confirm, or --dry-run to only list")
    shown = ", ".join(regions[:5]) + (f" and {len(regions) - 5} more" if len(regions) > 5 else "")
    click.echo(f"This DELETES resources in AWS account {account}, in {shown}.")
    typed = click.prompt("Type the account id to go on", default="", show_default=False)
    if typed.strip() != account:
        click.echo("The account id does not match; nothing was deleted.", err=True)
        raise SystemExit(EXIT_FAILED)


def _at_a_terminal() -> bool:
    return sys.stdin.isatty()


def _sweep(store: EventStore, run: lifecycle.Run) -> int:
    """Sweep a claimed run with a progress bar, print what it did; returns the exit code."""
    settings = run.settings
    mode = "dry run (nothing is deleted)" if settings.dry_run else "REAL deletion"
    click.echo(f"Run {run.id}: {mode} of {len(settings.chosen_types())} resource types in "
               f"{len(settings.regions)} regions of account {run.account}.")
    progress = _Progress(store, run.id, total=len(orchestrator.plan(settings)), dry_run=settings.dry_run)
    try:
        outcome = lifecycle.sweep(store, run, on_progress=progress.update, on_stopping=_say_stopping)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"\nRun {run.id} stopped at once. Resume it with: costcutter run --resume {run.id}", err=True)
        return EXIT_INTERRUPTED
    progress.update()
    progress.close()
    click.echo()
    _print_summary(store, run.id)
    if outcome.interrupted:
        click.echo(f"Run {run.id} was interrupted. Resume it with: costcutter run --resume {run.id}")
        return EXIT_INTERRUPTED
    click.echo(f"Run {run.id} finished. Details: costcutter report {run.id}  "
               f"(CSV: costcutter report {run.id} --csv {run.id}.csv)")
    if kept := store.outcome_counts(run.id)[events.SKIPPED]:
        click.echo(f"{kept} resources were kept, not deleted (by filters, protection tags or protections); "
                   "the CSV says why, for each.")
    if settings.dry_run:
        click.echo("This was a dry run: nothing was deleted. Run again with --no-dry-run to delete.")
    if not outcome.complete:
        click.echo(f"{outcome.failed} resources failed, {outcome.unfinished_units} of {outcome.total_units} "
                   "units did not finish.", err=True)
        return EXIT_FAILED
    return EXIT_OK


def _say_stopping() -> None:
    click.echo("\nStopping after the deletions in flight (Ctrl-C again to stop at once)...")


class _Progress:
    """A progress bar read from the event log, like everything else."""

    def __init__(self, store: EventStore, run_id: str, total: int, dry_run: bool):
        self._store, self._run_id = store, run_id
        self._shown = (events.WOULD_DELETE, events.FAILED) if dry_run else (events.DELETED, events.FAILED)
        self._bar = tqdm(total=total, unit="unit", desc=f"run {run_id}", disable=None, leave=True)

    def update(self):
        if self._bar.disable:
            return
        counts = self._store.event_counts(self._run_id)
        self._bar.n = self._store.completed_unit_count(self._run_id)
        self._bar.set_postfix({kind: counts.get(kind, 0) for kind in self._shown}, refresh=False)
        self._bar.refresh()

    def close(self):
        self._bar.close()


# report, runs, services

@cli.command()
@click.argument("run_id", required=False)
@store_options
@click.option("--csv", "csv_path", metavar="PATH", help="Export every event of the run as CSV (`-` for stdout).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@friendly_errors
def report(run_id, config_file, db, csv_path, as_json):
    """What a run did, per region, service and outcome (default: the latest run)."""
    with _open_existing_store(config_file, db) as store:
        _report(store, store.latest_run_id() if run_id is None else run_id, csv_path, as_json)


def _report(store: EventStore, run_id: str, csv_path, as_json) -> None:
    run = store.run(run_id)
    if csv_path is not None:
        _export_csv(store, run_id, csv_path)
        return
    status = store.status(run_id)
    if as_json:
        run_info = {key: run[key] for key in ("id", "created_at", "account_id", "dry_run", "version")}
        click.echo(json.dumps({"run": {**run_info, "status": status}, "summary": store.summary(run_id),
                               "problems": store.problems(run_id), "totals": store.outcome_counts(run_id)}, indent=2))
        return
    summary = _summary(store, run_id)  # read before anything is shown: a log that cannot be read is one line
    mode = "dry run" if run["dry_run"] else "real deletion"
    click.echo(f"Run {run_id}: {mode}, account {run['account_id']}, started {run['created_at']}, {status}.")
    click.echo()
    click.echo(summary)


def _print_summary(store: EventStore, run_id: str) -> None:
    click.echo(_summary(store, run_id))


def _summary(store: EventStore, run_id: str) -> str:
    rows, outcomes = _pivot(store.summary(run_id))
    lines = [format_table(rows, ["region", "service", "resource_type", *outcomes], {"resource_type": "type"})
             if rows else "No resources found."]
    for problem in store.problems(run_id):
        where = " ".join(filter(None, [problem["region"], problem["service"], problem["resource_type"]]))
        lines.append(f"! {where}: {problem['error_code']}: {problem['message']}")
    return "\n".join(lines)


def _pivot(summary: list[dict]) -> tuple[list[dict], list[str]]:
    outcomes = [o for o in (*events.OUTCOMES, "pending", events.CATALOGED) if any(r["outcome"] == o for r in summary)]
    rows: dict[tuple, dict] = {}
    for item in summary:
        key = (item["region"], item["service"], item["resource_type"])
        row = rows.setdefault(key, {"region": key[0], "service": key[1], "resource_type": key[2],
                                    **{o: 0 for o in outcomes}})
        row[item["outcome"]] = item["count"]
    return list(rows.values()), outcomes


# A text cell starting with one of these is run as a formula by spreadsheets (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _export_csv(store: EventStore, run_id: str, path: str) -> None:
    columns = [column.name for column in store.db["events"].columns]
    stored = store.events(run_id)
    # The first event is read before the file is opened: a log that cannot be read is one line,
    # and an export already there is left as it was.
    first = next(stored, None)
    rows = stored if first is None else itertools.chain([first], stored)
    output = sys.stdout if path == "-" else _open_private(path)
    try:
        writer = csv.DictWriter(output, fieldnames=columns)
        writer.writeheader()
        count = 0
        for row in rows:
            writer.writerow({column: _as_text_cell(value) for column, value in row.items()})
            count += 1
    finally:
        if output is not sys.stdout:
            output.close()
    if path != "-":
        click.echo(f"Wrote {count} events of run {run_id} to {path}.")


def _open_private(path: str):
    """Open for writing; a new file is readable by its owner only (resource names and errors
    describe the account), while an existing one keeps its mode."""
    if not path.strip():
        raise UsageProblem("--csv is empty; pass --csv a file path you can write, or - for standard output")
    try:
        return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="")
    except OSError as error:
        raise UsageProblem(f"cannot write the CSV export to {path}: {error.strerror}; pass --csv a file path "
                           "you can write, or - for standard output") from None


def _as_text_cell(value):
    """Text a spreadsheet would take for a formula gets a leading quote, so it shows as text."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


@cli.command()
@store_options
@friendly_errors
def runs(config_file, db):
    """The runs in the event log, with their status and counts."""
    with _open_existing_store(config_file, db) as store:
        rows = store.runs()
    if not rows:
        click.echo("No runs yet.")
        return
    for row in rows:
        row["mode"] = "dry run" if row["dry_run"] else "real"
        row["created_at"] = row["created_at"][:19].replace("T", " ")
    click.echo(format_table(rows, ["id", "created_at", "account_id", "mode", "status", events.DELETED,
                                   events.WOULD_DELETE, events.ALREADY_GONE, events.FAILED, "pending"],
                            {"created_at": "started", "account_id": "account"}))


@cli.command()
def services():
    """What CostCutter can clean: every resource type, its scope and what it depends on."""
    rows = [{"service": t.service, "resource_type": t.name, "scope": t.scope, "depends_on": ", ".join(t.dependencies),
             "settings": ", ".join(t.all_settings), "summary": t.summary}
            for t in sorted(registry.resource_types(), key=lambda t: t.service)]  # stable: keeps dependency order
    click.echo(format_table(rows, ["service", "resource_type", "scope", "depends_on", "settings", "summary"],
                            {"resource_type": "type", "depends_on": "depends on"}))


def _open_existing_store(config_file, db) -> EventStore:
    settings = config.load(config_file, {"database": db})
    return EventStore(settings.database_path, read_only=True)


def _setup_logging(settings: Settings) -> None:
    """A log_dir that was asked for must work; the default one is only worth a warning."""
    try:
        logs.setup_main(settings.log_path, settings.log_level)
    except OSError as error:
        if settings.log_dir is not None:
            raise settings.problem("log_dir", f"cannot write the diagnostic log in {settings.log_path} "
                                              f"({error.strerror}); use a folder you can write, or leave log_dir "
                                              "unset for the default") from None
        click.echo(f"Warning: cannot write the diagnostic log in {settings.log_path} ({error.strerror}); "
                   "going on without it.", err=True)


# demo

@cli.command()
@click.option("--db", type=click.Path(dir_okay=False), help="Event log for the demo (default: a new temporary one).")
@friendly_errors
def demo(db):
    """Sweep a local sandbox: a moto server on 127.0.0.1, seeded with resources; never real AWS."""
    workdir = Path(tempfile.mkdtemp(prefix="costcutter-demo-"))
    db_path = Path(db) if db else workdir / "costcutter.db"
    with sandbox.running_server() as endpoint:
        click.echo(f"Started a local AWS sandbox (moto) at {endpoint}; dummy credentials, no real AWS.")
        for region in DEMO_REGIONS:
            made = sandbox.seed(region)
            stack = sandbox.seed_stack(region)
            click.echo(f"Seeded {region}: one of each of {len(made)} resource types, and a web stack "
                       f"({', '.join(stack)})")
        sandbox.seed(GLOBAL_REGION)
        base = config.load(flags={"regions": list(DEMO_REGIONS), "services": "all", "database": str(db_path),
                                  "log_dir": str(workdir), "wait_timeout": 30})
        _setup_logging(base)
        for dry_run in (True, False):
            step = "1. A dry run lists what would be deleted" if dry_run else "2. A real run deletes it"
            click.echo(f"\n== {step}: costcutter run --region {' --region '.join(DEMO_REGIONS)}"
                       f"{'' if dry_run else ' --no-dry-run --yes'}")
            with EventStore(db_path) as store, \
                    lifecycle.started(store, dataclasses.replace(base, dry_run=dry_run), _confirmed) as started:
                code = _sweep(store, started)
            if code != EXIT_OK:
                raise SystemExit(code)
        left = {region: sum(map(len, sandbox.inventory(region).values()))
                for region in (*DEMO_REGIONS, GLOBAL_REGION)}
        click.echo(f"\n== 3. What is left in the sandbox: {left}")
        click.echo(f"\n== 4. The event log is the record: costcutter runs --db {db_path}")
        runs.callback(config_file=None, db=str(db_path))
    click.echo(f"\nTry: costcutter report --db {db_path}   or   costcutter report --db {db_path} --csv -")


def _confirmed(account: str, regions: list[str]) -> None:
    """The demo's sandbox has nothing to lose: no confirmation."""


def main():
    cli(prog_name="costcutter")
