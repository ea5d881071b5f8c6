"""DynamoDB tables: deleted (deletion protection lifted where allowed), then waited for.

The listing gives names only, so protection shows only as the deletion's refusal: no
describe per table for the unprotected many.
"""

import uuid

from costcutter import engine
from costcutter.registry import Protection, Resource, ResourceType, Step, call, pages, recoded

_PROTECTED = "DeletionProtected"


def _list(target):
    for page in pages(target.client, "list_tables"):
        for name in page["TableNames"]:
            yield Resource(id=name, name=name)


def _still_there(target, ids):
    # Tables being deleted are still listed; one listing answers for all of them.
    asked = set(ids)
    for resource in _list(target):
        if resource.id in asked:
            yield resource.id


def _remove_deletion_protection(target, table):
    target.client.update_table(TableName=table.id, DeletionProtectionEnabled=False)


def create_table(dynamodb) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return name


def _seed(session, region, count):
    dynamodb = session.client("dynamodb", region_name=region)
    return [create_table(dynamodb) for _ in range(count)]


TABLES = ResourceType(
    depends_on=("lambda.event_source_mappings",),
    service="dynamodb", name="tables", client="dynamodb", doc=__doc__, list=_list,
    # AWS refuses a protected table with a ValidationException that says so; other
    # ValidationExceptions stay failures.
    steps=(recoded(call("delete_table", "TableName"), "ValidationException", {"protect": _PROTECTED}),),
    protection=Protection("remove_deletion_protection", Step("remove_deletion_protection", _remove_deletion_protection),
                          codes=frozenset({_PROTECTED})),
    wait=_still_there,
    gone_codes=frozenset({"ResourceNotFoundException"}),
    # Still being created or updated (as right after its protection is lifted).
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="costcutter-no-such-table",
)
catalog_tables, cleanup_table, cleanup_tables = engine.functions(TABLES)
