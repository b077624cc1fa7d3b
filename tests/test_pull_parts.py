"""The parts of `flowsql pull` that need no AWS: the window's prefixes, the narrowing's patterns and
local check, the verification of a body, the output folder's safety and its record. (The pull itself
is tested against the moto server in tests/aws/test_pull.py.)"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from datetime import date

import pytest

from flowsql.errors import UsageError
from flowsql.logs.fields import parse_log_format
from flowsql.pack.params import Window
from flowsql.pull.filters import EventFilter
from flowsql.pull.record import RECORD_NAME, Record
from flowsql.pull.tree import Tree, UnsafePath
from flowsql.pull.verify import Verifier
from flowsql.pull.window import day_bounds_ms, day_of_ms, listing_prefixes, parse_object_key

DEFAULT = parse_log_format(None)


def test_a_month_the_window_covers_whole_is_listed_as_one_prefix():
    got = listing_prefixes("111122223333", "eu-west-1", Window(date(2026, 1, 30), date(2026, 3, 2)), hive=False)
    base = "111122223333/vpcflowlogs/eu-west-1/"
    assert got == [base + "2026/01/30/", base + "2026/01/31/", base + "2026/02/", base + "2026/03/01/",
                   base + "2026/03/02/"]
    hive = listing_prefixes("111122223333", "eu-west-1", Window(date(2026, 2, 1), date(2026, 2, 28)), hive=True)
    assert hive == ["aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=02/"]
    leap = listing_prefixes("1" * 12, "r", Window(date(2024, 2, 1), date(2024, 2, 28)), hive=False)
    assert len(leap) == 28  # February 2024 has 29 days: not whole


def test_object_keys_and_days():
    part, kind = parse_object_key("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/05/07/x.parquet")
    assert (part.day, part.hour, kind) == (date(2026, 1, 5), 7, "parquet")
    assert parse_object_key("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/05/notes.txt") is None
    assert parse_object_key("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/02/30/x.log.gz") is None
    lo, hi = day_bounds_ms(date(2026, 1, 5))
    assert (day_of_ms(lo), day_of_ms(hi), day_of_ms(hi + 1)) == (date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 6))


def test_the_patterns_asked_of_the_service_cover_every_event_the_local_check_keeps():
    f = EventFilter.parse(["10.0.1.5"], ["443"])
    patterns = f.patterns(DEFAULT)
    assert len(patterns) == 4  # (srcaddr or dstaddr) × (srcport or dstport), each a plain conjunction
    assert '[version, account_id, interface_id, srcaddr="10.0.1.5", dstaddr, srcport, dstport="443", protocol, ' \
           'packets, bytes, start, end, action, log_status]' in patterns
    match = f.matcher(DEFAULT)
    line = "2 111122223333 eni-1 {} {} {} {} 6 1 60 1 2 ACCEPT OK"
    assert match(line.format("10.0.9.9", "10.0.1.5", "50000", "443").split())
    assert match(line.format("10.0.1.5", "8.8.8.8", "443", "50000").split())
    assert not match(line.format("10.0.1.5", "8.8.8.8", "50000", "22").split())
    assert not match(line.format("10.0.1.50", "8.8.8.8", "443", "1").split())
    assert not match("2 111122223333 eni-1 - - - - - - - 1 2 - NODATA".split())


def test_what_cannot_be_said_exactly_is_checked_locally_only():
    assert EventFilter.parse(["10.0.1.0/24"], []).patterns(DEFAULT) == []  # a block: never sent as a prefix
    assert EventFilter.parse(["2001:db8::1"], []).patterns(DEFAULT) == []  # IPv6 text may differ from AWS's
    assert len(EventFilter.parse(["10.0.1.0/24"], ["22"]).patterns(DEFAULT)) == 2  # the ports alone
    wide = EventFilter.parse(["10.0.0.1", "10.0.0.2", "10.0.0.3"], ["22", "443"])
    assert len(wide.patterns(DEFAULT)) == 6  # 24 combinations: the addresses alone
    cidr = EventFilter.parse(["10.0.1.0/24"], [])
    assert cidr.matcher(DEFAULT)("2 1 eni-1 10.0.1.77 8.8.8.8 1 2 6 1 60 1 2 ACCEPT OK".split())
    with pytest.raises(UsageError, match="no srcaddr, dstaddr field"):
        cidr.check_format(parse_log_format("${version} ${interface-id}"), "log group g")
    with pytest.raises(UsageError, match="not a port"):
        EventFilter.parse([], ["70000"])


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def test_a_body_is_verified_by_the_best_proof_given():
    data = b"flow logs " * 1000
    crc = zlib.crc32(data).to_bytes(4, "big")
    v = Verifier({"x-amz-checksum-crc32": _b64(crc), "ETag": '"' + hashlib.md5(data).hexdigest() + '"'}, len(data))
    v.update(data[:100])
    v.update(data[100:])
    assert (v.method, v.check()) == ("crc32", None)
    bad = Verifier({"x-amz-checksum-crc32": _b64(crc)}, len(data))
    bad.update(data[:-1] + b"x")
    assert "CRC32 mismatch" in bad.check()
    md5 = Verifier({"ETag": '"' + hashlib.md5(data).hexdigest() + '"'}, len(data))
    md5.update(data)
    assert (md5.method, md5.check()) == ("md5", None)
    # SSE-KMS and multipart ETags are no MD5, a checksum of the parts cannot be recomputed: the size
    for headers in ({"ETag": '"' + "a" * 32 + '"', "x-amz-server-side-encryption": "aws:kms"},
                    {"ETag": '"' + "a" * 32 + '-3"', "x-amz-checksum-crc32": _b64(crc) + "-3"}):
        v = Verifier(headers, len(data))
        v.update(data)
        assert (v.method, v.check()) == ("size", None)
    short = Verifier({}, len(data))
    short.update(data[:10])
    assert "received 10 bytes" in short.check()


def test_nothing_is_written_through_a_link_or_a_file_below_the_folder(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "AWSLogs" / "a").mkdir(parents=True)
    elsewhere.mkdir()
    (out / "AWSLogs" / "a" / "b").symlink_to(elsewhere)
    (out / "AWSLogs" / "file").write_text("x")
    tree = Tree(out)
    try:
        with pytest.raises(UnsafePath, match="a symbolic link"):
            with tree.folder("AWSLogs/a/b/c", create=True):
                pass
        with pytest.raises(UnsafePath, match="not a folder"):
            with tree.folder("AWSLogs/file/c", create=True):
                pass
        with pytest.raises(UnsafePath, match="plain relative path"):
            with tree.folder("AWSLogs/../x", create=True):
                pass
    finally:
        tree.close()
    assert list(elsewhere.iterdir()) == []


def test_a_file_appears_whole_or_not_at_all_and_a_stop_removes_what_was_being_written(tmp_path):
    tree = Tree(tmp_path / "out")
    (tmp_path / "out" / "d").mkdir()
    stale = tmp_path / "out" / "d" / ".x.log.gz.flowsql-1-7.part"  # left by a killed run
    stale.write_text("half")
    try:
        with tree.folder("d", create=True) as fd:
            assert not stale.exists()
            f = tree.new_file(fd, "x.log.gz")
            f.write(b"abc")
            assert not (tmp_path / "out" / "d" / "x.log.gz").exists()
            state = f.commit()
            assert (tmp_path / "out" / "d" / "x.log.gz").read_bytes() == b"abc" and state.size == 3
            g = tree.new_file(fd, "y.log.gz")
            g.write(b"half")
            tree.remove_temporaries()
            assert sorted(os.listdir(tmp_path / "out" / "d")) == ["x.log.gz"]
            with pytest.raises(InterruptedError):
                g.commit()
            with pytest.raises(InterruptedError):
                tree.new_file(fd, "z.log.gz")
    finally:
        tree.close()
    assert not (tmp_path / "out" / "d" / "y.log.gz").exists()


def test_an_unreadable_record_is_started_afresh_and_said(tmp_path):
    tree = Tree(tmp_path)
    try:
        (tmp_path / RECORD_NAME).write_text("{not json")
        r = Record.load(tree)
        assert r.entries == {} and "not a readable record" in r.note
        (tmp_path / RECORD_NAME).unlink()
        (tmp_path / RECORD_NAME).symlink_to(tmp_path / "elsewhere.json")
        assert "cannot be read" in Record.load(tree).note  # a link is not followed
    finally:
        tree.close()
