"""The engine: runs a declared resource type in one region, recording every step.

For one type in one region (or once, for a global type) it catalogs the resources, takes
each through the steps of its teardown on a thread pool, retries the conflicts that clear
up, and waits (one poll per type, never one per resource) until AWS has finished the
deletions it runs in the background. Every step that changes something is on disk before
its call goes out, so a resume starts each teardown at the step where it stopped and
never repeats one that finished.

The three functions every type offers (the pattern of the original design):

    catalog_<resources>(session, region, reporter)                      -> list of Resource
    cleanup_<resource>(session, region, resource, reporter, dry_run)     -> outcome
    cleanup_<resources>(session, region, reporter, dry_run=True)         -> {id: outcome}
"""

import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions

from costcutter import aws, config, events, scope
from costcutter.registry import GLOBAL_REGION, Resource, ResourceType, Step
from costcutter.reporter import Interrupted, Reporter

log = logging.getLogger(__name__)

STOPPED = "stopped"
_PROTECTED = "protected"  # a deletion refused because of a protection: lift it, or skip
FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 15.0
LONGEST_RETRY_SECONDS = 30.0


class Target:
    """What a type's list, steps and wait are given: its client in the region, any other
    service's client there, and the run's settings."""

    def __init__(self, rtype: ResourceType, session, region: str, reporter: Reporter | None = None):
        self.rtype, self.session, self.region, self.reporter = rtype, session, region, reporter

    @property
    def client(self):
        return self.client_for(self.rtype.client)

    def client_for(self, service: str):
        region = aws.home_region(self.session) if self.region == GLOBAL_REGION else self.region
        threads = self.reporter.threads if self.reporter else 0
        return aws.client(self.session, service, region, pool_size=max(10, threads * 2))

    @property
    def settings(self) -> dict:
        return self.reporter.settings if self.reporter else {}

    def setting(self, key: str):
        """One of the run's type settings; its built-in default where the run gives none (a
        handler called without a configured run, as in the tests)."""
        return self.settings[key] if key in self.settings else _default_type_settings()[key]


@functools.cache
def _default_type_settings() -> dict:
    return config.restore({}).type_settings()


def catalog(rtype: ResourceType, session, region: str, reporter: Reporter) -> list[Resource]:
    """The resources of this type in the region, each recorded as cataloged once per run,
    with its name, tags, creation time and properties. An apply sees only those its plan
    would delete: one made since is never touched, nor recorded."""
    listed = {}
    planned = reporter.planned(rtype.service, rtype.name)
    for resource in rtype.list(Target(rtype, session, region, reporter)):
        if planned is None or resource.id in planned:
            listed.setdefault(resource.id, resource)
    for resource in listed.values():
        if reporter.previous_state(rtype.service, rtype.name, resource.id) is None:
            reporter.record(events.CATALOGED, rtype.service, rtype.name, resource.id,
                            properties=resource.description())
    return list(listed.values())


def cleanup_one(rtype: ResourceType, session, region: str, resource: Resource | str, reporter: Reporter,
                dry_run: bool, waited_for: tuple[str, ...] = ()) -> str:
    """Take one resource through its teardown, from the step the log says is next."""
    resource = resource if isinstance(resource, Resource) else Resource(id=resource)
    teardown = _Teardown(rtype, Target(rtype, session, region, reporter), resource, waited_for)
    previous = reporter.previous_state(rtype.service, rtype.name, resource.id)
    if previous in events.DONE or (dry_run and previous == events.WOULD_DELETE):
        return previous  # dealt with earlier in this run: never delete twice
    if reporter.stopping:
        return STOPPED
    if dry_run:
        return teardown.record(events.WOULD_DELETE)
    return teardown.run(resumed_request=previous == events.DELETE_REQUESTED)


