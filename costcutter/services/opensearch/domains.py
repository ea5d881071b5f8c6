"""OpenSearch (and Elasticsearch) domains: deleted, then waited for.

The names come from one listing, their sizes from DescribeDomains five at a time (its
limit), which also tells the domains already being deleted.
"""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, pages, per, record, seed_names, still_listed

_DESCRIBED_AT_ONCE = 5
_PROPERTIES = {"engine_version": "EngineVersion", "instance_type": "ClusterConfig.InstanceType",
               "instances": "ClusterConfig.InstanceCount", "master_type": "ClusterConfig.DedicatedMasterType",
               "masters": "ClusterConfig.DedicatedMasterCount", "warm_type": "ClusterConfig.WarmType",
               "warm_nodes": "ClusterConfig.WarmCount", "volume_gib": "EBSOptions.VolumeSize",
               "volume_type": "EBSOptions.VolumeType"}


def _describe(target, names):
    response = target.client.describe_domains(DomainNames=names)
    return response["DomainStatusList"]


def _list(target):
    names = [domain["DomainName"] for page in pages(target.client, "list_domain_names")
             for domain in page["DomainNames"]]
    for start in range(0, len(names), _DESCRIBED_AT_ONCE):
        for domain in _describe(target, names[start:start + _DESCRIBED_AT_ONCE]):
            if not domain.get("Deleted"):
                yield record(domain, "DomainName", name="DomainName", tags=None, properties=_PROPERTIES)


def _seed(session, region, count):
    opensearch = session.client("opensearch", region_name=region)
    return seed_names(count, lambda name: opensearch.create_domain(
        DomainName=name, ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
        EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10}), prefix="costcutter-")


def _storage(domain):
    """Each data node has a volume of the domain's size."""
    return (domain.get("volume_gib") or 0) * (domain.get("instances") or 0)


DOMAINS = ResourceType(
    service="opensearch", name="domains", client="opensearch",
    cost=(Charge("opensearch.instance:{instance_type}", per("instances")),
          Charge("opensearch.instance:{master_type}", per("masters", default=0)),
          Charge("opensearch.instance:{warm_type}", per("warm_nodes", default=0)),
          Charge("opensearch.storage:{volume_type}", _storage)),
    doc=__doc__, list=_list,
    steps=deleted_by("delete_domain", "DomainName"),
    wait=still_listed("describe_domains", "DomainStatusList", "DomainName", chunk=_DESCRIBED_AT_ONCE,
                      asking=lambda names: {"DomainNames": names}),
    gone_codes=frozenset({"ResourceNotFoundException"}),
    seed=_seed, missing_id="costcutter-no-such-domain",
)
catalog_domains, cleanup_domain, cleanup_domains = engine.functions(DOMAINS)
