"""Estimated monthly costs: every priced type priced from a resource seeded in moto, the
price table checked against the declarations, the refresh from the AWS Price List Query
API (botocore's Stubber on its real response shapes: moto has no pricing service), and
the estimate where people look (the CLI against the moto server)."""

import csv
import io
import json
import re

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from costcutter import aws, costs, engine, events, registry
from costcutter.cli import cli
from costcutter.store import EventStore

PRICED = [t for t in registry.resource_types() if t.priced]
REGION = "eu-west-1"


def cataloged_properties(rtype, session, make_reporter):
    """Seed one in moto, catalog it as a run does, and read back what the log kept of it."""
    region = registry.GLOBAL_REGION if rtype.is_global else REGION
    seeded = rtype.seed(session, "us-east-1" if rtype.is_global else REGION, 1)
    reporter = make_reporter(region)
    engine.catalog(rtype, session, region, reporter)
    kept = [e for e in reporter.events(events.CATALOGED) if e["resource_id"] in seeded]
    assert kept, f"the seeded {rtype.key} was not cataloged"
    return region, json.loads(kept[0]["properties"])


@pytest.mark.parametrize("rtype", PRICED, ids=[t.key for t in PRICED])
def test_every_priced_type_estimates_a_seeded_resource_above_zero(rtype, aws_mock, make_reporter):
    region, properties = cataloged_properties(rtype, boto3.Session(), make_reporter)
    usd = costs.estimate(rtype, properties, region, costs.PriceBook())
    assert usd is not None and usd > 0, f"{rtype.key} {properties}"


def test_the_registry_prices_the_types_the_issue_names():
    assert {"ec2.instances", "ec2.volumes", "ec2.snapshots", "ec2.elastic_ips", "ec2.nat_gateways",
            "elbv2.load_balancers", "elb.load_balancers", "rds.db_instances", "eks.clusters", "dynamodb.tables",
            "elasticache.cache_clusters", "opensearch.domains"} <= {t.key for t in PRICED}


def _pattern(template: str) -> str:
    return "".join(re.escape(part) if not part.startswith("{") else "[^:]+"
                   for part in re.split(r"(\{[^}]*\})", template))


def test_every_declared_cost_refers_to_prices_the_table_has():
    keys = costs.shipped_table()["prices"]
    for rtype in PRICED:
        for charge in rtype.cost:
            assert any(re.fullmatch(_pattern(charge.price), key) for key in keys), (rtype.key, charge.price)


def test_every_price_in_the_table_is_used_by_a_declaration_and_says_its_unit():
    templates = [_pattern(charge.price) for rtype in PRICED for charge in rtype.cost]
    table = costs.shipped_table()
    assert table["as_of"] and table["source"] and table["region"] == "us-east-1"
    for key, (usd, unit) in table["prices"].items():
        assert any(re.fullmatch(template, key) for template in templates), key
        assert usd > 0 and unit, key


INSTANCES = registry.by_key()["ec2.instances"]
VOLUMES = registry.by_key()["ec2.volumes"]


def test_an_instance_costs_its_hours_by_type_platform_and_region():
    book = costs.PriceBook()
    linux = {"instance_type": "m5.large", "state": "running", "platform": "Linux/UNIX"}
    assert costs.estimate(INSTANCES, linux, "us-east-1", book) == pytest.approx(0.096 * 730)
    assert costs.estimate(INSTANCES, {**linux, "platform": "Windows"}, "us-east-1", book) == pytest.approx(0.188 * 730)
    factor = costs.shipped_table()["region_factors"]["eu-west-1"]
    assert costs.estimate(INSTANCES, linux, "eu-west-1", book) == pytest.approx(0.096 * 730 * factor)
    assert costs.estimate(INSTANCES, {**linux, "state": "stopped"}, "us-east-1", book) == 0
    assert costs.estimate(INSTANCES, {**linux, "instance_type": "u-24tb1.metal"}, "us-east-1", book) is None


