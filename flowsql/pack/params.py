"""Typed query parameters: parsing user input and rendering values as SQL literals.

A value reaches SQL only as a `Literal`, whose text is produced here from a parsed, validated value.
The renderer refuses to print anything else, so no parameter can change a query's structure.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..errors import ParameterError, UsageError
# the window of days is the logs' (the engines read it too); named here too, where the parameters are
from ..logs.window import MIN_YEAR, Window, parse_day, today_utc  # noqa: F401

PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmpv6": 58}


class Literal:
    """A SQL literal made from a validated value. `value` is the Python value, str() the SQL text."""

    __slots__ = ("value", "sql")

    def __init__(self, value, sql: str):
        self.value = value
        self.sql = sql

    def __str__(self) -> str:
        return self.sql

    def __html__(self) -> str:  # how Jinja (autoescape) prints it: as the literal, never escaped text
        return self.sql

    def __repr__(self) -> str:
        return f"Literal({self.sql})"

    def __eq__(self, other):
        return self.value == (other.value if isinstance(other, Literal) else other)

    def __hash__(self):
        return hash(self.value)

    def __bool__(self) -> bool:
        return True


class LiteralList(Literal):
    """A non-empty list of literals, printed comma-separated for `IN ({{ values }})`; iterable."""

    __slots__ = ()

    def __iter__(self):
        return iter(self.value)

    def __len__(self):
        return len(self.value)


def quote(text: str) -> str:
    """A SQL string literal. Only ever called on values that passed a type's validation."""
    return "'" + text.replace("'", "''") + "'"


# --- the types ------------------------------------------------------------------------------

_ID = {
    "subnet_id": re.compile(r"^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$"),
    "eni_id": re.compile(r"^eni-[0-9a-f]{8}(?:[0-9a-f]{9})?$"),
    "vpc_id": re.compile(r"^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$"),
    "account_id": re.compile(r"^[0-9]{12}$"),
    "region": re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}$"),  # us-east-1, eusc-de-east-1
}
_ID_HINT = {
    "subnet_id": "a subnet id like subnet-0abc1234def567890",
    "eni_id": "an ENI id like eni-0abc1234def567890",
    "vpc_id": "a VPC id like vpc-0abc1234def567890",
    "account_id": "a 12-digit account id",
    "region": "a region like us-east-1",
}
SCALAR_TYPES = ("date", "ip", "cidr", "port", "protocol", "int", "enum", *_ID)


