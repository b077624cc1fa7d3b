"""An ECS service for the generated tree: `Scenario(ecs=True)` adds it to the first account and region.

Two more VPCs there, each with its own flow log to the central bucket in a version 7 format that has
every `ecs-*` field (ECS_LOG_FORMAT):
- orders (10.199/16): ECS tasks in awsvpc mode, so each task has its own ENI and every record on it
  names the task. Cluster `prod`: service `orders-api` (two Fargate tasks with an app container and a
  sidecar: no container instance) and service `payments-worker` (one task on an EC2 container
  instance, one container); cluster `batch`: a task started by hand, by no service (`ecs-service-name`
  is `-`), whose ENI was gone when the inventory was taken (task ENIs live as long as their task).
  They talk to the internet (through the internet gateway: the tasks have public IPs), to each other
  and to a database inside the VPC, and to S3 and DynamoDB.
- reports (10.201/16): ECS tasks too (their ENIs say so in the inventory), but the flow log cannot
  read ECS (the permissions AWS documents for the fields were not granted), so the fields are `-` in
  every record.

The task ENIs are in network-interfaces.json as ECS writes them (InterfaceType `interface`, a
Description that is the task's ENI attachment ARN, requester-managed), the VPCs and subnets in
vpcs.json and subnets.json (data class `production`), the flow logs in flow-logs.json. Everything
comes from its own random generator, so the rest of the tree is the same with and without it.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from ..files import dumps_json, read_json
from ..logs.fields import parse_log_format
from ..logs.layout import day_prefix, file_name

# generate.py calls write_ecs with its line writer (_View), its delivery splitter (_partition) and its
# gzip writer, so that this module needs nothing from it (and the two do not import each other).
# tcp-flags and traffic-path as generate.py writes them: SYN+FIN request, SYN-ACK+FIN reply, a bare SYN;
# 1 within the VPC, 7 gateway endpoint, 8 internet gateway.
_REQ, _REPLY, _SYN = 3, 19, 2
_IN_VPC, _GW_ENDPOINT, _IGW = 1, 7, 8

ECS_LOG_FORMAT = (
    "${version} ${account-id} ${region} ${az-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} "
    "${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} "
    "${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${type} ${pkt-src-aws-service} "
    "${pkt-dst-aws-service} ${traffic-path} ${log-status} ${ecs-cluster-arn} ${ecs-cluster-name} "
    "${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} "
    "${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id}"
)
ECS_FIELDS = ("ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
              "ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
              "ecs-task-arn", "ecs-task-id")
# The account ECS creates task ENIs from (their RequesterId), as describe-network-interfaces shows it.
ECS_REQUESTER = "578734482556"
ORDERS_CIDR, REPORTS_CIDR = "10.199.0.0/16", "10.201.0.0/16"
# A share of the scenario's flows_per_day for each of the two flow logs.
_SHARE = 4

_INTERNET = ("203.0.113.{}", "198.51.100.{}", "140.82.112.3", "151.101.1.69", "104.16.132.229")
_S3, _DYNAMODB = "52.216.{}.{}", "52.94.0.{}"


def _hex(rng: random.Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


@dataclass
class _Subnet:
    id: str
    cidr: ipaddress.IPv4Network
    az: str
    az_id: str
    public: bool
    name: str


class _Eni:
    def __init__(self, subnet: _Subnet, ip: str, instance_id: str | None):
        self.subnet, self.ip, self.instance_id = subnet, ip, instance_id
        self.id = ""
        self.view = None  # generate._View: how its records look in the format


def _fill(pattern: str, rng: random.Random) -> str:
    return pattern.format(*(rng.randrange(1, 255) for _ in range(pattern.count("{"))))


class _Task:
    """One ECS task: its ENI (awsvpc mode) and what its records say in the ecs-* fields."""

    def __init__(self, rng, account, region, cluster, service, family, revision, subnet, ip, *,
                 containers=2, instance=None, public=False):
        self.cluster, self.service = cluster, service
        self.id = _hex(rng, 32)
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"
        self.fields = {
            "ecs_cluster_arn": cluster_arn, "ecs_cluster_name": cluster,
            "ecs_container_id": _hex(rng, 64),
            "ecs_second_container_id": _hex(rng, 64) if containers > 1 else None,
            "ecs_service_name": service,
            "ecs_task_definition_arn": f"arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}",
            "ecs_task_arn": f"arn:aws:ecs:{region}:{account}:task/{cluster}/{self.id}",
            "ecs_task_id": self.id,
        }
        if instance:  # the EC2 launch type: the task's ENI is attached to a container instance
            ci = _hex(rng, 32)
            self.fields["ecs_container_instance_arn"] = f"arn:aws:ecs:{region}:{account}:container-instance/" \
                                                        f"{cluster}/{ci}"
            self.fields["ecs_container_instance_id"] = ci
        self.eni = _Eni(subnet, ip, instance)
        self.eni.id = "eni-" + _hex(rng, 17)
        self.attachment = f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
        self.public_ip = f"54.{rng.randrange(144, 240)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" \
            if public else None


class _EcsVpc:
    """One VPC of ECS tasks and its flow log; `named`: whether the records carry the ecs-* fields."""

    def __init__(self, rng, topo, name: str, cidr: str, named: bool):
        self.rng, self.account, self.region, self.name, self.named = rng, topo.account, topo.region, name, named
        self.fmt = parse_log_format(ECS_LOG_FORMAT)
        self.flow_log_id = "fl-" + _hex(rng, 17)
        self.vpc_id = "vpc-" + _hex(rng, 17)
        self.cidr = ipaddress.IPv4Network(cidr)
        zones = [(topo.subnets[0].az, topo.subnets[0].az_id), (topo.subnets[1].az, topo.subnets[1].az_id)]
        nets = list(self.cidr.subnets(new_prefix=24))
        self.subnets = [
            _Subnet("subnet-" + _hex(rng, 17), nets[0], *zones[0], True, f"{name}-public-a"),
            _Subnet("subnet-" + _hex(rng, 17), nets[1], *zones[1], True, f"{name}-public-b"),
            _Subnet("subnet-" + _hex(rng, 17), nets[10], *zones[0], False, f"{name}-private-a"),
        ]
        self._free = {s.id: rng.sample(range(4, 251), 40) for s in self.subnets}
        self.sg = "sg-" + _hex(rng, 17)
        self.tasks: list[_Task] = []
        self.db = str(nets[20].network_address + 10)  # a database host inside the VPC (not an ECS task)

    def ip(self, sn: _Subnet) -> str:
        return str(sn.cidr.network_address + self._free[sn.id].pop())

    def task(self, view, cluster, service, family, revision, subnet, **kw) -> _Task:
        t = _Task(self.rng, self.account, self.region, cluster, service, family, revision, subnet, self.ip(subnet),
                  **kw)
        fixed = {"version": self.fmt.version, "account_id": self.account, "interface_id": t.eni.id,
                 "vpc_id": self.vpc_id, "subnet_id": subnet.id, "instance_id": t.eni.instance_id,
                 "region": self.region, "az_id": subnet.az_id, **(t.fields if self.named else {})}
        t.eni.view = view(self.fmt, fixed, {"aws_account_id": self.account, "aws_region": self.region})
        self.tasks.append(t)
        return t

    # -- inventory documents, in the shapes `aws ec2 describe-…` prints

    def eni_doc(self, t: _Task) -> dict:
        rng, e = self.rng, t.eni
        dns = "ec2.internal" if self.region == "us-east-1" else f"{self.region}.compute.internal"
        private = {"Primary": True, "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.{dns}", "PrivateIpAddress": e.ip}
        if e.instance_id:
            attachment = {"AttachmentId": "eni-attach-" + _hex(rng, 17), "DeleteOnTermination": False,
                          "DeviceIndex": 1, "NetworkCardIndex": 0, "InstanceId": e.instance_id,
                          "InstanceOwnerId": self.account, "Status": "attached"}
        else:  # Fargate: attached to an instance AWS owns, whose id is not shown
            attachment = {"AttachmentId": "eni-attach-" + _hex(rng, 17), "DeleteOnTermination": False,
                          "DeviceIndex": 1, "NetworkCardIndex": 0, "InstanceOwnerId": str(rng.randrange(10**11, 10**12)),
                          "Status": "attached"}
        doc = {
            "Attachment": attachment,
            "AvailabilityZone": e.subnet.az,
            "Description": f"arn:aws:ecs:{self.region}:{self.account}:attachment/{t.attachment}",
            "Groups": [{"GroupName": f"{self.name}-tasks", "GroupId": self.sg}],
            "InterfaceType": "interface",
            "Ipv6Addresses": [],
            "MacAddress": ":".join(f"{rng.getrandbits(8):02x}" for _ in range(6)),
            "NetworkInterfaceId": e.id,
            "OwnerId": self.account,
            "PrivateDnsName": private["PrivateDnsName"],
            "PrivateIpAddress": e.ip,
            "PrivateIpAddresses": [private],
            "RequesterId": ECS_REQUESTER,
            "RequesterManaged": True,
            "SourceDestCheck": True,
            "Status": "in-use",
            "SubnetId": e.subnet.id,
            "TagSet": [],
            "VpcId": self.vpc_id,
        }
        if t.public_ip:
            doc["Association"] = {"IpOwnerId": "amazon", "PublicIp": t.public_ip,
                                  "PublicDnsName": f"ec2-{t.public_ip.replace('.', '-')}.compute-1.amazonaws.com"}
            private["Association"] = doc["Association"]
        return doc

    def vpc_doc(self) -> dict:
        rng = self.rng
        return {
            "CidrBlock": str(self.cidr), "DhcpOptionsId": "dopt-" + _hex(rng, 17), "State": "available",
            "VpcId": self.vpc_id, "OwnerId": self.account, "InstanceTenancy": "default",
            "CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-" + _hex(rng, 17),
                                         "CidrBlock": str(self.cidr), "CidrBlockState": {"State": "associated"}}],
            "IsDefault": False,
            "Tags": [{"Key": "Name", "Value": self.name}, {"Key": "data-class", "Value": "production"}],
        }

    def subnet_docs(self) -> list[dict]:
        return [{
            "AvailabilityZone": sn.az, "AvailabilityZoneId": sn.az_id, "AvailableIpAddressCount": 240,
            "CidrBlock": str(sn.cidr), "DefaultForAz": False, "MapPublicIpOnLaunch": sn.public, "State": "available",
            "SubnetId": sn.id, "VpcId": self.vpc_id, "OwnerId": self.account, "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [], "Tags": [{"Key": "Name", "Value": sn.name}],
            "SubnetArn": f"arn:aws:ec2:{self.region}:{self.account}:subnet/{sn.id}",
        } for sn in self.subnets]

    def flow_log_doc(self, bucket: str, scenario, created: str) -> dict:
        return {
            "CreationTime": created, "DeliverLogsStatus": "SUCCESS", "FlowLogId": self.flow_log_id,
            "FlowLogStatus": "ACTIVE", "ResourceId": self.vpc_id, "TrafficType": "ALL", "LogDestinationType": "s3",
            "LogFormat": self.fmt.log_format(), "Tags": [{"Key": "Name", "Value": f"{self.name}-to-s3"}],
            "MaxAggregationInterval": 600, "LogDestination": f"arn:aws:s3:::{bucket}",
            "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": bool(scenario.hive),
                                   "PerHourPartition": bool(scenario.per_hour)},
        }


class _EcsTraffic:
    """The conversations of one ECS VPC's tasks; `window` as generate._Traffic's."""

    def __init__(self, vpc: _EcsVpc, rng: random.Random, keep: bool, kinds):
        self.vpc, self.rng, self.keep, self.rand = vpc, rng, keep, rng.random
        self.kinds = [k for k, w in kinds for _ in range(w)]
        self.lines: list[str] = []
        self.recs: list | None = None
        self.clients = [f"{rng.choice((24, 73, 81, 98, 176, 190))}.{rng.randrange(256)}.{rng.randrange(256)}."
                        f"{rng.randrange(1, 255)}" for _ in range(60)]

    def window(self, a: int, b: int, n: int):
        self.lines, self.recs = [], ([] if self.keep else None)
        span = max(b - a - 60, 1)
        while len(self.lines) < n:
            t = a + int(self.rand() * span)
            self.kinds[int(self.rand() * len(self.kinds))](self, t, t + 1 + int(self.rand() * 59))
        return self.lines, self.recs or []

    def rec(self, eni, direction, src, dst, sport, dport, proto, pb, t, e, action="ACCEPT", flags=None, path=None,
            src_svc=None, dst_svc=None):
        eni.view.put(self.lines, self.recs, src, dst, sport, dport, proto, pb[0], pb[1], t, e, action, "OK",
                     _REQ if flags is None and proto == 6 else (flags or 0), "IPv4", src, dst, src_svc, dst_svc,
                     direction, path if direction == "egress" else None)

    def both(self, eni, remote, lport, rport, out_pb, in_pb, t, e, path, outbound=True, svc=None):
        local = eni.ip
        if outbound:
            self.rec(eni, "egress", local, remote, lport, rport, 6, out_pb, t, e, path=path, dst_svc=svc)
            self.rec(eni, "ingress", remote, local, rport, lport, 6, in_pb, t, e, flags=_REPLY, src_svc=svc)
        else:
            self.rec(eni, "ingress", remote, local, rport, lport, 6, in_pb, t, e)
            self.rec(eni, "egress", local, remote, lport, rport, 6, out_pb, t, e, flags=_REPLY, path=path)

    def pb(self, big=False):
        packets = 1 + int(self.rand() * (400 if big else 20))
        return packets, packets * (60 + int(self.rand() * (1400 if big else 300)))

    def eph(self):
        return 32768 + int(self.rand() * 28232)

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]


# -- what the tasks do (a task is picked by its role: tasks[0:2] orders-api, [2] payments-worker, [3] batch)

def _api_internet(tr: _EcsTraffic, t, e):
    api = tr.pick(tr.vpc.tasks[:2]).eni
    tr.both(api, _fill(tr.pick(_INTERNET), tr.rng), tr.eph(), 443, tr.pb(), tr.pb(True), t, e, _IGW)


def _api_clients(tr: _EcsTraffic, t, e):
    """Internet clients call the API (the tasks have public IPs): the replies go to the internet."""
    api = tr.pick(tr.vpc.tasks[:2]).eni
    tr.both(api, tr.pick(tr.clients), 8080, tr.eph(), tr.pb(True), tr.pb(), t, e, _IGW, outbound=False)


def _api_worker(tr: _EcsTraffic, t, e):
    """orders-api calls payments-worker: a record on each task's ENI, each naming its own task."""
    api, worker = tr.pick(tr.vpc.tasks[:2]).eni, tr.vpc.tasks[2].eni
    port, req, resp = tr.eph(), tr.pb(), tr.pb()
    tr.both(api, worker.ip, port, 8443, req, resp, t, e, _IN_VPC)
    tr.both(worker, api.ip, 8443, port, resp, req, t, e, _IN_VPC, outbound=False)


