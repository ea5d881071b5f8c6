"""Scope filters end to end: a reproducible random mix of resources (tagged, untagged,
protected, old, new, named, unnamed) in two regions and six types, a real run through the
command line against the moto server with a config file and flags, and then, from the
server, exactly the expected resources gone: none more, none fewer.

What is expected is worked out here in plain Python from what the test seeded, never
with CostCutter's own code. "Old" needs a past: moto stamps every creation time with now,
so for the types whose listing gives no creation time (security groups, queues, topics)
a dry run first sees them, and its `cataloged` events are moved days back in the SQLite
file, which is what a run days ago would have left. The types whose listing gives a
creation time (volumes, key pairs, buckets) are all new to CostCutter, whatever the log.
"""

import dataclasses
import functools
import random
import sqlite3
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from click.testing import CliRunner

from costcutter import registry
from costcutter.cli import cli
from costcutter.engine import Target

REGIONS = ("us-east-1", "eu-west-1")
PROTECT = "costcutter:protect"
NAMES = ("ci", "tmp", "shared", "web")
TAG_VALUES = {"env": ("dev", "prod", "staging"), "team": ("ci", "data", "ml")}
AGES_IN_DAYS = (0, 1, 5, 10)  # when the earlier dry run saw it; None: made after it, never seen before


@dataclasses.dataclass
class Seeded:
    key: str                # the type, as in --service
    region: str
    id: str
    name: str | None
    tags: dict
    age_days: float         # as CostCutter can know it: 0 for what AWS says was created now


@dataclasses.dataclass(frozen=True)
class Kind:
    """A type of the mix: how to make one, and what its listing tells."""
    key: str
    has_tags: bool
    created_by_aws: bool    # the listing gives a creation time (moto's: now)
    make: object            # (region, name, tags) -> id as listed


@functools.cache
def session():
    return boto3.Session()  # one, so its clients share the loaded service models


@functools.cache
def client(service, region):
    return session().client(service, region_name=region)


def _tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _make_volume(region, name, tags):
    tags = {**tags, **({"Name": name} if name else {})}
    spec = [{"ResourceType": "volume", "Tags": _tag_list(tags)}] if tags else []
    return client("ec2", region).create_volume(
        AvailabilityZone=f"{region}a", Size=1, TagSpecifications=spec)["VolumeId"]


def _make_group(region, name, tags):
    spec = [{"ResourceType": "security-group", "Tags": _tag_list(tags)}] if tags else []
    return client("ec2", region).create_security_group(
        GroupName=name, Description="scope test", TagSpecifications=spec)["GroupId"]


def _make_key_pair(region, name, tags):
    spec = [{"ResourceType": "key-pair", "Tags": _tag_list(tags)}] if tags else []
    client("ec2", region).create_key_pair(KeyName=name, TagSpecifications=spec)
    return name


def _make_bucket(region, name, tags):
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    client("s3", region).create_bucket(Bucket=name, **where)
    return name


def _make_queue(region, name, tags):
    return client("sqs", region).create_queue(QueueName=name)["QueueUrl"]


def _make_topic(region, name, tags):
    return client("sns", region).create_topic(Name=name)["TopicArn"]


KINDS = (
    Kind("ec2.volumes", has_tags=True, created_by_aws=True, make=_make_volume),
    Kind("ec2.security_groups", has_tags=True, created_by_aws=False, make=_make_group),
    Kind("ec2.key_pairs", has_tags=True, created_by_aws=True, make=_make_key_pair),
    Kind("s3.buckets", has_tags=False, created_by_aws=True, make=_make_bucket),
    Kind("sqs.queues", has_tags=False, created_by_aws=False, make=_make_queue),
    Kind("sns.topics", has_tags=False, created_by_aws=False, make=_make_topic),
)


def plan_mix(rng: random.Random) -> list[tuple[Kind, str, str | None, dict, int | None]]:
    """What to make: (kind, region, name, tags, days since first seen or None)."""
    planned = []
    for region in REGIONS:
        for kind in KINDS:
            for _ in range(rng.randint(2, 4)):
                named = kind.key != "ec2.volumes" or rng.random() < 0.6  # only a volume's name is optional
                name = f"{rng.choice(NAMES)}-{rng.getrandbits(40):010x}" if named else None
                tags = {}
                if kind.has_tags:
                    tags = {key: rng.choice(values) for key, values in TAG_VALUES.items() if rng.random() < 0.7}
                    if rng.random() < 0.2:
                        tags[PROTECT] = rng.choice(("", "yes"))
                planned.append((kind, region, name, tags, rng.choice((*AGES_IN_DAYS, None))))
    return planned


# The two ways of saying what to delete, each with the same meaning written in plain Python.

FILE_CONFIG = """
filters:
  all:
    keep:
      - tag: env=prod
      - name: shared-*
  ec2:
    keep:
      - tag_regex: team=(data|ml)
  ec2.security_groups:
    select:
      - older_than: 3d
  sqs.queues:
    select:
      - name_regex: (ci|tmp)-.*
  sns:
    keep:
      - newer_than: 2d
"""


