"""Client-side pacing: every call through aws.client waits for a token of its (region, API
family) bucket, sized on AWS's documented EC2 limits. Time is a fake clock: a wait moves it
on, so the tests count waits instead of timing anything."""

import threading

import boto3
import pytest

from costcutter import aws
from costcutter.aws import Rate, TokenBucket

REGION = "us-east-1"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(aws, "PACER", aws.Pacer(clock=clock, sleep=clock.sleep))
    return clock


def delete_nat_gateways(ec2, calls):
    """Delete one NAT gateway `calls` times over: deleting it again is no error, and the
    calls are what count."""
    setup = boto3.client("ec2", region_name=ec2.meta.region_name)  # unpaced
    vpc = setup.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = setup.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    gateway = setup.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")["NatGateway"]["NatGatewayId"]
    for _ in range(calls):
        ec2.delete_nat_gateway(NatGatewayId=gateway)


def test_calls_beyond_the_burst_wait_for_the_refill(aws_mock, clock):
    ec2 = aws.client(boto3.Session(), "ec2", REGION)
    rate = aws.EC2_ACTION_RATES["DeleteNatGateway"]  # 10 at once, then 1 a second
    calls = 15

    delete_nat_gateways(ec2, calls)

    assert clock.now == pytest.approx((calls - rate.burst) / rate.per_second)
    assert aws.PACER.waits == calls - rate.burst


def test_within_the_burst_nothing_waits(aws_mock, clock):
    ec2 = aws.client(boto3.Session(), "ec2", REGION)
    for _ in range(int(aws.EC2_NON_MUTATING_RATE.burst)):
        ec2.describe_key_pairs()
    assert (clock.now, aws.PACER.waits) == (0, 0)


def test_buckets_are_per_region_and_family_and_shared_by_every_client(aws_mock, clock):
    session = boto3.Session()
    delete_nat_gateways(aws.client(session, "ec2", REGION), 10)  # the bucket is empty now

    aws.client(session, "ec2", REGION).describe_key_pairs()            # another family
    delete_nat_gateways(aws.client(session, "ec2", "eu-west-1"), 1)     # another region
    assert aws.PACER.waits == 0

    delete_nat_gateways(aws.client(boto3.Session(), "ec2", REGION), 1)  # another client, same bucket
    assert aws.PACER.waits == 1


def test_families_follow_the_documented_ec2_limits():
    assert aws.api_family("ec2", "TerminateInstances") == ("ec2:TerminateInstances", Rate(100, 5))
    assert aws.api_family("ec2", "DeleteNatGateway") == ("ec2:DeleteNatGateway", Rate(10, 1))
    assert aws.api_family("ec2", "DeleteVolume") == ("ec2:DeleteVolume", Rate(50, 5))
    assert aws.api_family("ec2", "DescribeVolumes") == ("ec2:DescribeVolumes", Rate(100, 20))
    assert aws.api_family("s3", "DeleteObjects") == ("s3", aws.DEFAULT_RATE)


def test_threads_waiting_on_one_bucket_are_spaced_out():
    clock = FakeClock()
    bucket = TokenBucket(Rate(burst=1, per_second=10), clock)
    waits, lock = [], threading.Lock()

    def take():
        wait = bucket.reserve()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])


def test_a_bucket_refills_at_its_rate_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(Rate(burst=2, per_second=1), clock)
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    clock.sleep(1)
    assert [bucket.try_take() for _ in range(2)] == [True, False]
    clock.sleep(60)
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
