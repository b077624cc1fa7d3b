"""What is under investigation: an address, a CIDR block or an ENI, and the pack query that reads it.

The text is parsed by the query parameters' own types (flowsql.pack.params), so a subject is accepted
exactly when `flowsql query case-… -p …=SUBJECT` would accept it, and reaches SQL only as their
literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from ..pack.params import ParamSpec

# kind -> (the case query, its parameter, that parameter's type)
QUERIES = {
    "address": ("case-address", "address", "ip"),
    "cidr": ("case-cidr", "block", "cidr"),
    "eni": ("case-eni", "eni", "eni_id"),
}


@dataclass(frozen=True)
class Subject:
    kind: str  # "address" | "cidr" | "eni"
    value: str  # canonical: an IPv6 address compressed and lower case, a block's network address

    @property
    def query(self) -> str:
        return QUERIES[self.kind][0]

    @property
    def parameter(self) -> str:
        return QUERIES[self.kind][1]

    @property
    def version(self) -> int | None:
        """4 or 6 for an address or a block, None for an ENI."""
        if self.kind == "eni":
            return None
        return 6 if ":" in self.value else 4

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "ip_version": self.version}

    def safe_name(self) -> str:
        """The subject as a file name: letters, digits, dots and dashes; `:` and `/` become `_`."""
        return re.sub(r"[^A-Za-z0-9.-]", "_", self.value)


def parse_subject(text: str) -> Subject:
    """An IPv4 or IPv6 address, a CIDR block or an ENI id; UsageError (one line) for anything else."""
    raw = str(text).strip()
    if raw.lower().startswith("eni-"):
        kind = "eni"
    elif "/" in raw:
        kind = "cidr"
    else:
        kind = "address"
    _, name, type_ = QUERIES[kind]
    try:
        literal = ParamSpec(name, type_).parse(raw)
    except UsageError:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise UsageError(f"SUBJECT: expected an IPv4 or IPv6 address, a CIDR block like 10.0.0.0/16 or an ENI id "
                         f"like eni-0abc1234def567890, got {shown!r}") from None
    return Subject(kind, literal.value)
