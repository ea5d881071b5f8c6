"""Step Functions state machines, deleted with their versions and aliases (AWS stops their running executions).

AWS finishes the deletion in the background; DeleteStateMachine of one already being
deleted succeeds, so a later run that lists it again does no harm.
"""

import json
import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.awslambda.functions import seed_role

_DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})


def _seed(session, region, count):
    client = session.client("stepfunctions", region_name=region)
    role = seed_role(session)
    return [client.create_state_machine(name=f"costcutter-seed-{uuid.uuid4().hex[:12]}", definition=_DEFINITION,
                                        roleArn=role)["stateMachineArn"] for _ in range(count)]


STATE_MACHINES = ResourceType(
    service="stepfunctions", name="state_machines", client="stepfunctions", doc=__doc__,
    # The listing has no tags; ListTagsForResource is one call per state machine.
    list=listed("list_state_machines", "stateMachines", "stateMachineArn", name="name", created="creationDate",
                tags=None, properties={"type": "type"}),
    steps=deleted_by("delete_state_machine", "stateMachineArn"),
    gone_codes=frozenset({"StateMachineDoesNotExist"}),
    seed=_seed, missing_id="arn:aws:states:us-east-1:123456789012:stateMachine:costcutter-no-such-machine",
)
catalog_state_machines, cleanup_state_machine, cleanup_state_machines = engine.functions(STATE_MACHINES)
