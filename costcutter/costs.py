"""What the resources of a run cost a month, estimated from the properties the log kept.

Each priced resource type declares its `cost` (registry.Charge: a price key and a quantity
from the cataloged properties). The prices are CostCutter's own table (costcutter/prices.json:
approximate on-demand list prices for us-east-1, with a factor per region), or, once
`costcutter prices update` has fetched them from the AWS Price List Query API into the event
log's database, those. Types that declare no cost have no price to know (a VPC, an IAM role,
an S3 bucket whose size the listing does not tell) and count for nothing.

An Auto Scaling group's or a node group's instances are priced as ec2.instances where they
are listed: a real run that terminates them with their group first does not list them, so
its "saved" can be below its dry run's "would save".
"""

import dataclasses
import functools
import importlib.resources
import json
import logging
import re
from collections.abc import Iterable, Mapping

from costcutter import events, registry, store as store_module
from costcutter.tables import format_table

log = logging.getLogger(__name__)

HOURS_PER_MONTH = 730
LABEL = "estimate: on-demand list prices, excluding data transfer and requests"
PRICING_REGION = "us-east-1"  # the Price List Query API's endpoint, and the shipped table's region


@functools.cache
def shipped_table() -> dict:
    return json.loads(importlib.resources.files("costcutter").joinpath("prices.json").read_text())


def _per_month(usd: float, unit: str) -> float:
    return usd * (HOURS_PER_MONTH if unit.endswith("hour") else 1)


class PriceBook:
    """USD a month per unit of each price key, in a region: the figure fetched for that region,
    else the one fetched for us-east-1 or the shipped one, times the region's factor."""

    def __init__(self, stored: Mapping[tuple[str, str], tuple[float, str]] | None = None):
        self.table = shipped_table()
        self.stored = dict(stored or {})

    @classmethod
    def of(cls, store) -> "PriceBook":
        """The shipped table, and the figures fetched into this event log (none in a log older than prices)."""
        if "prices" not in store.db.table_names():
            return cls()
        return cls({(row["key"], row["region"]): (row["usd"], row["unit"]) for row in store.db["prices"].rows})

    def monthly(self, key: str, region: str) -> float | None:
        region = self.table["region"] if region in (registry.GLOBAL_REGION, None) else region
        if (key, region) in self.stored:
            return _per_month(*self.stored[(key, region)])
        home = self.stored.get((key, self.table["region"])) or self.table["prices"].get(key)
        if home is None:
            return None
        same = key in self.table["same_in_every_region"]
        return _per_month(*home) * (1.0 if same else self.table["region_factors"].get(region, 1.0))


def estimate(rtype: registry.ResourceType, properties: Mapping, region: str, book: PriceBook) -> float | None:
    """USD a month for one resource; None where its type has no price, or its properties or
    the table do not tell (an instance type the table lacks)."""
    if not rtype.priced:
        return None
    total = 0.0
    for charge in rtype.cost:
        quantity = charge.quantity(properties) if callable(charge.quantity) else charge.quantity
        if quantity is None:
            return None
        if not quantity:
            continue
        try:
            key = charge.price.format_map({**properties, **(charge.fields(properties) if charge.fields else {})})
        except KeyError:
            return None
        price = book.monthly(key, region)
        if price is None:
            return None
        total += quantity * price
    return total


@dataclasses.dataclass
class Estimate:
    """A sum of estimates: USD a month, and how many resources of priced types had no figure."""
    usd: float = 0.0
    unknown: int = 0

    def add(self, usd: float | None, priced: bool) -> None:
        if usd is not None:
            self.usd += usd
        elif priced:
            self.unknown += 1

    def as_dict(self) -> dict:
        return {"usd_per_month": round(self.usd, 2), "unpriced": self.unknown}


