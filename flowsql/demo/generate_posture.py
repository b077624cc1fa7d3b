"""The demo's posture snapshot: flow-log settings, log groups and buckets for the generated accounts.

A pure function of the generator's topologies (account, region, VPC, flow log id, log format) and
the scenario: `posture_documents()` returns every file of the snapshot (docs/posture.md lists them)
in the AWS CLI's output shapes; `write_posture_snapshot()` writes them into the inventory folder the
generator has just written, tags its VPCs with their data class and adds the VPCs that carry no
generated traffic but make the posture interesting.

The mix, per account (rows of `flowsql posture` in brackets):
- the traffic VPCs: ALL traffic at VPC level to a central bucket that archives to Glacier after 30
  days and expires after 400 (SSE-KMS, public access blocked), plus 14 days in CloudWatch Logs;
  the first is `critical`, the others `production` [ok everywhere];
- payments (critical): to a legacy bucket expiring after 90 days, SSE-S3, no Block Public Access,
  and a CloudWatch Logs group that never expires [lifecycle, public access and retention alarms];
- staging (production): CloudWatch Logs only [no audit copy in S3];
- legacy-batch (internal): REJECT-only to the central bucket [flow logging alarm];
- shared-services (untagged, so internal): no flow logs [flow logging alarm, data class info];
- sandbox-ml (sandbox): no flow logs [skip];
- analytics (internal): ALL traffic on every subnet to a 30-day group [ok];
- partner-edge (production): S3 is fine, but its CloudWatch Logs flow log points at a group that
  does not exist and fails delivery [flow logging and retention alarms];
- data-lake (tagged `confidential`, a class the policy does not know) [data class alarm].

With `scenario.transit_gateways`, transit-gateways.json and transit-gateway-attachments.json hold the
generated transit gateways (flowsql.demo.generate_tgw: the same ids), each with the flow log whose
records the generator writes [ok], and a posture-only `legacy-hub` in the first account and region,
attached to legacy-batch and a VPN, whose only flow log is on the VPN's attachment [transit gateway
flow logging alarm]. Without transit gateways both files are there and empty, as a sync writes them.
"""

from __future__ import annotations

import ipaddress
import random
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from ..files import dumps_json, read_json
from ..logs.tgw_fields import TGW_DEFAULT_LOG_FORMAT
from ..posture.snapshot import TGW_ATTACHMENTS, TRANSIT_GATEWAYS

