"""The command line: run, destroy, apply, report, runs, services, demo."""

from __future__ import annotations

import collections
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
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click

from costcutter import __version__, console, events, logs, quick_exit, region_server
from costcutter.lazy import lazy_import
from costcutter.tables import format_table, plural

if TYPE_CHECKING:
    from costcutter.config import Settings
    from costcutter.store import EventStore

# Loaded when a command first uses them, so `costcutter --help` starts at once.
(aws, boto3, completion, config, confirmation, costs, guards, lifecycle, orchestrator, outcomes, plans, progress,
 registry, sandbox, scope, _store) = map(lazy_import, (
    "costcutter.aws", "boto3", "costcutter.completion", "costcutter.config", "costcutter.confirmation",
    "costcutter.costs", "costcutter.guards", "costcutter.lifecycle", "costcutter.orchestrator", "costcutter.outcomes",
    "costcutter.plans", "costcutter.progress", "costcutter.registry", "costcutter.sandbox", "costcutter.scope",
    "costcutter.store"))


def _completes(name: str):
    """A shell completion of costcutter/completion.py, loaded only when a shell asks."""
    return lambda ctx, param, incomplete: getattr(completion, name)(ctx, param, incomplete)

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
        except (config.ConfigError, _store.StoreError, aws.AwsSetupError, lifecycle.RunRefused,
                guards.AccountRefused) as error:
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
    return console.verbosity_options(command)


def aws_options(command):
    """Who to act as, for every command that talks to AWS; each flag is a config key (aws_profile, ...)."""
    for name, key, help_text in reversed((
            ("--profile", "aws_profile", "AWS profile to use (default: AWS_PROFILE, else the default chain)."),
            ("--assume-role-arn", "assume_role_arn", "Assume this IAM role (from the profile's credentials) for the sweep."),
            ("--external-id", "external_id", "External id to pass to AssumeRole."),
            ("--role-session-name", "role_session_name", "Session name for AssumeRole (default: costcutter)."))):
        command = click.option(name, key, metavar=name.lstrip("-").split("-")[-1].upper(), help=help_text)(command)
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
@console.verbosity_options
def cli():
    """Find the AWS resources that cost money and delete them, in every region, resumably.

    Dry run by default. Every action is recorded in a SQLite event log, so any run can be
    reported on, exported, and resumed after Ctrl-C, a crash or a reboot.
    """
    root = logging.getLogger()
    if not root.handlers:  # until a command sets up the diagnostic log, records go nowhere, never to the screen
        root.addHandler(logging.NullHandler())


# run, destroy

def sweep_options(command):
    """The options of `run` that `destroy` shares."""
    for option in reversed([
        click.option("--region", "regions", multiple=True, metavar="REGION", shell_complete=_completes("regions_or_all"),
                     help="Region to sweep (repeatable, or comma-separated); `all` for every enabled region."),
        click.option("--exclude-region", "excluded_regions", multiple=True, metavar="REGION",
                     shell_complete=_completes("regions"), help="Region not to sweep (repeatable, or comma-separated)."),
        click.option("--service", "services", multiple=True, metavar="SERVICE", shell_complete=_completes("services"),
                     help="Service (ec2) or type (ec2.instances) to sweep (repeatable); see `costcutter services`."),
        click.option("--exclude-service", "excluded", multiple=True, metavar="SERVICE",
                     shell_complete=_completes("services"), help="Service or type not to sweep (repeatable)."),
        click.option("--older-than", multiple=True, metavar="AGE",
                     help="Delete only what is older than AGE: 30m, 12h, 7d (created, or first seen by a run)."),
        click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
                     help="Delete only what has this tag (repeatable: every one of them)."),
        click.option("--exclude-tag", "excluded_tags", multiple=True, metavar="KEY=VALUE",
                     help="Keep what has this tag (repeatable)."),
        click.option("--exclude-id", "excluded_ids", multiple=True, metavar="ID",
                     help="Keep this resource, by id or ARN (repeatable)."),
        click.option("--yes", is_flag=True, help="Confirm a real deletion without the prompt (the account guards "
                                                  "still apply)."),
        click.option("--list", "listed", is_flag=True, help="End with every resource: id, name and outcome (what a "
                                                             "dry run would delete)."),
        console.output_option,
    ]):
        command = option(command)
    return store_options(aws_options(command))