def priced_resources(store, run_id: str, book: PriceBook | None = None) -> list[dict]:
    """Each resource of the run (store.resources) with `usd`: its estimate, or None."""
    book = book or PriceBook.of(store)
    types = registry.by_key()
    rows = store.cataloged_resources(run_id)
    for row in rows:
        rtype = types.get(f"{row['service']}.{row['resource_type']}")
        row["priced"] = bool(rtype and rtype.priced)
        row["usd"] = estimate(rtype, row["properties"], row["region"], book) if row["priced"] else None
    return rows


def saved_outcome(dry_run: bool) -> str:
    """What a run saves is what it deleted; a dry run, what it would delete."""
    return events.WOULD_DELETE if dry_run else events.DELETED


def savings(store, run_id: str, dry_run: bool, resources: list[dict] | None = None) -> Estimate:
    total = Estimate()
    for row in resources if resources is not None else priced_resources(store, run_id):
        if row["outcome"] == saved_outcome(dry_run):
            total.add(row["usd"], row["priced"])
    return total


def by_type(resources: Iterable[dict], dry_run: bool) -> list[dict]:
    """Per service and type (of priced types): resources, what the run saves of them, and the cost of the rest."""
    rows: dict[tuple[str, str], dict] = {}
    for resource in resources:
        if not resource["priced"]:
            continue
        row = rows.setdefault((resource["service"], resource["resource_type"]), {
            "service": resource["service"], "resource_type": resource["resource_type"], "resources": 0,
            "saved": Estimate(), "left": Estimate()})
        row["resources"] += 1
        part = "saved" if resource["outcome"] == saved_outcome(dry_run) else "left"
        row[part].add(resource["usd"], True)
    return [rows[key] for key in sorted(rows)]


def run_estimate(store, run_id: str, dry_run: bool) -> dict:
    """What a run saves (or, a dry run, would save) a month, in all and per service and type, labelled."""
    resources = priced_resources(store, run_id)
    total = savings(store, run_id, dry_run, resources)
    return {"label": LABEL, "of": saved_outcome(dry_run), **total.as_dict(),
            "by_type": [{"service": row["service"], "resource_type": row["resource_type"],
                         "resources": row["resources"], **row["saved"].as_dict(),
                         "left_usd_per_month": round(row["left"].usd, 2)} for row in by_type(resources, dry_run)]}


def describe(estimate: dict, dry_run: bool, per_type: bool = False) -> str:
    """The estimate as text: one sentence; with per_type, a table per service and type above it."""
    total = Estimate(estimate["usd_per_month"], estimate["unpriced"])
    if not per_type or not estimate["by_type"]:
        return saving_sentence(total, dry_run)
    saved = "would_save" if dry_run else "saved"
    rows = [{**row, saved: money(row["usd_per_month"]), "left": money(row["left_usd_per_month"])}
            for row in estimate["by_type"]]
    table = format_table(rows, ["service", "resource_type", "resources", saved, "left", "unpriced"],
                         {"resource_type": "type", saved: f"{saved.replace('_', ' ')} $/month",
                          "left": "left $/month"})
    return f"{table}\n{saving_sentence(total, dry_run)}"


def event_estimate(event: Mapping, book: PriceBook) -> float | None:
    """A cataloged event's resource, estimated (for the CSV export); None for other events."""
    rtype = registry.by_key().get(f"{event.get('service')}.{event.get('resource_type')}")
    if event.get("kind") != events.CATALOGED or rtype is None or not event.get("properties"):
        return None
    usd = estimate(rtype, json.loads(event["properties"]), event["region"], book)
    return None if usd is None else round(usd, 2)


def money(usd: float) -> str:
    return f"${usd:,.0f}" if usd >= 100 else f"${usd:,.2f}"


def saving_sentence(total: Estimate, dry_run: bool) -> str:
    """"Would save about $1,234/month (estimate: ...)": what a run saves, always labelled."""
    verb = "Would save" if dry_run else "Saved"
    unknown = f"; {total.unknown} resources could not be priced" if total.unknown else ""
    return f"{verb} about {money(total.usd)}/month ({LABEL}{unknown})."


# Refreshing the prices from the AWS Price List Query API

def _any(value: str) -> tuple[str, str]:
    return ("CONTAINS", value)


