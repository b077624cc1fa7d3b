"""What the checks and the design sheet read from a snapshot, worked out once: each VPC's data class,
account and region, its flow logs (on the VPC, its subnets and its ENIs), where they deliver, and
which of them log ALL traffic, are active and deliver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .model import CheckResult
from .policy import Policy
from .snapshot import Bucket, Snapshot

S3 = "s3"
CLOUDWATCH_LOGS = "cloud-watch-logs"

_REGION_IN_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]+):")
_REGION_OF_AZ = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")
_S3_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:s3:::([^/]+)(?:/(.*))?$")


@dataclass(frozen=True)
class Destination:
    """Where a flow log delivers."""

    kind: str  # s3 | cloud-watch-logs | kinesis-data-firehose | …
    target: str  # s3://bucket/prefix/ | the log group's name | the destination ARN
    bucket: str | None = None
    prefix: str = ""  # key prefix above AWSLogs/ ("" for none), S3 only

    @property
    def awslogs_key(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"


@dataclass(frozen=True)
class DataClassOf:
    name: str  # the class the rules apply by (the default one for an untagged or unknown tag)
    source: str  # "tag" | "default" (untagged) | "unknown" (a tag value the policy does not know)
    tag_value: str | None


@dataclass(frozen=True)
class Coverage:
    covered: bool
    how: str  # "at VPC level", "on every subnet (4)", …
    flow_logs: tuple  # the qualifying flow logs that give the coverage


def region_of_arn(arn: str | None) -> str | None:
    m = _REGION_IN_ARN.match(arn or "")
    return m[1] if m and m[1] else None


def region_of_az(az: str | None) -> str | None:
    m = _REGION_OF_AZ.match(az or "")
    return m[1] if m else None


def parse_s3_destination(arn: str) -> tuple[str, str] | None:
    """`arn:aws:s3:::bucket/some/prefix/` -> ("bucket", "some/prefix"); None if not an S3 ARN."""
    m = _S3_ARN.match(arn or "")
    return (m[1], (m[2] or "").strip("/")) if m else None


def tags(doc: dict) -> dict:
    return {t["Key"]: t.get("Value") for t in doc.get("Tags") or [] if isinstance(t, dict) and "Key" in t}


def flow_log_problems(fl: dict) -> list[str]:
    """Why a flow log is not evidence of the VPC's traffic: not ALL traffic, not active, not delivering."""
    problems = []
    traffic = fl.get("TrafficType")
    if traffic != "ALL":
        problems.append(f"{fl['FlowLogId']} logs {traffic or 'no traffic type'} traffic only"
                        + (": accepted traffic is not logged" if traffic == "REJECT" else "")
                        + (": rejected traffic is not logged" if traffic == "ACCEPT" else ""))
    status = fl.get("FlowLogStatus")
    if status != "ACTIVE":
        problems.append(f"{fl['FlowLogId']} is {status or 'of unknown status'}, not ACTIVE")
    delivery = fl.get("DeliverLogsStatus")
    if delivery != "SUCCESS":
        message = fl.get("DeliverLogsErrorMessage")
        problems.append(f"{fl['FlowLogId']} delivery {delivery or 'status unknown'}"
                        + (f" ({message})" if message else ""))
    return problems


def qualifies(fl: dict) -> bool:
    return not flow_log_problems(fl)