def deleted_by_file(r: Seeded, excluded_ids) -> bool:
    service = r.key.split(".")[0]
    return not (
        PROTECT in r.tags
        or r.tags.get("env") in ("prod", "staging")                         # --exclude-tag env=staging
        or (r.name or "").startswith("shared-")
        or (service == "ec2" and r.tags.get("team") in ("data", "ml"))
        or (r.key == "ec2.security_groups" and not r.age_days > 3)
        or (r.key == "sqs.queues" and not r.name.startswith(("ci-", "tmp-")))
        or (service == "sns" and r.age_days < 2)
        or r.id in excluded_ids)


SHARED_KEPT = """
filters:
  all:
    keep:
      - name: shared-*
"""


def deleted_by_tag_flags(r: Seeded, excluded_ids) -> bool:
    return (PROTECT not in r.tags and r.tags.get("team") == "ci" and r.tags.get("env") != "prod"
            and not (r.name or "").startswith("shared-") and r.id not in excluded_ids)


def deleted_by_age_flag(r: Seeded, excluded_ids) -> bool:
    return PROTECT not in r.tags and r.age_days > 3 and not (r.name or "").startswith("shared-") \
        and r.id not in excluded_ids


def excluding(ids):
    return [arg for rid in ids for arg in ("--exclude-id", rid)]


# scenario -> (config file, flags given the ids to exclude, which seeded resources go)
SCENARIOS = {
    "file": (FILE_CONFIG, lambda ids: ["--exclude-tag", "env=staging", *excluding(ids)], deleted_by_file),
    "tag flags": (SHARED_KEPT, lambda ids: ["--tag", "team=ci", "--exclude-tag", "env=prod", *excluding(ids)],
                  deleted_by_tag_flags),
    "age flag": (SHARED_KEPT, lambda ids: ["--older-than", "3d", *excluding(ids)], deleted_by_age_flag),
}


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def left_on_server() -> set[tuple[str, str]]:
    """What the server still has of the mix's types, listed as CostCutter lists them."""
    return {(kind.key, resource.id) for region in REGIONS for kind in KINDS
            for resource in registry.by_key()[kind.key].list(Target(registry.by_key()[kind.key], session(), region))}


def backdate(db_path, run_id, days_by_id: dict[str, int]) -> None:
    """Move the dry run's sightings back in time, as if it had run days ago."""
    now = datetime.now(timezone.utc)
    connection = sqlite3.connect(db_path)
    with connection:
        connection.executemany(
            "UPDATE events SET at = ? WHERE run_id = ? AND kind = 'cataloged' AND resource_id = ?",
            [((now - timedelta(days=days)).isoformat(timespec="microseconds"), run_id, rid)
             for rid, days in days_by_id.items()])
    connection.close()


def only_run_id(db_path) -> str:
    connection = sqlite3.connect(db_path)
    (run_id,), = connection.execute("SELECT id FROM runs").fetchall()
    connection.close()
    return run_id


@pytest.mark.parametrize("seed", [7, 2024, 31337])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_exactly_the_expected_resources_are_deleted(sandbox_endpoint, db_path, tmp_path, seed, scenario):
    config_text, flags_for, is_deleted = SCENARIOS[scenario]
    client.cache_clear()  # each test's server is emptied: no client of an earlier one
    session.cache_clear()
    rng = random.Random(seed)
    planned = plan_mix(rng)
    seeded: list[Seeded] = []

    def make(kind, region, name, tags, days):
        rid = kind.make(region, name, tags)
        seeded.append(Seeded(kind.key, region, rid, name, tags, 0 if kind.created_by_aws else days))
        return rid

    types = [arg for kind in KINDS for arg in ("--service", kind.key)]
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    seen_days_ago = {make(*made): made[-1] for made in planned if made[-1] is not None}
    earlier = invoke("run", "--db", db_path, "--dry-run", *regions, *types)  # the run "days ago"
    assert earlier.exit_code == 0, earlier.output
    backdate(db_path, only_run_id(db_path), seen_days_ago)
    for kind, region, name, tags, days in planned:
        if days is None:  # never seen before: new, whatever AWS says
            make(kind, region, name, tags, 0)
    excluded = [r.id for r in rng.sample(seeded, 2)]

    expected_deleted = {(r.key, r.id) for r in seeded if is_deleted(r, set(excluded))}
    everything = {(r.key, r.id) for r in seeded}
    assert left_on_server() == everything  # nothing else in the sandbox to confuse the count
    assert 0 < len(expected_deleted) < len(everything), "the mix should both delete and keep"

    config_file = tmp_path / "scope.yaml"
    config_file.write_text(config_text)
    result = invoke("run", "--db", db_path, "--config", config_file, "--no-dry-run", "--yes", *regions, *types,
                    *flags_for(excluded))
    assert result.exit_code == 0, result.output

    left = left_on_server()
    assert everything - left == expected_deleted  # none more, none fewer
    kept = len(everything) - len(expected_deleted)
    assert f"{kept} resources were kept, not deleted" in result.output