def _api_db(tr: _EcsTraffic, t, e):
    api = tr.pick(tr.vpc.tasks[:3]).eni
    tr.both(api, tr.vpc.db, tr.eph(), 5432, tr.pb(), tr.pb(True), t, e, _IN_VPC)


def _to_s3(tr: _EcsTraffic, t, e):
    task = tr.pick(tr.vpc.tasks).eni
    tr.both(task, _fill(_S3, tr.rng), tr.eph(), 443, tr.pb(True), tr.pb(), t, e, _GW_ENDPOINT, svc="S3")


def _to_dynamodb(tr: _EcsTraffic, t, e):
    task = tr.pick(tr.vpc.tasks[:3]).eni
    tr.both(task, _fill(_DYNAMODB, tr.rng), tr.eph(), 443, tr.pb(), tr.pb(), t, e, _GW_ENDPOINT, svc="DYNAMODB")


def _batch_export(tr: _EcsTraffic, t, e):
    """The standalone task (no service) uploads to a partner on the internet."""
    task = tr.vpc.tasks[-1].eni
    tr.both(task, "192.0.2.80", tr.eph(), 443, tr.pb(True), tr.pb(), t, e, _IGW)


def _probe(tr: _EcsTraffic, t, e):
    """A scanner knocks on a task's SSH port: rejected inbound, which the traffic query does not count."""
    api = tr.pick(tr.vpc.tasks[:2]).eni
    tr.rec(api, "ingress", tr.pick(tr.clients), api.ip, tr.eph(), 22, 6, (1, 44), t, e, "REJECT", _SYN)