@dataclass(frozen=True)
class ParamSpec:
    """A parameter as a query header declares it."""

    name: str
    type: str  # one of SCALAR_TYPES, or "list[<scalar>]"
    description: str = ""
    default: object = None  # raw (text or YAML scalar/list) value, parsed like user input
    required: bool = False
    min: int | None = None
    max: int | None = None
    values: tuple[str, ...] = ()  # enum choices

    @property
    def is_list(self) -> bool:
        return self.type.startswith("list[")

    @property
    def scalar_type(self) -> str:
        return self.type[5:-1] if self.is_list else self.type

    def check(self) -> None:
        """Raise ValueError if the declaration itself is inconsistent (used when loading the pack)."""
        if self.scalar_type not in SCALAR_TYPES or (self.is_list and not self.type.endswith("]")):
            raise ValueError(f"parameter {self.name}: unknown type {self.type!r}")
        if self.scalar_type == "enum" and not self.values:
            raise ValueError(f"parameter {self.name}: enum needs values")
        if self.scalar_type != "enum" and self.values:
            raise ValueError(f"parameter {self.name}: only enums take values")
        if (self.min is not None or self.max is not None) and self.scalar_type != "int":
            raise ValueError(f"parameter {self.name}: only int takes min/max")
        if self.required and self.default is not None:
            raise ValueError(f"parameter {self.name}: required with a default")
        if self.default is not None:
            self.parse(self.default)  # a default must be valid

    def parse(self, raw) -> Literal:
        """Parse user text (or a YAML default) into a Literal; ParameterError names the parameter."""
        try:
            if self.is_list:
                items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
                items = [i.strip() if isinstance(i, str) else i for i in items]
                if not items or any(i == "" for i in items):
                    raise ValueError("expected a comma-separated list with no empty items")
                lits = [self._scalar(i) for i in items]
                return LiteralList(tuple(lits), ", ".join(lit.sql for lit in lits))
            return self._scalar(raw)
        except ValueError as e:
            raise ParameterError(f"parameter {self.name}: {e}") from None

    def _scalar(self, raw) -> Literal:
        t = self.scalar_type
        text = str(raw).strip() if not isinstance(raw, bool) else str(raw)
        shown = text if len(text) <= 40 else text[:40] + "…"
        if t in ("int", "port", "protocol") and len(text.lstrip("+-0")) > 19:
            raise ValueError(f"{shown!r} is out of range")  # before int(): Python caps digits at 4,300
        if t == "int":
            if isinstance(raw, bool) or not re.fullmatch(r"[+-]?[0-9]+", text):
                raise ValueError(f"expected an integer, got {shown!r}")
            n = int(text)
            if self.min is not None and n < self.min or self.max is not None and n > self.max:
                raise ValueError(f"{n} is out of range {self.min}..{self.max}")
            return Literal(n, str(n))
        if t == "port":
            if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 65535:
                raise ValueError(f"expected a port 0..65535, got {shown!r}")
            return Literal(int(text), str(int(text)))
        if t == "protocol":
            n = PROTOCOLS.get(text.lower())
            if n is None:
                if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 255:
                    raise ValueError(f"expected a protocol number 0..255 or one of {', '.join(PROTOCOLS)}, "
                                     f"got {shown!r}")
                n = int(text)
            return Literal(n, str(n))
        if t == "date":
            try:
                d = parse_day(text)
            except UsageError as e:
                raise ValueError(str(e).split(": ", 1)[-1]) from None
            return Literal(d, f"DATE '{d.isoformat()}'")
        if t == "ip":
            from ..logs.address import canonical

            # compared as an address: the one text flowsql compares it by (RFC 5952 for IPv6)
            ip = canonical(text)
            if ip is None:
                raise ValueError(f"expected an IPv4 or IPv6 address, got {shown!r}")
            return Literal(ip, quote(ip))
        if t == "cidr":
            try:
                net = ipaddress.ip_network(text, strict=False) if "%" not in text else None
            except ValueError:
                net = None
            if net is None:
                raise ValueError(f"expected a CIDR block like 10.0.0.0/16, got {shown!r}")
            return Literal(str(net), quote(str(net)))
        if t == "enum":
            choices = {v.upper(): v for v in self.values}
            if text.upper() not in choices:
                raise ValueError(f"expected one of {', '.join(self.values)}, got {shown!r}")
            v = choices[text.upper()]
            return Literal(v, quote(v))
        pattern = _ID[t]
        if not pattern.fullmatch(text):
            raise ValueError(f"expected {_ID_HINT[t]}, got {shown!r}")
        return Literal(text, quote(text))


def resolve(specs: list[ParamSpec], given: dict[str, str]) -> dict[str, Literal | None]:
    """Parse the user's NAME=VALUE pairs against the declared parameters; defaults fill the rest."""
    known = {s.name: s for s in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise ParameterError(f"unknown parameter {unknown[0]!r} (this query takes: {names})")
    values: dict[str, Literal | None] = {}
    for spec in specs:
        if spec.name in given:
            values[spec.name] = spec.parse(given[spec.name])
        elif spec.required:
            raise ParameterError(f"parameter {spec.name}: required (give -p {spec.name}=VALUE)")
        else:
            values[spec.name] = spec.parse(spec.default) if spec.default is not None else None
    return values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`-p NAME=VALUE` options into a dict; a repeated name is an error, not a silent override."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise ParameterError(f"malformed parameter {pair!r}: expected NAME=VALUE")
        name = name.replace("-", "_")
        if name in out:
            raise ParameterError(f"parameter {name}: given more than once")
        out[name] = value
    return out
