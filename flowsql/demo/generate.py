"""Deterministic, realistic VPC Flow Logs and inventory for `flowsql demo`, the tests and the benchmarks.

`generate(out_dir, Scenario(...))` writes an `AWSLogs/` tree (gzip text files, as S3 delivery makes them)
and an inventory folder (`describe-*` JSON), and returns every record it wrote, typed, so that tests can
compute expected query results in plain Python.

The data carries the quirks real trees have, because each one has broken a reader somewhere: field order
as each flow log's format says, a header line in every file, NODATA/SKIPDATA records, `-` in fields that
do not apply, IPv6, byte counts over 2^32, `unknown` account ids, ENIs missing from the inventory, records
that started before midnight but sit in the next day's folder, header-only files.
"""

from __future__ import annotations

import gc
import gzip
import ipaddress
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..files import dumps_json
from ..inventory import FILES
from ..logs.fields import DEFAULT_LOG_FORMAT, FIELDS, LogFormat, parse_log_format
from ..logs.layout import day_prefix, file_name
from .generate_posture import write_posture_snapshot

# A v5 custom format as a team would pick it: grouped by meaning rather than AWS's table order, so a
# reader that assumes the default order (or bytes before packets) gets wrong numbers, not an error.
CUSTOM_LOG_FORMAT = (
    "${version} ${account-id} ${region} ${az-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} "
    "${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} "
    "${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${type} "
    "${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} "
    "${traffic-path} ${log-status}"
)

COLUMNS: tuple[str, ...] = tuple(f.column for f in FIELDS)
META_COLUMNS = ("aws_account_id", "aws_region", "day", "file")

# Per-record values, in the order `_View.put` takes them. Everything else is fixed per ENI.
_DYNAMIC = (
    "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
    "action", "log_status", "tcp_flags", "type", "pkt_srcaddr", "pkt_dstaddr",
    "pkt_src_aws_service", "pkt_dst_aws_service", "flow_direction", "traffic_path",
)
_DYN_INDEX = {c: i for i, c in enumerate(_DYNAMIC)}

# tcp-flags as AWS aggregates them over a capture window: SYN+FIN for a short request, SYN-ACK+FIN for its
# reply, a bare SYN for a connection attempt that a security group or NACL dropped.
_REQ, _REPLY, _SYN = 3, 19, 2
# traffic-path (egress only): 1 within the VPC (also via NAT/TGW), 3 VGW, 4 intra-region peering,
# 7 gateway endpoint, 8 internet gateway.
_IN_VPC, _VGW, _PEERING, _GW_ENDPOINT, _IGW = 1, 3, 4, 7, 8
_BIG = 1 << 32  # bytes above this overflow a 32-bit int column

_MAX_TOPOLOGIES = 80  # keeps every VPC CIDR below 10.180/16 and clear of the "outside" ranges used below


@dataclass
class Generated:
    root: Path  # the folder that CONTAINS `AWSLogs/`
    inventory_dir: Path  # network-interfaces.json, subnets.json, vpcs.json
    records: list[dict]  # every record written, in file order (empty with keep_records=False)
    files: list[Path]  # every .log.gz written, header-only ones included
    # Transit Gateway flow logs (Scenario.transit_gateways): their records (the TGW table's columns)
    # and files, kept apart from the VPC flow logs' above
    tgw_records: list[dict] = field(default_factory=list)
    tgw_files: list[Path] = field(default_factory=list)


def _default_regions() -> dict[str, str]:
    return {"us-east-1": DEFAULT_LOG_FORMAT, "eu-west-1": CUSTOM_LOG_FORMAT}


@dataclass
class Scenario:
    """What to generate. The defaults are a demo-sized account: two regions, default and custom format."""

    start: date  # first path day (UTC)
    days: int = 30
    accounts: tuple[str, ...] = ("123456789012",)
    regions: dict[str, str] = field(default_factory=_default_regions)  # region -> LogFormat string
    flows_per_day: int = 400  # records per account×region and path day, approximately
    files_per_day: int = 3  # several deliveries a day per account×region
    seed: int = 7
    hive: bool = False  # Hive-compatible prefixes (aws-account-id=…/…/day=dd/)
    per_hour: bool = False  # per-hour partitions (…/dd/HH/)
    # IPv6 addresses written in other spellings than AWS's RFC 5952 form, half of the time (upper case,
    # leading zeros, no `::`): a writer other than AWS may, and the same address must still match
    ipv6_spellings: bool = False
    # transit gateways per region, each attached to every VPC of the region and a VPN, with their flow
    # logs beside the VPC flow logs (generate_tgw.py); 0 writes none
    transit_gateways: int = 0
    # An ECS service in the first account and region: two more VPCs whose flow logs have the ecs-*
    # fields, one of them unable to fill them (generate_ecs.py). Off: the tree is as without it.
    ecs: bool = False


def demo_scenario(today: date | None = None) -> Scenario:
    """About a month of logs ending yesterday (UTC), so the default 7-day window has data."""
    today = today or datetime.now(timezone.utc).date()
    return Scenario(start=today - timedelta(days=30), days=30, transit_gateways=1)


def generate(out_dir: Path, scenario: Scenario, *, keep_records: bool = True) -> Generated:
    """Write the log tree under `out_dir/AWSLogs/` and the inventory under `out_dir/inventory/`.

    `keep_records=False` skips building the record dicts (about 2 KB each, and half the time of a big
    scenario): benchmarks that only need the tree should pass it.
    """
    _check(scenario)
    # Millions of small acyclic objects make the cyclic GC rescan everything again and again; pausing it
    # halves the time of a big scenario and leaks nothing (records hold no cycles).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out_dir), scenario, keep_records)
    finally:
        if was_enabled:
            gc.enable()


