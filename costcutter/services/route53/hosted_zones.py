"""Route 53 hosted zones: every record but the apex SOA and NS deleted, in batches, then the zone.

Records are deleted as the listing goes, in batches within what one ChangeResourceRecordSets
request accepts (1000 changes, 1000 record values, 32,000 characters of values). The
listing's cursor names the next record not yet listed, so deleting those already listed
never makes a page skip one; and a repeat of the step lists again, deleting what is left.

A private zone goes with its VPC associations: DeleteHostedZone asks only that the
records be gone, and the last VPC of a zone can never be disassociated anyway. Zones
another service made and runs (LinkedService: AWS Cloud Map, ECS service discovery) are
never listed: Route 53 refuses to delete them, and deleting their namespace does.
"""

import dataclasses
import uuid

from costcutter import engine
from costcutter.registry import GLOBAL, Charge, ResourceType, Step, call, pages, record

MAX_CHANGES = MAX_VALUES = 1000
MAX_VALUE_CHARACTERS = 32_000
_GONE = frozenset({"NoSuchHostedZone"})


def _list(target):
    for page in pages(target.client, "list_hosted_zones"):
        for zone in page["HostedZones"]:
            if "LinkedService" not in zone:
                listed = record(zone, "Id", name="Name", tags=None, properties={
                    "private": "Config.PrivateZone", "records": "ResourceRecordSetCount"})
                # "/hostedzone/Z0123..." as listed; every call takes the bare id, as the console shows it.
                yield dataclasses.replace(listed, id=zone["Id"].rsplit("/", 1)[-1])


def _delete_records(target, zone):
    route53 = target.client
    apex = route53.get_hosted_zone(Id=zone.id)["HostedZone"]["Name"].lower()
    deleted = 0
    for batch in batches(_records_to_delete(route53, zone.id, apex)):
        route53.change_resource_record_sets(HostedZoneId=zone.id, ChangeBatch={
            "Comment": "costcutter: emptying the zone to delete it",
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": record_set} for record_set in batch]})
        deleted += len(batch)
    return f"{deleted} records deleted"


def _records_to_delete(route53, zone_id: str, apex: str):
    for page in pages(route53, "list_resource_record_sets", HostedZoneId=zone_id):
        for record_set in page["ResourceRecordSets"]:
            # The zone's own SOA and NS go with it; AWS refuses to delete them. NS records
            # further down delegate subdomains, and must go.
            if not (record_set["Type"] in ("SOA", "NS") and record_set["Name"].lower() == apex):
                yield record_set


def batches(record_sets):
    """The record sets in groups one ChangeResourceRecordSets request accepts."""
    batch, values, characters = [], 0, 0
    for record_set in record_sets:
        its_values = [value["Value"] for value in record_set.get("ResourceRecords", [])]
        its_characters = sum(map(len, its_values))
        if batch and (len(batch) == MAX_CHANGES or values + len(its_values) > MAX_VALUES
                      or characters + its_characters > MAX_VALUE_CHARACTERS):
            yield batch
            batch, values, characters = [], 0, 0
        batch.append(record_set)
        values += len(its_values)
        characters += its_characters
    if batch:
        yield batch


def create_zone(route53, records: int = 3, vpc: dict | None = None) -> str:
    """A zone with `records` A records besides its SOA and NS; private when given a VPC
    ({"VPCRegion": ..., "VPCId": ...})."""
    name = f"costcutter-{uuid.uuid4().hex[:8]}.example.com"
    private = {"HostedZoneConfig": {"PrivateZone": True}, "VPC": vpc} if vpc else {}
    zone = route53.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex, **private)["HostedZone"]
    zone_id = zone["Id"].rsplit("/", 1)[-1]
    changes = [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": f"host-{n}.{name}", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": f"192.0.2.{n % 250 + 1}"}]}}
        for n in range(records)]
    for start in range(0, len(changes), MAX_CHANGES):
        route53.change_resource_record_sets(HostedZoneId=zone_id,
                                            ChangeBatch={"Changes": changes[start:start + MAX_CHANGES]})
    return zone_id


def _seed(session, region, count):
    route53 = session.client("route53", region_name=region)
    return [create_zone(route53) for _ in range(count)]


HOSTED_ZONES = ResourceType(
    service="route53", name="hosted_zones", client="route53",
    cost=(Charge("route53.hosted_zone"),),
    scope=GLOBAL, doc=__doc__, list=_list,
    steps=(Step("delete_records", _delete_records, done_codes=_GONE), call("delete_hosted_zone", "Id")),
    gone_codes=_GONE,
    seed=_seed, missing_id="Z0123456789ABCDEFGHIJ",
)
catalog_hosted_zones, cleanup_hosted_zone, cleanup_hosted_zones = engine.functions(HOSTED_ZONES)
