"""The vocabulary a document's shape is written in: what the posture loader checks an AWS CLI
document against (flowsql.posture.snapshot validates; flowsql.inventory.catalog and the snapshot's
SPECS are written in it).

A shape is a dict (an object's fields; absent or null ones are allowed), a one-item list (every
item has that shape), a Python type (str, bool), TIME (ISO 8601 text), a Num (a number in the range
AWS gives the field) or a Req around any of these (the field must be present)."""

from __future__ import annotations


class Req:
    """A field that must be present."""

    def __init__(self, spec):
        self.spec = spec


class Num:
    """A JSON number (not a boolean) in the range AWS gives the field: a whole one (`whole`) from
    `low` to `high`, or one of `values`; `what` says the range in words."""

    def __init__(self, what: str, *, whole: bool = True, low=None, high=None, values=None):
        self.what, self.whole, self.low, self.high = what, whole, low, high
        self.values = frozenset(values) if values is not None else None

    def fits(self, value) -> bool:
        if self.values is not None:
            return value in self.values
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


TIME = "time"  # ISO 8601 text, as the AWS CLI prints timestamps
TAGS = [{"Key": Req(str), "Value": str}]
LONG = 2**63 - 1  # an AWS Long
INTEGER = 2**31 - 1  # an AWS Integer
