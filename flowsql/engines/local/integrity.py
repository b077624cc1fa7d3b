"""Checking local flow-log files before the local engine reads them, once per file.

DuckDB's CSV reader is lenient where evidence must not be: it reads `1500.7`, `0x10`, `1_000` and
`1e3` as integers, sums negative byte counts, and never checks a gzip member's CRC. So before a
file is read, flowsql checks that it can be read in full and means what it says:

1. in Python (two threads; zlib releases the GIL): the gzip stream decompresses to its end with
   every member's CRC-32 and length right (bounded memory: 1 MiB at a time), the text is UTF-8, no
   line is longer than MAX_LINE_BYTES, and the first line is a header of known flow-log fields;
2. the records: each line has the header's number of fields, every numeric field is `-` or an
   unsigned decimal integer that fits its type, and every address field (srcaddr, dstaddr,
   pkt-srcaddr, pkt-dstaddr) is `-` or an IPv4 or IPv6 address — in the same read, by the record
   pattern (record_checker: _records.c, or RE2), which passes only records that hold; a file with a
   line it does not pass is checked by DuckDB (check_records, every field read as text), which names
   the bad field and value or finds an address only spelled otherwise. A Parquet file's schema must
   name flow-log fields with their types, no numeric column may hold a negative value (the footer's
   statistics), and its address columns hold addresses.

Addresses are compared as addresses: an IPv6 address has many spellings (`2001:DB8:0:0:0:0:0:1`,
`2001:db8::1`), and Athena's IPADDRESS type reads them all as one. AWS writes the RFC 5952 form; a file
with any other spelling is marked (`Checked.canonical` false) and the local engine reads its address
columns through `flowsql_addr` (flowsql/engines/local/functions.sql), so every query sees one text per address.

The local engine's first query over new text files does both stages beside the query that reads them
("one pass": stream.py as DuckDB reads them, ByteChecks beside it); `verify` does them before a read,
for every other use and whenever the one pass cannot answer (it then names the bad file).

A file that passes is remembered (path, size, mtime, inode, change time) in the cache, with its
header, so later queries read it at once. A file that fails is never remembered: it is checked again next
time, and the query stops with its name (or leaves it out with --skip-bad-files).
"""

from __future__ import annotations

import functools
import hashlib
import threading
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ...cache import cache_dir, read_cached, write_cached
from ...errors import FormatError
from ...logs.fields import BY_COLUMN, FIELDS, LogFormat
from ...logs.header import parse_header
from ...logs.tgw_fields import MARKER_COLUMNS, TGW_BY_COLUMN, TgwFormat
from ...logs.layout import LogFile

RULES_VERSION = 3  # bump when what "verified" means changes: older cache entries are ignored
CHUNK = 1 << 20
# Bytes a flow-log text file may hold: printable ASCII, newline, carriage return (only before a
# newline) and UTF-8 beyond ASCII. A tab or other control character is no part of a record and
# confuses readers (DuckDB's CSV parser stops on a lone carriage return).
_TEXT_BYTES = bytes([0x0A, 0x0D, *range(0x20, 0x7F), *range(0x80, 0x100)])
MAX_HEADER_BYTES = 64 * 1024
MAX_LINE_BYTES = 1 << 20  # a flow-log record is under 2 KB; this bounds memory on any input
EXCERPT = 60  # characters of a bad value quoted in an error


@dataclass
class Checked:
    """A file and what the check found: its log format, or the problem that makes it unreadable."""

    file: LogFile
    fmt: LogFormat | None = None
    problem: str | None = None
    canonical: bool = True  # every address in it is in the one form the engine compares (RFC 5952)
    pending: bool = False  # only its header read: checked beside the query that reads it (ByteChecks)
    stamp: list | None = None  # a pending file's state when its header was read (_stamp)

    @property
    def ok(self) -> bool:
        return self.problem is None


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --- stage 1: the bytes ------------------------------------------------------------------------

class _Cancelled(Exception):
    """Raised inside a worker thread when the user interrupted the run."""


def _inflater():
    """(decompressobj, its error classes): ISA-L's (python-isal: the same gzip checks, every member's
    CRC-32 and length, at three times zlib's speed) when installed, else zlib's."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.decompressobj, (zlib.error,)
    return isal_zlib.decompressobj, (zlib.error, isal_zlib.error)


_DECOMPRESSOBJ, _GZIP_ERRORS = _inflater()


@functools.cache
def _reuse_freed_buffers() -> None:
    """Let glibc's malloc keep the buffers a check frees, to give them to the next file.

    Every new file's text passes through buffers of megabytes (ISA-L's chunks, the text handed to
    DuckDB and DuckDB's copy of it); glibc maps each of them afresh and gives it back when it is freed,
    so the kernel zeroes every page of every buffer again: 680,000 page faults and 1.8 CPU-s of system
    time for the 1.8 GB of a 10 M-record cold query, 33,000 and 0.4 s with buffers under 32 MiB taken
    from the heap and up to 64 MiB of free heap kept (README.md, Performance). Elsewhere (no
    glibc) nothing changes."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: fixed, no longer raised by each free
    mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD


