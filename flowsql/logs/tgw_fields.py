"""Transit Gateway flow-log record fields (version 6) and their log format.

A transit gateway's flow log writes records of another shape than a VPC's: no `interface-id` or
`action`, but the attachments a flow crossed, the VPCs, subnets and accounts on either side, and the
packets the transit gateway dropped and why (no route, a blackhole route, MTU, TTL). Its files are
delivered under the same `AWSLogs/{account}/vpcflowlogs/{region}/` prefix as VPC flow logs, so a tree
can hold both: they are told apart by the header (`resource-type`, `tgw-id`), never by the path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormatError
from .fields import FIELDS as VPC_FIELDS, Field, LogFormat

# AWS's order of the Transit Gateway "Available fields" table; the default format has them all, in
# this order. Types as for the VPC fields of the same names (Parquet INT_32/INT_64/STRING).
TGW_FIELDS: tuple[Field, ...] = (
    Field("version", 6, "int"),
    Field("resource-type", 6, "string"),
    Field("account-id", 6, "string"),
    Field("tgw-id", 6, "string"),
    Field("tgw-attachment-id", 6, "string"),
    Field("tgw-src-vpc-account-id", 6, "string"),
    Field("tgw-dst-vpc-account-id", 6, "string"),
    Field("tgw-src-vpc-id", 6, "string"),
    Field("tgw-dst-vpc-id", 6, "string"),
    Field("tgw-src-subnet-id", 6, "string"),
    Field("tgw-dst-subnet-id", 6, "string"),
    Field("tgw-src-eni", 6, "string"),
    Field("tgw-dst-eni", 6, "string"),
    Field("tgw-src-az-id", 6, "string"),
    Field("tgw-dst-az-id", 6, "string"),
    Field("tgw-pair-attachment-id", 6, "string"),
    Field("srcaddr", 6, "string"),
    Field("dstaddr", 6, "string"),
    Field("srcport", 6, "int"),
    Field("dstport", 6, "int"),
    Field("protocol", 6, "int"),
    Field("packets", 6, "bigint"),
    Field("bytes", 6, "bigint"),
    Field("start", 6, "bigint"),
    Field("end", 6, "bigint"),
    Field("log-status", 6, "string"),
    Field("type", 6, "string"),
    Field("packets-lost-no-route", 6, "bigint"),
    Field("packets-lost-blackhole", 6, "bigint"),
    Field("packets-lost-mtu-exceeded", 6, "bigint"),
    Field("packets-lost-ttl-expired", 6, "bigint"),
    Field("tcp-flags", 6, "int"),
    Field("region", 6, "string"),
    Field("flow-direction", 6, "string"),
    Field("pkt-src-aws-service", 6, "string"),
    Field("pkt-dst-aws-service", 6, "string"),
)

TGW_BY_NAME: dict[str, Field] = {f.name: f for f in TGW_FIELDS}
TGW_BY_COLUMN: dict[str, Field] = {f.column: f for f in TGW_FIELDS}
TGW_DEFAULT_FIELDS: tuple[str, ...] = tuple(f.name for f in TGW_FIELDS)
TGW_DEFAULT_LOG_FORMAT = " ".join("${%s}" % n for n in TGW_DEFAULT_FIELDS)
RESOURCE_TYPE = "TransitGateway"  # what `resource-type` says in every record
LOST_FIELDS = ("packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded",
               "packets-lost-ttl-expired")
# the fields only a Transit Gateway format has (resource-type, tgw-id, the other tgw-* and the
# packets-lost-* fields): one of them in a header makes it a TGW file's
MARKERS = frozenset(f.name for f in TGW_FIELDS) - frozenset(f.name for f in VPC_FIELDS)
MARKER_COLUMNS = frozenset(n.replace("-", "_") for n in MARKERS)


@dataclass(frozen=True)
class TgwFormat(LogFormat):
    """A Transit Gateway flow log's fields, in its own order. Never equal to a LogFormat of the same
    names: the two kinds of file are read into different tables."""

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(TGW_BY_NAME[n] for n in self.names)

    @property
    def version(self) -> int:
        return 6

    @property
    def is_default(self) -> bool:
        return self.names == TGW_DEFAULT_FIELDS


def is_tgw(fmt) -> bool:
    """Is this format (of a file, a flow log) a Transit Gateway one?"""
    return isinstance(fmt, TgwFormat)


def looks_tgw(names) -> bool:
    """Does a list of field names (a header, a LogFormat's tokens) belong to a Transit Gateway flow log?"""
    return bool(MARKERS & set(names))


def tgw_format(names, what: str) -> TgwFormat:
    """Check Transit Gateway field names (a header's, a LogFormat's); FormatError says what is wrong."""
    names = list(names)
    unknown = [n for n in names if n not in TGW_BY_NAME]
    if unknown:
        raise FormatError(f"{what} (a Transit Gateway flow log's) has unknown field(s): {', '.join(unknown)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise FormatError(f"{what} repeats field(s): {', '.join(dup)}")
    return TgwFormat(tuple(names))


def parse_tgw_log_format(text: str | None) -> TgwFormat:
    """A Transit Gateway flow log's LogFormat (`${version} ${resource-type} …`); empty means all the
    fields in AWS's order (what AWS writes when a TGW flow log names none)."""
    import re

    if text is None or not text.strip():
        return TgwFormat(TGW_DEFAULT_FIELDS)
    token = re.compile(r"\$\{([a-z0-9-]+)\}")
    leftover = token.sub("", text).strip()
    if leftover:
        raise FormatError(f"log format has text outside ${{field}} tokens: {leftover[:40]!r}")
    names = token.findall(text)
    if not names:
        raise FormatError("log format names no fields")
    return tgw_format(names, "log format")
