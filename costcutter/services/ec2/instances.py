"""EC2 instances: terminated, then waited for, so the volumes they free can be deleted next."""

import logging

import botocore.exceptions

from costcutter.registry import Subresource

log = logging.getLogger(__name__)

# Terminated instances linger in listings for an hour; shutting-down ones are already going.
_GONE_STATES = {"shutting-down", "terminated"}
_WAIT_DELAY_SECONDS = 5


def _list(ec2):
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance["State"]["Name"] not in _GONE_STATES:
                    yield instance["InstanceId"]


def _terminate(ec2, instance_id):
    # A protected instance fails here with OperationNotPermitted, which is reported as is.
    ec2.terminate_instances(InstanceIds=[instance_id])


def _wait_terminated(ec2, instance_ids, timeout):
    waiter = ec2.get_waiter("instance_terminated")
    attempts = max(1, timeout // _WAIT_DELAY_SECONDS)
    for start in range(0, len(instance_ids), 100):
        try:
            waiter.wait(InstanceIds=instance_ids[start:start + 100],
                        WaiterConfig={"Delay": _WAIT_DELAY_SECONDS, "MaxAttempts": attempts})
        except botocore.exceptions.WaiterError as error:
            log.warning("instances still not terminated after %ss, their volumes may not be deletable yet: %s",
                        timeout, error)


INSTANCES = Subresource(
    service="ec2", name="instances", client="ec2", list=_list, delete=_terminate,
    gone_codes=frozenset({"InvalidInstanceID.NotFound"}), settle=_wait_terminated,
)
catalog_instances, cleanup_instance, cleanup_instances = INSTANCES.functions()
