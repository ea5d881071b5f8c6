"""A run's life: starting one, resuming one, sweeping it, and what is left of it.

The CLI asks (the confirmation), shows (progress, summaries) and exits; what a run is and
how it goes is decided here, from the settings and the event log. A run is claimed in the
log before any AWS call, so no two processes ever sweep it at once.
"""

import contextlib
import dataclasses
import signal
from collections.abc import Callable, Iterator

from costcutter import aws, config, events, orchestrator
from costcutter.config import Settings
from costcutter.store import EventStore

Confirm = Callable[[str, list[str]], None]  # (account, regions): raises to refuse
IDENTITY_KEYS = ("aws_profile", "assume_role_arn", "external_id", "role_session_name")


class RunRefused(Exception):
    """The run cannot go on as asked; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Run:
    """A run claimed by this process, ready to sweep."""
    id: str
    settings: Settings   # resolved: regions and services named, not `all`
    account: str


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
    """A new run of these settings: the account checked, `all` regions resolved, the
    deletion confirmed, the run recorded and claimed."""
    session = aws.make_session(settings.identity)
    account = aws.account_id(session)
    regions = settings.chosen_regions(aws.enabled_regions(session) if settings.regions == "all" else None)
    if not regions:
        raise settings.problem("excluded_regions", f"{settings.excluded_regions!r} excludes every region enabled "
                                                   f"for account {account}; exclude fewer regions")
    if not settings.dry_run:
        confirm(account, regions)
    # Recorded by type, so a resume sweeps exactly these, whatever types later versions add.
    resolved = dataclasses.replace(settings, regions=regions, services=[t.key for t in settings.chosen_types()],
                                   excluded_services=[], excluded_regions=[])
    run_id = store.create_run(resolved.to_dict(), account, settings.dry_run)
    with store.claim(run_id):
        yield Run(run_id, resolved, account)


@contextlib.contextmanager
def resumed(store: EventStore, run_id: str, settings: Settings, confirm: Confirm,
            identity_given: bool = False) -> Iterator[Run | None]:
    """The run as it was started, claimed again; None when it finished with nothing left.
    Only the database, the diagnostic log, the status interval and, when this invocation
    names one (identity_given), who to act as come from this invocation's settings: the
    account must be the run's all the same."""
    recorded = store.run(run_id)
    own = dataclasses.replace(config.restore(recorded["config"]), database=str(store.path),
                              log_dir=settings.log_dir, log_level=settings.log_level,
                              status_interval=settings.status_interval)
    if identity_given:
        own = dataclasses.replace(own, **{key: getattr(settings, key) for key in IDENTITY_KEYS})
    if store.status(run_id) == "finished" and not unfinished_units(store, run_id, own):
        yield None
        return
    with store.claim(run_id):  # before any AWS call: a second resume of the run stops here
        account = aws.account_id(aws.make_session(own.identity))
        if recorded["account_id"] and account != recorded["account_id"]:
            raise RunRefused(f"run {run_id} swept account {recorded['account_id']}, but these credentials are for "
                             f"account {account}; use the credentials of {recorded['account_id']}")
        if not own.dry_run:
            confirm(account, own.regions)
        yield Run(run_id, own, account)


def sweep(store: EventStore, run: Run, on_progress=None, on_stopping=None) -> Outcome:
    """Sweep a claimed run. SIGTERM stops it like Ctrl-C: after the deletions in flight; a
    second one stops at once, raising KeyboardInterrupt. Either way the log records the run
    as interrupted, to be resumed."""
    previous_handler = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        result = orchestrator.sweep(store, run.id, run.settings, on_progress=on_progress, on_stopping=on_stopping)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    counts = store.outcome_counts(run.id)
    return Outcome(run.id, result.interrupted, unfinished_units(store, run.id, run.settings),
                   len(orchestrator.plan(run.settings)), counts[events.FAILED], counts["pending"])


def unfinished_units(store: EventStore, run_id: str, settings: Settings) -> int:
    return len(orchestrator.plan(settings)) - store.completed_unit_count(run_id)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt()
