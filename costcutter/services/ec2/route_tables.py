"""Route tables other than each VPC's main one: their subnet and gateway associations removed, then deleted."""

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, call, listed
from costcutter.services.ec2.subnets import create_subnets
from costcutter.services.ec2.vpcs import create_vpc


def _is_main(table) -> bool:
    return any(association.get("Main") for association in table.get("Associations", []))


def _associations(table) -> list[str]:
    return [association["RouteTableAssociationId"] for association in table.raw.get("Associations", [])
            if (association.get("AssociationState") or {}).get("State", "associated") in ("associating", "associated")]


def _disassociate(target, table):
    for association in _associations(table):
        with aws.ignoring("InvalidAssociationID.NotFound"):  # removed already, by an earlier attempt
            target.client.disassociate_route_table(AssociationId=association)
    return f"disassociated {', '.join(_associations(table))}"


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    vpc = create_vpc(ec2)
    tables = []
    for subnet in create_subnets(ec2, region, count, vpc):
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        tables.append(table)
    return tables


ROUTE_TABLES = ResourceType(
    service="ec2", name="route_tables", client="ec2", doc=__doc__,
    # Most associations go with their subnets; what is left is removed here.
    depends_on=("subnets", "vpc_endpoints"),
    list=listed("describe_route_tables", "RouteTables", "RouteTableId", keep=lambda table: not _is_main(table),
                properties={"vpc_id": "VpcId"}),
    steps=(
        Step("disassociate", _disassociate, when=lambda table: bool(_associations(table))),
        call("delete_route_table", "RouteTableId"),
    ),
    gone_codes=frozenset({"InvalidRouteTableID.NotFound", "InvalidRouteTableId.NotFound"}),
    retry_codes=frozenset({"DependencyViolation"}),  # an association just removed, not yet seen everywhere
    seed=_seed, missing_id="rtb-0123456789abcdef0",
)
catalog_route_tables, cleanup_route_table, cleanup_route_tables = engine.functions(ROUTE_TABLES)
