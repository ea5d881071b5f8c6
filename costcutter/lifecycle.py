"""A run's life: starting one, resuming one, sweeping it, and what is left of it.

The CLI asks (the confirmation), shows (progress, summaries) and exits; what a run is and
how it goes is decided here, from the settings and the event log. A run is claimed in the
log before any AWS call, so no two processes ever sweep it at once.
"""

import contextlib
import dataclasses
import signal
from collections.abc import Callable, Iterator

from costcutter import aws, config, events, guards, orchestrator, plans
from costcutter.config import Settings
from costcutter.plans import Plan
from costcutter.store import EventStore

# (the account the guards let through, the run's resolved settings, the plan it applies if
# any): raises or exits to refuse.
Confirm = Callable[[guards.Account, Settings, Plan | None], None]
IDENTITY_KEYS = ("aws_profile", "assume_role_arn", "external_id", "role_session_name")


class RunRefused(Exception):
    """The run cannot go on as asked; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Run:
    """A run claimed by this process, ready to sweep."""
    id: str
    settings: Settings   # resolved: regions and services named, not `all`
    account: str
    plan: Plan | None = None  # the plan an apply carries out

    @property
    def units(self) -> list[orchestrator.Unit]:
        return orchestrator.plan(self.settings, self.plan)


@dataclasses.dataclass(frozen=True)
class Outcome:
    run_id: str
    interrupted: bool
    unfinished_units: int
    total_units: int
    failed: int
    pending: int

    @property
    def complete(self) -> bool:
        """Everything asked for was done: exit code 0."""
        return not (self.interrupted or self.unfinished_units or self.failed or self.pending)


@contextlib.contextmanager
def started(store: EventStore, settings: Settings, confirm: Confirm) -> Iterator[Run]:
    """A new run of these settings: the account checked against the guards, `all` regions
    resolved, the deletion confirmed, the run recorded and claimed."""
    session = aws.make_session(settings.identity)
    # `all` regions are read while the account is identified: the answer waits for the guards.
    # So are the chosen types imported (registry.discover: a hundred modules), which the sweep
    # needs next: no call to AWS, and CPU this process has to spare while it waits for the answer.
    reads = (aws.enabled_regions,) if settings.regions == "all" else ()
    account_id, alias_read, types_read, *regions_read = guards.identified(
        session, lambda _: settings.chosen_types(), *reads)
    account = guards.checked_account(session, account_id, settings, alias_read=alias_read)
    regions = settings.chosen_regions(regions_read[0].result() if regions_read else None)
    if not regions:
        raise settings.problem("excluded_regions", f"{settings.excluded_regions!r} excludes every region enabled "
                                                   f"for account {account.id}; exclude fewer regions")
    # Recorded by type, so a resume sweeps exactly these, whatever types later versions add.
    resolved = dataclasses.replace(settings, regions=regions, services=[t.key for t in types_read.result()],
                                   excluded_services=[], excluded_regions=[])
    if not settings.dry_run:
        confirm(account, resolved, None)
    run_id = store.create_run(resolved.to_dict(), account.id, settings.dry_run)
    with store.claim(run_id):
        yield Run(run_id, resolved, account.id)


@contextlib.contextmanager
def resumed(store: EventStore, run_id: str, settings: Settings, confirm: Confirm,
            identity_given: bool = False) -> Iterator[Run | None]:
    """The run as it was started, claimed again; None when it finished with nothing left.
    Only the database, the diagnostic log, the status interval and, when this invocation
    names one (identity_given), who to act as come from this invocation's settings: the
    account must be the run's all the same."""
    recorded = store.run(run_id)
    own = _own(recorded["config"], store, settings)
    if identity_given:
        own = dataclasses.replace(own, **{key: getattr(settings, key) for key in IDENTITY_KEYS})
    # An apply's restriction, read from the log like everything a resume needs.
    applying = plans.read(store, recorded["plan_run_id"]) if recorded["plan_run_id"] else None
    if store.status(run_id) == "finished" and not unfinished_units(store, run_id, own, applying):
        yield None
        return
    with store.claim(run_id):  # before any AWS call: a second resume of the run stops here
        # The guards in force now, and those the run started with: an account denied since is refused.
        account = _checked_account(own, f"run {run_id} swept", recorded["account_id"], settings, own)
        if not own.dry_run:
            confirm(account, own, applying)
        yield Run(run_id, own, account.id, applying)


