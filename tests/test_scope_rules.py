"""Scope rules (costcutter/scope.py): each kind of condition, globs against regular
expressions, durations, how keep and select rules combine, and the protection tag."""

from datetime import datetime, timedelta, timezone

import boto3
import pytest

from costcutter import engine, events, scope
from costcutter.registry import Resource
from costcutter.services.ec2.security_groups import SECURITY_GROUPS
from costcutter.store import new_event

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
PROTECT = "costcutter:protect"


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def matches(rule: dict, resource: Resource, first_seen: str | None = None) -> bool:
    """Whether a rule matches, asked as the engine asks: through a select rule."""
    return scope.Scope(None, select=(scope.parse_rule(rule),)).keep_reason(resource, first_seen, NOW) is None


VOLUME = Resource(id="vol-0abc123", name="ci-build-7", created=ago(days=10),
                  tags={"env": "dev", "team": "ci", "Name": "ci-build-7"})
UNNAMED = Resource(id="sg-0def456", tags={})


@pytest.mark.parametrize("rule, expected", [
    ({"tag": "env"}, True),                      # the key, any value
    ({"tag": "owner"}, False),
    ({"tag": "env=dev"}, True),                  # exactly
    ({"tag": "env=de"}, False),                  # the whole value, not a part
    ({"tag": "env=DEV"}, False),                 # case-sensitive
    ({"tag": "env=d*"}, True),                   # a glob
    ({"tag": "env=[dp]ev"}, True),
    ({"tag": "env=prod"}, False),
    ({"tag_regex": "env=(dev|test)"}, True),     # a regular expression
    ({"tag_regex": "env=de"}, False),            # the whole value
    ({"tag_regex": "team=.*"}, True),
    ({"tag_regex": "owner=.*"}, False),          # a missing key never matches
    ({"name": "ci-*"}, True),
    ({"name": "ci-build-?"}, True),
    ({"name": "ci"}, False),
    ({"name_regex": r"ci-build-\d+"}, True),
    ({"name_regex": "ci-"}, False),
    ({"id": "vol-*"}, True),
    ({"id": "sg-*"}, False),
    ({"id_regex": "vol-[0-9a-f]+"}, True),
    ({"ids": ["vol-0abc123", "vol-0other"]}, True),
    ({"ids": ["vol-0abc12"]}, False),
    ({"older_than": "7d"}, True),
    ({"older_than": "11d"}, False),
    ({"newer_than": "2w"}, True),
    ({"newer_than": "240h"}, False),             # exactly 10 days: neither newer nor older
    ({"older_than": "240h"}, False),
    ({"tag": "env=dev", "name": "ci-*"}, True),  # every condition of a rule
    ({"tag": "env=dev", "name": "web-*"}, False),
])
def test_each_condition(rule, expected):
    assert matches(rule, VOLUME) is expected


def test_a_glob_is_not_a_regex_and_a_regex_is_not_a_glob():
    dotted = Resource(id="i-1", name="a.b")
    assert matches({"name": "a.b"}, dotted) and not matches({"name": "a.b"}, Resource(id="i-2", name="axb"))
    assert matches({"name_regex": "a.b"}, Resource(id="i-2", name="axb"))
    assert not matches({"name": "a.*"}, Resource(id="i-3", name="ab")) and matches({"name_regex": "a.*"},
                                                                                  Resource(id="i-3", name="ab"))


def test_an_arn_is_matched_by_the_id_or_by_the_arn_property():
    arn = "arn:aws:sns:us-east-1:123456789012:alerts"
    assert matches({"ids": [arn]}, Resource(id=arn))
    assert matches({"ids": [arn]}, Resource(id="alerts", properties={"arn": arn}))


def test_what_has_no_name_or_tags_matches_no_name_or_tag_condition():
    for rule in ({"name": "*"}, {"name_regex": ".*"}, {"tag": "env"}, {"tag": "env=*"}):
        assert not matches(rule, UNNAMED)


@pytest.mark.parametrize("text, delta", [
    ("30s", timedelta(seconds=30)), ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)),
    ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2)), (" 7d ", timedelta(days=7)), ("0d", timedelta(0)),
])
def test_durations(text, delta):
    assert scope.parse_duration(text) == delta


@pytest.mark.parametrize("text", ["7", "d", "7 d", "7x", "1.5d", "-1d", "7D", "", 7, None])
def test_bad_durations(text):
    with pytest.raises(scope.RuleError, match="is not a duration; write a whole number and a unit"):
        scope.parse_duration(text)


def test_age_counts_from_creation_else_from_first_seen_else_now():
    seen_long_ago = ago(days=30)
    assert scope.age_of(VOLUME, seen_long_ago, NOW) == timedelta(days=10)  # AWS's creation time wins
    assert scope.age_of(UNNAMED, seen_long_ago, NOW) == timedelta(days=30)
    assert scope.age_of(UNNAMED, None, NOW) == timedelta(0)                # never seen before: new
    assert matches({"older_than": "7d"}, UNNAMED, first_seen=seen_long_ago)
    assert not matches({"older_than": "7d"}, UNNAMED)
    assert matches({"newer_than": "1h"}, UNNAMED)
    naive = Resource(id="x", created=(NOW - timedelta(days=8)).replace(tzinfo=None).isoformat())
    assert matches({"older_than": "7d"}, naive)                            # no zone: UTC


