"""The engine on its own: steps, resume, stop, retries, waits and outcomes, with a made-up
resource type over an in-memory cloud (no AWS quirks here), plus the outcome of a deletion
whose answer was lost, against moto in process."""

import threading

import boto3
import botocore.exceptions
import pytest

from costcutter import aws, engine
from costcutter.registry import Protection, Resource, ResourceType, Step
from costcutter.reporter import Interrupted
from costcutter.services.ec2.volumes import VOLUMES, create_volume

REGION = "us-east-1"


def aws_error(code):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": f"{code} from the fake cloud"}}, "Op")


class FakeCloud:
    """Widgets with a protection flag; every call is noted in `calls`."""

    def __init__(self, *ids, protected=()):
        self.widgets = {rid: {"protected": rid in protected} for rid in ids}
        self.calls: list[tuple[str, str]] = []
        self.conflicts: dict[str, int] = {}   # id -> how many deletes answer DependencyViolation first
        self.lingering: dict[str, int] = {}   # id -> how many polls still show it being deleted
        self.polls = 0

    def unprotect(self, target, widget):
        self.calls.append(("unprotect", widget.id))
        self.widgets[widget.id]["protected"] = False

    def delete(self, target, widget):
        self.calls.append(("delete", widget.id))
        if widget.id not in self.widgets:
            raise aws_error("Widget.NotFound")
        if self.widgets[widget.id]["protected"]:
            raise aws_error("WidgetProtected")
        if self.conflicts.get(widget.id):
            self.conflicts[widget.id] -= 1
            raise aws_error("DependencyViolation")
        del self.widgets[widget.id]

    def still_there(self, target, ids):
        self.polls += 1
        for rid in ids:
            if self.lingering.get(rid):
                self.lingering[rid] -= 1
                yield rid

    def resource_type(self, **overrides):
        declaration = dict(
            service="fake", name="widgets", client="ec2", doc="Widgets.",
            list=lambda target: [Resource(rid, name=f"w-{rid}") for rid in sorted(self.widgets)],
            steps=(Step("unprotect", self.unprotect, when=lambda w: self.widgets.get(w.id, {}).get("protected")),
                   Step("delete", self.delete)),
            gone_codes=frozenset({"Widget.NotFound"}), retry_codes=frozenset({"DependencyViolation"}),
            seed=lambda session, region, count: [], missing_id="w-none")
        return ResourceType(**{**declaration, **overrides})


def kinds(reporter):
    return [(e["kind"], e["resource_id"], e["message"]) for e in reporter.events() if e["resource_id"]]


def test_each_step_is_recorded_before_its_call_and_the_teardown_goes_in_order(session, make_reporter):
    cloud = FakeCloud("a", protected={"a"})
    reporter = make_reporter(REGION)
    assert engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False) == {"a": "deleted"}
    assert cloud.calls == [("unprotect", "a"), ("delete", "a")]
    assert kinds(reporter) == [("cataloged", "a", None), ("step_requested", "a", "unprotect"),
                               ("step_done", "a", "unprotect"), ("delete_requested", "a", None),
                               ("deleted", "a", None)]


def test_resume_starts_a_teardown_at_the_step_where_it_stopped(session, make_reporter):
    cloud = FakeCloud("a")  # the earlier attempt's step did its work
    rtype = cloud.resource_type(steps=(Step("unprotect", cloud.unprotect), Step("delete", cloud.delete)))
    reporter = make_reporter(REGION, history={("fake", "widgets", "a"): "step_done"},
                             steps={("fake", "widgets", "a"): {"unprotect"}})
    assert engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False) == {"a": "deleted"}
    assert cloud.calls == [("delete", "a")]


def test_a_step_requested_but_not_finished_is_run_again(session, make_reporter):
    cloud = FakeCloud("a", protected={"a"})
    reporter = make_reporter(REGION, history={("fake", "widgets", "a"): "step_requested"})
    engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False)
    assert cloud.calls == [("unprotect", "a"), ("delete", "a")]