@cli.command()
@sweep_options
@click.option("--dry-run/--no-dry-run", default=None, help="Only list what would be deleted (the default).")
@click.option("--resume", "resume_id", metavar="RUN_ID", shell_complete=_completes("run_ids"),
              help="Continue an interrupted run with its own configuration.")
@friendly_errors
def run(dry_run, resume_id, **options):
    """Sweep the chosen regions and services (a dry run unless --no-dry-run)."""
    _run(dry_run=dry_run, resume_id=resume_id, **options)


@cli.command()
@sweep_options
@friendly_errors
def destroy(**options):
    """Delete in the chosen regions and services: `run --no-dry-run`, with its confirmation."""
    _run(dry_run=False, resume_id=None, **options)


def _run(config_file, db, regions, excluded_regions, services, excluded, older_than, tags, excluded_tags,
         excluded_ids, dry_run, yes, resume_id, listed, **identity):
    selection = {"regions": _listed(regions), "excluded_regions": _listed(excluded_regions),
                 "services": _listed(services), "excluded_services": _listed(excluded), "dry_run": dry_run,
                 "filters": _flag_filters(older_than=older_than, tag=tags, exclude_tag=excluded_tags,
                                          exclude_id=excluded_ids)}
    resuming = resume_id is not None  # `--resume ""` too: an empty run id must never start a new run
    if resuming and any(value is not None for value in selection.values()):
        raise UsageProblem("--resume continues a run with the configuration it started with; drop --region, "
                           "--exclude-region, --service, --exclude-service, --older-than, --tag, --exclude-tag, "
                           "--exclude-id and --dry-run/--no-dry-run")
    # Warms up while the run is prepared (configuration, identity, confirmation), told the
    # run's types once the configuration is read; a resume's own types may differ: then all.
    region_server.start_early()
    settings = _load_settings(config_file, {**selection, **identity, "database": db})
    region_server.choose(None if resuming else settings.chosen_keys())
    _setup_logging(settings)
    confirm = functools.partial(confirmation.confirm_run, yes=yes)
    out = console.current()
    with _store.EventStore(settings.database_path, check_integrity=True, create=not resuming) as store:
        if not resuming:
            with lifecycle.started(store, settings, confirm) as started:
                raise SystemExit(_sweep(store, started, listed))
        with lifecycle.resumed(store, resume_id, settings, confirm,
                               identity_given=any(value is not None for value in identity.values())) as resumed:
            if resumed is None:
                out.result(f"Run {resume_id} already finished; there is nothing to resume. "
                           f"See `costcutter report {resume_id}`.")
                if out.json:
                    out.document(_report_document(store, resume_id))
                raise SystemExit(EXIT_OK)
            out.info(f"Resuming run {resume_id}.")
            raise SystemExit(_sweep(store, resumed, listed))


@cli.command()
@click.argument("plan_run_id", metavar="PLAN_RUN_ID", shell_complete=_completes("run_ids"))
@store_options
@aws_options
@click.option("--yes", is_flag=True, help="Confirm the deletion without the prompt (the account guards still apply).")
@click.option("--allow-stale-plan", is_flag=True, help="Apply a plan older than max_plan_age_hours all the same.")
@click.option("--list", "listed", is_flag=True, help="End with every resource: id, name and outcome.")
@console.output_option
@friendly_errors
def apply(plan_run_id, config_file, db, yes, allow_stale_plan, listed, **identity):
    """Delete exactly what a dry run (the plan) would delete, and nothing made since."""
    region_server.start()
    settings = _load_settings(config_file, {**identity, "database": db})
    _setup_logging(settings)
    confirm = functools.partial(confirmation.confirm_run, yes=yes)
    with _store.EventStore(settings.database_path, check_integrity=True, create=False) as store:
        with lifecycle.applied(store, plan_run_id, settings, confirm, allow_stale_plan) as started:
            if started is None:
                console.current().result(f"Plan {plan_run_id} would delete nothing; there is nothing to apply.")
                raise SystemExit(EXIT_OK)
            raise SystemExit(_sweep(store, started, listed))