class Facts:
    """A snapshot and a policy, with the views every check needs."""

    def __init__(self, snapshot: Snapshot, policy: Policy):
        self.snapshot = snapshot
        self.policy = policy
        self.vpcs = {v["VpcId"]: v for v in sorted(snapshot.vpcs, key=lambda v: v["VpcId"])}
        self.subnet_vpc = {s["SubnetId"]: s["VpcId"] for s in snapshot.subnets}
        self.subnets_of: dict[str, list[str]] = {}
        for s in sorted(snapshot.subnets, key=lambda s: s["SubnetId"]):
            self.subnets_of.setdefault(s["VpcId"], []).append(s["SubnetId"])
        self.eni_subnet = {e["NetworkInterfaceId"]: e.get("SubnetId") for e in snapshot.enis}
        self.eni_vpc = {e["NetworkInterfaceId"]: e.get("VpcId") or self.subnet_vpc.get(e.get("SubnetId"))
                        for e in snapshot.enis}
        self.enis_of: dict[str, list[str]] = {}
        for eni, vpc in sorted(self.eni_vpc.items()):
            if vpc:
                self.enis_of.setdefault(vpc, []).append(eni)
        self.flow_logs_on: dict[str, list[dict]] = {}
        for fl in sorted(snapshot.flow_logs, key=lambda f: f["FlowLogId"]):
            self.flow_logs_on.setdefault(fl["ResourceId"], []).append(fl)

    # -- VPCs ---------------------------------------------------------------------------------

    def vpc_of_resource(self, resource_id: str) -> str | None:
        if resource_id in self.vpcs:
            return resource_id
        return self.subnet_vpc.get(resource_id) or self.eni_vpc.get(resource_id)

    def name(self, vpc_id: str) -> str | None:
        return tags(self.vpcs.get(vpc_id) or {}).get("Name")

    def account(self, vpc_id: str) -> str | None:
        vpc = self.vpcs.get(vpc_id) or {}
        if vpc.get("OwnerId"):
            return vpc["OwnerId"]
        owners = {s.get("OwnerId") for s in self.snapshot.subnets if s["VpcId"] == vpc_id and s.get("OwnerId")}
        return owners.pop() if len(owners) == 1 else None

    @cached_property
    def _regions(self) -> dict[str, str]:
        """VPC -> region, from what the CLI's documents say: subnet ARNs and zones, ENI zones, the ARNs
        of the VPC's CloudWatch Logs destinations (a VPC document itself names no region)."""
        found: dict[str, set] = {}
        for s in self.snapshot.subnets:
            r = region_of_arn(s.get("SubnetArn")) or region_of_az(s.get("AvailabilityZone"))
            if r:
                found.setdefault(s["VpcId"], set()).add(r)
        for e in self.snapshot.enis:
            vpc, r = self.eni_vpc.get(e["NetworkInterfaceId"]), region_of_az(e.get("AvailabilityZone"))
            if vpc and r:
                found.setdefault(vpc, set()).add(r)
        for vpc in self.vpcs:
            if vpc in found:
                continue
            for fl, _ in self.flow_logs_of(vpc):
                r = region_of_arn(fl.get("LogDestination")) if fl.get("LogDestinationType") == CLOUDWATCH_LOGS else None
                if r:
                    found.setdefault(vpc, set()).add(r)
        return {vpc: regions.pop() for vpc, regions in found.items() if len(regions) == 1}

    def region(self, vpc_id: str) -> str | None:
        return self._regions.get(vpc_id)

    def data_class(self, vpc_id: str) -> DataClassOf:
        p = self.policy
        wanted = p.tag_key.lower()
        value = next((v for k, v in tags(self.vpcs.get(vpc_id) or {}).items() if k.lower() == wanted), None)
        if value is None or not str(value).strip():
            return DataClassOf(p.default_class, "default", value)
        name = str(value).strip().lower()
        if p.known(name):
            return DataClassOf(name, "tag", value)
        return DataClassOf(p.default_class, "unknown", value)

    def exempt(self, vpc_id: str) -> bool:
        return self.data_class(vpc_id).name in self.policy.exempt_classes

    def row(self, check: str, resource: str, status: str, reason: str, *, vpc: str | None = None,
            account: str | None = None, region: str | None = None) -> CheckResult:
        """A result row; a VPC's account and region are filled in from the VPC."""
        if vpc is not None:
            account = account or self.account(vpc)
            region = region or self.region(vpc)
        return CheckResult(check=check, resource=resource, status=status, reason=reason, account=account,
                           region=region, vpc=vpc)

    # -- flow logs ----------------------------------------------------------------------------

    def flow_logs_of(self, vpc_id: str) -> list[tuple[dict, str]]:
        """The flow logs on a VPC, its subnets and its ENIs, with their level."""
        out = [(fl, "VPC") for fl in self.flow_logs_on.get(vpc_id, [])]
        for sn in self.subnets_of.get(vpc_id, []):
            out += [(fl, "subnet") for fl in self.flow_logs_on.get(sn, [])]
        for eni in self.enis_of.get(vpc_id, []):
            out += [(fl, "ENI") for fl in self.flow_logs_on.get(eni, [])]
        return out

    def coverage(self, vpc_id: str, accept=lambda fl: True) -> Coverage:
        """Is all of the VPC's traffic logged by flow logs that qualify (ALL, active, delivering) and
        that `accept` takes: one on the VPC, or one on every subnet, or on every ENI (its own or its
        subnet's)?"""
        def good(resource):
            return [fl for fl in self.flow_logs_on.get(resource, []) if accept(fl) and qualifies(fl)]

        on_vpc = good(vpc_id)
        if on_vpc:
            return Coverage(True, "at VPC level", tuple(on_vpc))
        subnets = self.subnets_of.get(vpc_id, [])
        if subnets and all(good(sn) for sn in subnets):
            return Coverage(True, f"on every subnet ({len(subnets)})",
                            tuple(fl for sn in subnets for fl in good(sn)))
        enis = self.enis_of.get(vpc_id, [])
        if enis and all(good(e) or good(self.eni_subnet.get(e)) for e in enis):
            used = {fl["FlowLogId"]: fl for e in enis for fl in good(e) + good(self.eni_subnet.get(e))}
            return Coverage(True, f"on every ENI ({len(enis)}), not on the VPC or every subnet: "
                                  "ENIs created later are not logged", tuple(used.values()))
        return Coverage(False, "", ())

    def destination(self, fl: dict) -> Destination:
        kind = fl.get("LogDestinationType") or CLOUDWATCH_LOGS  # the API's default
        if kind == S3:
            parsed = parse_s3_destination(fl.get("LogDestination"))
            if parsed:
                bucket, prefix = parsed
                return Destination(S3, f"s3://{bucket}/{prefix + '/' if prefix else ''}", bucket, prefix)
            return Destination(S3, fl.get("LogDestination") or "?")
        if kind == CLOUDWATCH_LOGS:
            return Destination(kind, fl.get("LogGroupName") or _group_name_of_arn(fl.get("LogDestination")) or "?")
        return Destination(kind, fl.get("LogDestination") or "?")

    # -- CloudWatch Logs ----------------------------------------------------------------------

    @cached_property
    def _groups(self) -> tuple[dict, dict]:
        by_arn, by_name = {}, {}
        for g in self.snapshot.log_groups:
            for arn in (g.get("logGroupArn"), g.get("arn")):
                if arn:
                    by_arn[arn.removesuffix(":*")] = g
            by_name.setdefault(g["logGroupName"], []).append(g)
        return by_arn, by_name

    def log_group(self, fl: dict, vpc_id: str | None = None) -> dict | None:
        """The log-groups.json entry a CloudWatch Logs flow log delivers to, if it is there."""
        by_arn, by_name = self._groups
        arn = (fl.get("LogDestination") or "").removesuffix(":*")
        if arn.startswith("arn:") and arn in by_arn:
            return by_arn[arn]
        name = fl.get("LogGroupName") or _group_name_of_arn(arn)
        candidates = by_name.get(name or "", [])
        if len(candidates) > 1:  # the same name in several regions or accounts: the VPC's own
            region = region_of_arn(arn) or (self.region(vpc_id) if vpc_id else None)
            candidates = [g for g in candidates if region_of_arn(g.get("logGroupArn") or g.get("arn")) == region]
        return candidates[0] if len(candidates) == 1 else None

    def group_key(self, fl: dict) -> str:
        """One name per log group across regions: its ARN when known, else its name."""
        g = self.log_group(fl, self.vpc_of_resource(fl["ResourceId"]))
        if g is not None:
            return (g.get("logGroupArn") or g.get("arn") or g["logGroupName"]).removesuffix(":*")
        arn = (fl.get("LogDestination") or "").removesuffix(":*")
        return arn if arn.startswith("arn:") else (fl.get("LogGroupName") or "?")

    # -- S3 -----------------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket:
        return self.snapshot.buckets.get(name) or Bucket(name)

    def object_prefix(self, dest: Destination, fl: dict, vpc_id: str) -> str:
        """The key prefix under which this VPC's flow-log objects land (as far as it is known)."""
        account, region = self.account(vpc_id), self.region(vpc_id)
        hive = bool((fl.get("DestinationOptions") or {}).get("HiveCompatiblePartitions"))
        base = dest.awslogs_key
        if not account:
            return base
        if hive:
            base += f"aws-account-id={account}/aws-service=vpcflowlogs/"
            return base + (f"aws-region={region}/" if region else "")
        return base + f"{account}/vpcflowlogs/" + (f"{region}/" if region else "")


def _group_name_of_arn(arn: str | None) -> str | None:
    if arn and ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].removesuffix(":*")
    return None


def account_of_arn(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4] else None
