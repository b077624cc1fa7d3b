"""A text file's first line read as its format: a VPC flow log's fields or, when it names a Transit
Gateway flow log's own fields (`resource-type`, `tgw-id`), a TgwFormat (a file's path cannot tell the
two apart)."""

from __future__ import annotations

from .fields import LogFormat, _checked
from .tgw_fields import looks_tgw, tgw_format


def parse_header(line: str) -> LogFormat:
    """Parse a text file's first line (space-separated field names)."""
    names = line.split()
    if looks_tgw(names):
        return tgw_format(names, "header line")
    return _checked(names, "header line")