GIB = 2**30
CENTRAL_RULES = [{"ID": "flow-logs-archive-then-expire", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
                  "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 400}}]
LEGACY_RULES = [{"ID": "expire-old-logs", "Prefix": "", "Status": "Enabled",
                 "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 90}}]
# Posture-only VPCs: (name, data-class tag or None). Their CIDRs (10.181–10.189 and 10.190–10.198)
# stay clear of the generated VPCs (below 10.180) and of the traffic's outside destinations (10.200).
EXTRA_VPCS = (("payments", "critical"), ("staging", "production"), ("legacy-batch", "internal"),
              ("shared-services", None), ("sandbox-ml", "sandbox"), ("analytics", "internal"),
              ("partner-edge", "production"), ("data-lake", "confidential"))
GROUP_PREFIX = "/flowsql-demo/vpc-flow-logs/"


def _hex(rng: random.Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


def _iso(t: datetime) -> str:
    return t.isoformat()  # what the AWS CLI prints (its default cli_timestamp_format)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class _Account:
    """One account's share of the snapshot."""

    def __init__(self, account: str, topologies: list, scenario, as_of: datetime):
        self.account = account
        self.topologies = topologies
        self.scenario = scenario
        self.as_of = as_of
        self.rng = random.Random(f"flowsql:{scenario.seed}:{account}:posture")
        self.regions = [t.region for t in topologies]
        self.central = f"flowsql-demo-flow-logs-{account}"
        self.legacy = f"flowsql-demo-legacy-logs-{account}"
        self.flow_logs: list[dict] = []
        self.groups: list[dict] = []
        self.vpcs: list[dict] = []
        self.subnets: list[dict] = []
        self.tags: dict[str, str] = {}  # traffic VPC -> data class

    def days_ago(self, n: float) -> datetime:
        return self.as_of - timedelta(days=n)

    def flow_log(self, resource: str, *, s3: str | None = None, group: tuple[str, str] | None = None,
                 traffic: str = "ALL", fl_id: str | None = None, log_format: str | None = None,
                 created_days_ago: int = 400, failed: bool = False, name: str = "") -> None:
        doc = {
            "CreationTime": _iso(self.days_ago(created_days_ago)),
            "DeliverLogsStatus": "FAILED" if failed else "SUCCESS",
            "FlowLogId": fl_id or "fl-" + _hex(self.rng, 17),
            "FlowLogStatus": "ACTIVE",
            "ResourceId": resource,
            "TrafficType": traffic,
            "LogDestinationType": "s3" if s3 else "cloud-watch-logs",
            "LogFormat": log_format or "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
                                       "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} "
                                       "${log-status}",
            "Tags": [{"Key": "Name", "Value": name}] if name else [],
            "MaxAggregationInterval": 600,
        }
        if failed:
            doc["DeliverLogsErrorMessage"] = "Access error"
        if s3:
            doc["LogDestination"] = f"arn:aws:s3:::{s3}"
            doc["DestinationOptions"] = {"FileFormat": "plain-text",
                                         "HiveCompatiblePartitions": bool(self.scenario.hive),
                                         "PerHourPartition": bool(self.scenario.per_hour)}
        else:
            region, group_name = group
            doc["LogDestination"] = f"arn:aws:logs:{region}:{self.account}:log-group:{group_name}"
            doc["LogGroupName"] = group_name
            doc["DeliverLogsPermissionArn"] = f"arn:aws:iam::{self.account}:role/flowsql-demo-flow-logs-to-cwl"
        self.flow_logs.append(doc)

    def group(self, region: str, name: str, *, retention: int | None, stored_gib: float, age_days: int) -> tuple:
        arn = f"arn:aws:logs:{region}:{self.account}:log-group:{name}"
        doc = {"logGroupName": name, "creationTime": _ms(self.days_ago(age_days))}
        if retention is not None:  # as the API: no retentionInDays at all for "Never expire"
            doc["retentionInDays"] = retention
        doc.update({"metricFilterCount": 0, "arn": f"{arn}:*", "storedBytes": int(stored_gib * GIB),
                    "logGroupClass": "STANDARD", "logGroupArn": arn})
        self.groups.append(doc)
        return region, name

    def extra_vpc(self, i: int, name: str, data_class: str | None) -> tuple[str, list[str]]:
        region = self.regions[i % len(self.regions)]
        vpc_id = "vpc-" + _hex(self.rng, 17)
        k = len(self.vpcs)
        primary = ipaddress.IPv4Network(f"10.{181 + k}.0.0/16")
        secondary = ipaddress.IPv4Network(f"10.{190 + k}.0.0/16")
        gua = "2600:1f18" if region == "us-east-1" else "2a05:d018"
        ipv6 = ipaddress.IPv6Network(f"{gua}:7c{k:02x}:{self.rng.getrandbits(8):x}00::/56")
        tags = [{"Key": "Name", "Value": name}] + ([{"Key": "data-class", "Value": data_class}] if data_class else [])
        self.vpcs.append({
            "CidrBlock": str(primary), "DhcpOptionsId": "dopt-" + _hex(self.rng, 17), "State": "available",
            "VpcId": vpc_id, "OwnerId": self.account, "InstanceTenancy": "default",
            "Ipv6CidrBlockAssociationSet": [{
                "AssociationId": "vpc-cidr-assoc-" + _hex(self.rng, 17), "Ipv6CidrBlock": str(ipv6),
                "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": region, "Ipv6Pool": "Amazon"}],
            "CidrBlockAssociationSet": [
                {"AssociationId": "vpc-cidr-assoc-" + _hex(self.rng, 17), "CidrBlock": str(c),
                 "CidrBlockState": {"State": "associated"}} for c in (primary, secondary)],
            "IsDefault": False, "Tags": tags,
        })
        subnet_ids = []
        for j, az in enumerate("ab"):
            sid = "subnet-" + _hex(self.rng, 17)
            subnet_ids.append(sid)
            self.subnets.append({
                "AvailabilityZone": region + az, "AvailableIpAddressCount": 251,
                "CidrBlock": str(list(primary.subnets(new_prefix=24))[j]), "DefaultForAz": False,
                "MapPublicIpOnLaunch": False, "State": "available", "SubnetId": sid, "VpcId": vpc_id,
                "OwnerId": self.account, "AssignIpv6AddressOnCreation": False, "Ipv6CidrBlockAssociationSet": [],
                "Tags": [{"Key": "Name", "Value": f"{name}-private-{az}"}],
                "SubnetArn": f"arn:aws:ec2:{region}:{self.account}:subnet/{sid}",
            })
        return vpc_id, subnet_ids

    def build(self) -> None:
        for n, t in enumerate(self.topologies):
            self.tags[t.vpc_id] = "critical" if n == 0 else "production"
            self.flow_log(t.vpc_id, s3=self.central, fl_id=t.flow_log_id, log_format=t.fmt.log_format(),
                          name=f"main-{t.region}-to-s3")
            g = self.group(t.region, f"{GROUP_PREFIX}main-{t.region}", retention=14, stored_gib=2.5, age_days=400)
            self.flow_log(t.vpc_id, group=g, name=f"main-{t.region}-to-cwl")
        for i, (name, data_class) in enumerate(EXTRA_VPCS):
            vpc, subnets = self.extra_vpc(i, name, data_class)
            region = self.regions[i % len(self.regions)]
            if name == "payments":
                self.flow_log(vpc, s3=self.legacy, created_days_ago=700, name="payments-to-legacy")
                g = self.group(region, f"{GROUP_PREFIX}payments", retention=None, stored_gib=96, age_days=700)
                self.flow_log(vpc, group=g, created_days_ago=700, name="payments-to-cwl")
            elif name == "staging":
                g = self.group(region, f"{GROUP_PREFIX}staging", retention=14, stored_gib=1.4, age_days=200)
                self.flow_log(vpc, group=g, created_days_ago=200)
            elif name == "legacy-batch":
                self.flow_log(vpc, s3=self.central, traffic="REJECT", created_days_ago=900)
            elif name == "analytics":
                g = self.group(region, f"{GROUP_PREFIX}analytics", retention=30, stored_gib=0.9, age_days=120)
                for sn in subnets:
                    self.flow_log(sn, group=g, created_days_ago=120)
            elif name == "partner-edge":
                self.flow_log(vpc, s3=self.central, created_days_ago=60)
                # the group was deleted (or never made) and the role may not create it: delivery fails
                self.flow_log(vpc, group=(region, f"{GROUP_PREFIX}partner-edge"), created_days_ago=60, failed=True)
            elif name == "data-lake":
                self.flow_log(vpc, s3=self.central, created_days_ago=300)

    def transit_gateways(self, gws: list, legacy_vpc: str | None) -> tuple[list, list]:
        """This account's transit gateways and their attachments (describe-transit-gateways and
        -attachments), the generated ones' flow logs, and the posture-only legacy hub."""
        tgws, attachments = [], []

        def gateway(tgw_id: str, region: str, name: str, created: int) -> None:
            tgws.append({"TransitGatewayId": tgw_id,
                         "TransitGatewayArn": f"arn:aws:ec2:{region}:{self.account}:transit-gateway/{tgw_id}",
                         "State": "available", "OwnerId": self.account, "Description": name,
                         "CreationTime": _iso(self.days_ago(created)),
                         "Options": {"AmazonSideAsn": 64512, "AutoAcceptSharedAttachments": "disable",
                                     "DefaultRouteTableAssociation": "enable", "DnsSupport": "enable",
                                     "VpnEcmpSupport": "enable"},
                         "Tags": [{"Key": "Name", "Value": name}]})

        def attachment(att_id: str, tgw_id: str, kind: str, resource: str, owner: str, created: int) -> None:
            attachments.append({"TransitGatewayAttachmentId": att_id, "TransitGatewayId": tgw_id,
                                "TransitGatewayOwnerId": self.account, "ResourceOwnerId": owner,
                                "ResourceType": kind, "ResourceId": resource, "State": "available",
                                "Association": {"TransitGatewayRouteTableId": "tgw-rtb-" + _hex(self.rng, 17),
                                                "State": "associated"},
                                "CreationTime": _iso(self.days_ago(created)), "Tags": []})

        for gw in gws:
            if gw.owner != self.account:
                continue
            gateway(gw.id, gw.region, f"hub-{gw.region}", 300)
            for a in gw.attachments:
                resource = a.vpc_id if a.kind == "vpc" else "vpn-" + _hex(self.rng, 17)
                attachment(a.id, gw.id, a.kind, resource, a.account or self.account, 300)
            self.flow_log(gw.id, s3=self.central, fl_id=gw.flow_log_id, log_format=TGW_DEFAULT_LOG_FORMAT,
                          created_days_ago=300, name=f"hub-{gw.region}-to-s3")
            self.flow_logs[-1].pop("TrafficType")  # a transit gateway's flow log has none
        if legacy_vpc is not None:
            tgw_id = "tgw-" + _hex(self.rng, 17)
            gateway(tgw_id, self.regions[0], "legacy-hub", 900)
            attachment("tgw-attach-" + _hex(self.rng, 17), tgw_id, "vpc", legacy_vpc, self.account, 900)
            vpn = "tgw-attach-" + _hex(self.rng, 17)
            attachment(vpn, tgw_id, "vpn", "vpn-" + _hex(self.rng, 17), self.account, 900)
            self.flow_log(vpn, s3=self.central, log_format=TGW_DEFAULT_LOG_FORMAT, created_days_ago=900,
                          name="legacy-hub-vpn-to-s3")
            self.flow_logs[-1].pop("TrafficType")
        return tgws, attachments

    def buckets(self) -> dict[str, dict]:
        """Relative path -> document for this account's buckets."""
        docs = {}
        kms = f"arn:aws:kms:{self.regions[0]}:{self.account}:key/{_hex(self.rng, 8)}-{_hex(self.rng, 4)}-" \
              f"{_hex(self.rng, 4)}-{_hex(self.rng, 4)}-{_hex(self.rng, 12)}"
        central, legacy = f"buckets/{self.central}/", f"buckets/{self.legacy}/"
        docs[central + "lifecycle.json"] = {"TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
                                            "Rules": CENTRAL_RULES}
        docs[central + "encryption.json"] = {"ServerSideEncryptionConfiguration": {"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms},
            "BucketKeyEnabled": True}]}}
        docs[central + "public-access-block.json"] = {"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}
        docs[legacy + "lifecycle.json"] = {"Rules": LEGACY_RULES}
        docs[legacy + "encryption.json"] = {"ServerSideEncryptionConfiguration": {"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}}
        # no public-access-block.json for the legacy bucket: it has no Block Public Access configuration
        for prefix, sizes in ((central, {"StandardStorage": 62, "GlacierStorage": 540}),
                              (legacy, {"StandardStorage": 18, "GlacierStorage": 41})):
            for storage_type, gib in sizes.items():
                # three daily datapoints, newest last in time but not in order (as CloudWatch returns them)
                points = [{"Timestamp": _iso(datetime.combine((self.as_of - timedelta(days=d)).date(), time(),
                                                              tzinfo=timezone.utc)),
                           "Average": float(int(gib * GIB * (1 - 0.004 * d))), "Unit": "Bytes"} for d in (2, 1, 3)]
                docs[prefix + f"size-{storage_type}.json"] = {"Label": "BucketSizeBytes", "Datapoints": points}
        return docs


def posture_documents(topologies: list, scenario) -> tuple[dict[str, dict], dict[str, str], list[dict], list[dict]]:
    """(relative path -> document, traffic VPC -> data class, extra VPC documents, extra subnets)."""
    end = scenario.start + timedelta(days=scenario.days)
    as_of = datetime.combine(end, time(1, 0), tzinfo=timezone.utc)
    by_account: dict[str, list] = {}
    for t in topologies:
        by_account.setdefault(t.account, []).append(t)
    files: dict[str, dict] = {}
    tags, vpcs, subnets, flow_logs, groups, tgws, attachments = {}, [], [], [], [], [], []
    gws = []
    if scenario.transit_gateways:
        from .generate_tgw import gateways

        gws = gateways(topologies, scenario)
    for n, (account, tops) in enumerate(by_account.items()):
        a = _Account(account, tops, scenario, as_of)
        a.build()
        files.update(a.buckets())  # (before the transit gateways: they draw from the same generator)
        if gws:
            legacy = next(v["VpcId"] for v in a.vpcs if {"Key": "Name", "Value": "legacy-batch"} in v["Tags"])
            t, att = a.transit_gateways(gws, legacy if n == 0 else None)
            tgws += t
            attachments += att
        tags.update(a.tags)
        vpcs += a.vpcs
        subnets += a.subnets
        flow_logs += a.flow_logs
        groups += a.groups
    files["flow-logs.json"] = {"FlowLogs": flow_logs}
    files["log-groups.json"] = {"logGroups": sorted(groups, key=lambda g: g["logGroupName"])}
    files[TRANSIT_GATEWAYS] = {"TransitGateways": tgws}
    files[TGW_ATTACHMENTS] = {"TransitGatewayAttachments": attachments}
    return files, tags, vpcs, subnets


def write_posture_snapshot(directory: Path, topologies: list, scenario) -> None:
    """Add the posture snapshot to the inventory folder the generator wrote (see the module's doc)."""
    directory = Path(directory)
    files, tags, vpcs, subnets = posture_documents(topologies, scenario)
    for name, key, extra in (("vpcs.json", "Vpcs", vpcs), ("subnets.json", "Subnets", subnets)):
        path = directory / name
        items = read_json(path)[key]
        for item in items:
            if item.get("VpcId") in tags and key == "Vpcs":
                item["Tags"] = [*item.get("Tags", []), {"Key": "data-class", "Value": tags[item["VpcId"]]}]
        _write(path, {key: items + extra})
    for rel, doc in sorted(files.items()):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, doc)


def _write(path: Path, doc: dict) -> None:
    # indent=4 and key order as given: what the AWS CLI's `--output json` looks like
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_json(doc, indent=4) + "\n", encoding="utf-8")


# -- the demo's inventory as an organization's tree ----------------------------------------------------
# A second account whose Sydney VPC logs nothing (a posture alarm, and an account and region that must
# log and sends no record: the report's finding), a region an SCP denies (not evaluated) and an opt-in
# region not enabled (skipped): what `inventory sync --organization --regions all` writes.
SECOND_ACCOUNT = "210987654321"
SECOND_REGION = "ap-southeast-2"
DENIED_REGION = "eu-central-1"
SKIPPED_REGION = "ap-east-1"
ROLE_NAME = "OrganizationAccountAccessRole"


def _region_of(doc: dict) -> str | None:
    from ..posture.facts import region_of_arn, region_of_az

    return region_of_arn(doc.get("SubnetArn")) or region_of_az(doc.get("AvailabilityZone"))


def _split(docs: dict[str, list], place_of_vpc: dict) -> dict[tuple, dict[str, list]]:
    """vpcs/subnets/ENIs (file -> items) -> (account, region) -> file -> items."""
    out: dict = {}
    subnet_vpc = {s["SubnetId"]: s["VpcId"] for s in docs.get("subnets.json", [])}
    for name, items in docs.items():
        for item in items:
            vpc = item.get("VpcId") or subnet_vpc.get(item.get("SubnetId"))
            place = place_of_vpc.get(vpc)
            if place is not None:
                out.setdefault(place, {n: [] for n in docs}).setdefault(name, []).append(item)
    return out


def _second_account(rng: random.Random) -> tuple[dict, dict]:
    """The second account's Sydney VPC (production, no flow logs) and its subnets."""
    vpc_id = "vpc-" + _hex(rng, 17)
    vpc = {"CidrBlock": "10.199.0.0/16", "DhcpOptionsId": "dopt-" + _hex(rng, 17), "State": "available",
           "VpcId": vpc_id, "OwnerId": SECOND_ACCOUNT, "InstanceTenancy": "default", "IsDefault": False,
           "CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-" + _hex(rng, 17),
                                        "CidrBlock": "10.199.0.0/16", "CidrBlockState": {"State": "associated"}}],
           "Tags": [{"Key": "Name", "Value": "edge-sydney"}, {"Key": "data-class", "Value": "production"}]}
    subnets = []
    for j, az in enumerate("ab"):
        sid = "subnet-" + _hex(rng, 17)
        subnets.append({"AvailabilityZone": SECOND_REGION + az, "AvailableIpAddressCount": 251,
                        "CidrBlock": f"10.199.{j}.0/24", "DefaultForAz": False, "MapPublicIpOnLaunch": False,
                        "State": "available", "SubnetId": sid, "VpcId": vpc_id, "OwnerId": SECOND_ACCOUNT,
                        "AssignIpv6AddressOnCreation": False, "Ipv6CidrBlockAssociationSet": [],
                        "Tags": [{"Key": "Name", "Value": f"edge-sydney-{az}"}],
                        "SubnetArn": f"arn:aws:ec2:{SECOND_REGION}:{SECOND_ACCOUNT}:subnet/{sid}"})
    return vpc, {"vpcs.json": [vpc], "subnets.json": subnets, "network-interfaces.json": []}


def write_inventory_tree(directory: Path, scenario) -> list[tuple[str, str]]:
    """Turn the single snapshot the generator wrote in `directory` into a tree (DIR/ACCOUNT/REGION/
    and manifest.json, flowsql.inventory.tree) and add the second account; returns the (account,
    region) pairs written. Every file keeps the AWS CLI's shape; a bucket's files go to each snapshot
    whose flow logs deliver there."""
    import shutil

    from ..files import dumps_json
    from ..inventory import FILES
    from ..inventory.tree import MANIFEST, manifest_document
    from ..posture.facts import account_of_arn, parse_s3_destination, region_of_arn

    directory = Path(directory)
    latest = {name: read_json(directory / name)[key] for name, key in FILES.items()}
    dated = sorted(p for p in directory.iterdir() if p.is_dir() and p.name[:1].isdigit())
    regions_of: dict[str, set] = {}
    for s in latest["subnets.json"]:
        if _region_of(s):
            regions_of.setdefault(s["VpcId"], set()).add(_region_of(s))
    place_of_vpc = {v["VpcId"]: (v["OwnerId"], min(regions_of[v["VpcId"]])) for v in latest["vpcs.json"]
                    if regions_of.get(v["VpcId"])}
    parts = _split(latest, place_of_vpc)
    rng = random.Random(f"flowsql:{scenario.seed}:{SECOND_ACCOUNT}:posture")
    vpc, docs = _second_account(rng)
    place_of_vpc[vpc["VpcId"]] = (SECOND_ACCOUNT, SECOND_REGION)
    parts[(SECOND_ACCOUNT, SECOND_REGION)] = docs
    olds = {d.name: _split({n: read_json(d / n)[k] for n, k in FILES.items()}, place_of_vpc) for d in dated}
    resource_place = dict(place_of_vpc)
    for files in parts.values():
        for s in files["subnets.json"]:
            resource_place[s["SubnetId"]] = place_of_vpc[s["VpcId"]]
        for e in files["network-interfaces.json"]:
            resource_place[e["NetworkInterfaceId"]] = place_of_vpc.get(e.get("VpcId"))
    flow_logs = read_json(directory / "flow-logs.json")["FlowLogs"]
    groups = read_json(directory / "log-groups.json")["logGroups"]
    # a transit gateway and its attachments are in its owner's snapshot of its region (where its
    # flow logs are too); every other snapshot has both files, empty: synced, none there
    tgws = read_json(directory / TRANSIT_GATEWAYS)["TransitGateways"]
    attachments = read_json(directory / TGW_ATTACHMENTS)["TransitGatewayAttachments"]
    tgw_place = {g["TransitGatewayId"]: (g["OwnerId"], region_of_arn(g["TransitGatewayArn"])) for g in tgws}
    resource_place.update(tgw_place)
    resource_place.update({a["TransitGatewayAttachmentId"]: tgw_place[a["TransitGatewayId"]] for a in attachments})
    for place in parts:
        mine = [fl for fl in flow_logs if resource_place.get(fl["ResourceId"]) == place]
        account, region = place
        target = directory / account / region
        for name in FILES:
            _write(target / name, {FILES[name]: parts[place].get(name, [])})
        _write(target / "flow-logs.json", {"FlowLogs": mine})
        _write(target / TRANSIT_GATEWAYS, {"TransitGateways": [g for g in tgws if tgw_place[g["TransitGatewayId"]]
                                                               == place]})
        _write(target / TGW_ATTACHMENTS, {"TransitGatewayAttachments": [
            a for a in attachments if tgw_place[a["TransitGatewayId"]] == place]})
        _write(target / "log-groups.json", {"logGroups": [
            g for g in groups if (account_of_arn(g.get("logGroupArn")), region_of_arn(g.get("logGroupArn")))
            == place]})
        for day, old in olds.items():
            for name in FILES:
                _write(target / day / name, {FILES[name]: old.get(place, {}).get(name, [])})
        buckets = {parse_s3_destination(fl["LogDestination"])[0] for fl in mine
                   if fl.get("LogDestinationType") == "s3" and parse_s3_destination(fl.get("LogDestination"))}
        for bucket in sorted(buckets):
            if (directory / "buckets" / bucket).is_dir():
                shutil.copytree(directory / "buckets" / bucket, target / "buckets" / bucket)
    for name in (*FILES, "flow-logs.json", "log-groups.json", TRANSIT_GATEWAYS, TGW_ATTACHMENTS):
        (directory / name).unlink()
    for d in dated:
        shutil.rmtree(d)
    shutil.rmtree(directory / "buckets", ignore_errors=True)
    accounts = sorted({a for a, _ in parts})
    entries = [{"account": a, "access": "caller" if a == accounts[0] else f"arn:aws:iam::{a}:role/{ROLE_NAME}",
                "regions": sorted(r for acc, r in parts if acc == a),
                "skipped_regions": [{"region": SKIPPED_REGION, "opt_in_status": "not-opted-in"}]}
               for a in accounts]
    not_evaluated = [{"account": SECOND_ACCOUNT, "region": DENIED_REGION,
                      "reason": f"inventory: ec2:DescribeNetworkInterfaces: access denied (DescribeNetworkInterfaces): "
                                f"explicitly denied by a service control policy ({DENIED_REGION} is not an approved "
                                "region); see `flowsql iam-policy` for the permissions flowsql needs"}]
    (directory / MANIFEST).write_text(dumps_json(manifest_document("all", entries, not_evaluated, []), indent=2)
                                      + "\n", encoding="utf-8")
    return sorted(parts)