def _load_settings(config_file, flags: dict) -> Settings:
    """The configuration, with what it ignored said on stderr (a misspelt COSTCUTTER_* variable)."""
    settings = config.load(config_file, {**flags, "log_level": console.current().effective_log_level})
    for warning in settings.warnings:
        console.current().warn(warning)
    return settings


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


def _sweep(store: EventStore, run: lifecycle.Run, listed: bool = False, show_summary: bool = True) -> int:
    """Sweep a claimed run with the live view, print what it did (every failed and kept
    resource, and with `listed` every resource); returns the exit code."""
    settings, out = run.settings, console.current()
    mode = "dry run (nothing is deleted)" if settings.dry_run else "REAL deletion"
    if run.plan:
        out.info(f"Run {run.id}: {mode} of the {plural(len(run.plan.resources), 'resource')} of plan "
                 f"{run.plan.run_id} ({len(run.units)} types and regions) in account {run.account}.")
    else:
        out.info(f"Run {run.id}: {mode} of {plural(len(settings.chosen_types()), 'resource type')} in "
                 f"{plural(len(settings.regions), 'region')} of account {run.account}.")
    view = progress.live_view(store, run.id, settings, quiet=out.quiet, units=run.units)
    stopping = functools.partial(view.note, "Stopping after the deletions in flight (Ctrl-C again to stop at once)...")
    try:
        outcome = lifecycle.sweep(store, run, on_progress=view.update, on_stopping=stopping)
    except KeyboardInterrupt:
        view.close()
        click.echo(f"\nRun {run.id} stopped at once. Resume it with: costcutter run --resume {run.id}", err=True)
        return EXIT_INTERRUPTED
    view.update()
    view.close()
    if show_summary:
        out.result()
        out.result(_summary(store, run.id, listed))
        out.result()
        out.result(_estimate(store, run.id, settings.dry_run))
    code = _exit_code(outcome)
    if outcome.interrupted:
        out.result(f"Run {run.id} was interrupted. Resume it with: costcutter run --resume {run.id}")
    else:
        out.result(f"Run {run.id} finished. Details: costcutter report {run.id}  "
                   f"(CSV: costcutter report {run.id} --csv {run.id}.csv)")
        if kept := store.outcome_counts(run.id)[events.SKIPPED]:
            out.result(f"{plural(kept, 'resource')} {'was' if kept == 1 else 'were'} kept, not deleted (by filters, "
                       "protection tags or protections, or held by a kept resource); the list above says why, for each.")
        if settings.dry_run:
            out.info("This was a dry run: nothing was deleted. Run again with --no-dry-run to delete, "
                     f"or delete exactly what it listed with: costcutter apply {run.id}")
    if code == EXIT_FAILED:
        click.echo(f"{plural(outcome.failed, 'resource')} failed, {outcome.unfinished_units} of "
                   f"{plural(outcome.total_units, 'unit')} did not finish.", err=True)
    if out.json:
        out.document({**_report_document(store, run.id), "exit_code": code})
    return code


def _exit_code(outcome: lifecycle.Outcome) -> int:
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if outcome.complete else EXIT_FAILED


# report, runs, services

