"""The crash-safety proof of issue 6, small enough for CI: a real run killed with SIGKILL
three times (once between the steps of a teardown), resumed after each, and judged from
the server's record and the log. scripts/kill_loop.py runs the full loop by hand; both
take their logic from costcutter/killloop.py. The judge's own checks are shown to catch
what they look for."""

import boto3

from costcutter import events, killloop
from costcutter.store import EventStore

REGIONS = ("us-east-1", "eu-west-1")


def test_a_run_killed_three_times_and_resumed_deletes_everything_once_and_keeps_every_event(fault_server, tmp_path):
    _, injector = fault_server
    moments = killloop.schedule(3)
    assert moments[0].name == "between steps"

    verdict = killloop.KillLoop(injector, tmp_path, moments, regions=REGIONS, size=killloop.SMALL).run()

    print(verdict.summary())
    assert verdict.violations == []
    assert (len(verdict.kills), verdict.resumes) == (3, 3)
    assert any(kill.between_steps for kill in verdict.kills)  # a teardown left with a step done, the rest to do
    assert verdict.deletions > 0 and verdict.events > 0


def a_loop(injector, tmp_path, *kinds) -> killloop.KillLoop:
    """A loop whose run's log has these events of one key pair, written here as if a run had."""
    loop = killloop.KillLoop(injector, tmp_path, [], regions=("us-east-1",))
    with EventStore(loop.db_path) as store:
        run_id = store.create_run({"test": True}, "123456789012", dry_run=False)
        for kind in kinds:
            store.record(run_id, kind, region="us-east-1", service="ec2", resource_type="key_pairs",
                         resource_id="costcutter-key")
    return loop


def test_the_judge_sees_an_event_changed_or_lost_after_a_kill(fault_server, tmp_path):
    _, injector = fault_server
    loop = a_loop(injector, tmp_path, events.CATALOGED, events.DELETE_REQUESTED, events.DELETED)
    loop.watch.read()
    loop.check_kept(1)
    with EventStore(loop.db_path) as store, store.db.conn:
        store.db.execute("UPDATE events SET kind = ? WHERE kind = ?", [events.FAILED, events.DELETE_REQUESTED])
        store.db.execute("DELETE FROM events WHERE kind = ?", [events.DELETED])

    loop.check_kept(2)
    loop.judge()

    assert [v.split(",")[0] for v in loop.verdict.violations] == [
        "after kill 2", "1 resources not done in the log: ('us-east-1'", "1 failures in the log: ('failed'"]


def test_the_judge_sees_a_resource_deleted_twice_in_the_log_or_on_the_server(fault_server, tmp_path):
    _, injector = fault_server
    loop = a_loop(injector, tmp_path, events.CATALOGED, events.DELETED, events.DELETED)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.create_key_pair(KeyName="costcutter-key")
    ec2.delete_key_pair(KeyName="costcutter-key")
    ec2.delete_key_pair(KeyName="costcutter-key")

    loop.judge()

    assert loop.verdict.violations == [
        "deleted more than once in the log: (('us-east-1', 'ec2', 'key_pairs', 'costcutter-key'), 2)",
        "deleted more than once on the server: (('us-east-1', 'costcutter-key'), 2)"]


def test_the_judge_sees_what_is_left(fault_server, tmp_path):
    _, injector = fault_server
    loop = a_loop(injector, tmp_path)
    boto3.client("ec2", region_name="us-east-1").create_key_pair(KeyName="left-behind")

    loop.judge()

    assert loop.verdict.violations == [
        "1 resources left: ('us-east-1', 'ec2', 'key_pairs', 'left-behind')"]