def test_keep_rules_keep_when_any_matches_and_select_rules_narrow():
    rules = scope.Scope(PROTECT, keep=(scope.parse_rule({"tag": "env=prod"}), scope.parse_rule({"name": "shared-*"})),
                        select=(scope.parse_rule({"older_than": "7d"}), scope.parse_rule({"tag": "team"})))
    old_ci = Resource(id="a", name="x", created=ago(days=8), tags={"team": "ci"})
    assert rules.keep_reason(old_ci, now=NOW) is None
    assert rules.keep_reason(Resource(id="b", name="shared-db", created=ago(days=8), tags={"team": "ci"}),
                             now=NOW) == "kept by keep rule name shared-*"
    assert rules.keep_reason(Resource(id="c", created=ago(days=8), tags={"team": "ci", "env": "prod"}),
                             now=NOW) == "kept by keep rule tag env=prod"
    assert rules.keep_reason(Resource(id="d", created=ago(days=1), tags={"team": "ci"}),
                             now=NOW) == "not selected by select rule older_than 7d"
    assert rules.keep_reason(Resource(id="e", created=ago(days=8)), now=NOW) == "not selected by select rule tag team"


def test_the_protection_tag_wins_whatever_else_matches():
    everything = scope.Scope(PROTECT, select=(scope.parse_rule({"id": "*"}),))
    protected = Resource(id="vol-1", tags={PROTECT: ""})
    assert everything.keep_reason(protected, now=NOW) == f"kept by protection tag {PROTECT}"
    assert everything.keep_reason(Resource(id="vol-1", tags={PROTECT: "no"}), now=NOW) is not None  # any value
    assert scope.Scope(None, select=everything.select).keep_reason(protected, now=NOW) is None      # turned off


def test_the_rules_of_all_the_service_and_the_type_apply_together():
    filters = {"all": {"keep": [{"tag": "env=prod"}]}, "ec2": {"select": [{"name": "ci-*"}]},
               "ec2.volumes": {"keep": [{"ids": ["vol-0abc123"]}]}, "ec2.snapshots": {"keep": [{"id": "*"}]},
               "s3": {"select": [{"name": "nothing"}]}}
    volumes = scope.for_type(filters, PROTECT, "ec2", "volumes")
    assert [r.text for r in volumes.keep] == ["tag env=prod", "ids vol-0abc123"]
    assert [r.text for r in volumes.select] == ["name ci-*"]
    assert volumes.keep_reason(VOLUME, now=NOW) == "kept by keep rule ids vol-0abc123"
    assert scope.for_type(filters, PROTECT, "ec2", "key_pairs").keep_reason(VOLUME, now=NOW) is None
    assert scope.for_type(None, PROTECT, "s3", "buckets") == scope.Scope(PROTECT)


def test_layers_add_up_rules():
    file = {"all": {"keep": [{"tag": "a"}], "select": [{"older_than": "1d"}]}, "ec2": None}
    flags = {"all": {"keep": [{"ids": ["x"]}], "select": [{"tag": "team=ci"}]}}
    assert scope.merged(file, flags) == {
        "all": {"keep": [{"tag": "a"}, {"ids": ["x"]}], "select": [{"older_than": "1d"}, {"tag": "team=ci"}]},
        "ec2": {}}


@pytest.mark.parametrize("rule, message", [
    ({"name_regex": "("}, "name_regex: '(' is not a valid regular expression (missing ), unterminated subpattern"),
    ({"tag_regex": "env"}, "tag_regex: 'env' has no '='; write KEY=REGEX"),
    ({"tag": "=prod"}, "tag: '=prod' names no tag key"),
    ({"older_than": "a week"}, "older_than: 'a week' is not a duration"),
    ({"ids": "vol-1"}, "ids: 'vol-1' is not a list"),
    ({"ids": [""]}, "ids: [''] is not a list of ids or ARNs"),
    ({"name": 7}, "name: 7 is not text"),
    ({"nmae": "x"}, "unknown condition 'nmae'; use tag, tag_regex, name,"),
    ({}, "a rule is a mapping of one or more conditions"),
    ("tag: env", "a rule is a mapping of one or more conditions"),
])
def test_bad_rules_say_what_is_wrong(rule, message):
    with pytest.raises(scope.RuleError) as error:
        scope.parse_rule(rule)
    assert str(error.value).startswith(message)


# In the engine: one place, after the catalog, for every type.

def seed_groups(session, region, count):
    return SECURITY_GROUPS.seed(session, region, count)