def reader_may_leave(command):
    """`costcutter report --csv | head -1`: once the reader has what it wants and closes the
    pipe, stop writing and end quietly with exit code 0, as a Unix filter does (Python turns
    SIGPIPE into BrokenPipeError, so it is handled here), also under `set -o pipefail`."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
            sys.stdout.flush()  # what is still buffered meets the closed pipe here, not at exit
            return result
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor when Python flushes at exit
            raise SystemExit(EXIT_OK) from None
    return wrapper


@cli.command()
@click.argument("run_id", required=False, shell_complete=_completes("run_ids"))
@store_options
@click.option("--csv", "csv_path", is_flag=False, flag_value="-", metavar="[PATH]",
              help="Export the run as CSV to PATH; to standard output without PATH (or with -).")
@click.option("--resources", is_flag=True,
              help="With --csv: one row per resource (outcome, name, type, region, error), not one per event.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, with the resources of each outcome.")
@click.option("--list", "listed", is_flag=True, help="List every resource: id, name and outcome (what a dry run "
                                                     "would delete).")
@click.option("--full", is_flag=True, help="List each failed and kept resource, even when there are many "
                                           "(they are grouped by reason otherwise).")
@click.option("--plan", "plan_only", is_flag=True,
              help="Only the plan of a dry run: each resource it would delete, with id and name (also with --csv, --json).")
@friendly_errors
@reader_may_leave
def report(run_id, config_file, db, csv_path, resources, as_json, listed, full, plan_only):
    """What a run did, per region, service and outcome, and each resource that failed or was
    kept, and why (default: the latest run). A dry run is a plan: its report lists every
    resource it would delete, for `costcutter apply`."""
    _refuse_conflicting_formats(csv=csv_path is not None, resources=resources, json=as_json, list=listed, full=full)
    with _open_existing_store(config_file, db) as store:
        run_id = store.latest_run_id() if run_id is None else run_id
        run = store.run(run_id)
        if plan_only and not run["dry_run"]:
            raise UsageProblem(f"run {run_id} is a real run, not a plan; --plan reports a dry run "
                               "(see `costcutter runs`)")
        if csv_path is not None and plan_only:
            _write_csv(csv_path, PLAN_COLUMNS, map(_plan_csv_row, plans.rows(store, run_id)),
                       f"resources of plan {run_id}")
        elif csv_path is not None:
            _export_csv(store, run_id, csv_path, resources)
        elif as_json:
            _print_json_report(store, run, plan_only)
        else:
            _print_text_report(store, run, listed, full, plan_only)


def _refuse_conflicting_formats(**given: bool) -> None:
    """Flags that ask for two things at once are an error, never one of them silently ignored."""
    def flags(*names):
        return " and ".join(f"--{name}" for name in names if given[name])

    def are(*names):
        return "are" if sum(given[name] for name in names) > 1 else "is"

    if given["csv"] and given["json"]:
        raise UsageProblem("--csv and --json are two formats of the report; pass one of them")
    if given["resources"] and not given["csv"]:
        raise UsageProblem("--resources chooses the rows of the CSV export; pass it with --csv")
    if (given["list"] or given["full"]) and (given["csv"] or given["json"]):
        raise UsageProblem(f"{flags('list', 'full')} {are('list', 'full')} for the text report, and "
                           f"{flags('csv', 'json')} lists every resource already; pass one or the other")


def _print_json_report(store: EventStore, run: dict, plan_only: bool) -> None:
    click.echo(json.dumps(_report_document(store, run["id"], plan_only), indent=2))


def _print_text_report(store: EventStore, run: dict, listed: bool, full: bool, plan_only: bool) -> None:
    status = store.status(run["id"])
    summary = _summary(store, run["id"], listed, full)  # read before anything is shown: an unreadable log is one line
    estimate = _estimate(store, run["id"], run["dry_run"], per_type=True)
    planned = plans.rows(store, run["id"]) if run["dry_run"] else None
    mode = "dry run" if run["dry_run"] else "real deletion"
    applies = f", applying plan {run['plan_run_id']}" if run["plan_run_id"] else ""
    click.echo(f"Run {run['id']}: {mode}{applies}, account {run['account_id']}, started {run['created_at']}, "
               f"{status}.")
    if not plan_only:
        click.echo()
        click.echo(summary)
        click.echo()
        click.echo(estimate)
    if planned is not None:
        click.echo()
        click.echo(_plan_section(run["id"], planned))


PLAN_COLUMNS = ["region", "service", "resource_type", "resource_id", "name", "created", "tags", "properties"]


def _report_document(store: EventStore, run_id: str, plan_only: bool = False) -> dict:
    """What `report --json` and `--output json` print: the run, its outcomes with their
    resources, its problems, the estimate, and for a dry run its plan."""
    run = store.run(run_id)
    run_info = {key: run[key] for key in ("id", "created_at", "account_id", "dry_run", "version", "plan_run_id")}
    document = {"run": {**run_info, "status": store.status(run_id)}}
    if not plan_only:
        document.update(summary=store.summary(run_id), problems=store.problems(run_id),
                        totals=store.outcome_counts(run_id), resources=outcomes.by_outcome(store, run_id),
                        estimate=costs.run_estimate(store, run_id, run["dry_run"]))
    if run["dry_run"]:
        document["plan"] = plans.rows(store, run_id)
    return document


def _plan_section(run_id: str, planned: list[dict]) -> str:
    """A dry run as a plan a reviewer can sign off: every resource it would delete."""
    if not planned:
        return f"Plan {run_id} would delete nothing."
    table = format_table(planned, ["region", "service", "resource_type", "resource_id", "name"],
                         {"resource_type": "type", "resource_id": "id"})
    return (f"Plan {run_id}: {plural(len(planned), 'resource')} would be deleted. Delete exactly these with: "
            f"costcutter apply {run_id}\n\n{table}")


def _plan_csv_row(row: dict) -> dict:
    return {**row, **{key: json.dumps(row[key], sort_keys=True) for key in ("tags", "properties") if row[key]}}


def _estimate(store: EventStore, run_id: str, dry_run: bool, per_type: bool = False) -> str:
    """What the run saves (a dry run: would save) a month, always labelled an estimate: one
    sentence, or with per_type a table per service and type above it."""
    return costs.describe(costs.run_estimate(store, run_id, dry_run), dry_run, per_type)


def _summary(store: EventStore, run_id: str, listed: bool = False, full: bool = False) -> str:
    rows, outcome_columns = _pivot(store.summary(run_id))
    headers = {"resource_type": "type", events.SKIPPED: "kept"}
    lines = [format_table(rows, ["region", "service", "resource_type", *outcome_columns], headers)
             if rows else "No resources found."]
    for problem in store.problems(run_id):
        where = " ".join(filter(None, [problem["region"], problem["service"], problem["resource_type"]]))
        lines.append(f"! {where}: {problem['error_code']}: {problem['message']}")
    if listed and rows:
        lines.append("\nEvery resource:\n" + outcomes.resource_list(store, run_id))
    if attention := outcomes.needs_a_look(store, run_id, full):
        lines.append("\n" + attention)
    return "\n".join(lines)


def _pivot(summary: list[dict]) -> tuple[list[dict], list[str]]:
    present = [o for o in outcomes.ALL_OUTCOMES if any(r["outcome"] == o for r in summary)]
    rows: dict[tuple, dict] = {}
    for item in summary:
        key = (item["region"], item["service"], item["resource_type"])
        row = rows.setdefault(key, {"region": key[0], "service": key[1], "resource_type": key[2],
                                    **{o: 0 for o in present}})
        row[item["outcome"]] = item["count"]
    return list(rows.values()), present


# A cataloged resource's estimated monthly cost, in USD (costs.py), in the CSV export.
ESTIMATE_COLUMN = "estimated_usd_month"

# A text cell starting with one of these is run as a formula by spreadsheets (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _export_csv(store: EventStore, run_id: str, path: str, resources: bool) -> None:
    """Every event of the run, one row each; with `resources`, every resource in its latest state."""
    if resources:
        columns, stored, noun = list(_store.RESOURCE_COLUMNS), iter(store.resources(run_id)), "resources"
    else:
        book = costs.PriceBook.of(store)
        columns = [column.name for column in store.db["events"].columns] + [ESTIMATE_COLUMN]
        stored = ({**event, ESTIMATE_COLUMN: costs.event_estimate(event, book)} for event in store.events(run_id))
        noun = "events"
    # The first row is read before the file is opened: a log that cannot be read is one line,
    # and an export already there is left as it was.
    first = next(stored, None)
    rows = stored if first is None else itertools.chain([first], stored)
    _write_csv(path, columns, rows, f"{noun} of run {run_id}")


def _write_csv(path: str, columns: list[str], rows, what: str) -> None:
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
        click.echo(f"Wrote {count} {what} to {path}.")


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
@console.output_option
@friendly_errors
@reader_may_leave
def runs(config_file, db):
    """The runs in the event log, with their status and counts, and where the log is."""
    out = console.current()
    path = _database_path(config_file, db)
    if not path.exists():
        if out.json:
            out.document({"database": str(path), "runs": []})
            return
        out.result(f"No runs yet: there is no event log at {path}.\n"
                   "Start with a dry run, which deletes nothing: costcutter run --region us-east-1")
        return
    with _store.EventStore(path, read_only=True) as store:
        rows = store.runs()
        for row in rows:
            row["estimate"] = costs.money(costs.savings(store, row["id"], row["dry_run"]).usd)
    if out.json:
        out.document({"database": str(path), "runs": rows})
        return
    for row in rows:
        row["mode"] = ("dry run" if row["dry_run"] else f"applies {row['plan_run_id']}" if row["plan_run_id"]
                       else "real")
        row["created_at"] = row["created_at"][:19].replace("T", " ")
    out.result(format_table(rows, ["id", "created_at", "account_id", "mode", "status", events.DELETED,
                                   events.WOULD_DELETE, events.ALREADY_GONE, events.FAILED, events.SKIPPED, "pending",
                                   "estimate"],
                            {"created_at": "started", "account_id": "account", events.SKIPPED: "kept",
                             "estimate": "estimated saving/month"})
               if rows else "No runs yet.")
    out.result(f"Event log: {path}")


@cli.command()
@reader_may_leave
@console.verbosity_options
@console.output_option
def services():
    """What CostCutter can clean: every resource type, its scope and what it depends on."""
    out = console.current()
    types = sorted(registry.resource_types(), key=lambda t: t.service)  # stable: keeps dependency order
    if out.json:
        out.document([{"service": t.service, "type": t.name, "key": t.key, "scope": t.scope,
                       "depends_on": list(t.dependencies), "settings": list(t.all_settings), "summary": t.summary}
                      for t in types])
        return
    rows = [{"service": t.service, "resource_type": t.name, "scope": t.scope, "depends_on": ", ".join(t.dependencies),
             "settings": ", ".join(t.all_settings), "summary": t.summary} for t in types]
    out.result(format_table(rows, ["service", "resource_type", "scope", "depends_on", "settings", "summary"],
                            {"resource_type": "type", "depends_on": "depends on"}))


@cli.group(cls=_Group)
def prices():
    """The prices that cost estimates use: on-demand list prices (see costcutter/prices.json)."""


@prices.command()
@store_options
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Region to fetch prices for (repeatable, or comma-separated; default us-east-1).")
@friendly_errors
def update(config_file, db, regions):
    """Fetch the prices from the AWS Price List Query API into the event log's database."""
    import botocore.exceptions  # here, not at the top: --help must not load botocore
    chosen = [region.strip() for value in regions for region in value.split(",")] or [costs.PRICING_REGION]
    unknown = [region for region in chosen if region not in aws.known_regions()]
    if unknown:
        raise UsageProblem(f"--region {unknown[0]!r} is not an AWS region; pass a region such as us-east-1")
    settings = _load_settings(config_file, {"database": db})
    client = aws.client(aws.make_session(settings.identity), "pricing", costs.PRICING_REGION)
    try:
        rows, result = costs.fetch_prices(client, chosen)
    except botocore.exceptions.NoCredentialsError:
        raise UsageProblem("no AWS credentials found; set AWS_PROFILE or configure credentials "
                           "(`aws configure`), then try again") from None
    except botocore.exceptions.ClientError as error:
        raise UsageProblem(f"the AWS Price List Query API refused: {aws.error_code(error)}: "
                           f"{aws.error_message(error)}; the credentials need pricing:GetProducts") from None
    with _store.EventStore(settings.database_path) as store:
        costs.save_prices(store, rows)
    click.echo(f"Fetched {len(result.fetched)} prices into {settings.database_path}; estimates use them from now on.")
    if result.kept:
        click.echo(f"{len(result.kept)} prices keep the figure shipped with CostCutter:")
        for key, region, why in result.kept:
            click.echo(f"  {key} ({region}): {why}")


