"""`flowsql inventory sync [--upload]` against the moto server."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from awsfixtures import ACCOUNT, REGION

from flowsql import inventory
from flowsql.account.inventory_sync import sync
from flowsql.account.inventory_upload import upload_inventory
from flowsql.account.provision import ensure_inventory_tables
from flowsql.errors import SourceError


def _arrange(boto, enis: int = 12) -> dict:
    vpc = boto.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    boto.ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.2.0.0/16")
    subnet = boto.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    for i in range(enis):
        desc = "AWS Lambda VPC ENI-fn" if i == 0 else f"eni {i}"
        boto.ec2.create_network_interface(SubnetId=subnet, Description=desc)
    return {"vpc": vpc, "subnet": subnet}


def _cli_document(boto, operation: str, key: str) -> str:
    """What `aws ec2 describe-…` prints: the merged pages, timestamps in ISO 8601, indent 4."""
    items = []
    for page in boto.ec2.get_paginator(operation).paginate():
        items.extend(page[key])
    return json.dumps({key: items}, indent=4, ensure_ascii=False,
                      default=lambda v: v.isoformat()) + "\n"


def test_sync_writes_the_cli_shapes_over_several_pages(proxy, boto, aws, tmp_path):
    ids = _arrange(boto, enis=12)
    proxy.throttle["DescribeNetworkInterfaces"] = 1  # a call tried again is no extra page
    counts = sync(aws, tmp_path, page_size=5)
    pages = sorted(set(proxy.pages["DescribeNetworkInterfaces"]))  # a retried page is still one page

    total_enis = len(boto.ec2.describe_network_interfaces()["NetworkInterfaces"])
    assert total_enis >= 12
    assert counts["network-interfaces.json"] == total_enis
    assert pages == list(range(0, total_enis, 5)) and len(pages) >= 3  # followed NextToken over every page
    for name, operation, key in (("network-interfaces.json", "describe_network_interfaces", "NetworkInterfaces"),
                                 ("subnets.json", "describe_subnets", "Subnets"),
                                 ("vpcs.json", "describe_vpcs", "Vpcs")):
        assert (tmp_path / name).read_text() == _cli_document(boto, operation, key)
    today = datetime.now(timezone.utc).date().isoformat()
    assert sorted(p.name for p in tmp_path.iterdir()) == [today, "flow-logs.json", "log-groups.json",
                                                          "network-acls.json", "network-interfaces.json",
                                                          "route-tables.json", "security-groups.json", "subnets.json",
                                                          "transit-gateway-attachments.json", "transit-gateways.json",
                                                          "vpcs.json"]
    for name in ("network-interfaces.json", "subnets.json", "vpcs.json"):  # today's dated snapshot
        assert (tmp_path / today / name).read_text() == (tmp_path / name).read_text()

    inv = inventory.load_inventory(tmp_path)
    lambdas = [e for e in inv.enis if e["is_lambda"]]
    assert len(lambdas) == 1 and lambdas[0]["subnet_id"] == ids["subnet"]
    assert {c["cidr"] for c in inv.vpc_cidrs if c["vpc_id"] == ids["vpc"]} == {"10.1.0.0/16", "10.2.0.0/16"}


def test_sync_with_nothing(boto, tmp_path):
    import boto3

    for vpc in boto.ec2.describe_vpcs()["Vpcs"]:  # moto's default VPC and its subnets
        for sn in boto.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
            boto.ec2.delete_subnet(SubnetId=sn["SubnetId"])
        boto.ec2.delete_vpc(VpcId=vpc["VpcId"])
    counts = sync(boto3.Session(region_name=REGION), tmp_path)
    assert counts == {"network-interfaces.json": 0, "subnets.json": 0, "vpcs.json": 0, "flow-logs.json": 0,
                      "log-groups.json": 0, "security-groups.json": 0, "route-tables.json": 0,
                      "transit-gateways.json": 0, "transit-gateway-attachments.json": 0,
                      "network-acls.json": counts["network-acls.json"]}  # moto keeps a deleted VPC's default ACL
    assert counts.written == counts.absent == counts.warnings == []
    assert json.loads((tmp_path / "vpcs.json").read_text()) == {"Vpcs": []}
    assert (tmp_path / "vpcs.json").read_text() == json.dumps({"Vpcs": []}, indent=4) + "\n"


def test_dated_snapshots_keep_an_eni_deleted_since(boto, aws, tmp_path):
    """A Lambda ENI deleted between two syncs: the latest no longer has it, the older snapshot does, and
    a window that covers the older snapshot's day attributes it."""
    from datetime import date

    from flowsql.pack.params import Window

    ids = _arrange(boto, enis=2)
    sync(aws, tmp_path, today=date(2026, 11, 1))
    gone = next(e for e in boto.ec2.describe_network_interfaces()["NetworkInterfaces"]
                if e["Description"].startswith("AWS Lambda VPC ENI"))["NetworkInterfaceId"]
    boto.ec2.delete_network_interface(NetworkInterfaceId=gone)
    sync(aws, tmp_path, today=date(2026, 11, 20))
    assert {"2026-11-01", "2026-11-20"} <= {p.name for p in tmp_path.iterdir() if p.is_dir()}

    def enis(window):
        return {e["interface_id"] for e in inventory.load_inventory(tmp_path, window=window).enis}

    assert gone not in enis(None)  # the latest alone
    assert gone in enis(Window(date(2026, 11, 1), date(2026, 11, 7)))  # the snapshot dated in the window
    assert gone in enis(Window(date(2026, 11, 5), date(2026, 11, 7)))  # the last one before it began
    assert gone not in enis(Window(date(2026, 11, 21), date(2026, 11, 27)))  # deleted before this window
    assert ids["subnet"] in {s["subnet_id"] for s in inventory.load_inventory(tmp_path, window=None).subnets}