def test_a_resource_the_log_shows_done_is_never_deleted_again(session, make_reporter):
    cloud = FakeCloud("a", "b")
    reporter = make_reporter(REGION, history={("fake", "widgets", "a"): "deleted"})
    assert engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False) == {
        "a": "deleted", "b": "deleted"}
    assert cloud.calls == [("delete", "b")]


def test_a_requested_deletion_whose_resource_is_gone_is_confirmed_on_resume(session, make_reporter):
    cloud = FakeCloud()
    reporter = make_reporter(REGION, history={("fake", "widgets", "a"): "delete_requested",
                                              ("fake", "widgets", "b"): "step_done"})
    outcomes = engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False)
    assert outcomes == {"a": "deleted", "b": "already_gone"}
    assert [(e["resource_id"], e["message"]) for e in reporter.events("deleted")] == [("a", "confirmed gone on resume")]


def test_a_requested_deletion_still_listed_on_resume_that_is_gone_when_sent_counts_as_deleted(session, make_reporter):
    cloud = FakeCloud()  # still listed, but the earlier attempt's request deleted it before the new one lands
    rtype = cloud.resource_type(list=lambda target: [Resource("a")])
    reporter = make_reporter(REGION, history={("fake", "widgets", "a"): "delete_requested"})
    assert engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False) == {"a": "deleted"}


def test_stopping_interrupts_before_anything_is_deleted(session, make_reporter):
    cloud = FakeCloud("a")
    stop = threading.Event()
    stop.set()
    reporter = make_reporter(REGION, stop_event=stop)
    with pytest.raises(Interrupted):
        engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False)
    assert cloud.calls == [] and not reporter.events("delete_requested")


def test_a_dry_run_calls_nothing(session, make_reporter):
    cloud = FakeCloud("a", protected={"a"})
    reporter = make_reporter(REGION)
    assert engine.cleanup_all(cloud.resource_type(), session, REGION, reporter) == {"a": "would_delete"}
    assert cloud.calls == []


def test_a_conflict_that_clears_up_is_retried(session, make_reporter, monkeypatch):
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    cloud = FakeCloud("a")
    cloud.conflicts["a"] = 2
    reporter = make_reporter(REGION)
    assert engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False) == {"a": "deleted"}
    assert cloud.calls == [("delete", "a")] * 3


def test_a_conflict_that_lasts_fails_with_the_aws_error_and_what_it_waited_for(session, make_reporter):
    cloud = FakeCloud("a")
    cloud.conflicts["a"] = 1000
    reporter = make_reporter(REGION, wait_timeout=0)
    outcomes = engine.cleanup_all(cloud.resource_type(), session, REGION, reporter, dry_run=False,
                                  waited_for=("fake.gadgets",))
    assert outcomes == {"a": "failed"}
    [failure] = reporter.events("failed")
    assert failure["error_code"] == "DependencyViolation"
    assert failure["message"] == ("DependencyViolation from the fake cloud "
                                  "(it depends on fake.gadgets, which did not finish cleanly)")


def test_a_failed_step_names_the_step(session, make_reporter):
    def refuse(target, widget):
        raise aws_error("AccessDenied")
    cloud = FakeCloud("a", protected={"a"})
    rtype = cloud.resource_type(steps=(Step("unprotect", refuse), Step("delete", cloud.delete)))
    reporter = make_reporter(REGION)
    assert engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False) == {"a": "failed"}
    assert reporter.events("failed")[0]["message"] == "unprotect: AccessDenied from the fake cloud"
    assert cloud.calls == []


def test_deletions_are_waited_for_with_one_poll_for_all_of_them(session, make_reporter, monkeypatch):
    sleeps = []
    monkeypatch.setattr(engine.time, "sleep", sleeps.append)
    cloud = FakeCloud("a", "b", "c")
    cloud.lingering = {"a": 2, "b": 3}
    rtype = cloud.resource_type(wait=cloud.still_there)
    engine.cleanup_all(rtype, session, REGION, make_reporter(REGION, wait_timeout=60), dry_run=False)
    assert cloud.polls == 4  # not one per resource: b lingers longest
    assert sleeps == [1.0, 1.5, 2.25]  # backing off