def _generate(out_dir: Path, scenario: Scenario, keep_records: bool) -> Generated:
    inventory_dir = out_dir / "inventory"
    topologies = []
    for account in scenario.accounts:
        for region, log_format in scenario.regions.items():
            rng = random.Random(f"flowsql:{scenario.seed}:{account}:{region}:topology")
            topologies.append(_Topology(rng, account, region, parse_log_format(log_format), len(topologies)))
    _write_inventory(inventory_dir, topologies)
    # `inventory sync` keeps dated snapshots (inventory/YYYY-MM-DD/): the one of the first day still
    # has the Lambda ENI deleted since, whose traffic only that snapshot attributes.
    _write_inventory(inventory_dir / scenario.start.isoformat(), topologies, retired=True)
    write_posture_snapshot(inventory_dir, topologies, scenario)  # flow logs, log groups, buckets; more VPCs

    records: list[dict] = []
    files: list[Path] = []
    # zlib releases the GIL, so one writer thread compresses while the main thread makes the next file.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = []
        for topo in topologies:
            others = [t for t in topologies if t is not topo]
            rng = random.Random(f"flowsql:{scenario.seed}:{topo.account}:{topo.region}:traffic")
            traffic = _Traffic(topo, others, rng, keep_records, scenario)
            for d in range(scenario.days):
                day = scenario.start + timedelta(days=d)
                for delivered, lines, recs in _partition(traffic, rng, scenario, day, d):
                    prefix = day_prefix(topo.account, topo.region, day, hive=scenario.hive,
                                        hour=delivered.hour if scenario.per_hour else None)
                    name = file_name(topo.account, topo.region, topo.flow_log_id, delivered,
                                     _hex(rng, 8))
                    path = out_dir / prefix / name
                    for r in recs:
                        r["day"] = day
                        r["file"] = path
                    records.extend(recs)
                    files.append(path)
                    lines.insert(0, topo.fmt.header())
                    lines.append("")  # every line ends with a newline, the last one too
                    pending.append(pool.submit(_write_gz, path, "\n".join(lines), delivered))
                    if len(pending) > 8:  # bound the memory held by queued files
                        pending.pop(0).result()
        for p in pending:
            p.result()
    # the transit gateways first: they attach to the VPCs of the traffic above, not to the ECS ones
    tgw = None
    if scenario.transit_gateways:
        from .generate_tgw import generate_tgw

        tgw = generate_tgw(out_dir, topologies, scenario, keep_records=keep_records)
    if scenario.ecs:
        from .generate_ecs import write_ecs

        ecs_records, ecs_files = write_ecs(out_dir, inventory_dir, topologies[0], scenario, keep_records,
                                           view=_View, partition=_partition, write_gz=_write_gz)
        records.extend(ecs_records)
        files.extend(ecs_files)
    generated = Generated(root=out_dir, inventory_dir=inventory_dir, records=records, files=files)
    if tgw is not None:
        generated.tgw_records, generated.tgw_files = tgw.records, tgw.files
    return generated


def _check(s: Scenario) -> None:
    if s.days < 1 or s.files_per_day < 1 or s.flows_per_day < 0:
        raise ValueError("a scenario needs days >= 1, files_per_day >= 1 and flows_per_day >= 0")
    if not s.accounts or not s.regions:
        raise ValueError("a scenario needs at least one account and one region")
    bad = [a for a in s.accounts if not (len(a) == 12 and a.isdigit())]
    if bad:
        raise ValueError(f"account ids are 12 digits: {bad}")
    if not 0 <= s.transit_gateways <= 4:
        raise ValueError("a scenario has 0 to 4 transit gateways per region")
    if len(s.accounts) * len(s.regions) > _MAX_TOPOLOGIES:
        raise ValueError(f"at most {_MAX_TOPOLOGIES} account×region pairs")


