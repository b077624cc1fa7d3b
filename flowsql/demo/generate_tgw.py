"""Transit Gateway flow logs for the generated accounts: deterministic records and files.

`generate_tgw(out_dir, topologies, scenario)` gives each region `scenario.transit_gateways` transit
gateways, each attached to every generated VPC of that region (VPCs of other accounts than the
transit gateway's owner: cross-account attachments, as with AWS RAM) and to a VPN towards an office.
Its flow log writes, like AWS's, into the owner's `AWSLogs/{account}/vpcflowlogs/{region}/` folders,
beside the VPC flow logs, in the default Transit Gateway format (all the v6 fields, AWS's order).

A flow that crosses the transit gateway is recorded twice: on the attachment it came in by
(`flow-direction` ingress, its pair the attachment it leaves by) and on that one (egress). What the
transit gateway dropped is counted on the ingress record: packets to an address with no route
(`packets-lost-no-route`, no egress record, no destination VPC), to a blackhole route (a retired VPC's
block), too big for the VPN (`packets-lost-mtu-exceeded`) and traceroute's expired TTLs.

Every record is returned typed (columns as in the TGW table, `None` for `-`, plus the partition
columns and the file) so that the tests compute expected query results in plain Python. Nothing here
draws from the VPC traffic's random generators: a scenario with transit gateways writes the same
VPC flow logs as one without.
"""

from __future__ import annotations

import gzip
import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..logs.layout import day_prefix, file_name
from ..logs.tgw_fields import RESOURCE_TYPE, TGW_DEFAULT_FIELDS, TgwFormat

TGW_FORMAT = TgwFormat(TGW_DEFAULT_FIELDS)
COLUMNS = TGW_FORMAT.columns
# Where the transit gateways' routes lead nowhere: a retired VPC's block whose route is a blackhole,
# and addresses no route table of the transit gateway covers.
BLACKHOLE_CIDR = ipaddress.IPv4Network("10.250.0.0/16")
NO_ROUTE_CIDR = ipaddress.IPv4Network("172.20.0.0/16")
OFFICE_CIDR = ipaddress.IPv4Network("192.168.40.0/22")  # behind the VPN attachment
_BIG = 1 << 32


@dataclass
class TgwGenerated:
    records: list[dict]
    files: list[Path]
    gateways: list["Gateway"]


@dataclass
class Attachment:
    id: str
    kind: str  # "vpc" or "vpn"
    account: str | None  # the VPC's owner (None for a VPN)
    vpc_id: str | None
    subnets: list  # [(subnet id, az id, attachment ENI id)] for a VPC attachment
    hosts: list  # addresses behind it


@dataclass
class Gateway:
    id: str
    owner: str
    region: str
    flow_log_id: str
    attachments: list[Attachment]