def test_sync_replaces_files_atomically(boto, aws, tmp_path):
    (tmp_path / "subnets.json").write_text("old")
    sync(aws, tmp_path)
    assert json.loads((tmp_path / "subnets.json").read_text())["Subnets"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_sync_throttled_is_retried(proxy, boto, aws, tmp_path):
    proxy.throttle["DescribeSubnets"] = 1
    sync(aws, tmp_path)
    assert proxy.throttle["DescribeSubnets"] == 0  # the throttling answer was given
    assert max(proxy.attempts("DescribeSubnets")) >= 2  # and that call was tried again


def test_page_size_bounds(aws, tmp_path):
    with pytest.raises(SourceError, match="between 5 and 1000"):
        sync(aws, tmp_path, page_size=2)


def test_upload_puts_json_lines_and_registers_tables(boto, aws, tmp_path):
    _arrange(boto, enis=3)
    sync(aws, tmp_path)
    boto.s3.create_bucket(Bucket="res")
    counts = upload_inventory(aws, tmp_path, location="s3://res/inventory", database="flowsql")

    inv = inventory.load_inventory(tmp_path)
    assert counts == {t: len(inv.table(t)) for t in inventory.TABLES}
    body = boto.s3.get_object(Bucket="res", Key=f"inventory/enis/{ACCOUNT}-{REGION}.json")["Body"].read().decode()
    rows = [json.loads(line) for line in body.splitlines()]
    assert rows == inv.enis
    assert list(rows[0]) == [c for c, _ in inventory.TABLES["enis"]]

    tables = {t["Name"]: t for t in boto.glue.get_tables(DatabaseName="flowsql")["TableList"]}
    assert set(tables) == {"inventory_enis", "inventory_eni_ips", "inventory_subnets", "inventory_vpc_cidrs"}
    assert tables["inventory_eni_ips"]["StorageDescriptor"]["Location"] == "s3://res/inventory/eni_ips/"
    assert ensure_inventory_tables(aws, "flowsql", "s3://res/inventory/") == []  # nothing left to do


def test_upload_to_missing_bucket(aws, tmp_path):
    (tmp_path / "vpcs.json").write_text('{"Vpcs": []}')
    from flowsql.errors import AwsError

    with pytest.raises(AwsError, match="does not exist"):
        upload_inventory(aws, tmp_path, location="s3://nope/inventory/")


def _seed_enis(subnet_id: str, n: int) -> None:
    """Put n ENIs straight into the moto server's EC2 backend (it runs in this process): creating
    10,000 through the API takes minutes. flowsql then reads them over HTTP like any other."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[ACCOUNT][REGION]
    subnet = backend.get_subnet(subnet_id)
    for i in range(n):
        backend.create_network_interface(
            subnet, f"10.1.{64 + (i >> 8)}.{i & 255}",
            description="AWS Lambda VPC ENI-fn" if i % 10 == 0 else f"eni {i}")


@pytest.mark.slow  # 10,000 ENIs in moto
def test_ten_thousand_enis(proxy, boto, aws, tmp_path):
    ids = _arrange(boto, enis=0)
    big = boto.ec2.create_subnet(VpcId=ids["vpc"], CidrBlock="10.1.64.0/18")["Subnet"]["SubnetId"]
    _seed_enis(big, 10_000)
    counts = sync(aws, tmp_path)
    assert counts["network-interfaces.json"] == 10_000
    assert sorted(set(proxy.pages["DescribeNetworkInterfaces"])) == list(range(0, 10_000, 1000))  # pages of 1,000
    inv = inventory.load_inventory(tmp_path)
    assert len(inv.enis) == len(inv.eni_ips) == 10_000
    assert sum(e["is_lambda"] for e in inv.enis) == 1_000

    boto.s3.create_bucket(Bucket="res")
    counts = upload_inventory(aws, tmp_path, location="s3://res/inventory/")
    assert counts["enis"] == counts["eni_ips"] == 10_000
    body = boto.s3.get_object(Bucket="res", Key=f"inventory/eni_ips/{ACCOUNT}-{REGION}.json")["Body"].read()
    assert body.count(b"\n") == 10_000