def _write_gz(path: Path, text: str, delivered: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed gzip mtime (the delivery time) keeps the files byte-identical from run to run.
    path.write_bytes(gzip.compress(text.encode("ascii"), compresslevel=1, mtime=int(delivered.timestamp())))


def _partition(traffic: _Traffic, rng: random.Random, s: Scenario, day: date, index: int):
    """(delivered, lines, records) of each file of one account×region×day folder, by delivery time.

    The folder's files cover flows that started from 23:50 the day before to 23:50 this day: the first
    file, delivered a few minutes after midnight, holds the flows of the previous day's last minutes.
    """
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    t0 = int(midnight.timestamp())
    first, last = t0 - 600, t0 + 86400 - 600
    if s.files_per_day == 1:
        bounds = [first, last]
    else:
        n = s.files_per_day - 1
        bounds = [first] + [t0 + (last - t0) * i // n for i in range(n + 1)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        target = round(s.flows_per_day * (b - a) / (last - first))
        lines, recs = traffic.window(a, b, max(target, 1) if s.flows_per_day else 0)
        delivered = datetime.fromtimestamp(b + 60 + int(rng.random() * 480), timezone.utc)
        out.append((delivered, lines, recs))
    # Header-only files: a delivery in which no record survived (AWS does write them; readers must cope).
    # Every account×region gets one on its second day, others at random.
    if index == 1 or rng.random() < 0.1:
        delivered = datetime.fromtimestamp(t0 + 600 + int(rng.random() * 84000), timezone.utc)
        out.append((delivered, [], []))
    out.sort(key=lambda f: f[0])
    return out


def _hex(rng: random.Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


def _az_id(region: str, n: int) -> str:
    # us-east-1 -> use1-az1, eu-west-1 -> euw1-az2: the shape of AWS's zone ids.
    parts = region.split("-")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1] + f"-az{n}"


# ---------------------------------------------------------------------------------------------- topology

@dataclass
class _Subnet:
    id: str
    cidr: ipaddress.IPv4Network
    az: str
    az_id: str
    ipv6: ipaddress.IPv6Network | None
    public: bool
    name: str


class _View:
    """How one ENI's records look in one format: a line template with the ENI's fixed fields already
    in it (the per-record values go into its `{}` slots, in the format's order), and the typed record
    every one of its records starts from."""

    __slots__ = ("template", "slots", "stores", "static")

    def __init__(self, fmt: LogFormat, fixed: dict, meta: dict):
        parts, slots = [], []
        for f in fmt.fields:
            if f.column in _DYN_INDEX:
                parts.append("{}")
                slots.append(_DYN_INDEX[f.column])
            else:
                v = fixed.get(f.column)
                parts.append("-" if v is None else str(v).replace("{", "{{").replace("}", "}}"))
        self.template = " ".join(parts)
        self.slots = tuple(slots)
        self.stores = tuple((c, _DYN_INDEX[c]) for c in fmt.columns if c in _DYN_INDEX)
        static = dict.fromkeys(COLUMNS + META_COLUMNS)  # day and file are set per file
        static.update((c, fixed.get(c)) for c in fmt.columns if c not in _DYN_INDEX)
        static.update(meta)
        self.static = static

    def put(self, lines: list, recs: list | None, *values) -> None:
        """Append the text line (and, when `recs` is not None, the typed record) of one record whose
        per-record values come in `_DYNAMIC` order."""
        lines.append(self.template.format(*["-" if values[i] is None else values[i] for i in self.slots]))
        if recs is not None:
            r = self.static.copy()
            for c, i in self.stores:
                r[c] = values[i]
            recs.append(r)


class _Eni:
    def __init__(self, role, subnet, ips, ipv6=None, instance_id=None, log_account=None):
        self.role = role
        self.subnet: _Subnet = subnet
        self.ips: list[str] = ips  # primary first
        self.ip = ips[0]
        self.ipv6: list[str] = ipv6 or []
        self.instance_id = instance_id
        self.log_account = log_account  # what `account-id` says in its records
        self.id = ""
        self.doc: dict | None = None  # the describe-network-interfaces item; None = not in the inventory
        self.view: _View | None = None
        self.view_nosub: _View | None = None


class _Topology:
    """One account×region: a dual-stack VPC with a secondary CIDR, public and private subnets in two
    AZs, and the ENIs whose traffic the canned queries are about."""

    def __init__(self, rng: random.Random, account: str, region: str, fmt: LogFormat, k: int):
        self.account, self.region, self.fmt, self.k = account, region, fmt, k
        self.rng = rng
        self.flow_log_id = "fl-" + _hex(rng, 17)
        self.vpc_id = "vpc-" + _hex(rng, 17)
        self.cidr = ipaddress.IPv4Network(f"10.{10 + k}.0.0/16")
        # The second CIDR alternates between the shared address space and another 10/16, both of which
        # are "private" to a naive range check but "vpc" to one that reads the inventory.
        if k % 2 == 0:
            self.cidr2 = ipaddress.IPv4Network(f"100.{64 + k // 32}.{(k // 2) % 16 * 16}.0/20")
        else:
            self.cidr2 = ipaddress.IPv4Network(f"10.{100 + k}.0.0/16")
        gua = "2600:1f18" if region == "us-east-1" else "2a05:d018"
        self.ipv6 = ipaddress.IPv6Network(f"{gua}:{rng.getrandbits(16):x}:{rng.getrandbits(8):x}00::/56")
        v6nets = self.ipv6.subnets(new_prefix=64)
        zone_numbers = (4, 6) if region == "us-east-1" else (1, 2)  # AZ names map to ids per account
        self.subnets: list[_Subnet] = []
        for name, net, az, public in (
            ("public-a", f"10.{10 + k}.0.0/24", 0, True),
            ("public-b", f"10.{10 + k}.1.0/24", 1, True),
            ("private-a", f"10.{10 + k}.10.0/24", 0, False),
            ("private-b", f"10.{10 + k}.11.0/24", 1, False),
        ):
            self.subnets.append(_Subnet("subnet-" + _hex(rng, 17), ipaddress.IPv4Network(net), region + "ab"[az],
                                        _az_id(region, zone_numbers[az]), next(v6nets), public, name))
        data = next(self.cidr2.subnets(new_prefix=24))
        self.subnets.append(_Subnet("subnet-" + _hex(rng, 17), data, region + "a", self.subnets[0].az_id,
                                    None, False, "data"))
        self._free = {s.name: rng.sample(range(4, 251), 60) for s in self.subnets}
        pub_a, pub_b, priv_a, priv_b, data = self.subnets
        unknown = "unknown"

        def ec2(role, sn, v6=False):
            return _Eni(role, sn, [self._ip(sn)], [self._ip6(sn)] if v6 else None,
                        "i-" + _hex(rng, 17), account)

        self.webs = [ec2("web", priv_a, v6=True), ec2("web", priv_b, v6=True)]
        self.bastion = ec2("bastion", pub_a, v6=True)
        # ALB and NAT ENIs belong to AWS services; flow logs may say `unknown` for their account.
        self.albs = [_Eni("alb", pub_a, [self._ip(pub_a)], [self._ip6(pub_a)], None, account),
                     _Eni("alb", pub_b, [self._ip(pub_b)], [self._ip6(pub_b)], None, unknown)]
        self.nat = _Eni("nat", pub_a, [self._ip(pub_a)], None, None, unknown)
        self.rds = _Eni("rds", priv_a, [self._ip(priv_a)], None, None, account)
        self.vpce = _Eni("vpce", priv_b, [self._ip(priv_b)], None, None, account)
        # Lambda Hyperplane ENIs of both kinds: InterfaceType `lambda`, and older `interface` ones that
        # only their Description gives away. One has a secondary IP, one an IPv6 address.
        self.lambdas = [
            _Eni("lambda", priv_a, [self._ip(priv_a), self._ip(priv_a)], None, None, account),
            _Eni("lambda", priv_b, [self._ip(priv_b)], [self._ip6(priv_b)], None, account),
            _Eni("lambda-legacy", priv_a, [self._ip(priv_a)], None, None, account),
        ]
        # Flowing but absent from the inventory (created after the sync, or deleted before it).
        self.ghosts = [
            _Eni("ghost", priv_b, [self._ip(priv_b)], None, "i-" + _hex(rng, 17), account),
            _Eni("ghost", pub_b, [self._ip(pub_b)], None, None, account),
        ]
        self.data_hosts = [self._ip(data) for _ in range(4)]
        # An ElastiCache node's ENI (known by its RequesterId and description), and a Lambda ENI that
        # Lambda deleted half-way through: only an older inventory snapshot still has it.
        self.cache = _Eni("cache", data, [self._ip(data)], None, None, account)
        self.retired = _Eni("lambda-retired", priv_a, [self._ip(priv_a)], None, None, account)
        self.enis = [*self.webs, self.bastion, *self.albs, self.nat, self.rds, self.vpce, *self.lambdas,
                     *self.ghosts, self.cache, self.retired]
        for e in self.enis:
            e.id = "eni-" + _hex(rng, 17)
        self.public_ip = {e.id: f"{rng.choice((3, 18, 34, 44, 52, 54))}.{rng.randrange(256)}."
                                f"{rng.randrange(256)}.{rng.randrange(1, 255)}"
                          for e in (self.bastion, *self.albs, self.nat)}
        self.alb_name = f"app/web-alb/{_hex(rng, 16)}"
        self.nat_id = "nat-" + _hex(rng, 17)
        self.vpce_id = "vpce-" + _hex(rng, 17)
        self.sg = {r: "sg-" + _hex(rng, 17) for r in ("web", "bastion", "alb", "lambda", "rds", "vpce", "cache")}
        for e in self.enis:
            if e.role != "ghost":
                e.doc = self._eni_doc(e)
            fixed = {
                "version": fmt.version, "account_id": e.log_account, "interface_id": e.id,
                "vpc_id": self.vpc_id, "subnet_id": e.subnet.id, "instance_id": e.instance_id,
                "region": region, "az_id": e.subnet.az_id,
            }
            meta = {"aws_account_id": account, "aws_region": region}
            e.view = _View(fmt, fixed, meta)
            e.view_nosub = _View(fmt, {**fixed, "subnet_id": None}, meta)

    def _ip(self, sn: _Subnet) -> str:
        return str(sn.cidr.network_address + self._free[sn.name].pop())

    def _ip6(self, sn: _Subnet) -> str:
        # Compressed form, as both the EC2 API and flow logs write it.
        return str(sn.ipv6.network_address + self.rng.getrandbits(64))

    # -- inventory documents, in the shapes `aws ec2 describe-…` prints

    def _eni_doc(self, e: _Eni) -> dict:
        rng, region = self.rng, self.region
        dns = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
        description, itype, managed, group = "", "interface", False, e.role
        if e.role == "alb":
            description, managed = f"ELB {self.alb_name}", True
        elif e.role == "nat":
            description, itype, managed = f"Interface for NAT Gateway {self.nat_id}", "nat_gateway", True
        elif e.role == "rds":
            description, managed = "RDSNetworkInterface", True
        elif e.role == "vpce":
            description, itype, managed = f"VPC Endpoint Interface {self.vpce_id}", "vpc_endpoint", True
        elif e.role == "cache":
            description, managed = "ElastiCache redis-prod-0001-001", True
        elif e.role in ("lambda", "lambda-legacy", "lambda-retired"):
            group = "lambda"
            uuid = f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
            if e.role == "lambda-legacy":
                description = f"AWS Lambda VPC ENI-myfunc-{uuid}"
            elif e.role == "lambda-retired":
                itype, managed = "lambda", True
                description = f"AWS Lambda VPC ENI-nightly-report-{uuid}"
            elif e is self.lambdas[0]:
                itype, managed = "lambda", True
                description = f"AWS Lambda VPC ENI-orders-api-{uuid}"
            else:
                # Only the InterfaceType says Lambda here, so the rule cannot lean on the description.
                itype, managed = "lambda", True
        doc = {
            "AvailabilityZone": e.subnet.az,
            "Description": description,
            # NAT gateways have no security groups.
            "Groups": [{"GroupName": f"{group}-sg", "GroupId": self.sg[group]}] if group in self.sg else [],
            "InterfaceType": itype,
            "Ipv6Addresses": [{"Ipv6Address": a} for a in e.ipv6],
            "MacAddress": ":".join(f"{rng.getrandbits(8):02x}" for _ in range(6)),
            "NetworkInterfaceId": e.id,
            "OwnerId": self.account,
            "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.{dns}",
            "PrivateIpAddress": e.ip,
            "PrivateIpAddresses": [
                {"Primary": i == 0, "PrivateDnsName": f"ip-{ip.replace('.', '-')}.{dns}", "PrivateIpAddress": ip}
                for i, ip in enumerate(e.ips)
            ],
            "RequesterManaged": managed,
            "SourceDestCheck": e.role != "nat",
            "Status": "in-use",
            "SubnetId": e.subnet.id,
            "TagSet": [],
            "VpcId": self.vpc_id,
        }
        if managed:
            doc["RequesterId"] = {"alb": "amazon-elb", "rds": "amazon-rds", "cache": "amazon-elasticache"}.get(
                e.role, "AIDA" + _hex(rng, 16).upper())
        if e.instance_id:
            doc["Attachment"] = {"AttachmentId": "eni-attach-" + _hex(rng, 17), "DeleteOnTermination": True,
                                 "DeviceIndex": 0, "NetworkCardIndex": 0, "InstanceId": e.instance_id,
                                 "InstanceOwnerId": self.account, "Status": "attached"}
        if e.id in self.public_ip:
            pip = self.public_ip[e.id]
            doc["Association"] = {"IpOwnerId": "amazon", "PublicIp": pip,
                                  "PublicDnsName": f"ec2-{pip.replace('.', '-')}.compute-1.amazonaws.com"}
            doc["PrivateIpAddresses"][0]["Association"] = doc["Association"]
        return doc

    def subnet_docs(self) -> list[dict]:
        out = []
        for sn in self.subnets:
            doc = {
                "AvailabilityZone": sn.az,
                "AvailabilityZoneId": sn.az_id,
                "AvailableIpAddressCount": 240,
                "CidrBlock": str(sn.cidr),
                "DefaultForAz": False,
                "MapPublicIpOnLaunch": sn.public,
                "State": "available",
                "SubnetId": sn.id,
                "VpcId": self.vpc_id,
                "OwnerId": self.account,
                "AssignIpv6AddressOnCreation": False,
                "Ipv6CidrBlockAssociationSet": [],
                "Tags": [{"Key": "Name", "Value": sn.name}],
                "SubnetArn": f"arn:aws:ec2:{self.region}:{self.account}:subnet/{sn.id}",
            }
            if sn.ipv6:
                doc["Ipv6CidrBlockAssociationSet"] = [{
                    "AssociationId": "subnet-cidr-assoc-" + _hex(self.rng, 17),
                    "Ipv6CidrBlock": str(sn.ipv6),
                    "Ipv6CidrBlockState": {"State": "associated"},
                }]
            out.append(doc)
        return out

    def vpc_doc(self) -> dict:
        rng = self.rng
        return {
            "CidrBlock": str(self.cidr),
            "DhcpOptionsId": "dopt-" + _hex(rng, 17),
            "State": "available",
            "VpcId": self.vpc_id,
            "OwnerId": self.account,
            "InstanceTenancy": "default",
            "Ipv6CidrBlockAssociationSet": [{
                "AssociationId": "vpc-cidr-assoc-" + _hex(rng, 17),
                "Ipv6CidrBlock": str(self.ipv6),
                "Ipv6CidrBlockState": {"State": "associated"},
                "NetworkBorderGroup": self.region,
                "Ipv6Pool": "Amazon",
            }],
            "CidrBlockAssociationSet": [
                {"AssociationId": "vpc-cidr-assoc-" + _hex(rng, 17), "CidrBlock": str(c),
                 "CidrBlockState": {"State": "associated"}}
                for c in (self.cidr, self.cidr2)
            ],
            "IsDefault": False,
            "Tags": [{"Key": "Name", "Value": f"main-{self.region}"}],
        }


def _write_inventory(directory: Path, topologies: list[_Topology], *, retired: bool = False) -> None:
    """The inventory as `aws ec2 describe-…` prints it; `retired`: with the ENIs deleted since (an
    older snapshot)."""
    docs = {
        "NetworkInterfaces": [e.doc for t in topologies for e in t.enis
                              if e.doc is not None and (retired or e.role != "lambda-retired")],
        "Subnets": [s for t in topologies for s in t.subnet_docs()],
        "Vpcs": [t.vpc_doc() for t in topologies],
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, key in FILES.items():
        # indent=4 and key order as given: what `aws ec2 describe-… --output json` looks like.
        (directory / name).write_text(dumps_json({key: docs[key]}, indent=4) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------------- traffic

# Outside any VPC of the inventory but private: a peered VPC we have no inventory for, on-premises over a
# VPN or Direct Connect, a transit range in 100.64/10, and an IPv6 ULA.
_PRIVATE_DESTS = (
    ("172.20.{}.{}", 5432, 6, _PEERING),
    ("172.31.{}.{}", 443, 6, _PEERING),
    ("192.168.10.53", 53, 17, _VGW),
    ("192.168.20.{}", 1521, 6, _VGW),
    ("10.200.{}.{}", 8443, 6, _VGW),
    ("100.100.{}.{}", 443, 6, _IN_VPC),
    ("fd12:3456:789a:1::{:x}{:x}", 443, 6, _IN_VPC),
)
# Internet destinations of functions: public APIs, AWS service endpoints (with the service name AWS
# puts in pkt-dst-aws-service), and the documentation ranges — internet as far as a query is concerned.
_LAMBDA_INTERNET = (
    ("140.82.112.3", None), ("104.16.132.229", None), ("151.101.1.69", None), ("35.190.247.13", None),
    ("52.94.0.{}", "DYNAMODB"), ("52.46.{}.{}", "AMAZON"), ("54.239.{}.{}", "API_GATEWAY"),
    ("203.0.113.{}", None), ("198.51.100.{}", None), ("192.0.2.{}", None),
)
_LAMBDA_INTERNET6 = ("2606:4700::6810:84e5", "2a03:2880:f10c:83:face:b00c:0:25de", "2001:db8:1::{:x}",
                     "2600:1f18:24e6:b900::{:x}")
_EC2_INTERNET = (("52.216.{}.{}", 443, 6, "S3"), ("185.125.190.{}", 80, 6, None),
                 ("91.189.91.{}", 80, 6, None), ("129.6.15.{}", 123, 17, None), ("13.107.42.{}", 443, 6, None))
_PUBLIC_FIRST_OCTETS = (5, 13, 23, 24, 31, 37, 45, 46, 62, 66, 73, 77, 78, 81, 82, 86, 89, 91, 94, 98, 103,
                        109, 112, 118, 121, 139, 146, 171, 176, 180, 185, 186, 188, 190, 193, 196, 200, 212, 217)
_SCAN_PORTS = (22, 22, 22, 22, 3389, 3389, 3389, 23, 23, 445, 1433, 3306, 5900, 6379, 8080)


def _fill(pattern: str, rng: random.Random) -> str:
    """An address from a pattern: each `{}` (decimal) or `{:x}` (hex) becomes a number in 1..254."""
    return pattern.format(*(rng.randrange(1, 255) for _ in range(pattern.count("{"))))


class _Traffic:
    """Conversations of one account×region. Each one writes every record AWS would: one per direction
    per ENI it crosses, so the queries see replies, NAT hops and load-balancer hops as they are."""

    def __init__(self, topo: _Topology, others: list[_Topology], rng: random.Random, keep: bool,
                 scenario: Scenario):
        self.t, self.rng, self.keep = topo, rng, keep
        t0 = int(datetime(scenario.start.year, scenario.start.month, scenario.start.day,
                          tzinfo=timezone.utc).timestamp())
        # The retired Lambda ENI works in the first half of the scenario only; the first topology has
        # a logging gap (no record at all) on its fourth day from 10:00 to 13:00 UTC.
        self.retire_at = t0 + scenario.days * 86400 // 2
        self.gap = (t0 + 3 * 86400 + 10 * 3600, t0 + 3 * 86400 + 13 * 3600) if topo.k == 0 else (0, 0)
        self.rand = rng.random
        self.nosub = 0.01 if "subnet-id" in topo.fmt else 0.0
        # its own generator, so that the records are the same with and without other spellings
        self.spell = random.Random(f"flowsql:{scenario.seed}:{topo.k}:spellings") if scenario.ipv6_spellings else None
        self.lines: list[str] = []
        self.recs: list[dict] = []
        r = rng
        self.clients = [f"{r.choice(_PUBLIC_FIRST_OCTETS)}.{r.randrange(256)}.{r.randrange(256)}."
                        f"{r.randrange(1, 255)}" for _ in range(300)]
        self.clients += [f"203.0.113.{r.randrange(1, 255)}" for _ in range(10)]
        self.clients6 = [f"2a01:4f8:{r.getrandbits(16):x}:{r.getrandbits(16):x}::{r.getrandbits(16):x}"
                         for _ in range(40)] + ["2001:db8:cafe::17"]
        self.scanners = [f"{r.choice((45, 80, 89, 185, 193, 194, 141, 162))}.{r.randrange(256)}."
                         f"{r.randrange(256)}.{r.randrange(1, 255)}" for _ in range(80)]
        self.scanners += ["198.51.100.7", "198.51.100.8"]
        self.scanners6 = [f"2001:db8:bad::{r.getrandbits(12):x}" for _ in range(5)]
        self.office = [f"198.51.100.{r.randrange(100, 120)}" for _ in range(3)]
        # Hosts in other VPCs of the inventory, reached through peering: "vpc" by the inventory's CIDRs.
        self.peered = [o.webs[0].ip for o in others[:3]] + [str(o.cidr2.network_address + 77) for o in others[:2]]
        self.lambda_srcs = [(e, ip) for e in topo.lambdas for ip in e.ips]
        self.all_enis = topo.enis
        self.scan_targets = [topo.bastion, topo.bastion, topo.bastion, *topo.webs, topo.albs[0],
                             topo.albs[1], *topo.ghosts, topo.ghosts[1]]
        # Two scanners that sweep: one many ports of one host, one port of many hosts.
        self.sweepers = (f"45.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"185.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}")
        kinds = (
            (self.web_via_alb, 28), (self.scan, 24), (self.nacl_one_way, 3), (self.admin_ssh, 2),
            (self.lambda_rds, 10), (self.lambda_vpc, 5), (self.lambda_private, 5), (self.lambda_internet, 9),
            (self.lambda_ipv6, 4), (self.lambda_rejected, 2), (self.ec2_internet, 7), (self.ec2_s3, 3),
            (self.web_rds, 3), (self.icmp, 2), (self.icmpv6, 2), (self.ghost, 2), (self.nodata, 3),
            (self.admin_from_internet, 2), (self.db_from_internet, 1), (self.sweep, 4), (self.one_way, 2),
            (self.tunnel, 1), (self.cache_traffic, 3), (self.retired_lambda, 3),
        )
        self.kinds = [k for k, w in kinds for _ in range(w)]

    def window(self, a: int, b: int, n: int) -> tuple[list[str], list[dict]]:
        """Conversations starting in [a, b) until about `n` records; returns lines and records."""
        lines: list[str] = []
        recs: list[dict] | None = [] if self.keep else None
        self.lines, self.recs = lines, recs
        rand, kinds, span = self.rand, self.kinds, max(b - a - 60, 1)
        nk = len(kinds)
        g0, g1 = self.gap
        if g0 - 60 <= a and a + span <= g1:  # a delivery wholly inside the gap (many files a day): no record
            return lines, recs or []
        while len(lines) < n:
            t = a + int(rand() * span)
            if g0 - 60 <= t < g1:  # the logging gap: nothing at all is delivered for these hours
                continue
            kinds[int(rand() * nk)](t, t + 1 + int(rand() * 59))
        return lines, recs or []

    # -- one record

    def rec(self, eni, direction, src, dst, sport, dport, proto, packets, nbytes, start, end,
            action="ACCEPT", flags=None, path=None, psrc=None, pdst=None, src_svc=None, dst_svc=None):
        if flags is None:
            flags = _REQ if proto == 6 else 0
        view = eni.view
        if self.nosub and self.rand() < self.nosub:
            view = eni.view_nosub  # subnet-id `-`: readers must fall back to the inventory
        family = "IPv6" if ":" in src else "IPv4"
        psrc, pdst = psrc or src, pdst or dst
        if self.spell is not None:
            src, dst, psrc, pdst = (self._spelled(a) for a in (src, dst, psrc, pdst))
        view.put(self.lines, self.recs, src, dst, sport, dport, proto, packets, nbytes, start, end, action,
                 "OK", flags, family, psrc, pdst, src_svc, dst_svc, direction, path if direction == "egress" else None)

    def _spelled(self, address):
        """An IPv6 address as another writer might spell it (half of the time): every form names the
        same address (RFC 4291 2.2), only RFC 5952's is the one AWS writes."""
        if address is None or ":" not in address:
            return address
        how = self.spell.randrange(8)
        ip = ipaddress.IPv6Address(address)
        groups = ip.exploded.split(":")
        if how == 0:
            return ip.exploded  # 2001:0db8:0000:…:0001
        if how == 1:
            return address.upper()  # 2001:DB8::1
        if how == 2:
            return ":".join(g.lstrip("0") or "0" for g in groups)  # 2001:db8:0:0:0:0:0:1
        if how == 3:
            return ip.exploded.upper()
        return address

    def both(self, eni, local, remote, lport, rport, proto, out_pb, in_pb, start, end, path,
             outbound=True, dst_svc=None):
        """A conversation as one ENI sees it: the record of each direction."""
        if outbound:
            self.rec(eni, "egress", local, remote, lport, rport, proto, *out_pb, start, end, path=path,
                     dst_svc=dst_svc, flags=_REQ if proto == 6 else 0)
            self.rec(eni, "ingress", remote, local, rport, lport, proto, *in_pb, start, end,
                     src_svc=dst_svc, flags=_REPLY if proto == 6 else 0)
        else:
            self.rec(eni, "ingress", remote, local, rport, lport, proto, *in_pb, start, end,
                     flags=_REQ if proto == 6 else 0)
            self.rec(eni, "egress", local, remote, lport, rport, proto, *out_pb, start, end, path=path,
                     flags=_REPLY if proto == 6 else 0)

    # -- sizes and picks

    def pb(self, small=True, big_rate=0.0):
        """(packets, bytes); now and then a transfer over 4 GiB."""
        rand = self.rand
        if big_rate and rand() < big_rate:
            nbytes = _BIG + 1 + int(rand() * 12_000_000_000)
            return nbytes // 1400 + 1, nbytes
        packets = 1 + int(rand() * (12 if small else 400))
        return packets, packets * (52 + int(rand() * (200 if small else 1400)))

    def eph(self):
        return 32768 + int(self.rand() * 28232)

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    # -- conversations

    def web_via_alb(self, t, e):
        """Internet client -> ALB -> web instance, and the replies: 6 records on 2 ENIs."""
        alb, web = self.pick(self.t.albs), self.pick(self.t.webs)
        v6 = self.rand() < 0.1
        client = self.pick(self.clients6 if v6 else self.clients)
        alb_ip = alb.ipv6[0] if v6 else alb.ip
        cport, aport = self.eph(), self.eph()
        self.both(alb, alb_ip, client, 443, cport, 6, self.pb(False, 0.003), self.pb(), t, e, _IGW, outbound=False)
        resp = self.pb(False)
        req = self.pb()
        self.both(alb, alb.ip, web.ip, aport, 8080, 6, req, resp, t, e, _IN_VPC)
        self.both(web, web.ip, alb.ip, 8080, aport, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def scan(self, t, e):
        """Scanners knocking on 22/3389/23/…: a security group or NACL drops them, both log REJECT."""
        target = self.pick(self.scan_targets)
        rand = self.rand
        if target.ipv6 and rand() < 0.1:
            src, dst = self.pick(self.scanners6), target.ipv6[0]
        elif rand() < 0.08:
            src, dst = self.pick(self.t.webs).ip, target.ip  # lateral movement from inside the VPC
        else:
            src, dst = self.pick(self.scanners), target.ip
        packets = 1 + int(rand() * 3)
        if rand() < 0.1:
            proto = 58 if ":" in src else 1
            self.rec(target, "ingress", src, dst, 0, 0, proto, packets, packets * 84, t, e, "REJECT", 0)
        else:
            self.rec(target, "ingress", src, dst, self.eph(), self.pick(_SCAN_PORTS), 6, packets, packets * 44,
                     t, e, "REJECT", _SYN)

    def nacl_one_way(self, t, e):
        """Stateless NACL: the request is accepted, the reply to the ephemeral port is not."""
        b, client, cport = self.t.bastion, self.pick(self.clients), self.eph()
        self.rec(b, "ingress", client, b.ip, cport, 22, 6, 3, 180, t, e, "ACCEPT", _SYN)
        self.rec(b, "egress", b.ip, client, 22, cport, 6, 3, 180, t, e, "REJECT", 18, path=_IGW)

    def admin_ssh(self, t, e):
        b, web, office = self.t.bastion, self.pick(self.t.webs), self.pick(self.office)
        p1, p2 = self.eph(), self.eph()
        self.both(b, b.ip, office, 22, p1, 6, self.pb(False), self.pb(), t, e, _IGW, outbound=False)
        req, resp = self.pb(), self.pb(False)
        self.both(b, b.ip, web.ip, p2, 22, 6, req, resp, t, e, _IN_VPC)
        self.both(web, web.ip, b.ip, 22, p2, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def lambda_rds(self, t, e):
        """A function queries MySQL: records on the Lambda ENI and the RDS ENI (its replies)."""
        lam, ip = self.pick(self.lambda_srcs)
        rds, port = self.t.rds, self.eph()
        req, resp = self.pb(), self.pb(False, 0.002)
        self.both(lam, ip, rds.ip, port, 3306, 6, req, resp, t, e, _IN_VPC)
        self.both(rds, rds.ip, ip, 3306, port, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def lambda_vpc(self, t, e):
        """To the VPC's second CIDR, a peered VPC of the inventory, or an interface endpoint: all "vpc"."""
        lam, ip = self.pick(self.lambda_srcs)
        rand = self.rand
        if self.peered and rand() < 0.3:
            dst, port, path = self.pick(self.peered), 443, _PEERING
        elif rand() < 0.3:
            dst, port, path = self.t.vpce.ip, 443, _IN_VPC
            self.both(self.t.vpce, dst, ip, 443, self.eph(), 6, self.pb(False), self.pb(), t, e, _IN_VPC,
                      outbound=False)
        else:
            dst, port, path = self.pick(self.t.data_hosts), self.pick((6379, 8443, 9200)), _IN_VPC
        self.both(lam, ip, dst, self.eph(), port, 6, self.pb(), self.pb(False), t, e, path)

    def lambda_private(self, t, e):
        lam, ip = self.pick(self.lambda_srcs)
        pattern, port, proto, path = self.pick(_PRIVATE_DESTS)
        if ":" in pattern:
            if not lam.ipv6:
                lam = self.t.lambdas[1]
            ip = lam.ipv6[0]
        dst = _fill(pattern, self.rng)
        self.both(lam, ip, dst, self.eph(), port, proto, self.pb(), self.pb(), t, e, path)

    def lambda_internet(self, t, e):
        """Out through the NAT gateway: the function's ENI sees the real destination, the NAT ENI four
        records (pkt-* fields keep the addresses before translation)."""
        lam, ip = self.pick(self.lambda_srcs)
        pattern, svc = self.pick(_LAMBDA_INTERNET)
        dst, port = _fill(pattern, self.rng), 443 if self.rand() < 0.9 else 80
        self._via_nat(lam, ip, dst, self.eph(), port, 6, self.pb(False, 0.004), self.pb(False), t, e, svc)

    def _via_nat(self, eni, ip, dst, sport, dport, proto, out_pb, in_pb, t, e, svc=None):
        nat, nport = self.t.nat, 1024 + int(self.rand() * 64000)
        self.both(eni, ip, dst, sport, dport, proto, out_pb, in_pb, t, e, _IN_VPC, dst_svc=svc)
        rec = self.rec
        rec(nat, "ingress", ip, nat.ip, sport, dport, proto, *out_pb, t, e, pdst=dst, dst_svc=svc)
        rec(nat, "egress", nat.ip, dst, nport, dport, proto, *out_pb, t, e, path=_IGW, dst_svc=svc)
        rec(nat, "ingress", dst, nat.ip, dport, nport, proto, *in_pb, t, e, src_svc=svc,
            flags=_REPLY if proto == 6 else 0)
        rec(nat, "egress", nat.ip, ip, dport, sport, proto, *in_pb, t, e, path=_IN_VPC, psrc=dst,
            src_svc=svc, flags=_REPLY if proto == 6 else 0)

    def lambda_ipv6(self, t, e):
        """IPv6 egress needs no NAT (egress-only internet gateway): only the Lambda ENI logs it. Some of
        it goes to a host of the function's own VPC, inside the VPC's IPv6 block: "vpc", not internet."""
        lam = self.t.lambdas[1]
        if self.rand() < 0.3:
            web = self.pick(self.t.webs)
            self.both(lam, lam.ipv6[0], web.ipv6[0], self.eph(), 8443, 6, self.pb(), self.pb(False), t, e, _IN_VPC)
            return
        dst = _fill(self.pick(_LAMBDA_INTERNET6), self.rng)
        self.both(lam, lam.ipv6[0], dst, self.eph(), 443, 6, self.pb(), self.pb(False), t, e, _IGW)

    def lambda_rejected(self, t, e):
        """Records on Lambda ENIs that are not accepted egress: an inbound probe and a NACL-denied call."""
        lam, ip = self.pick(self.lambda_srcs)
        if self.rand() < 0.5:
            src = self.pick(self.t.webs).ip
            self.rec(lam, "ingress", src, ip, self.eph(), 8080, 6, 2, 104, t, e, "REJECT", _SYN)
        else:
            dst = str(self.t.subnets[3].cidr.network_address + 200)
            self.rec(lam, "egress", ip, dst, self.eph(), 5432, 6, 2, 120, t, e, "REJECT", _SYN, path=_IN_VPC)

    def ec2_internet(self, t, e):
        web = self.pick(self.t.webs)
        pattern, port, proto, svc = self.pick(_EC2_INTERNET)
        self._via_nat(web, web.ip, _fill(pattern, self.rng), self.eph(), port, proto, self.pb(),
                      self.pb(False), t, e, svc)

    def ec2_s3(self, t, e):
        """Backups to S3 through the gateway endpoint: the big transfers."""
        web = self.pick(self.t.webs)
        dst = _fill("52.217.{}.{}", self.rng)
        self.both(web, web.ip, dst, self.eph(), 443, 6, self.pb(False, 0.15), self.pb(), t, e, _GW_ENDPOINT,
                  dst_svc="S3")

    def web_rds(self, t, e):
        web, rds, port = self.pick(self.t.webs), self.t.rds, self.eph()
        req, resp = self.pb(), self.pb(False)
        self.both(web, web.ip, rds.ip, port, 3306, 6, req, resp, t, e, _IN_VPC)
        self.both(rds, rds.ip, web.ip, 3306, port, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def icmp(self, t, e):
        a, b = self.t.webs
        n = 1 + int(self.rand() * 10)
        self.both(a, a.ip, b.ip, 0, 0, 1, (n, n * 84), (n, n * 84), t, e, _IN_VPC)
        self.both(b, b.ip, a.ip, 0, 0, 1, (n, n * 84), (n, n * 84), t, e, _IN_VPC, outbound=False)

    def icmpv6(self, t, e):
        b, n = self.t.bastion, 1 + int(self.rand() * 6)
        self.both(b, b.ipv6[0], self.pick(self.clients6), 0, 0, 58, (n, n * 104), (n, n * 104), t, e, _IGW,
                  outbound=False)

    def ghost(self, t, e):
        g, web = self.t.ghosts[0], self.pick(self.t.webs)
        req, resp = self.pb(), self.pb(False)
        port = self.eph()
        self.both(g, g.ip, web.ip, port, 8080, 6, req, resp, t, e, _IN_VPC)
        self.both(web, web.ip, g.ip, 8080, port, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def admin_from_internet(self, t, e):
        """SSH to the bastion or RDP to a web instance from an address on the internet, accepted (a
        security group open to 0.0.0.0/0)."""
        if self.rand() < 0.5:
            host, port = self.t.bastion, 22
        else:
            host, port = self.pick(self.t.webs), 3389
        self.both(host, host.ip, self.pick(self.clients), port, self.eph(), 6, self.pb(False), self.pb(), t, e,
                  _IGW, outbound=False)

    def db_from_internet(self, t, e):
        """A database or cache port reached from the internet and accepted."""
        host, port = (self.t.rds, 3306) if self.rand() < 0.5 else (self.t.cache, 6379)
        self.both(host, host.ip, self.pick(self.clients), port, self.eph(), 6, self.pb(False), self.pb(), t, e,
                  _IGW, outbound=False)

    def sweep(self, t, e):
        """A port sweep of one host, or one port swept across hosts: rejected, one SYN each."""
        if self.rand() < 0.5:
            target, port = self.t.bastion, 1 + int(self.rand() * 1024)
        else:
            target, port = self.pick(self.all_enis), 23
        self.rec(target, "ingress", self.sweepers[port == 23], target.ip, self.eph(), port, 6, 1, 44, t, e,
                 "REJECT", _SYN)

    def one_way(self, t, e):
        """A request accepted at the sender, and no reply ever: nothing listens on the other side."""
        web = self.pick(self.t.webs)
        self.rec(web, "egress", web.ip, self.pick(self.t.data_hosts), self.eph(), 9200, 6, 3, 180, t, e,
                 "ACCEPT", _SYN, path=_IN_VPC)

    def tunnel(self, t, e):
        """GRE to an on-premises router: an IP protocol other than TCP, UDP or ICMP."""
        web, peer = self.t.webs[0], "192.168.20.1"
        self.both(web, web.ip, peer, 0, 0, 47, self.pb(), self.pb(), t, e, _VGW)

    def cache_traffic(self, t, e):
        """Redis on the ElastiCache node: records on the client's ENI and on the node's."""
        src, ip = (self.pick(self.lambda_srcs) if self.rand() < 0.5 else (self.pick(self.t.webs), None))
        ip = ip or src.ip
        cache, port = self.t.cache, self.eph()
        req, resp = self.pb(), self.pb(False)
        self.both(src, ip, cache.ip, port, 6379, 6, req, resp, t, e, _IN_VPC)
        self.both(cache, cache.ip, ip, 6379, port, 6, resp, req, t, e, _IN_VPC, outbound=False)

    def retired_lambda(self, t, e):
        """The nightly-report function, on an ENI Lambda deleted half-way: internet calls via the NAT."""
        if t >= self.retire_at:
            return
        lam = self.t.retired
        pattern, svc = self.pick(_LAMBDA_INTERNET)
        self._via_nat(lam, lam.ip, _fill(pattern, self.rng), self.eph(), 443, 6, self.pb(False), self.pb(), t, e,
                      svc)

    def nodata(self, t, e):
        """No traffic in the window (NODATA), or records dropped for capacity (SKIPDATA): `-` for the
        address, port, protocol, count and action fields."""
        status = "SKIPDATA" if self.rand() < 0.25 else "NODATA"
        self.pick(self.all_enis).view.put(self.lines, self.recs, *(None,) * 7, t, e, None, status, *(None,) * 8)