def cleanup_all(rtype: ResourceType, session, region: str, reporter: Reporter, dry_run: bool = True,
                waited_for: tuple[str, ...] = ()) -> dict[str, str]:
    """Catalog the region's resources of this type, clean them several at once, and wait
    until AWS has finished deleting them.

    `waited_for` names dependencies that did not finish cleanly, for the failures' messages.
    Raises Interrupted when asked to stop before every resource was dealt with.
    """
    resources = catalog(rtype, session, region, reporter)
    outcomes = _keep(rtype, Target(rtype, session, region, reporter), resources)
    if not dry_run:
        outcomes |= delete_in_batches(rtype, session, region, [r for r in resources if r.id not in outcomes],
                                      reporter, waited_for)
    resources = [r for r in resources if r.id not in outcomes]
    with ThreadPoolExecutor(max_workers=reporter.threads, thread_name_prefix=f"{region}-{rtype.name}") as pool:
        outcomes.update(zip((r.id for r in resources), pool.map(
            lambda r: cleanup_one(rtype, session, region, r, reporter, dry_run, waited_for), resources)))
    for resource_id, state in reporter.unfinished(rtype.service, rtype.name).items():
        if resource_id not in outcomes:
            outcomes[resource_id] = _settle_unlisted(rtype, reporter, resource_id, state)
    outcomes.update(_gone_since_the_plan(rtype, reporter, outcomes))
    if STOPPED in outcomes.values():
        raise Interrupted()
    deleted = [rid for rid, outcome in outcomes.items() if outcome == events.DELETED]
    if rtype.wait and deleted:
        wait_until_gone(rtype, Target(rtype, session, region, reporter), deleted)
    return outcomes


def delete_in_batches(rtype: ResourceType, session, region: str, resources: list[Resource], reporter: Reporter,
                      waited_for: tuple[str, ...] = ()) -> dict[str, str]:
    """Delete, many in one call, the resources of a type with a Batch whose teardown is the
    deletion alone (new in this run, no step before it, no protection showing); returns
    their outcomes. Each is recorded as requested before the call and deleted after it; a
    call that fails is taken again one resource at a time, so each gets its own outcome, and
    so is each id that a call answering success says it could not delete."""
    if rtype.batch is None:
        return {}
    target = Target(rtype, session, region, reporter)
    ready = [r for r in resources if _deleted_alone(rtype, r, reporter)]
    outcomes = {}
    for start in range(0, len(ready), rtype.batch.size):
        if reporter.stopping:
            break
        outcomes.update(_delete_batch(rtype, target, ready[start:start + rtype.batch.size], waited_for))
    return outcomes


def _deleted_alone(rtype: ResourceType, resource: Resource, reporter: Reporter) -> bool:
    protection = rtype.protection
    return (reporter.previous_state(rtype.service, rtype.name, resource.id) is None
            and not any(step.needed_for(resource) for step in rtype.steps[:-1])
            and not (protection and protection.is_on and protection.is_on(resource)))


def _delete_batch(rtype: ResourceType, target: Target, batch: list[Resource], waited_for) -> dict[str, str]:
    reporter = target.reporter
    for resource in batch:
        reporter.record(events.DELETE_REQUESTED, rtype.service, rtype.name, resource.id, durable=True)
    try:
        unsuccessful = set(rtype.batch.call(target, [r.id for r in batch]) or ())
    except botocore.exceptions.ClientError as error:
        log.info("%s in %s: deleting %d at once failed (%s); one at a time", rtype.key, target.region, len(batch),
                 aws.error_code(error))
        unsuccessful = {r.id for r in batch}
    for resource in batch:
        if resource.id not in unsuccessful:
            reporter.record(events.DELETED, rtype.service, rtype.name, resource.id)
    return {r.id: _Teardown(rtype, target, r, waited_for).run(resumed_request=False, requested=True)
            if r.id in unsuccessful else events.DELETED for r in batch}


def _held_by_kept(rtype: ResourceType, reporter: Reporter) -> dict[str, str]:
    """id -> why it is kept, for the resources of this type that a kept resource holds (a
    kept instance's volumes), as the log shows; read once per unit. The types that hold
    others run first, so their keeps are in the log by now; a global type's may be held
    from any region."""
    reasons = {}
    for holder in reporter.kept_holdings(everywhere=rtype.is_global):
        for key, held_id in holder["holds"]:
            if key == rtype.key:
                reasons.setdefault(held_id, f"held by {holder['service']}.{holder['resource_type']} "
                                            f"{holder['resource_id']}, which is kept")
    return reasons


def record_kept(rtype: ResourceType, resource: Resource, reporter: Reporter, reason: str) -> str:
    """Keep a resource: `skipped`, with why, and what it holds, which is kept with it."""
    holds = rtype.holds(resource) if rtype.holds else []
    reporter.record(events.SKIPPED, rtype.service, rtype.name, resource.id, message=reason,
                    properties={"holds": holds} if holds else None)
    return events.SKIPPED


def with_holdings(rtype: ResourceType, target: Target, resources: list[Resource]) -> list[Resource]:
    """The resources, with what they hold that their listing does not name (rtype.associate):
    asked only for the resources a run keeps, so a sweep that keeps none never lists it."""
    for associate in rtype.associate if resources else ():
        resources = associate(target, resources)
    return resources


