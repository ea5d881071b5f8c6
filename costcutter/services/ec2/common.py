"""What several EC2 types share: calls that take many ids and answer per id, waits on a
state, gateways attached to VPCs, and the default VPC whose parts are never touched."""

import dataclasses

from botocore.exceptions import ClientError

from costcutter import aws
from costcutter.registry import Step, batched, listed, pages

# EC2 takes up to 200 values in one filter.
FILTER_VALUES = 200


def raise_unsuccessful(items, operation: str) -> None:
    """The per-id failures of a call that answered success (DeleteVpcEndpoints, ReleaseHosts,
    CancelSpotFleetRequests), raised as the ClientError AWS would have raised for one id, so
    gone_codes, retry_codes and failures treat them like any other error."""
    for item in items or ():
        error = item.get("Error") or {}
        raise ClientError({"Error": {"Code": error.get("Code", "Unknown"), "Message": error.get("Message", "")}},
                          operation)


def call_for_one(operation: str, id_param: str, failures_key: str, *, step: str = "delete", **params) -> Step:
    """A Step calling an operation that takes many ids with this resource's alone, its
    answer's `failures_key` items raised as errors."""
    def call_with_id(target, resource):
        answer = getattr(target.client, operation)(**{id_param: [resource.id]}, **params)
        raise_unsuccessful(answer.get(failures_key), target.client.meta.method_to_api_mapping.get(operation, operation))
    call_with_id.__name__ = operation
    return Step(step, call_with_id)


def taking_many_ids(operation: str, id_param: str, failures_key: str, *, size: int, step: str = "delete",
                    failed_id: str = "ResourceId", **params) -> dict:
    """The `steps` and `batch` of a type whose teardown is one operation that takes many ids
    and answers success, listing those it could not do (`failures_key` items, each naming its
    id as `failed_id`): for one resource, a step raising its failure as an error; for many, up
    to `size` a call, the failed ones then taken alone by the engine. Spread into the
    declaration: `**taking_many_ids(...)`."""
    return {"steps": (call_for_one(operation, id_param, failures_key, step=step, **params),),
            "batch": batched(operation, id_param, size, failures_key=failures_key, failed_id=failed_id, **params)}


def still_in_state(operation: str, items_key: str, id_key: str, filter_name: str | None, *,
                   filter_param: str = "Filters", gone_states=frozenset({"deleted"}), state_key: str = "State"):
    """A `wait`: the ids whose state is not yet one of `gone_states` (in any case: VPC
    endpoints answer `deleted`, their documentation says `Deleted`). One describe per
    FILTER_VALUES ids, through a filter, which unlike an ids parameter does not fail on an
    id already gone; or, with no `filter_name`, one listing of them all."""
    def still_there(target, ids):
        asks = [{filter_param: [{"Name": filter_name, "Values": ids[start:start + FILTER_VALUES]}]}
                for start in range(0, len(ids), FILTER_VALUES)] if filter_name else [{}]
        wanted = set(ids)
        for ask in asks:
            for page in pages(target.client, operation, **ask):
                yield from (item[id_key] for item in page[items_key]
                            if item[id_key] in wanted and str(item.get(state_key)).lower() not in gone_states)
    still_there.__name__ = f"still_in_{operation}"
    return still_there


def default_vpc_ids(ec2) -> set[str]:
    """The region's default VPC (none, or one): it and its parts stay."""
    return {vpc["VpcId"] for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]}


def listed_gateways(operation: str, items_key: str, id_key: str, *, attachments_key: str = "Attachments", **kwargs):
    """A `list` of gateways, each with the VPCs it is attached to (or attaching to) as its
    `vpc_ids` property; an internet gateway's attachment is `available` once attached."""
    list_gateways = listed(operation, items_key, id_key, **kwargs)

    def list_with_vpcs(target):
        for gateway in list_gateways(target):
            vpcs = [attachment["VpcId"] for attachment in gateway.raw.get(attachments_key) or []
                    if attachment.get("State") in ("attaching", "attached", "available")]
            yield dataclasses.replace(gateway, properties={**gateway.properties, "vpc_ids": vpcs})
    return list_with_vpcs


def detach_from_vpcs(operation: str, id_param: str, not_attached_code: str) -> Step:
    """A Step detaching a gateway from each VPC its listing shows (one it has left since
    counts as done), needed only where the listing shows one."""
    def detach(target, gateway):
        for vpc in gateway.properties["vpc_ids"]:
            with aws.ignoring(not_attached_code):
                getattr(target.client, operation)(**{id_param: gateway.id}, VpcId=vpc)
        return f"detached from {', '.join(gateway.properties['vpc_ids'])}"
    return Step("detach", detach, when=lambda gateway: bool(gateway.properties.get("vpc_ids")))