def _gunzip(fh):
    """The decompressed bytes of a gzip file, at most CHUNK at a time, every member's CRC-32 and
    length checked (wbits=31); concatenated members are one stream, as gzip says."""
    _reuse_freed_buffers()
    d = _DECOMPRESSOBJ(wbits=31)
    started = False
    while data := fh.read(CHUNK):
        started = True
        while data:
            if d.eof:  # anything after a member must be another member (no padding: DuckDB stops there)
                d = _DECOMPRESSOBJ(wbits=31)
            out = d.decompress(data, CHUNK)
            while True:
                if out:
                    yield out
                if d.eof or not d.unconsumed_tail:
                    break
                out = d.decompress(d.unconsumed_tail, CHUNK)
            data = d.unused_data if d.eof else b""
    if not started:
        raise DataProblem("empty file (not even a gzip header)")
    if not d.eof:
        raise DataProblem("truncated gzip stream (it ends inside a member)")


def _plain(fh):
    while chunk := fh.read(CHUNK):
        yield chunk


class TextCheck:
    """The byte checks of a text log file, fed its (decompressed) text chunk by chunk: no control
    character, a carriage return only before a newline, UTF-8, no line over MAX_LINE_BYTES, a header
    of known fields first; with `records` (record_pattern's), every record after the header matched
    too (else Unchecked). feed() raises DataProblem (or UnicodeDecodeError) at the first fault;
    end() returns the header's LogFormat."""

    def __init__(self, records=None):
        self.header = bytearray()
        self.have_header = False
        self.run = 0  # bytes of the line not yet ended
        self.utf8 = None  # an incremental decoder, once a chunk is not pure ASCII
        self.after_cr = False  # the previous chunk ended with a carriage return
        self.lines = _Records(records) if records is not None else None
        self.header_bytes_checked = False  # with `records`: the header's bytes, the rest is the pattern's
        self.line_ends: bytes | None = None  # b"\n" or b"\r\n", once a line has ended
        self.cr_last = False  # the previous chunk ended with a carriage return

    def feed(self, chunk: bytes) -> None:
        first_nl = chunk.find(b"\n")
        if not self.have_header:
            self.header += chunk if first_nl < 0 else chunk[:first_nl]
            self.have_header = first_nl >= 0
            if len(self.header) > MAX_HEADER_BYTES:
                raise DataProblem(f"no header line in the first {MAX_HEADER_BYTES // 1024} KiB")
            if self.lines is not None and self.have_header:
                self.lines.feed(chunk, first_nl + 1)
        elif self.lines is not None:
            self.lines.feed(chunk, 0)
        if self.lines is None:
            self._bytes(chunk)
        elif self.have_header and not self.header_bytes_checked:
            # every byte after the header is in a record the pattern matched, and the pattern takes
            # no control character and a carriage return only before a newline: only the header's
            # bytes are left to look at
            self.header_bytes_checked = True
            self._bytes(bytes(self.header) + b"\n")
        self._line_ends(chunk, first_nl >= 0)
        if self.utf8 is None and not chunk.isascii():
            import codecs

            self.utf8 = codecs.getincrementaldecoder("utf-8")()
        if self.utf8 is not None:
            self.utf8.decode(chunk)
        if first_nl < 0:
            self.run += len(chunk)
        else:  # lines wholly inside a chunk are shorter than CHUNK <= MAX_LINE_BYTES
            if self.run + first_nl > MAX_LINE_BYTES:
                raise DataProblem(_TOO_LONG)
            self.run = len(chunk) - chunk.rfind(b"\n") - 1
        if self.run > MAX_LINE_BYTES:
            raise DataProblem(_TOO_LONG)

    def _line_ends(self, chunk: bytes, has_newline: bool) -> None:
        """Every line ends alike, all with a newline or all with a carriage return and a newline:
        DuckDB's reader takes the first line's end for the file's and stops at another (a lone
        carriage return is a fault of its own, found by _bytes or the record pattern)."""
        if not (self.cr_last or b"\r" in chunk):  # as AWS writes them: one scan at memchr's speed
            if not has_newline:
                return
            kind = b"\n"
        else:
            lf = chunk.count(b"\n")
            crlf = ((b"\r" if self.cr_last else b"") + chunk).count(b"\r\n")
            self.cr_last = chunk.endswith(b"\r")
            if not lf:
                return
            kind = b"\r\n" if crlf == lf else b"\n" if not crlf else None
        if kind is None or (self.line_ends is not None and kind != self.line_ends):
            raise DataProblem("its lines end both with a newline and with a carriage return and a newline "
                              "(DuckDB reads a file whose lines all end one way)")
        self.line_ends = kind

    def _bytes(self, chunk: bytes) -> None:
        stray = chunk.translate(None, _TEXT_BYTES)
        if stray:
            raise DataProblem(f"a control character (byte 0x{stray[0]:02x}) in the text: no flow-log "
                              "record has one")
        if self.after_cr or b"\r" in chunk:
            joined = (b"\r" if self.after_cr else b"") + chunk
            self.after_cr = joined.endswith(b"\r")
            if joined.count(b"\r") - self.after_cr != joined.count(b"\r\n"):
                raise DataProblem("a carriage return that does not end a line")

    def end(self) -> LogFormat:
        if self.lines is not None and not self.header_bytes_checked:
            self.header_bytes_checked = True
            self._bytes(bytes(self.header))  # a header with no line after it
        if self.utf8 is not None:
            self.utf8.decode(b"", final=True)
        if self.after_cr:
            raise DataProblem("a carriage return that does not end a line")
        if self.lines is not None:
            self.lines.end()
        text = bytes(self.header).decode("utf-8", "replace").strip()
        if not text:
            raise DataProblem("empty file, no header line")
        try:
            return parse_header(text)
        except FormatError as e:
            raise DataProblem(f"{e} (header {excerpt(text)})") from None


