"""RDS DB subnet groups other than `default` (and the console's `default-vpc-*`), once nothing uses them: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, holding, listed, seed_names


def is_default(name: str) -> bool:
    return name.lower() == "default" or name.lower().startswith("default-vpc-")


def create_subnets(session, region: str, count: int = 2) -> list[str]:
    """A VPC with a subnet in each of `count` zones: what subnet groups of every kind need."""
    ec2 = session.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24",
                              AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
            for n, zone in enumerate("abc"[:count])]


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    subnets = create_subnets(session, region)
    return seed_names(count, lambda name: rds.create_db_subnet_group(
        DBSubnetGroupName=name, DBSubnetGroupDescription="seeded by costcutter", SubnetIds=subnets))


DB_SUBNET_GROUPS = ResourceType(
    service="rds", name="db_subnet_groups", client="rds", depends_on=("db_instances", "db_clusters"), doc=__doc__,
    list=listed("describe_db_subnet_groups", "DBSubnetGroups", "DBSubnetGroupName", name="DBSubnetGroupName",
                tags=None, keep=lambda group: not is_default(group["DBSubnetGroupName"]),
                properties={"vpc_id": "VpcId", "status": "SubnetGroupStatus",
                            "subnet_ids": "Subnets[].SubnetIdentifier"}),
    steps=deleted_by("delete_db_subnet_group", "DBSubnetGroupName"),
    gone_codes=frozenset({"DBSubnetGroupNotFoundFault"}),
    retry_codes=frozenset({"InvalidDBSubnetGroupStateFault"}),  # an instance being deleted still uses it
    seed=_seed, missing_id="costcutter-no-such-subnet-group",
    holds=holding({"ec2.subnets": "subnet_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_db_subnet_groups, cleanup_db_subnet_group, cleanup_db_subnet_groups = engine.functions(DB_SUBNET_GROUPS)
