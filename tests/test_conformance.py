"""Every registered resource type, against moto in process: what the registry promises of
each one. Parametrised over the registry, so a new type is covered the day it lands."""

import pytest

from costcutter import engine, events, registry, sandbox
from costcutter.cli import cli
from costcutter.engine import Target
from click.testing import CliRunner

TYPES = registry.resource_types()
REGION = "eu-west-1"


def types_for(*needs):
    """Every type, those for which moto lacks one of these needs (sandbox.MOTO_LACKS) marked
    skipped, with the reason."""
    params = []
    for rtype in TYPES:
        lacks, reason = sandbox.MOTO_LACKS.get(rtype.key, (frozenset(), ""))
        marks = [pytest.mark.skip(reason=f"{reason}: see its test file")] if lacks & set(needs) else []
        params.append(pytest.param(rtype, id=rtype.key, marks=marks))
    return params


def client_region(rtype):
    return "us-east-1" if rtype.is_global else REGION


def region_of(rtype):
    return registry.GLOBAL_REGION if rtype.is_global else REGION


def listed_ids(rtype, session):
    return {r.id for r in rtype.list(Target(rtype, session, region_of(rtype)))}


def dependency_closure(rtype):
    """The types that must be gone before this one, transitively, in cleaning order."""
    needed, todo = set(), list(rtype.dependencies)
    while todo:
        key = todo.pop()
        if key not in needed:
            needed.add(key)
            todo += registry.by_key()[key].dependencies
    return [t for t in TYPES if t.key in needed]


@pytest.mark.parametrize("rtype", types_for("list"))
def test_a_dry_run_records_it_and_changes_nothing(rtype, session, make_reporter):
    seeded = rtype.seed(session, client_region(rtype), 2)
    before = listed_ids(rtype, session)
    assert set(seeded) <= before
    reporter = make_reporter(region_of(rtype))

    outcomes = engine.cleanup_all(rtype, session, region_of(rtype), reporter, dry_run=True)

    assert {rid: outcomes[rid] for rid in seeded} == {rid: events.WOULD_DELETE for rid in seeded}
    assert set(seeded) <= {e["resource_id"] for e in reporter.events(events.CATALOGED)}
    assert not reporter.events(events.DELETE_REQUESTED) and not reporter.events(events.STEP_REQUESTED)
    assert listed_ids(rtype, session) == before


@pytest.mark.parametrize("rtype", types_for("list", "delete"))
def test_a_real_run_deletes_it(rtype, session, make_reporter):
    seeded = rtype.seed(session, client_region(rtype), 2)
    reporter = make_reporter(region_of(rtype))
    for dependency in dependency_closure(rtype):
        engine.cleanup_all(dependency, session, region_of(dependency), reporter, dry_run=False)

    outcomes = engine.cleanup_all(rtype, session, region_of(rtype), reporter, dry_run=False)

    assert {rid: outcomes[rid] for rid in seeded} == {rid: events.DELETED for rid in seeded}
    assert listed_ids(rtype, session) & set(seeded) == set()
    assert not reporter.events(events.FAILED)


@pytest.mark.parametrize("rtype", types_for("delete", "delete_missing"))
def test_a_missing_id_counts_as_done(rtype, session, make_reporter):
    reporter = make_reporter(region_of(rtype))

    outcome = engine.cleanup_one(rtype, session, region_of(rtype), rtype.missing_id, reporter, False)

    # already_gone, or deleted where AWS answers a delete of nothing with success (key pairs)
    assert outcome in events.DONE
    assert not reporter.events(events.FAILED)


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.key)
def test_it_is_declared_completely(rtype):
    assert rtype.summary, "the declaring module needs a docstring, passed as doc=__doc__"
    assert rtype.steps and rtype.seed and rtype.missing_id
    assert rtype.scope in (registry.REGIONAL, registry.GLOBAL)
    assert set(rtype.dependencies) <= set(registry.type_keys())
    assert len({step.name for step in rtype.steps}) == len(rtype.steps)
    assert all(":" not in step.name for step in rtype.steps)  # the log keeps "step: detail"
    functions = [name for name in vars(__import__(rtype.seed.__module__, fromlist=["_"]))
                 if name.startswith(("catalog_", "cleanup_"))]
    assert len(functions) == 3, "catalog_<resources>, cleanup_<resource>, cleanup_<resources>"


def test_every_type_is_documented_in_costcutter_services():
    output = CliRunner().invoke(cli, ["services"]).output
    rows = {tuple(line.split()[:2]) for line in output.splitlines()[2:]}
    assert rows == {(t.service, t.name) for t in TYPES}


def test_the_registry_order_honours_every_dependency():
    position = {t.key: n for n, t in enumerate(TYPES)}
    for rtype in TYPES:
        assert all(position[dep] < position[rtype.key] for dep in rtype.dependencies), rtype.key