def _hex(rng: random.Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


def gateways(topologies, scenario) -> list[Gateway]:
    """The transit gateways of a scenario (a pure function of it and the VPC topologies)."""
    out = []
    regions = list(scenario.regions)
    for r_index, region in enumerate(regions):
        vpcs = [t for t in topologies if t.region == region]
        for k in range(scenario.transit_gateways):
            rng = random.Random(f"flowsql:{scenario.seed}:tgw:{region}:{k}")
            owner = scenario.accounts[(r_index + k) % len(scenario.accounts)]
            attachments = []
            for t in vpcs:
                subnets = [(sn.id, sn.az_id, "eni-" + _hex(rng, 17)) for sn in t.subnets[2:4]]  # private-a, -b
                hosts = [str(sn.cidr.network_address + 200 + i) for sn in t.subnets[2:4] for i in range(3)]
                attachments.append(Attachment("tgw-attach-" + _hex(rng, 17), "vpc", t.account, t.vpc_id,
                                              subnets, hosts))
            office = [str(OFFICE_CIDR.network_address + 10 + i) for i in range(6)]
            attachments.append(Attachment("tgw-attach-" + _hex(rng, 17), "vpn", None, None, [], office))
            out.append(Gateway("tgw-" + _hex(rng, 17), owner, region, "fl-" + _hex(rng, 17), attachments))
    return out


class _Traffic:
    """The flows of one transit gateway: `window(a, b, n)` makes about `n` records starting in [a, b)."""

    def __init__(self, gw: Gateway, rng: random.Random, keep: bool):
        self.gw, self.rng, self.keep = gw, rng, keep
        self.vpcs = [a for a in gw.attachments if a.kind == "vpc"]
        self.vpn = next(a for a in gw.attachments if a.kind == "vpn")
        kinds = [(self.vpc_to_vpc, 10), (self.vpc_to_vpn, 5), (self.blackhole, 2), (self.no_route, 2),
                 (self.traceroute, 1)]
        if len(self.vpcs) < 2:
            kinds = kinds[1:]
        self.kinds = [k for k, w in kinds for _ in range(w)]

    def window(self, a: int, b: int, n: int) -> tuple[list[str], list[dict]]:
        self.lines, self.recs = [], []
        span = max(b - a - 60, 1)
        while len(self.lines) < n:
            t = a + int(self.rng.random() * span)
            self.rng.choice(self.kinds)(t, t + 1 + int(self.rng.random() * 59))
        return self.lines, self.recs

    # -- one record

    def rec(self, on: Attachment, direction: str, src: tuple, dst: tuple, pair: Attachment | None,
            addrs: tuple, proto: int, packets: int, nbytes: int, start: int, end: int, *, flags=None,
            lost=(0, 0, 0, 0)):
        """One record on attachment `on`. `src`/`dst`: (attachment, subnet tuple or None) of each side
        (None where the transit gateway found no destination)."""
        def side(s):
            if s is None or s[0].kind != "vpc":
                return None, None, None, None, None
            att, sn = s
            return att.account, att.vpc_id, sn[0], sn[2], sn[1]

        sa, sv, ss, se, sz = side(src)
        da, dv, ds, de, dz = side(dst)
        if flags is None:
            flags = 3 if proto == 6 else 0
        values = {
            "version": 6, "resource_type": RESOURCE_TYPE, "account_id": self.gw.owner, "tgw_id": self.gw.id,
            "tgw_attachment_id": on.id, "tgw_src_vpc_account_id": sa, "tgw_dst_vpc_account_id": da,
            "tgw_src_vpc_id": sv, "tgw_dst_vpc_id": dv, "tgw_src_subnet_id": ss, "tgw_dst_subnet_id": ds,
            "tgw_src_eni": se, "tgw_dst_eni": de, "tgw_src_az_id": sz, "tgw_dst_az_id": dz,
            "tgw_pair_attachment_id": pair.id if pair else None,
            "srcaddr": addrs[0], "dstaddr": addrs[1], "srcport": addrs[2], "dstport": addrs[3],
            "protocol": proto, "packets": packets, "bytes": nbytes, "start": start, "end": end,
            "log_status": "OK", "type": "IPv4",
            "packets_lost_no_route": lost[0], "packets_lost_blackhole": lost[1],
            "packets_lost_mtu_exceeded": lost[2], "packets_lost_ttl_expired": lost[3],
            "tcp_flags": flags, "region": self.gw.region, "flow_direction": direction,
            "pkt_src_aws_service": None, "pkt_dst_aws_service": None,
        }
        self.lines.append(" ".join("-" if values[c] is None else str(values[c]) for c in COLUMNS))
        if self.keep:
            values.update(aws_account_id=self.gw.owner, aws_region=self.gw.region)
            self.recs.append(values)

    def crossing(self, src, dst, addrs, proto, pb, start, end, *, flags=None, lost=(0, 0, 0, 0)):
        """A flow that crosses the transit gateway: its ingress record (which counts what was lost)
        and, for the packets that went on, its egress record."""
        packets, nbytes = pb
        self.rec(src[0], "ingress", src, dst, dst[0], addrs, proto, packets, nbytes, start, end, flags=flags,
                 lost=lost)
        passed = packets - sum(lost)
        if passed > 0:
            self.rec(dst[0], "egress", src, dst, src[0], addrs, proto, passed, nbytes * passed // packets,
                     start, end, flags=flags)

    def pb(self, big_rate=0.0):
        rand = self.rng.random
        if big_rate and rand() < big_rate:
            nbytes = _BIG + 1 + int(rand() * 9_000_000_000)
            return nbytes // 1400 + 1, nbytes
        packets = 1 + int(rand() * 300)
        return packets, packets * (60 + int(rand() * 1300))

    def end_of(self, att: Attachment):
        """(attachment, subnet) for a VPC attachment, (attachment, None) for the VPN, and a host."""
        sn = self.rng.choice(att.subnets) if att.subnets else None
        return (att, sn), self.rng.choice(att.hosts)

    def eph(self):
        return 32768 + self.rng.randrange(28232)

    # -- flows

    def vpc_to_vpc(self, t, e):
        a, b = self.rng.sample(self.vpcs, 2)
        (src, s_ip), (dst, d_ip) = self.end_of(a), self.end_of(b)
        port, sport = self.rng.choice((443, 443, 5432, 6379, 8080)), self.eph()
        self.crossing(src, dst, (s_ip, d_ip, sport, port), 6, self.pb(big_rate=0.01), t, e)
        self.crossing(dst, src, (d_ip, s_ip, port, sport), 6, self.pb(), t, e, flags=19)

    def vpc_to_vpn(self, t, e):
        (src, s_ip), (dst, d_ip) = self.end_of(self.rng.choice(self.vpcs)), self.end_of(self.vpn)
        sport = self.eph()
        packets, nbytes = self.pb()
        # now and then packets over the VPN's MTU with don't-fragment set: dropped at the gateway
        mtu = min(packets, self.rng.randrange(1, 8)) if self.rng.random() < 0.2 else 0
        self.crossing(src, dst, (s_ip, d_ip, sport, 445), 6, (packets, nbytes), t, e, lost=(0, 0, mtu, 0))
        self.crossing(dst, src, (d_ip, s_ip, 445, sport), 6, self.pb(), t, e, flags=19)

    def _dropped(self, cidr, which, t, e):
        (src, s_ip) = self.end_of(self.rng.choice(self.vpcs + [self.vpn]))
        d_ip = str(cidr.network_address + self.rng.randrange(1, 4000))
        packets = 1 + self.rng.randrange(6)
        lost = [0, 0, 0, 0]
        lost[which] = packets
        self.rec(src[0], "ingress", src, None, None, (s_ip, d_ip, self.eph(), 443), 6, packets, packets * 60,
                 t, e, flags=2, lost=tuple(lost))

    def blackhole(self, t, e):
        self._dropped(BLACKHOLE_CIDR, 1, t, e)

    def no_route(self, t, e):
        self._dropped(NO_ROUTE_CIDR, 0, t, e)

    def traceroute(self, t, e):
        """UDP probes whose TTL ran out at the transit gateway, and the one that got through."""
        a, b = self.end_of(self.rng.choice(self.vpcs)), self.end_of(self.vpn)
        (src, s_ip), (dst, d_ip) = a, b
        self.crossing(src, dst, (s_ip, d_ip, self.eph(), 33434 + self.rng.randrange(30)), 17, (4, 240), t, e,
                      lost=(0, 0, 0, 3))


def _write_gz(path: Path, text: str, delivered: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("ascii"), compresslevel=1, mtime=int(delivered.timestamp())))