_OS = {"linux": "Linux", "windows": "Windows"}
_RDS_ENGINES = {"mysql": "MySQL", "postgres": "PostgreSQL", "aurora-mysql": "Aurora MySQL",
                "aurora-postgresql": "Aurora PostgreSQL"}
_RDS_VOLUMES = {"gp2": "General Purpose", "gp3": "General Purpose-GP3", "io1": "Provisioned IOPS",
                "io2": "Provisioned IOPS-IO2", "standard": "Magnetic"}
_ELB = {"application": "Load Balancer-Application", "network": "Load Balancer-Network",
        "gateway": "Load Balancer-Gateway", "classic": "Load Balancer"}

# Price key (a regular expression) -> the Price List service code and the product attributes
# that select its one product (a value, or _any(part) of the usage type, which carries a
# region prefix outside us-east-1). Keys matching none (FSx, dedicated hosts) keep the
# shipped figure: their products are not told apart by attributes alone.
QUERIES: tuple[tuple[str, object], ...] = (
    (r"ec2\.instance:(?P<type>[^:]+):(?P<os>linux|windows)", lambda m: ("AmazonEC2", {
        "instanceType": m["type"], "operatingSystem": _OS[m["os"]], "tenancy": "Shared", "preInstalledSw": "NA",
        "capacitystatus": "Used", "licenseModel": "No License required"})),
    (r"ebs\.(?P<volume>gp2|gp3|io1|io2|st1|sc1|standard)", lambda m: ("AmazonEC2", {
        "productFamily": "Storage", "volumeApiName": m["volume"]})),
    (r"ebs\.(?P<volume>\w+)\.iops", lambda m: ("AmazonEC2", {
        "productFamily": "System Operation", "group": "EBS IOPS", "volumeApiName": m["volume"]})),
    (r"ebs\.gp3\.throughput", lambda m: ("AmazonEC2", {"productFamily": "Provisioned Throughput",
                                                       "volumeApiName": "gp3"})),
    (r"ebs\.snapshot\.standard", lambda m: ("AmazonEC2", {"productFamily": "Storage Snapshot",
                                                          "usagetype": _any("EBS:SnapshotUsage")})),
    (r"ebs\.snapshot\.archive", lambda m: ("AmazonEC2", {"usagetype": _any("EBS:SnapshotArchiveStorage")})),
    (r"vpc\.public_ipv4", lambda m: ("AmazonVPC", {"usagetype": _any("PublicIPv4:InUseAddress")})),
    (r"ec2\.nat_gateway", lambda m: ("AmazonEC2", {"productFamily": "NAT Gateway",
                                                   "usagetype": _any("NatGateway-Hours")})),
    (r"elb\.(?P<kind>\w+)", lambda m: ("AWSELB", {"productFamily": _ELB[m["kind"]],
                                                  "usagetype": _any("LoadBalancerUsage")})),
    (r"vpc\.vpn_connection", lambda m: ("AmazonVPC", {"usagetype": _any("VPN-Usage-Hours:ipsec.1")})),
    (r"vpc\.transit_gateway_attachment", lambda m: ("AmazonVPC", {"usagetype": _any("TransitGateway-Hours")})),
    (r"eks\.cluster", lambda m: ("AmazonEKS", {"usagetype": _any("AmazonEKS-Hours:perCluster")})),
    (r"kinesis\.shard", lambda m: ("AmazonKinesis", {"usagetype": _any("Storage-ShardHour")})),
    (r"kinesis\.on_demand_stream", lambda m: ("AmazonKinesis", {"usagetype": _any("OnDemand-StreamHour")})),
    (r"rds\.instance:(?P<type>[^:]+):(?P<engine>[\w-]+)", lambda m: ("AmazonRDS", {
        "productFamily": "Database Instance", "instanceType": m["type"], "databaseEngine": _RDS_ENGINES[m["engine"]],
        "deploymentOption": "Single-AZ"})),
    (r"rds\.storage:(?P<volume>\w+)", lambda m: ("AmazonRDS", {
        "productFamily": "Database Storage", "volumeType": _RDS_VOLUMES[m["volume"]], "databaseEngine": "MySQL",
        "deploymentOption": "Single-AZ"})),
    (r"rds\.iops", lambda m: ("AmazonRDS", {"productFamily": "Provisioned IOPS", "databaseEngine": "MySQL",
                                            "deploymentOption": "Single-AZ"})),
    (r"rds\.backup", lambda m: ("AmazonRDS", {"usagetype": _any("RDS:ChargedBackupUsage")})),
    (r"rds\.aurora\.storage", lambda m: ("AmazonRDS", {"usagetype": _any("Aurora:StorageUsage")})),
    (r"rds\.aurora\.backup", lambda m: ("AmazonRDS", {"usagetype": _any("Aurora:BackupUsage")})),
    (r"rds\.aurora\.acu", lambda m: ("AmazonRDS", {"usagetype": _any("Aurora:ServerlessUsage"),
                                                   "databaseEngine": "Aurora MySQL"})),
    (r"dynamodb\.(?P<unit>rcu|wcu)", lambda m: ("AmazonDynamoDB", {
        "productFamily": "Provisioned IOPS", "group": {"rcu": "DDB-ReadUnits", "wcu": "DDB-WriteUnits"}[m["unit"]]})),
    (r"dynamodb\.storage", lambda m: ("AmazonDynamoDB", {"productFamily": "Database Storage",
                                                         "usagetype": _any("TimedStorage-ByteHrs")})),
    (r"dynamodb\.backup", lambda m: ("AmazonDynamoDB", {"usagetype": _any("TimedBackupStorage-ByteHrs")})),
    (r"elasticache\.node:(?P<type>.+)", lambda m: ("AmazonElastiCache", {
        "productFamily": "Cache Instance", "instanceType": m["type"], "cacheEngine": "Redis"})),
    (r"opensearch\.instance:(?P<type>.+)", lambda m: ("AmazonES", {
        "productFamily": "Amazon OpenSearch Service Instance", "instanceType": m["type"]})),
    (r"opensearch\.storage:(?P<volume>\w+)", lambda m: ("AmazonES", {
        "productFamily": "Amazon OpenSearch Service Volume", "storageMedia": m["volume"].upper()})),
    (r"redshift\.node:(?P<type>.+)", lambda m: ("AmazonRedshift", {"productFamily": "Compute Instance",
                                                                   "instanceType": m["type"]})),
    (r"sagemaker\.notebook:(?P<type>.+)", lambda m: ("AmazonSageMaker", {"usagetype": _any(f"Notebk:{m['type']}")})),
    (r"efs\.storage", lambda m: ("AmazonEFS", {"productFamily": "Storage", "storageClass": "General Purpose"})),
    (r"efs\.provisioned_throughput", lambda m: ("AmazonEFS", {"productFamily": "Provisioned Throughput"})),
    (r"cloudwatch\.alarm\.standard", lambda m: ("AmazonCloudWatch", {"usagetype": _any("CW:AlarmMonitorUsage")})),
    (r"cloudwatch\.alarm\.high_resolution", lambda m: ("AmazonCloudWatch", {
        "usagetype": _any("CW:HighResAlarmMonitorUsage")})),
    (r"cloudwatch\.alarm\.composite", lambda m: ("AmazonCloudWatch", {
        "usagetype": _any("CW:CompositeAlarmMonitorUsage")})),
    (r"cloudwatch\.dashboard", lambda m: ("AmazonCloudWatch", {"usagetype": _any("DashboardsUsageHour")})),
    (r"logs\.storage", lambda m: ("AmazonCloudWatch", {"productFamily": "Storage Snapshot",
                                                       "usagetype": _any("TimedStorage-ByteHrs")})),
    (r"kms\.key", lambda m: ("awskms", {"usagetype": _any("KMS-Keys")})),
    (r"secretsmanager\.secret", lambda m: ("AWSSecretsManager", {"usagetype": _any("AWSSecretsManager-Secrets")})),
)
GLOBAL_PRICES = {  # sold once, not per region: asked for without a region
    "route53.hosted_zone": ("AmazonRoute53", {"usagetype": "HostedZone"}),
    "route53.health_check": ("AmazonRoute53", {"usagetype": "Health-Check-NonAWS"}),
}