def test_a_volume_costs_its_size_and_the_iops_it_provisions():
    book = costs.PriceBook()
    assert costs.estimate(VOLUMES, {"volume_type": "gp2", "size_gib": 100, "iops": 300}, "us-east-1",
                          book) == pytest.approx(10.0)
    assert costs.estimate(VOLUMES, {"volume_type": "io1", "size_gib": 100, "iops": 1000}, "us-east-1",
                          book) == pytest.approx(12.5 + 65)
    assert costs.estimate(VOLUMES, {"volume_type": "gp3", "size_gib": 100, "iops": 4000, "throughput_mibps": 250},
                          "us-east-1", book) == pytest.approx(8 + 5 + 5)
    assert costs.estimate(VOLUMES, {"volume_type": "gp3"}, "us-east-1", book) is None  # its size is not known


def test_a_fetched_price_is_preferred_to_the_shipped_one():
    linux = {"instance_type": "t3.micro", "state": "running"}
    book = costs.PriceBook({("ec2.instance:t3.micro:linux", "eu-west-1"): (0.02, "hour"),
                            ("ec2.instance:t3.micro:linux", "us-east-1"): (0.01, "hour")})
    assert costs.estimate(INSTANCES, linux, "eu-west-1", book) == pytest.approx(0.02 * 730)
    factor = costs.shipped_table()["region_factors"]["ap-southeast-2"]
    assert costs.estimate(INSTANCES, linux, "ap-southeast-2", book) == pytest.approx(0.01 * 730 * factor)


# The refresh, against the Price List Query API's real shapes

def price_item(sku, usd, unit="Hrs", attributes=None, free_tier=False):
    """One PriceList entry as GetProducts returns it: a JSON string of product and terms."""
    term = f"{sku}.JRTCKXETXF"
    dimensions = {f"{term}.6YS6EN2CT7": {
        "unit": unit, "endRange": "Inf", "description": f"${usd} per On Demand Linux t3.micro Instance Hour",
        "appliesTo": [], "rateCode": f"{term}.6YS6EN2CT7", "beginRange": "10" if free_tier else "0",
        "pricePerUnit": {"USD": f"{usd:.10f}"}}}
    if free_tier:
        dimensions[f"{term}.FREE"] = {"unit": unit, "endRange": "10", "description": "free", "appliesTo": [],
                                      "rateCode": f"{term}.FREE", "beginRange": "0",
                                      "pricePerUnit": {"USD": "0.0000000000"}}
    return json.dumps({
        "product": {"productFamily": "Compute Instance", "sku": sku,
                    "attributes": {"servicecode": "AmazonEC2", "regionCode": "eu-west-1", **(attributes or {})}},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {term: {"priceDimensions": dimensions, "sku": sku,
                                      "effectiveDate": "2025-01-01T00:00:00Z", "offerTermCode": "JRTCKXETXF",
                                      "termAttributes": {}}}},
        "version": "20250115000000", "publicationDate": "2025-01-15T00:00:00Z"})


def expected_params(key, region):
    service, attributes = costs.query_for(key)
    return {"ServiceCode": service, "Filters": costs._filters(attributes, region), "FormatVersion": "aws_v1"}


def test_prices_update_stores_what_get_products_answers_page_by_page(db_path):
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    keys = ["ec2.instance:t3.micro:linux", "cloudwatch.alarm.standard", "ebs.gp3", "route53.hosted_zone",
            "fsx.storage:ONTAP"]
    with Stubber(client) as stubber:
        params = expected_params(keys[0], "eu-west-1")
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "NextToken": "page-2",
                                              "PriceList": []}, params)
        stubber.add_response("get_products", {"FormatVersion": "aws_v1",
                                              "PriceList": [price_item("SKU1", 0.0114)]},
                             {**params, "NextToken": "page-2"})
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
            price_item("SKU2", 0.10, unit="Alarms", free_tier=True)]}, expected_params(keys[1], "eu-west-1"))
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
            price_item("SKU3", 0.088, unit="GB-Mo"), price_item("SKU4", 0.096, unit="GB-Mo")]},
            expected_params(keys[2], "eu-west-1"))
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
            price_item("SKU5", 0.50, unit="HostedZone")]}, expected_params(keys[3], None))
        rows, result = costs.fetch_prices(client, ["eu-west-1"], keys)
    assert {(row["key"], row["region"], row["usd"], row["sku"]) for row in rows} == {
        ("ec2.instance:t3.micro:linux", "eu-west-1", 0.0114, "SKU1"),
        ("cloudwatch.alarm.standard", "eu-west-1", 0.10, "SKU2"),  # the first paid tier, not the free one
        ("route53.hosted_zone", "us-east-1", 0.50, "SKU5")}  # sold once for all regions
    assert {key: why for key, _, why in result.kept} == {
        "ebs.gp3": "the Price List has 2 different prices for it",
        "fsx.storage:ONTAP": "no Price List query is known for it"}
    with EventStore(db_path) as store:
        costs.save_prices(store, rows)
        costs.save_prices(store, [{**rows[0], "usd": 0.012}])  # a later fetch replaces the figure
        book = costs.PriceBook.of(store)
    assert book.monthly("ec2.instance:t3.micro:linux", "eu-west-1") == pytest.approx(0.012 * 730)


