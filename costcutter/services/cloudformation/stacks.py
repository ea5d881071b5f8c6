"""CloudFormation stacks (not nested ones, which their parent deletes): deleted with what they made, then waited for."""

import json
import uuid

from costcutter import engine
from costcutter.registry import Protection, ResourceType, Step, deleted_by, listed, still_listed

_GONE_STATES = {"DELETE_COMPLETE", "DELETE_IN_PROGRESS"}
# A stack that makes nothing that costs money: enough for the tests and the demo.
_SEED_TEMPLATE = json.dumps({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})


def _remove_termination_protection(target, stack):
    target.client.update_termination_protection(StackName=stack.id, EnableTerminationProtection=False)


def _seed(session, region, count):
    cloudformation = session.client("cloudformation", region_name=region)
    return [cloudformation.create_stack(StackName=f"costcutter-seed-{uuid.uuid4().hex[:8]}",
                                        TemplateBody=_SEED_TEMPLATE)["StackId"] for _ in range(count)]


STACKS = ResourceType(
    service="cloudformation", name="stacks", client="cloudformation", doc=__doc__,
    # Ids are stack ARNs: a name is reused by the next stack of that name, an ARN never.
    list=listed("describe_stacks", "Stacks", "StackId", name="StackName", created="CreationTime",
                keep=lambda stack: not stack.get("ParentId") and stack["StackStatus"] not in _GONE_STATES,
                properties={"status": "StackStatus"}),
    steps=deleted_by("delete_stack", "StackName"),
    # moto neither enforces termination protection nor has UpdateTerminationProtection: its
    # lifting is tested with botocore's Stubber (tests/test_cloudformation.py).
    protection=Protection("remove_deletion_protection",
                          Step("remove_termination_protection", _remove_termination_protection),
                          is_on=lambda stack: bool(stack.raw.get("EnableTerminationProtection"))),
    wait=still_listed("list_stacks", "StackSummaries", "StackId", StackStatusFilter=["DELETE_IN_PROGRESS"]),
    # DeleteStack answers success for a stack that does not exist.
    seed=_seed, missing_id="arn:aws:cloudformation:eu-west-1:123456789012:stack/costcutter-no-such-stack/"
                           "01234567-89ab-cdef-0123-456789abcdef",
)
catalog_stacks, cleanup_stack, cleanup_stacks = engine.functions(STACKS)
