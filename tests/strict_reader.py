"""An independent, strict reader of flow-log text files: what "a file flowsql can read in full" means.

It shares no code with flowsql's engines: zlib member by member (CRC and length checked),
strict UTF-8, a header of known field names, every line with the header's number of fields, every
numeric field `-` or an unsigned decimal integer that fits its type. `read(path)` returns the
records as the oracle's dicts, or raises Unreadable.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from flowsql.logs.fields import BY_NAME, FIELDS

_NUMBER = re.compile(r"[0-9]+")
_LIMIT = {"int": 2**31 - 1, "bigint": 2**63 - 1}
_FIELD_LIMIT = {"srcport": 65535, "dstport": 65535, "protocol": 255}  # a port; an IP protocol number


class Unreadable(Exception):
    pass


def _gunzip(data: bytes) -> bytes:
    """Member after member, each whole with its CRC and length (zlib checks both). Unlike Python's
    gzip module, zero padding after a member is not skipped: DuckDB stops there, so it is corrupt."""
    out, rest = [], data
    if not rest:
        raise Unreadable("empty")
    try:
        while rest:
            d = zlib.decompressobj(wbits=31)
            out.append(d.decompress(rest))
            if not d.eof:
                raise Unreadable("truncated member")
            rest = d.unused_data
    except zlib.error as e:
        raise Unreadable(f"gzip: {e}") from None
    return b"".join(out)


def read(path: Path, *, account: str, region: str, day) -> list[dict]:
    data = path.read_bytes()
    raw = _gunzip(data) if path.name.endswith(".gz") else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Unreadable(f"utf-8: {e}") from None
    text = text.replace("\r\n", "\n")  # a line may end with CR LF; no other control character
    if any(ord(ch) < 0x20 and ch != "\n" or ord(ch) == 0x7F for ch in text):
        raise Unreadable("control character")
    lines = [line for line in text.split("\n") if line != ""]  # a blank line holds no record
    if not lines or not lines[0].strip() or not text.startswith(lines[0]):
        raise Unreadable("no header")
    names = lines[0].split()
    if any(n not in BY_NAME for n in names) or len(set(names)) != len(names):
        raise Unreadable("bad header")
    fields = [BY_NAME[n] for n in names]
    out = []
    for i, line in enumerate(lines[1:], 2):
        values = line.split(" ")
        if len(values) != len(fields):
            raise Unreadable(f"line {i}: {len(values)} fields")
        rec = {f.column: None for f in FIELDS}
        for f, v in zip(fields, values):
            if v == "-":
                continue
            if f.kind in _LIMIT:
                if not _NUMBER.fullmatch(v) or int(v) > _FIELD_LIMIT.get(f.name, _LIMIT[f.kind]):
                    raise Unreadable(f"line {i}: {f.name} {v!r}")
                rec[f.column] = int(v)
            else:
                rec[f.column] = v
        rec.update(aws_account_id=account, aws_region=region, day=day, file=path)
        out.append(rec)
    return out