def test_the_engine_records_kept_resources_as_skipped_and_never_attempts_them(session, make_reporter):
    kept, other = seed_groups(session, "us-east-1", 2)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.create_tags(Resources=[kept], Tags=[{"Key": PROTECT, "Value": ""}])
    reporter = make_reporter(settings={"filters": {}, "protect_tag": PROTECT})
    outcomes = engine.cleanup_all(SECURITY_GROUPS, session, "us-east-1", reporter, dry_run=False)
    assert outcomes == {kept: events.SKIPPED, other: events.DELETED}
    skips = [(e["resource_id"], e["message"]) for e in reporter.events(events.SKIPPED)]
    assert skips == [(kept, f"kept by protection tag {PROTECT}")]
    assert not [e for e in reporter.events() if e["resource_id"] == kept and e["kind"] == events.DELETE_REQUESTED]
    assert [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"] \
        == [kept]


def test_a_dry_run_records_the_keep_too(session, make_reporter):
    kept, other = seed_groups(session, "us-east-1", 2)
    reporter = make_reporter(settings={"filters": {"ec2": {"keep": [{"ids": [kept]}]}}, "protect_tag": PROTECT})
    assert engine.cleanup_all(SECURITY_GROUPS, session, "us-east-1", reporter, dry_run=True) == {
        kept: events.SKIPPED, other: events.WOULD_DELETE}
    assert [e["message"] for e in reporter.events(events.SKIPPED)] == [f"kept by keep rule ids {kept}"]


def test_a_resumed_run_keeps_what_it_kept_without_saying_it_twice(session, make_reporter):
    (kept,) = seed_groups(session, "us-east-1", 1)
    settings = {"filters": {"all": {"select": [{"name": "nothing-*"}]}}, "protect_tag": PROTECT}
    reporter = make_reporter(settings=settings,
                             history={("ec2", "security_groups", kept): events.SKIPPED})
    assert engine.cleanup_all(SECURITY_GROUPS, session, "us-east-1", reporter, dry_run=False) == {kept: events.SKIPPED}
    assert reporter.events(events.SKIPPED) == []


def test_age_without_a_creation_time_is_read_once_per_type_from_the_first_seen_log(session, make_reporter):
    old, new = seed_groups(session, "us-east-1", 2)
    asked = []

    def first_seen(service, resource_type):
        asked.append((service, resource_type))
        return {old: ago(days=30)}  # `new` was never seen before this run

    reporter = make_reporter(settings={"filters": {"all": {"select": [{"older_than": "7d"}]}}, "protect_tag": PROTECT},
                             first_seen=first_seen)
    assert engine.cleanup_all(SECURITY_GROUPS, session, "us-east-1", reporter, dry_run=True) == {
        old: events.WOULD_DELETE, new: events.SKIPPED}
    assert asked == [("ec2", "security_groups")]
    assert [e["message"] for e in reporter.events(events.SKIPPED)] == ["not selected by select rule older_than 7d"]


def test_without_age_rules_the_log_is_not_asked(session, make_reporter):
    seed_groups(session, "us-east-1", 2)
    reporter = make_reporter(settings={"filters": {"all": {"keep": [{"tag": "x"}]}}, "protect_tag": PROTECT},
                             first_seen=lambda *key: pytest.fail("asked the log without an age rule"))
    engine.cleanup_all(SECURITY_GROUPS, session, "us-east-1", reporter, dry_run=True)


def test_first_seen_is_the_earliest_cataloged_of_other_runs_of_the_account_in_the_region(store):
    def run(account, *cataloged):
        run_id = store.create_run({}, account, dry_run=True)
        store.append([{**new_event(run_id, events.CATALOGED, region=region, service="ec2",
                                   resource_type=rtype, resource_id=rid), "at": at}
                      for region, rtype, rid, at in cataloged])
        return run_id

    first = ago(days=9)
    run("123456789012", ("us-east-1", "security_groups", "sg-1", first), ("us-east-1", "security_groups", "sg-2", first))
    run("123456789012", ("us-east-1", "security_groups", "sg-1", ago(days=2)),
        ("eu-west-1", "security_groups", "sg-3", first),  # another region
        ("us-east-1", "volumes", "sg-4", first))          # another type
    run("999999999999", ("us-east-1", "security_groups", "sg-5", first))  # another account
    current = run("123456789012", ("us-east-1", "security_groups", "sg-6", first))  # this run itself
    assert store.first_seen(current, "us-east-1", "ec2", "security_groups") == {"sg-1": first, "sg-2": first}


def test_the_first_seen_question_uses_an_index(store):
    asked = []
    store.db.conn.set_trace_callback(asked.append)  # the statement as run, its values filled in
    store.first_seen("run", "us-east-1", "ec2", "security_groups")
    store.db.conn.set_trace_callback(None)
    (question,) = [sql for sql in asked if "min(e.at)" in sql]
    plan = store.db.execute(f"EXPLAIN QUERY PLAN {question}").fetchall()
    assert "SEARCH e USING INDEX events_first_seen" in " ".join(str(row) for row in plan)
