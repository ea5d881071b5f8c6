"""OpenSearch's quirks: domains described five at a time (moto in process), those already
being deleted never listed, and the wait (botocore's Stubber: moto deletes at once)."""

from aws_doubles import stubbed, watch
from costcutter.services.opensearch import domains

REGION = "eu-west-1"


def domain(name, deleted=False):
    return {"DomainId": f"123456789012/{name}", "DomainName": name,
            "ARN": f"arn:aws:es:{REGION}:123456789012:domain/{name}", "Deleted": deleted,
            "ClusterConfig": {"InstanceType": "r6g.large.search", "InstanceCount": 2},
            "EBSOptions": {"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 100}}


def test_domains_are_described_five_at_a_time_with_their_sizes(session, make_reporter):
    seeded = domains.DOMAINS.seed(session, REGION, 7)
    describes = watch(session, "opensearch", REGION, "DescribeDomains")
    listed = domains.catalog_domains(session, REGION, make_reporter(REGION))
    assert sorted(d.id for d in listed) == sorted(seeded)
    assert sorted(len(call["DomainNames"]) for call in describes) == [2, 5]
    assert listed[0].properties["instance_type"] == "t3.small.search" and listed[0].properties["volume_gib"] == 10


def test_a_domain_being_deleted_is_skipped_and_the_wait_polls_once_for_all(session, make_reporter):
    with stubbed(session, "opensearch", REGION) as stub:
        stub.add_response("list_domain_names", {"DomainNames": [{"DomainName": "logs"}, {"DomainName": "going"}]}, {})
        stub.add_response("describe_domains", {"DomainStatusList": [domain("logs"), domain("going", deleted=True)]},
                          {"DomainNames": ["logs", "going"]})
        stub.add_response("delete_domain", {"DomainStatus": domain("logs", deleted=True)}, {"DomainName": "logs"})
        stub.add_response("describe_domains", {"DomainStatusList": [domain("logs", deleted=True)]},
                          {"DomainNames": ["logs"]})
        stub.add_response("describe_domains", {"DomainStatusList": []}, {"DomainNames": ["logs"]})
        assert domains.cleanup_domains(session, REGION, make_reporter(REGION), dry_run=False) == {"logs": "deleted"}
