"""Athena workgroups other than `primary` (which AWS keeps): deleted with their saved queries."""

from costcutter import engine
from costcutter.registry import ResourceType, call, listed, recoded, seed_names

_NOT_FOUND = "WorkGroupNotFound"  # Athena says InvalidRequestException for this and for much else


def _seed(session, region, count):
    athena = session.client("athena", region_name=region)
    return seed_names(count, lambda name: athena.create_work_group(Name=name))


WORKGROUPS = ResourceType(
    service="athena", name="workgroups", client="athena", doc=__doc__,
    list=listed("list_work_groups", "WorkGroups", "Name", name="Name", created="CreationTime", tags=None,
                keep=lambda workgroup: workgroup["Name"] != "primary", properties={"state": "State"}),
    steps=(recoded(call("delete_work_group", "WorkGroup", RecursiveDeleteOption=True), "InvalidRequestException",
                   {"not found": _NOT_FOUND}),),
    gone_codes=frozenset({_NOT_FOUND}),
    seed=_seed, missing_id="costcutter-no-such-workgroup",
)
catalog_workgroups, cleanup_workgroup, cleanup_workgroups = engine.functions(WORKGROUPS)