def _keep(rtype: ResourceType, target: Target, resources: list[Resource]) -> dict[str, str]:
    """The resources the run keeps: held by a kept resource, or kept by the run's scope;
    each recorded as skipped with the reason and what it holds (once: a resumed run does
    not say it again); dry runs too, so a plan shows them."""
    reporter = target.reporter
    held, rules = _held_by_kept(rtype, reporter), _scope_of(rtype, reporter)
    kept, new_reasons = {}, {}
    for resource in resources:
        previous = reporter.previous_state(rtype.service, rtype.name, resource.id)
        if previous in events.DONE:
            continue
        if (reason := held.get(resource.id) or _keep_reason(rtype, rules, resource, reporter)) is None:
            continue
        if previous != events.SKIPPED:
            new_reasons[resource.id] = reason
        kept[resource.id] = events.SKIPPED
    for resource in with_holdings(rtype, target, [r for r in resources if r.id in new_reasons]):
        record_kept(rtype, resource, reporter, new_reasons[resource.id])
    return kept


def _scope_of(rtype: ResourceType, reporter: Reporter) -> scope.Scope:
    """The run's filters for this type (and its protection tag), read once per unit."""
    target = Target(rtype, None, reporter.region, reporter)
    return scope.for_type(target.setting("filters"), target.setting("protect_tag"), rtype.service, rtype.name)


def _keep_reason(rtype: ResourceType, rules: scope.Scope, resource: Resource, reporter: Reporter) -> str | None:
    """Why the run's filters keep a resource (its protection tag, a keep rule, a select rule
    it misses), or None when it may be deleted."""
    seen = reporter.first_seen(rtype.service, rtype.name) if rules.uses_age and not resource.created else {}
    return rules.keep_reason(resource, seen.get(resource.id))


def _settle_unlisted(rtype, reporter: Reporter, resource_id: str, state: str) -> str:
    """A resource an earlier attempt was tearing down is no longer listed: if its deletion
    had been requested, it happened; if not, something else removed it."""
    if state == events.DELETE_REQUESTED:
        kind, message = events.DELETED, "confirmed gone on resume"
    else:
        kind, message = events.ALREADY_GONE, "gone before its deletion was requested"
    reporter.record(kind, rtype.service, rtype.name, resource_id, message=message)
    return kind


def _gone_since_the_plan(rtype, reporter: Reporter, outcomes: dict[str, str]) -> dict[str, str]:
    """An apply's planned resources that are no longer listed, and that no attempt of this
    run has dealt with: something else removed them since the plan."""
    gone = {}
    for resource_id in sorted(reporter.planned(rtype.service, rtype.name) or ()):
        if resource_id not in outcomes and reporter.previous_state(
                rtype.service, rtype.name, resource_id) in (None, events.CATALOGED):
            reporter.record(events.ALREADY_GONE, rtype.service, rtype.name, resource_id,
                            message="in the plan, no longer listed")
            gone[resource_id] = events.ALREADY_GONE
    return gone


def wait_until_gone(rtype: ResourceType, target: Target, ids: list[str]) -> list[str]:
    """Poll `rtype.wait` (one call for all ids, backing off) until AWS has finished deleting
    them, the run's wait_timeout passes, or the run is stopping; returns those still there."""
    reporter = target.reporter
    deadline = time.monotonic() + reporter.wait_timeout
    delay = FIRST_POLL_SECONDS
    remaining = list(ids)
    while remaining := list(rtype.wait(target, remaining)):
        if time.monotonic() + delay > deadline or reporter.stopping:
            log.warning("%s in %s: %d still being deleted after waiting: %s", rtype.key, target.region,
                        len(remaining), ", ".join(remaining[:5]))
            break
        time.sleep(delay)
        delay = min(delay * 1.5, LONGEST_POLL_SECONDS)
    return remaining


def functions(rtype: ResourceType):
    """The three functions of the pattern, bound to a declaration."""
    return (functools.partial(catalog, rtype), functools.partial(cleanup_one, rtype),
            functools.partial(cleanup_all, rtype))