def generate_tgw(out_dir: Path, topologies, scenario, *, keep_records: bool = True) -> TgwGenerated:
    """Write every transit gateway's flow-log files under `out_dir/AWSLogs/` (a few files a day, a
    header-only one on the second day, as AWS delivers them); return their records and files."""
    records: list[dict] = []
    files: list[Path] = []
    gws = gateways(topologies, scenario)
    per_day = max(scenario.flows_per_day // 4, 1) if scenario.flows_per_day else 0
    for gw in gws:
        rng = random.Random(f"flowsql:{scenario.seed}:tgw:{gw.id}:traffic")
        traffic = _Traffic(gw, rng, keep_records)
        for d in range(scenario.days):
            day = scenario.start + timedelta(days=d)
            t0 = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
            n = scenario.files_per_day
            bounds = [t0 - 600 + (86400 * i) // n for i in range(n + 1)]
            deliveries = []
            for a, b in zip(bounds, bounds[1:]):
                lines, recs = traffic.window(a, b, round(per_day / n) if per_day else 0)
                deliveries.append((datetime.fromtimestamp(b + 60 + rng.randrange(480), timezone.utc), lines, recs))
            if d == 1:  # a delivery in which no record survived: the header alone
                deliveries.append((datetime.fromtimestamp(t0 + 3600 + rng.randrange(3600), timezone.utc), [], []))
            for delivered, lines, recs in sorted(deliveries, key=lambda x: x[0]):
                prefix = day_prefix(gw.owner, gw.region, day, hive=scenario.hive,
                                    hour=delivered.hour if scenario.per_hour else None)
                path = out_dir / prefix / file_name(gw.owner, gw.region, gw.flow_log_id, delivered, _hex(rng, 8))
                for r in recs:
                    r["day"] = day
                    r["file"] = path
                records.extend(recs)
                files.append(path)
                _write_gz(path, "\n".join([TGW_FORMAT.header(), *lines, ""]), delivered)
    return TgwGenerated(records, files, gws)
