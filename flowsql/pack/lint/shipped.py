"""Lint results of the pack's renderings, computed at install (`make install` runs
`python -m flowsql.pack.lint.ship`, ship.py), so that the first query after install does not wait a second
for sqlfluff's first lint.

A rendering differs from run to run only in its values: the window's dates and seconds, the accounts,
a parameter's number or address. sqlfluff's rules look at the tokens, not at what a literal holds, so
the gate compares *shapes*: the rendered SQL with every string literal's text and every number made
one placeholder, and an `IN` list of such literals made one (`IN ('a', 'b')` and `IN ('c')` have
one shape). Everything else — keywords, identifiers, quoted names, comments (`-- noqa`),
spacing, line breaks — is kept as rendered, so a shape known clean is clean for every text of it.

The file holds this module's hash (what a shape is) and, for each template's hash, the gate keys (gate._key: flowsql's, sqlfluff's and
sqlglot's versions, the rule sources, the dialect and excluded rules, the flow-log table, the shape)
of the shapes found clean. A changed template has another hash and a changed tool, rule or setting
another key: either is linted again. A shape that lints with findings is not kept (the gate lints
it and reports them at their own positions).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

VERSION = 1
DEFAULT_PATH = Path(__file__).resolve().with_name("shipped.json")

# A string literal, a quoted name, a comment, or a number standing alone (not part of a name such as t1)
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|(?<![\w.])\d+(?:\.\d+)?(?![\w.])""",
                    re.S)
_LIST = re.compile(r"(?<![\w.])(IN \()(?:'\?'|0)(?:, (?:'\?'|0))+\)", re.I)


def _placeholder(m: re.Match) -> str:
    text = m.group(0)
    if text[0] == "'":  # one with a line break is kept: the lines after it would be no longer the rendering's
        return text if "\n" in text else "'?'"
    if text[0].isdigit():
        return "0"
    return text  # quoted names and comments as written


def shape(sql: str) -> str:
    """The rendered SQL with its values made placeholders (see the module's docstring)."""
    return _LIST.sub(_one, _TOKEN.sub(_placeholder, sql))


def _one(m: re.Match) -> str:
    return m.group(1) + ("'?'" if m.group(0)[len(m.group(1))] == "'" else "0") + ")"


def path() -> Path:
    """Where the shipped results are: $FLOWSQL_LINT_SHIPPED, else next to this module."""
    own = os.environ.get("FLOWSQL_LINT_SHIPPED")
    return Path(own) if own else DEFAULT_PATH


def template_hash(file: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return None


def _own_hash() -> str:
    """This module's code: what a shape is. Results made by other code are not used."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


_loaded: dict[str, dict] = {}


def _document() -> dict:
    where = str(path())
    if where not in _loaded:
        from ...cache import read_cached

        doc = read_cached(Path(where))
        ok = (isinstance(doc, dict) and doc.get("version") == VERSION and doc.get("shapes") == _own_hash()
              and isinstance(doc.get("templates"), dict))
        _loaded[where] = doc["templates"] if ok else {}
    return _loaded[where]


def known_clean(file: str | Path, key: str) -> bool:
    """Whether the shipped results hold the gate key `key` (of a shape) as clean for the template `file`."""
    templates = _document()
    if not templates:
        return False
    digest = template_hash(file)
    entry = templates.get(digest) if digest else None
    return isinstance(entry, list) and key in entry