def _open_existing_store(config_file, db) -> EventStore:
    return _store.EventStore(_database_path(config_file, db), read_only=True)


def _database_path(config_file, db) -> Path:
    return Path(_load_settings(config_file, {"database": db}).database_path)


def _setup_logging(settings: Settings) -> None:
    """A log_dir that was asked for must work; the default one is only worth a warning. With
    -v, the diagnostic log is shown on stderr too."""
    out = console.current()
    try:
        logs.setup_main(settings.log_path, settings.log_level)
    except OSError as error:
        if settings.log_dir is not None:
            raise settings.problem("log_dir", f"cannot write the diagnostic log in {settings.log_path} "
                                              f"({error.strerror}); use a folder you can write, or leave log_dir "
                                              "unset for the default") from None
        out.warn(f"cannot write the diagnostic log in {settings.log_path} ({error.strerror}); going on without it.")
    if out.verbose:
        logs.echo_to_stderr(settings.log_level)


# demo

@cli.command()
@click.option("--db", type=click.Path(dir_okay=False), help="Keep the demo's event log here (default: a temporary "
                                                            "one, removed at the end).")
@console.verbosity_options
@friendly_errors
def demo(db):
    """Sweep a local sandbox: a moto server on 127.0.0.1, seeded with resources; never real AWS."""
    with tempfile.TemporaryDirectory(prefix="costcutter-demo-") as workdir:
        _demo(Path(workdir), Path(db) if db else None)
    if db:
        click.echo(f"\nTry: costcutter report --db {db}   or   costcutter report --db {db} --csv -")
    else:
        click.echo("\nThe demo's event log was in a temporary folder, now removed; `costcutter demo --db PATH` "
                   "keeps it, to explore with `costcutter report --db PATH`.")


