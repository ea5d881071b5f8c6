"""Classic Load Balancers: billed by the hour whether or not they carry traffic; deleted in one call.

Deleting one deregisters its instances (they keep running, for ec2.instances) and deletes
its listeners and policies with it. Its network interfaces go a little later, which the
security groups' and subnets' retries of DependencyViolation absorb.
"""

import uuid

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, holding, listed


def _seed(session, region, count):
    elb = session.client("elb", region_name=region)
    names = [f"cc-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        elb.create_load_balancer(LoadBalancerName=name, AvailabilityZones=[f"{region}a"],
                                 Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}])
    return names


LOAD_BALANCERS = ResourceType(
    service="elb", name="load_balancers", client="elb",
    cost=(Charge("elb.classic"),),
    doc=__doc__,
    # Names are unique in a region, and every call names a classic load balancer by its name.
    # DescribeLoadBalancers carries no tags (that is DescribeTags, a call per 20 names).
    list=listed("describe_load_balancers", "LoadBalancerDescriptions", "LoadBalancerName", name="LoadBalancerName",
                created="CreatedTime", tags=None,
                properties={"scheme": "Scheme", "vpc_id": "VPCId", "dns_name": "DNSName",
                            "security_group_ids": "SecurityGroups", "subnet_ids": "Subnets"}),
    # AWS answers the deletion of a load balancer that does not exist with success.
    steps=deleted_by("delete_load_balancer", "LoadBalancerName"),
    gone_codes=frozenset({"LoadBalancerNotFound"}),
    seed=_seed, missing_id="cc-no-such-load-balancer",
    holds=holding({"ec2.security_groups": "security_group_ids", "ec2.subnets": "subnet_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_load_balancers, cleanup_load_balancer, cleanup_load_balancers = engine.functions(LOAD_BALANCERS)