def test_a_price_sold_by_another_unit_than_the_table_says_is_not_taken():
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
            price_item("SKU1", 7.3, unit="Quantity")]}, expected_params("ec2.nat_gateway", "us-east-1"))
        rows, result = costs.fetch_prices(client, ["us-east-1"], ["ec2.nat_gateway"])
    assert rows == [] and "sells it by 'Quantity'" in result.kept[0][2]


def test_the_prices_update_command_saves_into_the_event_log(db_path, monkeypatch, aws_mock):
    session = boto3.Session()
    client = aws.client(session, "pricing", costs.PRICING_REGION)  # the one the command gets
    monkeypatch.setattr("costcutter.aws.make_session", lambda profile: session)
    monkeypatch.setattr(costs, "shipped_table", lambda: {**TABLE, "prices": {"eks.cluster": [0.10, "hour"]}})
    with Stubber(client) as stubber:
        stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [price_item("SKU1", 0.1)]},
                             expected_params("eks.cluster", "us-east-1"))
        result = CliRunner().invoke(cli, ["prices", "update", "--db", str(db_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Fetched 1 prices" in result.output
    with EventStore(db_path) as store:
        assert [(r["key"], r["region"], r["usd"]) for r in store.db["prices"].rows] == [
            ("eks.cluster", "us-east-1", 0.1)]


TABLE = costs.shipped_table()


def test_prices_update_refuses_an_unknown_region_in_one_line(db_path):
    result = CliRunner().invoke(cli, ["prices", "update", "--db", str(db_path), "--region", "mars-north-1"])
    assert result.exit_code == 2 and "not an AWS region" in result.output and len(result.output.splitlines()) == 1


def test_a_log_from_before_properties_reads_with_its_resources_unpriced(spine_db):
    path, run_id = spine_db
    with EventStore(path, read_only=True) as store:
        estimate = costs.run_estimate(store, run_id, dry_run=True)
    assert estimate["usd_per_month"] == 0 and estimate["unpriced"] == 0  # s3 buckets declare no cost


# Where people look: the CLI against the moto server

def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def test_the_estimate_shows_in_the_dry_run_report_json_csv_and_runs(sandbox_endpoint, db_path, monkeypatch):
    monkeypatch.setenv("COSTCUTTER_SERVICES", "ec2")
    session = boto3.Session()
    ec2 = session.client("ec2", region_name="us-east-1")
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2")  # $10.00
    ec2.allocate_address(Domain="vpc")  # $3.65
    result = invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "ec2.volumes",
                    "--service", "ec2.elastic_ips")
    assert result.exit_code == 0, result.output
    assert f"Would save about $13.65/month ({costs.LABEL})." in result.output

    report = invoke("report", "--db", db_path).output
    assert re.search(r"ec2\s+volumes\s+1\s+\$10\.00", report) and costs.LABEL in report
    estimate = json.loads(invoke("report", "--db", db_path, "--json").output)["estimate"]
    assert estimate["usd_per_month"] == 13.65 and estimate["label"] == costs.LABEL
    rows = list(csv.DictReader(io.StringIO(invoke("report", "--db", db_path, "--csv", "-").output)))
    assert sorted(float(row["estimated_usd_month"]) for row in rows if row["kind"] == "cataloged") == [3.65, 10.0]
    assert "$13.65" in invoke("runs", "--db", db_path).output

    real = invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "ec2.volumes", "--no-dry-run", "--yes")
    assert real.exit_code == 0, real.output
    assert f"Saved about $10.00/month ({costs.LABEL})." in real.output