def query_for(key: str) -> tuple[str, dict] | None:
    """(service code, attributes) of the Price List product of a price key; None where none is known."""
    if key in GLOBAL_PRICES:
        return GLOBAL_PRICES[key]
    for pattern, query in QUERIES:
        match = re.fullmatch(pattern, key)
        if match:
            return query(match)
    return None


def _filters(attributes: Mapping, region: str | None) -> list[dict]:
    filters = [{"Type": value[0], "Field": field, "Value": value[1]} if isinstance(value, tuple)
               else {"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in attributes.items()]
    return filters + ([{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}] if region else [])


def _on_demand_price(product: Mapping) -> tuple[float, str] | None:
    """The product's on-demand USD price and its unit: the first tier that costs anything
    (CloudWatch's first ten alarms are free)."""
    dimensions = [dimension for term in product.get("terms", {}).get("OnDemand", {}).values()
                  for dimension in term.get("priceDimensions", {}).values()]
    paid = [d for d in dimensions if float(d.get("pricePerUnit", {}).get("USD", 0)) > 0]
    if not paid:
        return None
    first = min(paid, key=lambda d: float(d.get("beginRange") or 0))
    return float(first["pricePerUnit"]["USD"]), first.get("unit", "")


def _is_hourly(unit: str) -> bool:
    return "hr" in unit.lower() or "hour" in unit.lower()


@dataclasses.dataclass
class Refreshed:
    fetched: list[tuple[str, str]] = dataclasses.field(default_factory=list)   # (key, region)
    kept: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (key, region, why)


def fetch_prices(client, regions: Iterable[str], keys: Iterable[str] | None = None) -> tuple[list[dict], Refreshed]:
    """Ask the Price List Query API (`client`: boto3's pricing client, us-east-1) for each
    figure the shipped table uses, in each region: GetProducts with the key's attributes,
    every page. A key whose product is unknown, missing, ambiguous (several prices) or sold
    by another unit than the table's keeps the shipped figure, with the reason."""
    table = shipped_table()
    rows, result = [], Refreshed()
    for key in keys if keys is not None else table["prices"]:
        query = query_for(key)
        for region in [None] if key in GLOBAL_PRICES else regions:
            where = region or table["region"]
            if query is None:
                result.kept.append((key, where, "no Price List query is known for it"))
                continue
            prices = {}
            for page in client.get_paginator("get_products").paginate(
                    ServiceCode=query[0], Filters=_filters(query[1], region), FormatVersion="aws_v1"):
                for text in page.get("PriceList", []):
                    product = json.loads(text)
                    price = _on_demand_price(product)
                    if price is not None:
                        prices.setdefault(price, product.get("product", {}).get("sku"))
            why = _unusable(prices, table["prices"][key][1])
            if why:
                result.kept.append((key, where, why))
                continue
            (usd, _), sku = next(iter(prices.items()))
            rows.append({"key": key, "region": where, "usd": usd, "unit": table["prices"][key][1], "sku": sku,
                         "fetched_at": store_module.utcnow()})
            result.fetched.append((key, where))
    return rows, result


def _unusable(prices: Mapping[tuple[float, str], str], unit: str) -> str | None:
    if not prices:
        return "the Price List has no priced product for it"
    if len({usd for usd, _ in prices}) > 1:
        return f"the Price List has {len(prices)} different prices for it"
    (_, their_unit), = prices
    if _is_hourly(their_unit) != unit.endswith("hour"):
        return f"the Price List sells it by {their_unit!r}, the table by {unit!r}"
    return None


def save_prices(store, rows: list[dict]) -> None:
    """Keep fetched figures in the event log's database, one row per key and region: the latest fetch."""
    with store.db.conn:
        store.db["prices"].insert_all(rows, pk=("key", "region"), replace=True)