_ORDERS_KINDS = ((_api_internet, 6), (_api_clients, 8), (_api_worker, 6), (_api_db, 4), (_to_s3, 3),
                 (_to_dynamodb, 3), (_batch_export, 2), (_probe, 2))
_REPORTS_KINDS = ((_api_internet, 4), (_api_db, 3), (_to_s3, 3))


def ecs_vpcs(topo, scenario, view) -> list[_EcsVpc]:
    """The two ECS VPCs of the scenario's first account and region (`topo`, its topology); `view`
    makes an ENI's line template (generate._View)."""
    rng = random.Random(f"flowsql:{scenario.seed}:{topo.account}:{topo.region}:ecs")
    orders = _EcsVpc(rng, topo, "orders", ORDERS_CIDR, named=True)
    pub_a, pub_b, priv_a = orders.subnets
    orders.task(view, "prod", "orders-api", "orders-api", 42, pub_a, public=True)
    orders.task(view, "prod", "orders-api", "orders-api", 42, pub_b, public=True)
    orders.task(view, "prod", "payments-worker", "payments-worker", 7, priv_a, containers=1,
                instance="i-" + _hex(rng, 17))
    orders.task(view, "batch", None, "nightly-export", 3, pub_a, containers=1, public=True)
    reports = _EcsVpc(rng, topo, "reports", REPORTS_CIDR, named=False)
    pub_a, pub_b, priv_a = reports.subnets
    reports.task(view, "reports", "report-api", "report-api", 5, pub_a, public=True)
    reports.task(view, "reports", "report-api", "report-api", 5, pub_b, public=True)
    reports.task(view, "reports", "report-renderer", "report-renderer", 2, priv_a, containers=1)
    return [orders, reports]