def _demo(workdir: Path, kept_db: Path | None) -> None:
    db_path = kept_db or workdir / "costcutter.db"
    with sandbox.running_server() as endpoint:
        click.echo(f"Started a local AWS sandbox (moto) at {endpoint}; dummy credentials, no real AWS.")
        _seed_demo()
        base = _load_settings(None, {"regions": list(DEMO_REGIONS), "services": "all", "database": str(db_path),
                                     "log_dir": str(workdir), "wait_timeout": 30})
        _setup_logging(base)
        run_ids = []
        for dry_run in (True, False):
            step = "1. A dry run lists what would be deleted" if dry_run else "2. A real run deletes it"
            click.echo(f"\n== {step}: costcutter run --region {' --region '.join(DEMO_REGIONS)}"
                       f"{'' if dry_run else ' --no-dry-run --yes'}")
            with _store.EventStore(db_path) as store, \
                    lifecycle.started(store, dataclasses.replace(base, dry_run=dry_run), _confirmed) as started:
                code = _sweep(store, started, show_summary=False)
                run_ids.append(started.id)
            if code != EXIT_OK:
                raise SystemExit(code)
        with _store.EventStore(db_path, read_only=True) as store:
            _explain_demo_counts(store, *run_ids)
        click.echo("\n== 3. What is left in the sandbox")
        session = boto3.Session()
        left = [{"region": region, "resources": sum(map(len, sandbox.inventory(region, session=session).values()))}
                for region in (*DEMO_REGIONS, registry.GLOBAL_REGION)]
        click.echo(format_table(left, ["region", "resources"], {"resources": "resources left"}))
        click.echo(f"\n== 4. The event log is the record: costcutter runs --db {db_path}")
        runs.callback(config_file=None, db=str(db_path))


