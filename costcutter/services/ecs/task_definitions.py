"""ECS task definition families: every ACTIVE revision deregistered, then every INACTIVE one deleted.

A family is one resource, listed while it has ACTIVE or INACTIVE revisions: its ACTIVE
revisions are deregistered (they can no longer start tasks or services), then every
INACTIVE one, those deregistered before this run too, is deleted with
DeleteTaskDefinitions, ten at a time. Deleted revisions are DELETE_IN_PROGRESS until no
task uses them, and no longer listed. Free, but a left-over definition is what the next
`run-task` or service starts.
"""

import uuid

from costcutter import aws, engine
from costcutter.registry import Resource, ResourceType, Step, pages
from costcutter.services.ecs.clusters import chunked
from costcutter.services.ecs.services import register_task_definition

_DELETE_AT_ONCE = 10  # DeleteTaskDefinitions takes up to 10
_GONE = "TaskDefinitionFamilyGone"  # CostCutter's own code: a family with no revisions left to delete


def _revisions(ecs, status: str, family: str | None = None) -> list[str]:
    params = {"familyPrefix": family} if family else {}  # the full family name, not a prefix, despite its name
    return [arn for page in pages(ecs, "list_task_definitions", status=status, **params)
            for arn in page["taskDefinitionArns"]]


def _family_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _list(target):
    # Grouped from the revisions, which also counts them; ListTaskDefinitionFamilies would
    # do for AWS, but moto ignores its status and names families long deleted. INACTIVE
    # revisions count, so that a family whose deregistration finished before a stop is
    # still there for the resumed run to delete. Each family keeps its listed revisions,
    # so its teardown needs no listing of its own.
    families: dict[str, dict[str, list[str]]] = {}
    for status in ("ACTIVE", "INACTIVE"):
        for arn in _revisions(target.client, status):
            families.setdefault(_family_of(arn), {"ACTIVE": [], "INACTIVE": []})[status].append(arn)
    for family, revisions in families.items():
        yield Resource(id=family, name=family, raw=revisions,
                       properties={"active_revisions": len(revisions["ACTIVE"]),
                                   "inactive_revisions": len(revisions["INACTIVE"])})


def _listed_revisions(target, family, status: str) -> list[str]:
    """The family's revisions in that status as the listing found them; listed afresh for a
    family given by name alone."""
    return family.raw[status] if status in family.raw else _revisions(target.client, status, family.id)


def _deregister(target, family):
    revisions = _listed_revisions(target, family, "ACTIVE")
    for arn in revisions:
        target.client.deregister_task_definition(taskDefinition=arn)
    return f"deregistered {len(revisions)} revisions"


def _delete(target, family):
    # Those deregistered by the step before are INACTIVE now.
    revisions = (family.raw["INACTIVE"] + family.raw["ACTIVE"] if family.raw
                 else _revisions(target.client, "INACTIVE", family.id))
    if not revisions:
        raise aws.client_error(_GONE, f"task definition family {family.id} has no revisions left to delete",
                               "DeleteTaskDefinitions")
    for chunk in chunked(revisions, _DELETE_AT_ONCE):
        # Refusals come back in the answer, not as an error.
        if failures := target.client.delete_task_definitions(taskDefinitions=chunk).get("failures"):
            raise aws.client_error("DeleteTaskDefinitionsFailed", f"{len(failures)} revisions not deleted, e.g. "
                                   f"{failures[0].get('arn')}: {failures[0].get('reason')}", "DeleteTaskDefinitions")
    return f"deleted {len(revisions)} revisions"


def _seed(session, region, count):
    ecs = session.client("ecs", region_name=region)
    families = [f"cc-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for family in families:
        for _ in range(2):
            register_task_definition(ecs, family)
    return families


TASK_DEFINITIONS = ResourceType(
    service="ecs", name="task_definitions", client="ecs", depends_on=("services", "tasks"), doc=__doc__,
    list=_list,
    steps=(Step("deregister", _deregister), Step("delete", _delete)),
    gone_codes=frozenset({_GONE}),
    seed=_seed, missing_id="cc-no-such-task-definition-family",
)
catalog_task_definitions, cleanup_task_definition, cleanup_task_definitions = engine.functions(TASK_DEFINITIONS)