def write_ecs(out_dir: Path, inventory_dir: Path, topo, scenario, keep_records: bool, *, view, partition,
              write_gz):
    """Add the ECS VPCs to the inventory the generator wrote and write their log files with the
    generator's own parts (`view`: _View, `partition`: _partition, `write_gz`: _write_gz); returns
    (records, files) in file order."""
    vpcs = ecs_vpcs(topo, scenario, view)
    _add_inventory(inventory_dir, vpcs, scenario)
    share = replace(scenario, flows_per_day=max(scenario.flows_per_day // _SHARE, 1) if scenario.flows_per_day else 0)
    records, files = [], []
    for vpc, kinds in zip(vpcs, (_ORDERS_KINDS, _REPORTS_KINDS)):
        rng = random.Random(f"flowsql:{scenario.seed}:{vpc.account}:{vpc.region}:ecs:{vpc.name}:traffic")
        traffic = _EcsTraffic(vpc, rng, keep_records, kinds)
        for d in range(scenario.days):
            day = scenario.start + timedelta(days=d)
            for delivered, lines, recs in partition(traffic, rng, share, day, d):
                prefix = day_prefix(vpc.account, vpc.region, day, hive=scenario.hive,
                                    hour=delivered.hour if scenario.per_hour else None)
                path = out_dir / prefix / file_name(vpc.account, vpc.region, vpc.flow_log_id, delivered, _hex(rng, 8))
                for r in recs:
                    r["day"] = day
                    r["file"] = path
                records.extend(recs)
                files.append(path)
                write_gz(path, "\n".join([vpc.fmt.header(), *lines, ""]), delivered)
    return records, files


def _add_inventory(inventory_dir: Path, vpcs: list[_EcsVpc], scenario) -> None:
    """The VPCs, subnets and task ENIs into the latest snapshot, the task ENIs also into the dated one
    (not the standalone task's: it had finished), the flow logs into flow-logs.json."""
    enis = [v.eni_doc(t) for v in vpcs for t in v.tasks if t.service is not None]
    vpc_docs, subnet_docs = [v.vpc_doc() for v in vpcs], [d for v in vpcs for d in v.subnet_docs()]
    for folder in (inventory_dir, inventory_dir / scenario.start.isoformat()):
        _extend(folder / "network-interfaces.json", "NetworkInterfaces", enis)
        _extend(folder / "vpcs.json", "Vpcs", vpc_docs)
        _extend(folder / "subnets.json", "Subnets", subnet_docs)
    path = inventory_dir / "flow-logs.json"
    if path.is_file():
        bucket = f"flowsql-demo-flow-logs-{vpcs[0].account}"
        created = (scenario.start - timedelta(days=60)).isoformat() + "T09:00:00+00:00"
        _extend(path, "FlowLogs", [v.flow_log_doc(bucket, scenario, created) for v in vpcs])


def _extend(path: Path, key: str, items: list[dict]) -> None:
    if not path.is_file():
        return
    doc = read_json(path)
    doc[key] = [*doc[key], *items]
    # indent=4 and key order as given: what the AWS CLI's `--output json` looks like
    path.write_text(dumps_json(doc, indent=4) + "\n", encoding="utf-8")