def _seed_demo() -> None:
    warnings.filterwarnings("ignore", module="moto")  # what moto cannot parse of a seeded template is moto's business
    for region in DEMO_REGIONS:
        made = sandbox.seed(region)
        stack = sandbox.seed_stack(region)
        click.echo(f"Seeded {region}: one resource of each of {plural(len(made), 'type')}, and a web stack of "
                   f"{plural(len(stack), 'part')} ({', '.join(stack)}).")
    made = sandbox.seed(registry.GLOBAL_REGION)
    click.echo(f"Seeded the account: one resource of each of {plural(len(made), 'global type')} (IAM, Route 53, "
               "CloudFront, ...).")
    click.echo("Seeding one resource often makes others, which a sweep finds too: an instance comes with its root "
               "volume and network interface, an AMI with its snapshot, an Auto Scaling group or a spot fleet "
               "launches instances of its own. So the dry run lists more resources than were seeded by name.")


def _explain_demo_counts(store: EventStore, dry_run_id: str, real_run_id: str) -> None:
    """Per service, what the dry run listed and the real run deleted, and why the two differ."""
    listed = _counts_by_type(store, dry_run_id, events.WOULD_DELETE)
    deleted = _counts_by_type(store, real_run_id, events.DELETED)
    by_service = {}
    for key in sorted(listed.keys() | deleted.keys()):
        row = by_service.setdefault(key.split(".")[0], {"service": key.split(".")[0], "listed": 0, "deleted": 0})
        row["listed"] += listed.get(key, 0)
        row["deleted"] += deleted.get(key, 0)
    click.echo(f"\nThe dry run listed {plural(sum(listed.values()), 'resource')}; the real run deleted "
               f"{sum(deleted.values())}:")
    click.echo(format_table(list(by_service.values()), ["service", "listed", "deleted"],
                            {"listed": "listed by the dry run", "deleted": "deleted by the real run"}))
    fewer = [{"type": key, "listed": count, "deleted": deleted.get(key, 0),
              "why": _why_gone_along(key)}
             for key, count in sorted(listed.items()) if deleted.get(key, 0) < count]
    if fewer:
        missing = sum(row["listed"] - row["deleted"] for row in fewer)
        them = "it" if missing == 1 else "them"
        click.echo(f"\n{plural(missing, 'resource')} the dry run listed went with something deleted before {them}, "
                   f"so the real run found {them} gone:")
        click.echo(format_table(fewer, ["type", "listed", "deleted", "why"]))


def _why_gone_along(key: str) -> str:
    """Why the real run found fewer of a type than the dry run listed: what AWS deletes it
    along with (its declaration says), or a quirk of the sandbox."""
    rtype = registry.by_key().get(key)
    return (rtype and rtype.goes_with) or sandbox.MOTO_QUIRKS.get(key, "gone before the real run came to it")


def _counts_by_type(store: EventStore, run_id: str, outcome: str) -> dict[str, int]:
    counts = collections.Counter()
    for row in store.summary(run_id):
        if row["outcome"] == outcome:
            counts[f"{row['service']}.{row['resource_type']}"] += row["count"]
    return dict(counts)


def _confirmed(account: guards.Account, settings: Settings, plan) -> None:
    """The demo's sandbox has nothing to lose: no confirmation."""


def main():
    try:
        cli(prog_name="costcutter")
    except SystemExit as stop:
        quick_exit.now(stop.code)
        raise
