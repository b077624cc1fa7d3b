"""A table's rows as JSON text at C speed: the canonical rows of an evidence digest and case.json's tables.

`json_rows` writes what `json.dumps(row, sort_keys=True, ensure_ascii=False, separators=...)` writes
for each row, through `_jsonrows.c` (built at install by hatch_build.py). It answers None where only
the json module can: no compiled encoder (no C compiler at install), rows whose keys differ, or a value
other than None, a bool, an int, a str or a list of those (a float, a nested object); the caller
then encodes with the json module, which also says what is wrong (a NaN) where something is.
"""

from __future__ import annotations


def json_rows(rows: list[dict], *, key_sep: str, item_sep: str, between: str, prefix: str = "") -> bytes | None:
    """`rows` as JSON objects in UTF-8, keys sorted, each after `prefix`, joined by `between`; None
    where the json module must write them."""
    try:
        from ._jsonrows import encode
    except ImportError:
        return None
    if type(rows) is not list:
        return None
    if not rows:
        return b""
    try:
        keys = tuple(sorted(rows[0]))
    except TypeError:  # keys that do not sort (not all text): json's own error
        return None
    return encode(rows, keys, key_sep, item_sep, prefix, between)