class _Teardown:
    """One resource's way through its steps: each recorded before its call, so a stop at
    any point leaves a trace a resume can continue from."""

    def __init__(self, rtype: ResourceType, target: Target, resource: Resource, waited_for: tuple[str, ...]):
        self.rtype, self.target, self.resource, self.waited_for = rtype, target, resource, waited_for
        self.reporter = target.reporter

    def record(self, kind: str, **fields) -> str:
        self.reporter.record(kind, self.rtype.service, self.rtype.name, self.resource.id, **fields)
        return kind

    def run(self, resumed_request: bool, requested: bool = False) -> str:
        """`requested`: the deletion's request is on record already (a batch that failed)."""
        *preparations, deletion = self.rtype.steps
        self.finished = self.reporter.steps_done(self.rtype.service, self.rtype.name, self.resource.id)
        protection = self.rtype.protection
        prepare = [functools.partial(self._prepare, step) for step in preparations]
        if protection and protection.is_on and protection.is_on(self.resource):
            prepare.insert(0, self._lift_or_skip)
        for preparation in prepare:
            if (outcome := preparation()) is not None:
                return outcome
        outcome = self._call(deletion, resumed_request) if requested else self._delete(deletion, resumed_request)
        if outcome == _PROTECTED:
            outcome = self._lift_or_skip() or self._delete(deletion, resumed_request)
        if outcome == _PROTECTED:  # lifted, and still refused
            return self._failed(deletion, *self._protected_error)
        return outcome

    def _prepare(self, step: Step) -> str | None:
        if step.name in self.finished or not step.needed_for(self.resource):
            return None
        self.record(events.STEP_REQUESTED, message=step.name, durable=True)
        return self._call(step)

    def _delete(self, deletion: Step, resumed_request: bool) -> str:
        # On disk before the call goes out, so a crash in between leaves a trace resume can settle.
        self.record(events.DELETE_REQUESTED, durable=True)
        return self._call(deletion, resumed_request=resumed_request)

    def _lift_or_skip(self) -> str | None:
        """Lift the protection where the settings allow it; otherwise keep the resource."""
        protection = self.rtype.protection
        if not self.target.settings.get(protection.setting):
            [resource] = with_holdings(self.rtype, self.target, [self.resource])
            return record_kept(self.rtype, resource, self.reporter,
                               f"protected ({protection.lift.name} would lift it); "
                               f"set {protection.setting}: true to allow that")
        return self._prepare(protection.lift)

    def _call(self, step: Step, resumed_request: bool = False) -> str | None:
        """Run a step; None when it is done and the teardown goes on, else the resource's outcome."""
        is_deletion = step is self.rtype.steps[-1]
        try:
            with aws.watching_retries() as retries:
                detail = self._with_retries(step)
        except botocore.exceptions.ClientError as error:
            code = aws.error_code(error)
            if code in step.done_codes:
                detail = f"already done ({code})"
            elif is_deletion and self.rtype.protection and code in self.rtype.protection.codes:
                self._protected_error = (code, aws.error_message(error))
                return _PROTECTED
            elif code in self.rtype.gone_codes:
                # Our own request may have deleted it even though its answer was lost (a reset,
                # a 500 after AWS acted), or an earlier attempt of this run requested it.
                ours = is_deletion and (resumed_request or retries.may_have_acted)
                return self.record(events.DELETED if ours else events.ALREADY_GONE, error_code=code,
                                   message="its deletion was requested, the answer was lost" if ours else None)
            else:
                return self._failed(step, code, aws.error_message(error))
        except Exception as error:  # one resource's failure must not stop the others
            log.exception("%s %s of %s in %s", step.name, self.resource.id, self.rtype.key, self.target.region)
            return self._failed(step, aws.error_code(error), str(error))
        if is_deletion:
            return self.record(events.DELETED, message=detail)
        self.record(events.STEP_DONE, message=f"{step.name}: {detail}" if detail else step.name)
        return None

    def _failed(self, step: Step, code: str, message: str) -> str:
        where = "" if step is self.rtype.steps[-1] else f"{step.name}: "
        after = f" (it depends on {', '.join(self.waited_for)}, which did not finish cleanly)" if self.waited_for else ""
        return self.record(events.FAILED, error_code=code, message=f"{where}{message}{after}")

    def _with_retries(self, step: Step):
        deadline = time.monotonic() + self.reporter.wait_timeout
        delay = 1.0
        while True:
            try:
                return step.call(self.target, self.resource)
            except botocore.exceptions.ClientError as error:
                code = aws.error_code(error)
                if code not in self.rtype.retry_codes or time.monotonic() + delay > deadline or self.reporter.stopping:
                    raise
                log.info("%s %s: %s, retrying in %.0fs", self.rtype.key, self.resource.id, code, delay)
                time.sleep(delay)
                delay = min(delay * 2, LONGEST_RETRY_SECONDS)