_TOO_LONG = f"a line longer than {MAX_LINE_BYTES:,} bytes (no flow-log record is)"


def scan_text(path: Path, cancel: threading.Event | None = None, records=None) -> LogFormat:
    """Read a text log file (gzip or plain) to its end: its header's LogFormat, or DataProblem.
    With `records` (record_pattern's), every record after the header is matched too, or Unchecked."""
    check = TextCheck(records)
    with open(path, "rb") as fh:
        try:
            for chunk in (_gunzip(fh) if path.name.endswith(".gz") else _plain(fh)):
                if cancel is not None and cancel.is_set():
                    raise _Cancelled()  # the caller is already unwinding a KeyboardInterrupt
                check.feed(chunk)
            return check.end()
        except _GZIP_ERRORS as e:
            raise DataProblem(f"corrupt gzip data ({e})") from None
        except UnicodeDecodeError as e:
            raise DataProblem(f"not UTF-8 text ({e.reason})") from None


class DataProblem(Exception):
    """Why a file cannot be read in full (one line)."""


class Unchecked(Exception):
    """A record that record_pattern does not pass: check_records says whether the file is bad (or only
    spells an address otherwise, or has an empty text field, which the pattern does not allow)."""


class _Records:
    """Decompressed text, chunk by chunk, matched against a pattern of whole records; a line that a
    chunk's end cuts is carried to the next chunk (scan_text bounds its length)."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.rest = b""

    def feed(self, data: bytes, start: int) -> None:
        if self.rest:
            nl = data.find(b"\n", start)
            if nl < 0:
                self.rest += data[start:]
                return
            line = self.rest + data[start:nl + 1]
            self._test(line, 0, len(line))
            start, self.rest = nl + 1, b""
        end = data.rfind(b"\n", start) + 1
        if end:
            self._test(data, start, end)
            start = end
        self.rest = data[start:]

    def end(self) -> None:
        if self.rest.endswith(b"\r"):  # the pattern would read "\r" + the newline added here as a line end
            raise Unchecked()
        if self.rest:  # a last record with no newline: DuckDB reads it too
            line = self.rest + b"\n"
            self._test(line, 0, len(line))

    def _test(self, data: bytes, start: int, end: int) -> None:
        if self.pattern.fullmatch(data, start, end) is None:
            raise Unchecked()


# --- stage 2: the records (DuckDB) -------------------------------------------------------------

_INT_DIGITS = {"int": (10, "INTEGER"), "bigint": (19, "BIGINT")}
_INT_MAX = {"int": str(2**31 - 1), "bigint": str(2**63 - 1)}
# fields whose values AWS bounds more tightly than their type: a TCP/UDP port, an IP protocol number
FIELD_MAX = {"srcport": 65535, "dstport": 65535, "protocol": 255}


def _max_of(field) -> str:
    return str(FIELD_MAX.get(field.name, _INT_MAX[field.kind]))


def at_most(bound: str) -> str:
    """A regular expression for the decimal digit strings (leading zeros allowed, at most
    len(bound) digits) whose value is at most `bound`: what `[0-9]{1,n}` and a TRY_CAST to the
    field's type accept together, in one pattern."""
    n = len(bound)
    alternatives = [f"[0-9]{{1,{n - 1}}}"] if n > 1 else []
    for i, d in enumerate(bound):
        if d != "0":
            alternatives.append(f"{bound[:i]}[0-{int(d) - 1}][0-9]{{{n - i - 1}}}")
    alternatives.append(bound)
    return "(?:" + "|".join(alternatives) + ")"  # no capture: RE2 then matches with its DFA


def _number_ok(field) -> str:
    digits, sql_type = _INT_DIGITS[field.kind]
    c = f'"{field.column}"'
    bound = f" AND TRY_CAST({c} AS BIGINT) <= {FIELD_MAX[field.name]}" if field.name in FIELD_MAX else ""
    return (f"({c} IS NULL OR (regexp_full_match({c}, '[0-9]{{1,{digits}}}') "
            f"AND TRY_CAST({c} AS {sql_type}) IS NOT NULL{bound}))")


