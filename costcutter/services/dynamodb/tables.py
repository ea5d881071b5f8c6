"""DynamoDB tables: deleted (deletion protection lifted where allowed), then waited for.

Each listed table is described, for what its cost is estimated from (provisioned capacity,
size); protection still shows as the deletion's refusal, as for every type whose listing
does not say.
"""

import uuid

from costcutter import aws, engine
from costcutter.registry import GB, Charge, Protection, ResourceType, Step, call, pages, per, recoded, record

_PROTECTED = "DeletionProtected"


_PROPERTIES = {"status": "TableStatus", "billing_mode": "BillingModeSummary.BillingMode",
               "read_capacity": "ProvisionedThroughput.ReadCapacityUnits",
               "write_capacity": "ProvisionedThroughput.WriteCapacityUnits", "size_bytes": "TableSizeBytes"}


def _names(target):
    for page in pages(target.client, "list_tables"):
        yield from page["TableNames"]


def _list(target):
    for name in _names(target):
        table = None
        with aws.ignoring("ResourceNotFoundException"):  # deleted between the listing and the description
            table = target.client.describe_table(TableName=name)["Table"]
        if table:
            yield record(table, "TableName", name="TableName", created="CreationDateTime", tags=None,
                         properties=_PROPERTIES)


def _still_there(target, ids):
    # Tables being deleted are still listed; one listing answers for all of them.
    asked = set(ids)
    return [name for name in _names(target) if name in asked]


def _remove_deletion_protection(target, table):
    target.client.update_table(TableName=table.id, DeletionProtectionEnabled=False)


def create_table(dynamodb) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return name


def _seed(session, region, count):
    dynamodb = session.client("dynamodb", region_name=region)
    return [create_table(dynamodb) for _ in range(count)]


TABLES = ResourceType(
    depends_on=("lambda.event_source_mappings",),
    service="dynamodb", name="tables", client="dynamodb",
    # Provisioned capacity (an on-demand table's reads 0) and storage; its indexes' capacity is not counted.
    cost=(Charge("dynamodb.rcu", per("read_capacity", default=0)),
          Charge("dynamodb.wcu", per("write_capacity", default=0)),
          Charge("dynamodb.storage", per("size_bytes", GB))),
    doc=__doc__, list=_list,
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
