"""The confirmation before a real deletion: the account, the regions and, per service, how
many resources will be deleted; the user types the account id to go on.

`confirm_deletion` is the prompt itself, for any counts (an apply's from its plan; a run's from a dry pass made
just before it, see `count_deletions`). `--yes` skips the counting and the prompt, never the
account guards (costcutter/guards.py), which are checked before either.
"""

import collections
import dataclasses
import sys
import tempfile
from pathlib import Path

import click
from tqdm import tqdm

from costcutter import events, orchestrator
from costcutter.config import Settings
from costcutter.guards import Account
from costcutter.plans import Plan
from costcutter.store import EventStore
from costcutter.tables import format_table, plural

EXIT_REFUSED, EXIT_NOT_CONFIRMED, EXIT_INTERRUPTED = 2, 1, 130
SHOWN_REGIONS = 5


class NotConfirmed(click.ClickException):
    exit_code = EXIT_REFUSED


def confirm_run(account: Account, settings: Settings, plan: Plan | None = None, *, yes: bool) -> None:
    """A run's confirmation: with --yes, none; otherwise the resources it would delete are
    shown (those of the plan it applies, or counted by a dry run of its settings), and the
    account id must be typed."""
    if yes:
        return
    require_terminal()
    if plan is not None:
        counts = collections.Counter(row["service"] for row in plan.resources)
        confirm_deletion(account.id, account.alias, plan.regions, dict(counts))
        return
    click.echo(f"Counting what a real run would delete: a dry run of {plural(len(settings.regions), 'region')}, "
               "nothing is deleted...")
    counts = count_deletions(settings, account.id)
    confirm_deletion(account.id, account.alias, list(settings.regions), counts)


def require_terminal() -> None:
    if not at_a_terminal():
        raise NotConfirmed("refusing to delete without confirmation: there is no terminal to ask at; "
                           "pass --yes to confirm, or --dry-run to only list")


def at_a_terminal() -> bool:
    return sys.stdin.isatty()


def confirm_deletion(account: str, alias: str | None, regions: list[str], counts: dict[str, int]) -> None:
    """Show what a real deletion will delete (counts: resources per service) in which
    account and regions, and return only once the account id is typed; otherwise exit 1,
    nothing deleted."""
    require_terminal()
    shown = ", ".join(regions[:SHOWN_REGIONS])
    if len(regions) > SHOWN_REGIONS:
        shown += f" and {len(regions) - SHOWN_REGIONS} more"
    named = f"{account} ({alias})" if alias else f"{account} (no alias)"
    total = sum(counts.values())
    click.echo(f"This DELETES {plural(total, 'resource')} in AWS account {named}, in "
               f"{plural(len(regions), 'region')}: {shown}.")
    if counts:
        rows = [{"service": service, "resources": count} for service, count in sorted(counts.items())]
        click.echo(format_table(rows, ["service", "resources"]))
    typed = click.prompt("Type the account id to go on", default="", show_default=False)
    if typed.strip() != account:
        click.echo("The account id does not match; nothing was deleted.", err=True)
        raise SystemExit(EXIT_NOT_CONFIRMED)


def count_deletions(settings: Settings, account: str) -> dict[str, int]:
    """Per service, how many resources a real run of these (resolved) settings would
    delete now: a dry run of the same units by the orchestrator, recorded in an event log
    of its own in a private temporary folder, removed after, so the user's log holds only
    the runs they asked for."""
    with tempfile.TemporaryDirectory(prefix="costcutter-count-") as folder:
        dry = dataclasses.replace(settings, dry_run=True, database=str(Path(folder) / "count.db"))
        with EventStore(dry.database_path) as store:
            run_id = store.create_run(dry.to_dict(), account, dry_run=True)
            bar = tqdm(total=len(orchestrator.plan(dry)), unit="unit", desc="counting", disable=None, leave=False)

            def show_progress():
                if not bar.disable:
                    bar.n = store.completed_unit_count(run_id)
                    bar.refresh()

            try:
                result = orchestrator.sweep(store, run_id, dry, on_progress=show_progress)
            except KeyboardInterrupt:
                result = orchestrator.SweepResult(interrupted=True)
            finally:
                bar.close()
            if result.interrupted:
                click.echo("Stopped while counting; nothing was deleted.", err=True)
                raise SystemExit(EXIT_INTERRUPTED)
            counts = collections.Counter()
            for row in store.summary(run_id):
                if row["outcome"] == events.WOULD_DELETE:
                    counts[row["service"]] += row["count"]
            failed = store.outcome_counts(run_id)[events.FAILED]
    if failed:
        click.echo(f"Warning: {plural(failed, 'listing')} failed while counting, so the counts may be short; "
                   "the run will report why.", err=True)
    return dict(counts)

