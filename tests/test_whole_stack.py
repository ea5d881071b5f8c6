"""One real run over every registered type, in two regions, against the moto server: a
seeded resource of every type plus a web stack whose parts hold each other. It must leave
nothing (but the defaults), fail nothing, honour every declared dependency, clean each
global type exactly once, and run independent types of a region at the same time."""

import collections

import pytest
from click.testing import CliRunner

from costcutter import events, registry, sandbox
from costcutter.cli import cli
from costcutter.registry import GLOBAL_REGION
from costcutter.store import EventStore

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def stack(sandbox_endpoint):
    for region in REGIONS:
        sandbox.seed(region)
        sandbox.seed_stack(region)
    sandbox.seed(GLOBAL_REGION)


def unit_spans(store, run_id):
    """(region, type key) -> (seq of its unit_started, seq of its unit_completed)"""
    spans = collections.defaultdict(list)
    for event in store.events(run_id):
        if event["kind"] in (events.UNIT_STARTED, events.UNIT_COMPLETED):
            spans[event["region"], f"{event['service']}.{event['resource_type']}"].append(event["seq"])
    return {unit: tuple(seqs) for unit, seqs in spans.items()}


def test_one_run_cleans_a_whole_stack_of_every_type_in_dependency_order(stack, db_path, monkeypatch):
    monkeypatch.setenv("COSTCUTTER_WAIT_TIMEOUT", "60")
    result = CliRunner().invoke(cli, ["run", "--db", str(db_path), "--no-dry-run", "--yes",
                                      *[arg for region in REGIONS for arg in ("--region", region)]])

    with EventStore(db_path, read_only=True) as store:
        (run,) = store.runs()
        failures = [(e["region"], e["service"], e["resource_type"], e["resource_id"], e["error_code"], e["message"])
                    for e in store.events(run["id"]) if e["kind"] in (events.FAILED, events.REGION_CRASHED)]
        spans = unit_spans(store, run["id"])
    assert failures == []
    assert result.exit_code == 0, result.output
    for region in (*REGIONS, GLOBAL_REGION):
        assert {key: ids for key, ids in sandbox.inventory(region).items() if ids} == {}, region

    swept = [t for t in registry.resource_types() if sandbox.in_sandbox(t)]
    for rtype in swept:  # every unit ran once, after all it depends on was over
        regions = [GLOBAL_REGION] if rtype.is_global else REGIONS
        for region in regions:
            started, completed = spans[region, rtype.key]
            for dependency in rtype.dependencies:
                for where in (REGIONS if rtype.is_global and not registry.by_key()[dependency].is_global
                              else [region]):
                    assert spans[where, dependency][1] < started, f"{rtype.key} in {region} before {dependency}"
    assert all(len(seqs) == 2 for seqs in spans.values())  # each global type once, not once per region
    in_one_region = sorted((seqs, key) for (region, key), seqs in spans.items() if region == REGIONS[0])
    assert any(later[0][0] < earlier[0][1] for earlier, later in zip(in_one_region, in_one_region[1:])), \
        "no two types of a region ran at the same time"
