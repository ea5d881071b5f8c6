"""Deletions that AWS takes many at a time go in one call, with an event per resource as before."""

import boto3

from costcutter import engine, events, sandbox
from costcutter.services.ec2.instances import INSTANCES

REGION = "us-east-1"


def seeded_instances(count):
    return set(sandbox.seed(REGION, {INSTANCES.key: count}, default_count=0)[INSTANCES.key])


def test_instances_are_terminated_in_one_call_each_recorded_before_and_after(fault_server, make_reporter):
    _, injector = fault_server
    ids = seeded_instances(7)
    injector.clear()
    reporter = make_reporter(REGION)

    outcomes = engine.cleanup_all(INSTANCES, boto3.Session(), REGION, reporter, dry_run=False)

    assert outcomes == dict.fromkeys(ids, events.DELETED)
    (terminate,) = [call for call in injector.calls if call.action == "TerminateInstances"]
    assert set(terminate.resource_ids) == ids
    recorded = [(e["kind"], e["resource_id"]) for e in reporter.events() if e["resource_id"] in ids]
    requested = [seq for seq, (kind, _) in enumerate(recorded) if kind == events.DELETE_REQUESTED]
    deleted = [seq for seq, (kind, _) in enumerate(recorded) if kind == events.DELETED]
    assert len(requested) == len(deleted) == 7 and max(requested) < min(deleted)
    assert not sandbox.inventory(REGION, ("ec2",))[INSTANCES.key]


def test_a_batch_that_fails_is_taken_one_at_a_time(fault_server, make_reporter):
    _, injector = fault_server
    ids = seeded_instances(3)
    reporter = make_reporter(REGION)
    gone = sorted(ids)[0]
    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[gone])
    listed = [r for r in INSTANCES.list(engine.Target(INSTANCES, boto3.Session(), REGION)) if r.id in ids]
    listed.append(engine.Resource(id="i-0123456789abcdef0"))  # listed, then gone before the batch: the call fails
    injector.clear()

    outcomes = engine.delete_in_batches(INSTANCES, boto3.Session(), REGION, listed, reporter)

    assert outcomes == {**dict.fromkeys(ids - {gone}, events.DELETED), "i-0123456789abcdef0": events.ALREADY_GONE}
    terminations = [call.resource_ids for call in injector.calls if call.action == "TerminateInstances"]
    assert len(terminations) == 1 + len(listed)