def test_waiting_gives_up_at_the_wait_timeout(session, make_reporter, monkeypatch):
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    cloud = FakeCloud("a")
    cloud.lingering = {"a": 10_000}
    rtype = cloud.resource_type(wait=cloud.still_there)
    reporter = make_reporter(REGION, wait_timeout=0)
    assert engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False) == {"a": "deleted"}
    assert cloud.polls == 1


def test_an_unlisted_missing_resource_is_already_gone(session, make_reporter):
    reporter = make_reporter(REGION)
    assert engine.cleanup_one(FakeCloud().resource_type(), session, REGION, "zz", reporter, False) == "already_gone"


def delete_volume_with_a_first_attempt(session, make_reporter, first_attempt):
    """Clean up a volume whose first DeleteVolume attempt is answered by `first_attempt`
    (after the volume is deleted behind the engine's back); returns (outcome, attempts)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = create_volume(ec2, REGION)
    attempts = []

    def intercept(request, **_):
        attempts.append(1)
        if len(attempts) == 1:
            ec2.delete_volume(VolumeId=volume)
            return first_attempt(request)

    aws.client(session, "ec2", REGION).meta.events.register("before-send.ec2.DeleteVolume", intercept)
    reporter = make_reporter(REGION)
    return engine.cleanup_one(VOLUMES, session, REGION, volume, reporter, False), len(attempts), reporter


def test_a_deletion_whose_answer_was_lost_is_deleted_not_already_gone(session, make_reporter):
    """The first DeleteVolume reaches AWS, which deletes the volume, but the connection
    drops before the answer; botocore retries and hears InvalidVolume.NotFound. That is our
    own deletion, and the log must say deleted."""
    def drop(request):
        raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)

    outcome, attempts, reporter = delete_volume_with_a_first_attempt(session, make_reporter, drop)
    assert (outcome, attempts) == ("deleted", 2)
    assert reporter.events("deleted")[0]["error_code"] == "InvalidVolume.NotFound"


def test_a_throttled_deletion_that_finds_the_resource_gone_is_already_gone(session, make_reporter):
    """Throttling means AWS did not act, so a NotFound after it is someone else's doing."""
    def throttle(request):
        return botocore.awsrequest.AWSResponse(request.url, 503, {}, _Raw(
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down</Message>"
            b"</Error></Errors></Response>"))

    outcome, attempts, _ = delete_volume_with_a_first_attempt(session, make_reporter, throttle)
    assert (outcome, attempts) == ("already_gone", 2)


class _Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body


def protected_widgets(cloud, shown_in_listing):
    lift = Step("unprotect", cloud.unprotect)
    is_on = (lambda w: cloud.widgets[w.id]["protected"]) if shown_in_listing else None
    return cloud.resource_type(steps=(Step("delete", cloud.delete),), protection=Protection(
        "remove_deletion_protection", lift, codes=frozenset({"WidgetProtected"}), is_on=is_on))


@pytest.mark.parametrize("shown_in_listing", [True, False])
def test_a_protection_the_settings_do_not_lift_is_a_skip_with_the_reason(session, make_reporter, shown_in_listing):
    cloud = FakeCloud("a", "b", protected={"a"})
    reporter = make_reporter(REGION)
    outcomes = engine.cleanup_all(protected_widgets(cloud, shown_in_listing), session, REGION, reporter, dry_run=False)
    assert outcomes == {"a": "skipped", "b": "deleted"}
    assert "set remove_deletion_protection: true" in reporter.events("skipped")[0]["message"]
    assert ("unprotect", "a") not in cloud.calls and "a" in cloud.widgets


@pytest.mark.parametrize("shown_in_listing", [True, False])
def test_a_protection_the_settings_allow_is_lifted_then_deleted(session, make_reporter, shown_in_listing):
    cloud = FakeCloud("a", protected={"a"})
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    outcomes = engine.cleanup_all(protected_widgets(cloud, shown_in_listing), session, REGION, reporter, dry_run=False)
    assert outcomes == {"a": "deleted"}
    expected = [("unprotect", "a"), ("delete", "a")]
    assert cloud.calls == (expected if shown_in_listing else [("delete", "a")] + expected)
