"""The canonical form of a result's rows and its SHA-256: how a reader checks a figure of the report.

The rows become bytes like this (report.schema.json and the README say the same):

- one line per row, in the order the query returned them (every query orders its rows completely);
- each line is the row as a JSON object: keys are the column names, sorted; no whitespace
  (separators `,` and `:`); text as UTF-8, not escaped (`ensure_ascii=False`); integers as JSON
  integers, other numbers as the shortest decimal that reads back as the same double; NULL as `null`;
  a date or time as ISO-8601 text;
- each line ends with a line feed (`\\n`); no rows is zero bytes.

`rows_sha256` is the SHA-256 of those bytes in hex. In Python, for the rows of `flowsql query … -o json`:

    hashlib.sha256("".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                           + "\\n" for r in rows).encode()).hexdigest()
"""

from __future__ import annotations

import hashlib
import json

from ..output import plain
from .jsonrows import json_rows


def row_dicts(columns: list[str], rows: list[tuple]) -> list[dict]:
    """Result rows as JSON-ready dicts (column -> value)."""
    return [{c: plain(v) for c, v in zip(columns, r)} for r in rows]


def canonical_lines(records: list[dict]) -> bytes:
    fast = json_rows(records, key_sep=":", item_sep=",", between="\n")
    if fast is not None:
        return fast + b"\n" if records else b""
    # one encoder for every row: json.dumps with options makes a new one per call
    encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    return "".join([encode(r) + "\n" for r in records]).encode("utf-8")


def rows_sha256(records: list[dict]) -> str:
    return hashlib.sha256(canonical_lines(records)).hexdigest()