@contextlib.contextmanager
def applied(store: EventStore, plan_run_id: str, settings: Settings, confirm: Confirm,
            allow_stale: bool = False) -> Iterator[Run | None]:
    """A new real run that deletes what the plan (a finished dry run) would delete, with the
    plan's configuration; None when the plan would delete nothing. Refused (RunRefused)
    when the plan is not a dry run, did not finish, is older than max_plan_age_hours
    (unless allow_stale), or is of another account."""
    recorded = store.run(plan_run_id)
    if not recorded["dry_run"]:
        raise RunRefused(f"run {plan_run_id} is a real run, not a plan; apply a dry run's id "
                         "(`costcutter runs` lists them as `dry run`)")
    own = dataclasses.replace(_own(recorded["config"], store, settings), dry_run=False)
    status, unlisted = store.status(plan_run_id), unfinished_units(store, plan_run_id, own)
    if status != "finished" or unlisted:
        why = status if status != "finished" else f"{unlisted} of its units could not be listed"
        raise RunRefused(f"plan {plan_run_id} did not finish ({why}), so it may not list everything; "
                         f"finish it with `costcutter run --resume {plan_run_id}`, or make a new plan")
    applying = plans.read(store, plan_run_id)
    age, limit = applying.age_hours(), settings.max_plan_age_hours
    if age > limit and not allow_stale:
        raise RunRefused(f"plan {plan_run_id} is {age:.0f} hours old, older than max_plan_age_hours ({limit}); "
                         "make a new plan, or pass --allow-stale-plan to apply it all the same")
    if not applying.resources:
        yield None
        return
    account = _checked_account(own, f"plan {plan_run_id} lists resources of", recorded["account_id"], settings, own)
    confirm(account, own, applying)
    run_id = store.create_run(own.to_dict(), account.id, dry_run=False, plan_run_id=plan_run_id)
    with store.claim(run_id):
        yield Run(run_id, own, account.id, applying)


def _own(recorded_config: dict, store: EventStore, settings: Settings) -> Settings:
    """A recorded run's configuration; only the database, the diagnostic log and the status
    interval come from this invocation's settings."""
    return dataclasses.replace(config.restore(recorded_config), database=str(store.path),
                               log_dir=settings.log_dir, log_level=settings.log_level,
                               status_interval=settings.status_interval)


def _checked_account(settings: Settings, run_was: str, recorded_account: str | None,
                     *guarded_by: Settings) -> guards.Account:
    """The account of the credentials, refused unless it is the one the run was for and the
    guards of `guarded_by` let it through."""
    session = aws.make_session(settings.identity)
    account, alias_read = guards.identified(session)
    if recorded_account and account != recorded_account:
        raise RunRefused(f"{run_was} account {recorded_account}, but these credentials are for "
                         f"account {account}; use the credentials of {recorded_account}")
    return guards.checked_account(session, account, *guarded_by, alias_read=alias_read)


def sweep(store: EventStore, run: Run, on_progress=None, on_stopping=None) -> Outcome:
    """Sweep a claimed run. SIGTERM stops it like Ctrl-C: after the deletions in flight; a
    second one stops at once, raising KeyboardInterrupt. Either way the log records the run
    as interrupted, to be resumed."""
    previous_handlers = {signum: signal.signal(signum, orchestrator.INTERRUPTS.handler)
                         for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = orchestrator.sweep(store, run.id, run.settings, on_progress=on_progress, on_stopping=on_stopping,
                                    applying=run.plan)
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
    counts = store.outcome_counts(run.id)
    return Outcome(run.id, result.interrupted, unfinished_units(store, run.id, run.settings, run.plan),
                   len(run.units), counts[events.FAILED], counts["pending"])


def unfinished_units(store: EventStore, run_id: str, settings: Settings, applying: Plan | None = None) -> int:
    return len(orchestrator.plan(settings, applying)) - store.completed_unit_count(run_id)