def sql_path(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


ADDRESS_FIELDS = ("srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr")
_PACKET_OF = {"pkt-srcaddr": "srcaddr", "pkt-dstaddr": "dstaddr"}  # the record's address a packet's usually is
_IPV4 = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"


def _canonical_ipv6() -> str:
    """A regular expression for IPv6 addresses in RFC 5952 form with no run of two zero groups besides
    the `::` (the form of nearly every address AWS writes). Everything it matches is canonical once
    two more tests pass (no `:0:0` in the text, no `0:0:` at its start: a run that `::` should
    have been, see _canonical_sql); a canonical address it misses (2001:db8::1:0:0:1) is looked at
    again through flowsql_addr (_addresses). The IPv4-mapped ::ffff:a:b is left out: its canonical
    form is the IPv4 address."""
    n = "[1-9a-f][0-9a-f]{0,3}"  # a group other than 0, no leading zero, lower case
    g = f"(?:0|{n})"
    not_ffff = "(?:[1-9a-e][0-9a-f]{0,3}|f(?:[0-9a-e][0-9a-f]{0,2})?|ff(?:[0-9a-e][0-9a-f]?)?|fff[0-9a-e]?)"
    forms = [f"{g}(?::{g}){{7}}",  # eight groups, no '::'
             # '::' first, then 0-6 groups, the first not 0 (else the run goes on) and not ::ffff:a:b
             f"::(?:{n}(?::{g})?|{not_ffff}:{g}:{g}|{n}(?::{g}){{3,5}})?"]
    for k in range(1, 7):  # k groups, the last not 0, then '::', then up to 6 - k groups, the first not 0
        right = f"(?:{n}(?::{g}){{0,{5 - k}}})?" if k < 6 else ""
        forms.append(f"(?:{g}:){{{k - 1}}}{n}::{right}")
    return "(?:" + "|".join(forms) + ")"


_CANONICAL = f"(?:-|{_IPV4}|{_canonical_ipv6()})"  # `-`: NULL in text; a Parquet string may hold it too


def _strict_ipv6() -> str:
    """_canonical_ipv6 with _canonical_sql's two more tests in the pattern itself (RE2 has no
    look-ahead): the same forms, their explicit groups with no two zero groups side by side."""
    import itertools

    n = "[1-9a-f][0-9a-f]{0,3}"
    not_ffff = "(?:[1-9a-e][0-9a-f]{0,3}|f(?:[0-9a-e][0-9a-f]{0,2})?|ff(?:[0-9a-e][0-9a-f]?)?|fff[0-9a-e]?)"

    def groups(k: int, *, first: str | None = None, last_not_zero: bool = False) -> str:
        """k groups, no two zeros side by side; `first`: the first group's pattern (not 0)."""
        masks = [m for m in itertools.product((False, True), repeat=k)  # True: a group other than 0
                 if not any(not a and not b for a, b in zip(m, m[1:]))
                 and (first is None or m[0]) and (not last_not_zero or m[-1])]
        return "(?:" + "|".join(":".join((first if i == 0 and first else n) if bit else "0"
                                         for i, bit in enumerate(m)) for m in masks) + ")"

    def right(most: int) -> str:  # after '::': 0 to `most` groups, the first not 0
        return "(?:" + "|".join(groups(k, first=n) for k in range(1, most + 1)) + ")?" if most else ""

    forms = [groups(8),
             "::(?:" + "|".join(groups(k, first=not_ffff if k == 3 else n) for k in range(1, 7)) + ")?"]
    forms += [f"{groups(k, last_not_zero=True)}::{right(6 - k)}" for k in range(1, 7)]
    return "(?:" + "|".join(forms) + ")"


def _quoted(column: str) -> str:
    return f'"{column}"'


def _canonical_sql(c: str) -> str:
    """SQL: the text value `c` is `-` or an address in the one form the engine compares (NULL: true)."""
    return (f"({c} IS NULL OR (regexp_full_match({c}, '{_CANONICAL}') AND NOT contains({c}, ':0:0') "
            f"AND NOT starts_with({c}, '0:0:')))")


@functools.lru_cache(maxsize=None)
def record_pattern(fmt: LogFormat):
    """A compiled RE2 pattern of lines of records of `fmt` that check_records passes: each has the
    header's number of fields, one space apart; a number is `-` or an unsigned decimal integer within
    its field's range (at_most); an address is `-` or passes _canonical_sql (_strict_ipv6); a text
    field is not empty and holds no control character (so a line it passes has none, and a carriage
    return only before its newline: TextCheck looks at no byte of such a line again). A line the
    pattern does not pass is not necessarily bad (check_records decides). None when google-re2 is not
    installed."""
    try:
        import re2
    except ImportError:
        return None

    def field(f) -> str:
        if f.kind in _INT_DIGITS:
            return f"(?:-|{at_most(_max_of(f))})"
        if f.name in ADDRESS_FIELDS:
            return f"(?:-|{_IPV4}|{_strict_ipv6()})"
        return r"[^\x00-\x20\x7f]+"  # no space, no control character (TextCheck relies on it)

    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are: UTF-8 is scan_text's check
    options.never_capture = True
    options.max_mem = 64 << 20  # the DFA of a 29-field line with IPv6 addresses outgrows RE2's 8 MiB default
    line = " ".join(field(f) for f in fmt.fields)
    return re2.compile(f"(?:{line}\\r?\\n)*".encode(), options)


def _spec(fmt: LogFormat) -> bytes:
    """record_pattern's fields as _records.c reads them: a number's bound, `a` an address, `t` text."""
    return ",".join(_max_of(f) if f.kind in _INT_DIGITS else "a" if f.name in ADDRESS_FIELDS else "t"
                    for f in fmt.fields).encode()


class _Compiled:
    """record_pattern's language, checked by _records.c (fullmatch as RE2's: a match or None)."""

    def __init__(self, fullmatch, spec: bytes):
        self._fullmatch, self.spec = fullmatch, spec

    def fullmatch(self, data: bytes, start: int = 0, end: int | None = None):
        return True if self._fullmatch(data, start, len(data) if end is None else end, self.spec) else None


@functools.lru_cache(maxsize=None)
def record_checker(fmt: LogFormat):
    """What checks a new file's records in the read of its bytes: record_pattern's language,
    compiled (_records.c, built at install by hatch_build.py: RE2 is a cold query's largest cost), else
    record_pattern itself; None when neither is at hand."""
    try:
        from ._records import fullmatch
    except ImportError:
        return record_pattern(fmt)
    return _Compiled(fullmatch, _spec(fmt))


def _addresses(session, source: str, columns: list[tuple[str, str]], *,
               known_suspect: bool) -> dict[str, tuple]:
    """filename -> (a field and value that is no address, or None; whether an address is spelled
    otherwise than RFC 5952) for the files of `source` (a DuckDB relation with a filename column)
    whose address `columns` ([(field name, column)]) hold a value _canonical_sql does not pass.
    Unless the files are `known_suspect`, one test of every value first says whether there is
    anything to look at (nearly always not); then only those distinct values are read through
    flowsql_addr."""
    from ...resources import local_functions_sql

    tests = " OR ".join(f"NOT {_canonical_sql(_quoted(c))}" for _, c in columns)
    if not known_suspect:
        _, [(n,)] = session.run(f"SELECT count(*) FROM {source} WHERE {tests}")
        if not n:
            return {}
    names = ", ".join(f"'{n}'" for n, _ in columns)
    values = ", ".join(f'"{c}"' for _, c in columns)
    session.run(local_functions_sql())
    _, rows = session.run(
        f"SELECT filename, f, v, flowsql_addr(v) FROM (SELECT DISTINCT filename, f, v FROM ("
        f"SELECT filename, unnest([{names}]) AS f, unnest([{values}]) AS v FROM {source} WHERE {tests}) "
        f"WHERE NOT {_canonical_sql('v')}) ORDER BY filename, f, v")
    out: dict[str, tuple] = {}
    for path, field, value, canonical in rows:
        bad, other = out.get(path, (None, False))
        if canonical is None and value != "-":
            bad = bad or (field, value)
        elif canonical != value and value != "-":
            other = True
        out[path] = (bad, other)
    return out


# how files were checked in this process: in full before a read (verify), or beside their query
# (remember); `records`: the files whose records DuckDB checked (check_records), the record pattern
# having refused one of their lines
checks = {"full": 0, "one_pass": 0, "records": 0}


def check_records(session, fmt: LogFormat, paths: list[str]) -> tuple[dict[str, str], set[str]]:
    """(path -> problem, paths whose addresses are not all in canonical form) for the text files of
    one format (`session`: a duck.Session). One pass over the files tests every record's numbers
    with one pattern (the numeric fields joined: a third faster than a test per field) and each
    address with one more; the files it finds suspect are read again to name the first bad field
    and value, or to find that an address is only spelled otherwise (upper case, leading zeros,
    uncompressed)."""
    numeric = [f for f in fmt.fields if f.kind in _INT_DIGITS]
    address = [f for f in fmt.fields if f.name in ADDRESS_FIELDS]
    cols = ", ".join(f"'{f.column}': 'VARCHAR'" for f in fmt.fields)

    def reader(listed: list[str], rejects: bool) -> str:
        files = ", ".join(sql_path(p) for p in listed)
        return (f"read_csv([{files}], delim=' ', header=true, nullstr='-', quote='', escape='', "
                f"auto_detect=false, filename=true, max_line_size={MAX_LINE_BYTES + 1024}, "
                + ("store_rejects=true, " if rejects else "")
                + f"ignore_errors=true, columns={{{cols}}})")

    checks["records"] += len(paths)
    problems: dict[str, str] = {}
    spelled: set[str] = set()
    session.run("DROP TABLE IF EXISTS reject_errors")
    session.run("DROP TABLE IF EXISTS reject_scans")
    bad_rows = []
    if numeric or address:
        tests = []
        if numeric:
            joined = "concat_ws(' ', " + ", ".join(f"coalesce(\"{f.column}\", '-')" for f in numeric) + ")"
            pattern = " ".join(f"(-|{at_most(_max_of(f))})" for f in numeric)
            tests.append(f"NOT regexp_full_match({joined}, '{pattern}')")
        # an address gets a test of its own: a third of the cost of joining it to the numbers' pattern;
        # a packet address is nearly always the record's own, which is tested already
        names = {f.name for f in address}
        for f in address:
            test = _canonical_sql(_quoted(f.column))
            same = _PACKET_OF.get(f.name)
            if same in names:
                test = f"({_quoted(f.column)} IS NOT DISTINCT FROM {_quoted(same.replace('-', '_'))} OR {test})"
            tests.append(f"NOT {test}")
        _, suspects = session.run(f"SELECT DISTINCT filename FROM {reader(paths, True)} WHERE {' OR '.join(tests)}")
        if suspects and numeric:
            oks = [_number_ok(f) for f in numeric]
            first_bad = " ".join(
                f"WHEN NOT {ok} THEN '{f.name} ' || \"{f.column}\"" for f, ok in zip(numeric, oks))
            _, bad_rows = session.run(
                f"SELECT filename, count(*), any_value(CASE {first_bad} END) "
                f"FROM {reader([p for (p,) in suspects], False)} "
                f"WHERE NOT ({' AND '.join(oks)}) GROUP BY filename")
        if suspects and address:
            found = _addresses(session, reader([p for (p,) in suspects], False),
                               [(f.name, f.column) for f in address], known_suspect=True)
            for path, (bad, other) in found.items():
                if bad is not None:
                    problems[path] = (f"an address field that is neither - nor an IPv4 or IPv6 address "
                                      f"(e.g. {bad[0]} {excerpt(bad[1])})")
                elif other:
                    spelled.add(path)
    else:
        _, bad_rows = session.run(f"SELECT NULL, 0, NULL FROM {reader(paths, True)} WHERE false")
    for path, n, example in bad_rows:
        field, _, value = (example or "? ").partition(" ")
        problems[path] = (f"{n:,} record(s) with a number that is no unsigned decimal integer "
                          f"within its field's range (e.g. {field} {excerpt(value)})")
    _, rejects = session.run(
        "SELECT s.file_path, count(*), min(e.line), any_value(e.error_type) "
        "FROM reject_errors e JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id "
        "GROUP BY s.file_path")
    for path, n, line, kind in rejects:
        problems[path] = (f"malformed record(s) from line {line} ({str(kind).lower()}: "
                          f"the header names {len(fmt.names)} fields)")
    return problems, spelled - set(problems)


_PARQUET_PHYSICAL = {"INT32": "int", "INT64": "bigint", "BYTE_ARRAY": "string"}


def check_parquet(session, path: str) -> LogFormat:
    """The flow-log fields a Parquet file holds; DataProblem if its schema or numbers are wrong (its
    addresses: check_parquet_addresses)."""
    from .duck import duckdb

    try:
        _, schema = session.run(
            "SELECT name, type FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
            [path])
        _, stats = session.run(
            "SELECT path_in_schema, min(TRY_CAST(stats_min_value AS HUGEINT)), "
            "max(TRY_CAST(stats_max_value AS HUGEINT)) FROM parquet_metadata(?) GROUP BY path_in_schema", [path])
    except duckdb().Error as e:
        raise DataProblem(f"not a readable Parquet file ({excerpt(str(e).splitlines()[0], 120)})") from None
    # a Transit Gateway flow log's columns (resource_type, tgw_id, …) are read by its own table
    tgw = any(n in MARKER_COLUMNS for n, _ in schema)
    by_column = TGW_BY_COLUMN if tgw else BY_COLUMN
    unknown = [n for n, _ in schema if n not in by_column]
    if unknown:
        raise DataProblem(f"Parquet columns that are no flow-log field: {', '.join(unknown)}")
    if not schema:
        raise DataProblem("a Parquet file with no columns")
    wrong = [f"{n} is {t}" for n, t in schema
             if _PARQUET_PHYSICAL.get(t or "", "?") != by_column[n].kind]
    if wrong:
        raise DataProblem(f"Parquet column types differ from the flow-log types: {'; '.join(wrong)}")
    numeric = [n for n, _ in schema if by_column[n].kind != "string"]
    known = {c: (lo, hi) for c, lo, hi in stats}
    blind = [n for n in numeric if None in known.get(n, (None, None))]
    if blind:  # a writer that kept no statistics: the columns themselves are read
        try:
            _, (row,) = session.run("SELECT " + ", ".join(f'min("{n}"), max("{n}")' for n in blind)
                                    + f" FROM read_parquet({sql_path(path)})")
        except duckdb().Error as e:
            raise DataProblem(f"not a readable Parquet file ({excerpt(str(e).splitlines()[0], 120)})") from None
        known.update({n: (row[2 * i], row[2 * i + 1]) for i, n in enumerate(blind)})
    stats = [(c, lo, hi) for c, (lo, hi) in known.items()]
    negative = [c for c, lo, _ in stats if lo is not None and lo < 0 and c in by_column
                and by_column[c].kind != "string"]
    if negative:
        raise DataProblem(f"negative values in {', '.join(negative)} (flow-log numbers are unsigned)")
    too_big = [f"{c} up to {hi}" for c, _, hi in stats if c in by_column and hi is not None
               and by_column[c].name in FIELD_MAX and hi > FIELD_MAX[by_column[c].name]]
    if too_big:
        raise DataProblem(f"values beyond their field's range: {', '.join(too_big)}")
    return (TgwFormat if tgw else LogFormat)(tuple(by_column[n].name for n, _ in schema))


def check_parquet_addresses(session, files: list[tuple[str, LogFormat]]) -> tuple[dict[str, str], set[str]]:
    """(path -> problem, paths whose addresses are not all in canonical form) for Parquet files
    whose schema passed check_parquet, [(path, its fields)]: their address columns are read, all
    files in one statement (a statement a file costs twice as much); when it fails, file by file, to
    name the file it fails on."""
    from .duck import duckdb

    columns = [(f.name, f.column) for f in FIELDS if f.name in ADDRESS_FIELDS
               and any(f.name in fmt.names for _, fmt in files)]
    if not columns:
        return {}, set()
    problems: dict[str, str] = {}

    def look(paths: list[str]) -> dict[str, tuple]:
        listed = ", ".join(sql_path(p) for p in paths)
        return _addresses(session, f"read_parquet([{listed}], filename=true, union_by_name=true)", columns,
                          known_suspect=False)

    try:
        found = look([p for p, _ in files])
    except duckdb().Error:
        found = {}
        for path, _ in files:
            try:
                found.update(look([path]))
            except duckdb().Error as e:
                problems[path] = f"not a readable Parquet file ({excerpt(str(e).splitlines()[0], 120)})"
    spelled = set()
    for path, (bad, other) in found.items():
        if bad is not None:
            problems[path] = (f"an address that is neither - nor an IPv4 or IPv6 address "
                              f"(e.g. {bad[0]} {excerpt(bad[1])})")
        elif other:
            spelled.add(path)
    return problems, spelled - set(problems)


# --- the cache ---------------------------------------------------------------------------------

def _stamp(path: Path) -> list[int] | None:
    """What identifies a file's state: size, modification time, inode and change time. The change
    time is set by the system on every write, chmod or utime and cannot be set back, so a file
    rewritten in place with its old size and mtime, or made unreadable, is checked again."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


class _Cache:
    """Verified files, one JSON document per folder: {name: [size, mtime_ns, inode, ctime_ns, header,
    canonical]}."""

    def __init__(self):
        self.base = cache_dir("verified")
        self.folders: dict[Path, dict] = {}
        self.dirty: set[Path] = set()

    def _file(self, folder: Path) -> Path:
        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:40]
        return self.base / f"{key}.json"

    def _folder(self, folder: Path) -> dict:
        if folder not in self.folders:
            doc = read_cached(self._file(folder))
            ok = isinstance(doc, dict) and doc.get("rules") == RULES_VERSION and isinstance(doc.get("files"), dict)
            self.folders[folder] = doc["files"] if ok else {}
        return self.folders[folder]

    def get(self, path: Path, stamp) -> tuple[LogFormat, bool] | None:
        entry = self._folder(path.parent).get(path.name)
        if not isinstance(entry, list) or len(entry) != 6 or stamp is None or entry[:4] != stamp:
            return None
        try:  # the header read again: a Transit Gateway file's format is no VPC one
            return parse_header(entry[4]), entry[5] is True
        except (AttributeError, IndexError, FormatError):
            return None

    def put(self, path: Path, stamp, fmt: LogFormat, canonical: bool) -> None:
        try:
            if stamp is None or parse_header(fmt.header()) != fmt:
                return
        except FormatError:
            return
        self._folder(path.parent)[path.name] = [*stamp, fmt.header(), bool(canonical)]
        self.dirty.add(path.parent)

    def forget(self, path: Path) -> None:
        if self._folder(path.parent).pop(path.name, None) is not None:
            self.dirty.add(path.parent)

    def save(self) -> None:
        for folder in self.dirty:
            write_cached(self._file(folder), {"rules": RULES_VERSION, "folder": str(folder),
                                            "files": self.folders[folder]})
        self.dirty.clear()


# --- putting it together -----------------------------------------------------------------------

def _records_passed(path: Path, cancel: threading.Event) -> LogFormat | None:
    """The file's LogFormat when it is read to its end with every check of scan_text and every
    record passed by the record pattern (record_checker), which the one pass relies on as well: its
    records need no check_records. None when anything fails — a record the pattern does not pass,
    any fault, no pattern at hand — for scan_text to read it again on its own, which names a byte
    fault as always, and check_records its records."""
    try:
        fmt = read_file_header(path)
        records = record_checker(fmt)
        if records is not None and scan_text(path, cancel, records) == fmt:
            return fmt
    except (DataProblem, Unchecked, OSError):
        pass
    return None


def verify(files: list[LogFile], session, *, duck_path=str, progress=None, workers: int = 2,
           defer_text: bool = False) -> list[Checked]:
    """Check every file that is not known good (`session`: a duck.Session for the record checks;
    `duck_path(path)`: the path DuckDB may read for a file, see duck.has_glob). `progress(done,
    total)` is called as files are checked. Returns one Checked per file, in order. Ctrl-C stops
    the worker threads within one chunk and propagates."""
    cache = _Cache()
    out = [Checked(f) for f in files]
    todo = []
    for c in out:
        stamp = _stamp(c.file.path)
        known = cache.get(c.file.path, stamp)
        if known is None:
            todo.append((c, stamp))
        else:
            c.fmt, c.canonical = known
    if defer_text:  # a new text file whose header reads is checked by the query that reads it
        later = []
        for c, stamp in todo:
            if c.file.kind == "text":
                try:
                    c.fmt, c.pending, c.stamp = read_file_header(c.file.path), True, stamp
                    continue
                except (DataProblem, OSError):
                    pass  # checked now, which names the problem
            later.append((c, stamp))
        todo = later
    if not todo:
        return out
    total, done = len(todo), [0]
    lock = threading.Lock()
    cancel = threading.Event()

    def tick():
        with lock:
            done[0] += 1
            if progress:
                progress(done[0], total)

    passed: set[int] = set()  # text files whose every record the record pattern passed (by id)

    def read_bytes(c: Checked):
        try:
            fmt = _records_passed(c.file.path, cancel)
            if fmt is not None:
                c.fmt = fmt
                passed.add(id(c))
            else:
                c.fmt = scan_text(c.file.path, cancel)
        except DataProblem as e:
            c.problem = str(e)
        except _Cancelled:
            return
        except OSError as e:
            c.problem = f"cannot be read: {e.strerror or e}"
        tick()

    from concurrent.futures import ThreadPoolExecutor  # only when files are new: 6 ms of start-up

    checks["full"] += len(todo)
    text = [c for c, _ in todo if c.file.kind == "text"]
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(text) or 1)))
    try:
        for f in [pool.submit(read_bytes, c) for c in text]:
            f.result()
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    by_format: dict[LogFormat, list[Checked]] = defaultdict(list)
    for c in text:
        if c.ok and id(c) not in passed:
            by_format[c.fmt].append(c)
    for fmt, group in by_format.items():
        problems, spelled = check_records(session, fmt, [duck_path(c.file.path) for c in group])
        for c in group:
            c.problem = problems.get(duck_path(c.file.path))
            c.canonical = duck_path(c.file.path) not in spelled
    parquet = [c for c, _ in todo if c.file.kind == "parquet"]
    for c in parquet:
        try:
            c.fmt = check_parquet(session, duck_path(c.file.path))
        except DataProblem as e:
            c.problem = str(e)
        tick()
    problems, spelled = check_parquet_addresses(session,
                                                [(duck_path(c.file.path), c.fmt) for c in parquet if c.ok])
    for c in parquet:
        if c.ok:
            c.problem = problems.get(duck_path(c.file.path))
            c.canonical = duck_path(c.file.path) not in spelled
    for c, stamp in todo:
        if c.ok:
            cache.put(c.file.path, stamp, c.fmt, c.canonical)
        else:
            c.fmt = None
    cache.save()
    return out


# --- one pass: the files are checked while the query reads them ----------------------------------
#
# A file never checked is read once by the query, as a checked file is (typed, only the fields it
# needs), while threads beside it read the same file to its end (ByteChecks): every byte check of
# scan_text, and every record matched against record_pattern (record_checker), check_records in one
# pattern. The threads read every record whatever the query's plan (a LIMIT,
# a join that stops early). Whatever fails — a byte check, a record the pattern does not pass, DuckDB —
# the answer is dropped, the files are checked the slow way (verify), which names a bad file, and the
# query runs again. A wrong value DuckDB's lenient reader took (`1e3`) never reaches an answer: its file
# fails the pattern.

def read_file_header(path: Path) -> LogFormat:
    """The LogFormat of a text log file's first line, from its first bytes only (the rest, CRC and
    all, is checked beside the query: ByteChecks)."""
    header = bytearray()
    with open(path, "rb") as fh:
        d = _DECOMPRESSOBJ(wbits=31) if path.name.endswith(".gz") else None
        after = b""  # what follows a gzip member: the next one, which goes on with the same text
        try:
            while len(header) <= MAX_HEADER_BYTES:  # a few KiB at a time: a header is under one
                if d is not None and d.unconsumed_tail:
                    data = d.unconsumed_tail
                elif after:
                    data, after = after, b""
                else:
                    data = fh.read(1 << 12)
                    if not data:
                        break
                text = d.decompress(data, 1 << 12) if d is not None else data
                nl = text.find(b"\n")
                header += text if nl < 0 else text[:nl]
                if nl >= 0:
                    break
                if d is not None and d.eof:  # members are one stream (gzip): a header may go on in the next
                    after, d = d.unused_data, _DECOMPRESSOBJ(wbits=31)
        except _GZIP_ERRORS:
            raise DataProblem("corrupt gzip data") from None
    try:
        return parse_header(bytes(header).decode("utf-8").strip())
    except (UnicodeDecodeError, FormatError):
        raise DataProblem("no header of flow-log fields") from None


class ByteChecks:
    """scan_text of files in threads, their records matched too (ISA-L, zlib and RE2 release the GIL),
    beside the query that reads them."""

    def __init__(self, checked: list[Checked], workers: int = 2):
        from concurrent.futures import ThreadPoolExecutor

        self.cancel = threading.Event()
        self.problems: dict[Path, str] = {}
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(checked) or 1)))
        self.futures = [self.pool.submit(self._one, c) for c in checked]

    def _one(self, c: Checked) -> None:
        try:
            fmt = scan_text(c.file.path, self.cancel, record_checker(c.fmt))
            if fmt != c.fmt:
                self.problems[c.file.path] = "its header changed while it was read"
        except Unchecked:
            self.problems[c.file.path] = "a record the pattern does not pass (checked in full next)"
        except DataProblem as e:
            self.problems[c.file.path] = str(e)
        except _Cancelled:
            return
        except OSError as e:
            self.problems[c.file.path] = f"cannot be read: {e.strerror or e}"

    def wait(self) -> dict[Path, str]:
        try:
            for f in self.futures:
                f.result()
        except BaseException:
            self.cancel.set()
            raise
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return self.problems

    def stop(self) -> None:
        self.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


def unchanged(checked: list[Checked]) -> bool:
    """Whether the pending files are as they were when their headers were read: the threads and the
    query then read the same bytes."""
    return all(c.stamp is not None and _stamp(c.file.path) == c.stamp for c in checked)


def remember(checked: list[Checked]) -> None:
    """Files checked beside a query (pending, now passed): known good from now on."""
    cache = _Cache()
    for c in checked:
        if c.stamp is not None and _stamp(c.file.path) == c.stamp:  # unchanged since its header was read
            cache.put(c.file.path, c.stamp, c.fmt, True)
        c.pending = False
        checks["one_pass"] += 1
    cache.save()


def forget(path: Path) -> None:
    """A file that DuckDB could not read after all (changed since it was checked)."""
    cache = _Cache()
    cache.forget(path)
    cache.save()


__all__ = ["ADDRESS_FIELDS", "Checked", "DataProblem", "FIELDS", "check_parquet", "check_parquet_addresses",
           "check_records", "excerpt", "forget", "scan_text", "verify"]
