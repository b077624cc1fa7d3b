"""`flowsql pull` against the moto server (and the fault proxy for what moto cannot do): S3 windows,
narrowing, resume, changed and damaged files, interrupts, layouts and Parquet; CloudWatch Logs
formats, streams, pagination, throttling, narrowing, and the same answers as from S3 for the same
records, checked with the plain-Python oracle."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from awsfixtures import ACCOUNT, REGION, make_vpc
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import CUSTOM_LOG_FORMAT, Scenario, generate
from flowsql.logs.fields import DEFAULT_LOG_FORMAT, parse_log_format

runner = CliRunner()
START = date(2026, 1, 5)
ACCOUNTS = (ACCOUNT, "210987654321")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(r, code: int, text: str) -> None:
    assert r.exit_code == code, r.output
    lines = r.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("flowsql: error: ") and text in lines[-1], r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception


# -- arranging ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """Two accounts, two regions (default and custom formats), five days of generated logs."""
    return generate(tmp_path_factory.mktemp("gen"), Scenario(start=START, days=5, accounts=ACCOUNTS,
                                                             flows_per_day=60, files_per_day=2, seed=3))


def upload(boto, bucket: str, root: Path, prefix: str = "", create: bool = True, **put) -> dict[str, bytes]:
    """Every file under root/AWSLogs as an object (key: prefix/AWSLogs/…); key -> bytes."""
    if create:
        boto.s3.create_bucket(Bucket=bucket)
    objects = {}
    for path in sorted((Path(root) / "AWSLogs").rglob("*")):
        if path.is_file():
            key = (f"{prefix}/" if prefix else "") + path.relative_to(root).as_posix()
            data = path.read_bytes()
            boto.s3.put_object(Bucket=bucket, Key=key, Body=data, **put)
            objects[key] = data
    return objects


def local_tree(out: Path) -> dict[str, bytes]:
    """The flow-log files under out (relative path -> bytes), hidden files and the record left out."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(Path(out).rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def in_window(key: str, since: date, until: date, accounts=None, regions=None) -> bool:
    from flowsql.logs.layout import parse_key

    part, _ = parse_key(key)
    return (since <= part.day <= until and (not accounts or part.account in accounts)
            and (not regions or part.region in regions))


def gets(proxy) -> list[str]:
    """The object keys GetObject fetched through the proxy."""
    out = []
    for service, op, method, path in proxy.requests:
        url = urlsplit(path)
        if service == "s3" and method == "GET" and "list-type" not in url.query and "/" in url.path.lstrip("/"):
            out.append(unquote(url.path).lstrip("/").split("/", 1)[1])
    return out


def listings(proxy) -> list[tuple[str, str | None]]:
    """(prefix, delimiter) of every ListObjectsV2 call through the proxy."""
    out = []
    for service, op, method, path in proxy.requests:
        q = parse_qs(urlsplit(path).query)
        if service == "s3" and "list-type" in q:
            out.append(((q.get("prefix") or [""])[0], (q.get("delimiter") or [None])[0]))
    return out


def no_temporaries(out: Path) -> bool:
    return not [p for p in Path(out).rglob("*") if p.name.endswith(".part")]


# -- S3: the window, narrowing, resume -----------------------------------------------------------

def test_an_s3_pull_copies_exactly_the_window_listing_only_its_prefixes(tree, boto, proxy, tmp_path):
    objects = upload(boto, "org-logs", tree.root, prefix="vpc/flow")
    since, until = START + timedelta(days=1), START + timedelta(days=3)
    out = tmp_path / "logs"
    r = invoke("pull", "--bucket", "org-logs/vpc/flow", "--out", out, "--since", since, "--until", until)
    assert r.exit_code == 0, r.output
    expected = {k.removeprefix("vpc/flow/"): v for k, v in objects.items() if in_window(k, since, until)}
    assert expected and local_tree(out) == expected  # the same keys below the prefix, byte for byte
    assert "fetched" in r.stdout and "verified by" in r.stdout and (out / ".flowsql-pull.json").is_file()
    assert no_temporaries(out)
    # listed: the AWSLogs/ folder and each account's regions (one level), then only the window's days
    days = {f"{since + timedelta(days=i):%Y/%m/%d}/" for i in range(3)}
    for prefix, delimiter in listings(proxy):
        assert prefix.startswith("vpc/flow/AWSLogs/")
        if delimiter is None:
            assert any(prefix.endswith(d) for d in days), prefix
    # the pulled tree is what the local engine reads
    q = invoke("query", "top-destinations", "--source", out, "--since", since, "--until", until, "-o", "json",
               "-p", "action=ANY", "-p", "limit=1000")
    assert q.exit_code == 0, q.output
    want = oracle.top_destinations(tree.records, since=since, until=until, limit=1000, action="ANY")
    assert json.loads(q.stdout) == want


def test_account_and_region_narrow_an_s3_pull(tree, boto, tmp_path):
    objects = upload(boto, "logs", tree.root)
    out = tmp_path / "logs"
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START + timedelta(days=4),
               "--account", ACCOUNTS[1], "--region", "eu-west-1")
    assert r.exit_code == 0, r.output
    expected = {k: v for k, v in objects.items()
                if in_window(k, START, START + timedelta(days=4), [ACCOUNTS[1]], ["eu-west-1"])}
    assert expected and local_tree(out) == expected


def test_a_second_pull_of_an_unchanged_window_fetches_nothing(tree, boto, proxy, tmp_path):
    upload(boto, "logs", tree.root)
    out = tmp_path / "logs"
    window = ("--since", START, "--until", START + timedelta(days=2))
    assert invoke("pull", "--bucket", "logs", "--out", out, *window).exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.log.gz")}
    proxy.requests.clear()
    r = invoke("pull", "--bucket", "logs", "--out", out, *window)
    assert r.exit_code == 0, r.output
    assert gets(proxy) == [] and f"0 fetched (0 bytes), {len(before)} already there" in r.stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.log.gz")} == before


def test_a_changed_object_a_truncated_and_a_touched_file_are_fetched_again(tree, boto, proxy, tmp_path):
    objects = upload(boto, "logs", tree.root)
    out = tmp_path / "logs"
    window = ("--since", START, "--until", START + timedelta(days=2))
    assert invoke("pull", "--bucket", "logs", "--out", out, *window).exit_code == 0
    keys = sorted(local_tree(out))
    changed, truncated, touched = keys[0], keys[1], keys[2]
    new = gzip.compress(b"version account-id\n2 " + ACCOUNT.encode() + b"\n", mtime=0)
    boto.s3.put_object(Bucket="logs", Key=changed, Body=new)
    data = (out / truncated).read_bytes()
    (out / truncated).write_bytes(data[: len(data) // 2])  # a copy cut short by something else
    os.utime(out / touched, ns=(1, 1))  # same bytes, but the file is not as the record left it
    proxy.requests.clear()
    r = invoke("pull", "--bucket", "logs", "--out", out, *window)
    assert r.exit_code == 0, r.output
    assert sorted(gets(proxy)) == sorted([changed, truncated, touched])
    assert (out / changed).read_bytes() == new
    assert (out / truncated).read_bytes() == objects[truncated] and (out / touched).read_bytes() == objects[touched]


def test_a_tree_without_a_record_is_kept_where_the_md5_etag_proves_it(tree, boto, proxy, tmp_path):
    """A tree made by `aws s3 sync` (or a run killed before its record was saved): files whose MD5 is the
    object's ETag are kept; a file of the right size but other bytes is fetched again."""
    objects = upload(boto, "logs", tree.root)
    out = tmp_path / "logs"
    window = ("--since", START, "--until", START)
    wanted = sorted(k for k in objects if in_window(k, START, START))
    for k in wanted:
        (out / k).parent.mkdir(parents=True, exist_ok=True)
        (out / k).write_bytes(objects[k])
    wrong = wanted[0]
    (out / wrong).write_bytes(bytes(len(objects[wrong])))  # same size, other bytes
    r = invoke("pull", "--bucket", "logs", "--out", out, *window)
    assert r.exit_code == 0, r.output
    assert gets(proxy) == [wrong] and local_tree(out) == {k: objects[k] for k in wanted}


# -- S3: verification and faults -------------------------------------------------------------------

def test_every_object_is_verified_by_the_strongest_proof_s3_gives(tmp_path, boto):
    import boto3
    from botocore.config import Config

    boto.s3.create_bucket(Bucket="logs")
    plain = boto3.client("s3", region_name=REGION, config=Config(request_checksum_calculation="when_required"))
    body = gzip.compress(b"version account-id\n2 " + ACCOUNT.encode() + b"\n", mtime=0)
    base = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/01/05/"
    for i, algorithm in enumerate(("SHA256", "SHA1", "CRC32")):
        boto.s3.put_object(Bucket="logs", Key=f"{base}{i}.log.gz", Body=body, ChecksumAlgorithm=algorithm)
    plain.put_object(Bucket="logs", Key=f"{base}md5.log.gz", Body=body)  # no checksum: its ETag is its MD5
    r = invoke("pull", "--bucket", "logs", "--out", tmp_path / "o", "--since", "2026-01-05", "--until", "2026-01-05")
    assert r.exit_code == 0, r.output
    assert "verified by 1 crc32, 1 md5, 1 sha1, 1 sha256" in r.stdout


def test_an_object_that_fails_verification_is_named_and_not_written_the_rest_is(tree, boto, proxy, tmp_path):
    objects = upload(boto, "logs", tree.root)
    wanted = sorted(k for k in objects if in_window(k, START, START))
    bad = wanted[1]
    proxy.corrupt[bad] = 10  # every attempt: one byte flipped, same length
    out = tmp_path / "logs"
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START)
    one_error_line(r, 1, "1 object(s) or day(s) could not be pulled")
    assert f"FAILED s3://logs/{bad}: CRC32 mismatch" in r.stderr
    assert local_tree(out) == {k: objects[k] for k in wanted if k != bad} and no_temporaries(out)
    # once the fault is gone, the same command fetches what is missing
    proxy.corrupt.clear()
    proxy.requests.clear()
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START)
    assert r.exit_code == 0 and gets(proxy) == [bad] and local_tree(out) == {k: objects[k] for k in wanted}


def test_a_transfer_cut_short_a_flipped_byte_and_slowdown_are_retried(tree, boto, proxy, tmp_path):
    objects = upload(boto, "logs", tree.root)
    wanted = sorted(k for k in objects if in_window(k, START, START))
    proxy.cut[wanted[0]] = 1
    proxy.corrupt[wanted[1]] = 1
    proxy.fail_next[f"GET /logs/{wanted[2]}"] = [(503, "SlowDown", "Please reduce your request rate.")] * 2
    out = tmp_path / "logs"
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START)
    assert r.exit_code == 0, r.output
    assert local_tree(out) == {k: objects[k] for k in wanted} and no_temporaries(out)
    assert gets(proxy).count(wanted[0]) >= 2 and gets(proxy).count(wanted[1]) >= 2


# -- S3: layouts, Parquet, unsafe keys ---------------------------------------------------------------

@pytest.mark.parametrize("hive,per_hour", [(True, False), (False, True), (True, True)])
def test_hive_and_per_hour_layouts(boto, tmp_path, hive, per_hour):
    g = generate(tmp_path / "gen", Scenario(start=START, days=3, accounts=(ACCOUNT,), flows_per_day=40,
                                            files_per_day=3, seed=5, hive=hive, per_hour=per_hour))
    objects = upload(boto, "logs", g.root)
    since, until = START + timedelta(days=1), START + timedelta(days=2)
    out = tmp_path / "out"
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", since, "--until", until, "--region", REGION)
    assert r.exit_code == 0, r.output
    expected = {k: v for k, v in objects.items() if in_window(k, since, until, regions=[REGION])}
    assert expected and local_tree(out) == expected
    q = invoke("query", "top-destinations", "--source", out, "--since", since, "--until", until, "-o", "json")
    assert q.exit_code == 0, q.output
    assert json.loads(q.stdout) == oracle.top_destinations(g.records, since=since, until=until, regions=[REGION])


def test_parquet_objects_are_pulled_as_they_are(tree, boto, tmp_path):
    pq = tmp_path / "pq"
    assert invoke("convert", "--source", tree.root, "--out", pq).exit_code == 0
    objects = upload(boto, "logs", pq)
    assert any(k.endswith(".parquet") for k in objects)
    out = tmp_path / "out"
    since, until = START, START + timedelta(days=1)
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", since, "--until", until)
    assert r.exit_code == 0, r.output
    assert local_tree(out) == {k: v for k, v in objects.items() if in_window(k, since, until)}
    q = invoke("query", "top-destinations", "--source", out, "--since", since, "--until", until, "-o", "json")
    assert json.loads(q.stdout) == oracle.top_destinations(tree.records, since=since, until=until)


def test_keys_that_would_write_outside_the_folder_are_refused_and_named(boto, tmp_path):
    boto.s3.create_bucket(Bucket="logs")
    base = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/01/05/"
    body = gzip.compress(b"version account-id\n", mtime=0)
    boto.s3.put_object(Bucket="logs", Key=base + "good.log.gz", Body=body)
    boto.s3.put_object(Bucket="logs", Key=base + "..//..//escape.log.gz", Body=body)
    boto.s3.put_object(Bucket="logs", Key=base + "notes.txt", Body=b"x")
    out = tmp_path / "deep" / "out"
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", "2026-01-05", "--until", "2026-01-05")
    one_error_line(r, 1, "could not be pulled")
    assert f"FAILED {base}..//..//escape.log.gz: not a plain relative path" in r.stderr
    assert f"not a flow-log file, not pulled: {base}notes.txt" in r.stderr
    assert list(local_tree(out)) == [base + "good.log.gz"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]


def test_a_symbolic_link_in_the_tree_is_never_written_through(tree, boto, tmp_path):
    upload(boto, "logs", tree.root)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "AWSLogs").symlink_to(elsewhere)
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START)
    one_error_line(r, 1, "could not be pulled")
    assert "AWSLogs is a symbolic link: flowsql pull never writes through one" in r.stderr
    assert list(elsewhere.iterdir()) == []


# -- S3: bad input, nothing there, a second writer ----------------------------------------------------

@pytest.mark.parametrize("args,text", [
    (("--bucket", "Not A Bucket!"), "--bucket"),
    (("--bucket", "logs", "--since", "2026-01-09", "--until", "2026-01-02"), "the window is reversed"),
    (("--bucket", "no-such-bucket"), "bucket no-such-bucket does not exist"),
    (("--bucket", "logs", "--log-group", "g"), "not both"),
    (("--bucket", "logs", "--filter-port", "443"), "S3 objects are copied whole"),
    (("--log-group", "no/such/group"), "log group no/such/group does not exist in us-east-1"),
    (("--log-group", "bad name!"), "not a log group name"),
    (("--log-group", "g", "--filter-address", "10.0.0.300"), "not an IP address"),
    (("--bucket", "logs", "--jobs", "0"), "--jobs"),
])
def test_bad_input_is_one_line_and_exit_2(boto, tmp_path, args, text):
    boto.s3.create_bucket(Bucket="logs")
    r = invoke("pull", "--out", tmp_path / "o", *args)
    one_error_line(r, 2, text)


def test_a_window_that_holds_nothing_is_said_and_exits_0(tree, boto, tmp_path):
    upload(boto, "logs", tree.root)
    r = invoke("pull", "--bucket", "logs", "--out", tmp_path / "o", "--since", "2025-06-01", "--until", "2025-06-02")
    assert r.exit_code == 0, r.output
    assert "no flow-log object in the window 2025-06-01 … 2025-06-02" in r.stdout
    assert "nothing to pull: the window 2025-06-01 … 2025-06-02 holds no flow logs there" in r.stdout


def test_two_pulls_into_one_folder_at_once_are_refused(tree, boto, tmp_path):
    import fcntl

    upload(boto, "logs", tree.root)
    out = tmp_path / "o"
    out.mkdir()
    with open(out / ".flowsql-pull.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START)
    one_error_line(r, 2, "another flowsql pull is writing to this folder")


# -- S3: interrupted ------------------------------------------------------------------------------

@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_pull_leaves_only_whole_files_and_resumes(tree, boto, proxy, tmp_path, sig, code):
    objects = upload(boto, "logs", tree.root)
    wanted = {k: v for k, v in objects.items() if in_window(k, START, START + timedelta(days=4))}
    proxy.delay["/logs/AWSLogs/"] = 0.15  # every object request waits: the pull is under way when signalled
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "flowsql", "pull", "--bucket", "logs", "--out", str(out), "--since", str(START),
           "--until", str(START + timedelta(days=4)), "--jobs", "2"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(local_tree(out) if out.exists() else {}) < 2:
        time.sleep(0.05)
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == code, stderr
    assert stderr.decode().strip().splitlines()[-1] in ("flowsql: error: interrupted", "flowsql: error: terminated")
    got = local_tree(out)
    assert got and all(wanted[k] == v for k, v in got.items())  # whole files only, each the object's bytes
    assert no_temporaries(out)
    proxy.delay.clear()
    proxy.requests.clear()
    r = invoke("pull", "--bucket", "logs", "--out", out, "--since", START, "--until", START + timedelta(days=4))
    assert r.exit_code == 0, r.output
    assert local_tree(out) == wanted
    assert not set(gets(proxy)) & set(got)  # what the stopped run wrote is not fetched again


# -- CloudWatch Logs ------------------------------------------------------------------------------

def _recent(days_ago: int) -> date:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).date()


@pytest.fixture(scope="module")
def cwl_trees(tmp_path_factory):
    """Generated records of the last days (CloudWatch Logs takes events of the last 14 days only), one
    account and region, in the default and in the custom format."""
    start = _recent(4)
    out = {}
    for name, fmt in (("default", DEFAULT_LOG_FORMAT), ("custom", CUSTOM_LOG_FORMAT)):
        out[name] = generate(tmp_path_factory.mktemp(name), Scenario(
            start=start, days=3, accounts=(ACCOUNT,), regions={REGION: fmt}, flows_per_day=90, files_per_day=2,
            seed=9))
    return out


def events_of(g) -> list[tuple[str, int, str]]:
    """(stream, timestamp ms, message) of every record in the generated files: one stream per ENI,
    stamped with the record's start (the capture window's start)."""
    out = []
    for path in g.files:
        with gzip.open(path, "rt") as f:
            names = f.readline().split()
            eni, start = names.index("interface-id"), names.index("start")
            for line in f:
                fields = line.rstrip("\n").split(" ")
                out.append((f"{fields[eni]}-all", int(fields[start]) * 1000, line.rstrip("\n")))
    return out


def put_events(boto, group: str, events) -> None:
    boto.logs.create_log_group(logGroupName=group)
    streams: dict[str, list] = {}
    for stream, ts, msg in events:
        streams.setdefault(stream, []).append({"timestamp": ts, "message": msg})
    for stream, evs in streams.items():
        boto.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        evs.sort(key=lambda e: e["timestamp"])
        for i in range(0, len(evs), 5000):
            resp = boto.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=evs[i:i + 5000])
            assert not resp.get("rejectedLogEventsInfo"), resp


def cwl_flow_log(boto, group: str, log_format: str | None = None) -> str:
    kw = {"LogFormat": log_format} if log_format else {}
    resp = boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[make_vpc(boto)], TrafficType="ALL",
                                     LogDestinationType="cloud-watch-logs", LogGroupName=group,
                                     DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs", **kw)
    return resp["FlowLogIds"][0]


def pulled_lines(out: Path) -> dict[str, list[str]]:
    """Day folder -> the records of the .log.gz files there (the header line checked and left out)."""
    by_day: dict[str, list[str]] = {}
    for rel, data in local_tree(out).items():
        lines = gzip.decompress(data).decode().splitlines()
        day = "/".join(rel.split("/")[4:7])
        by_day.setdefault(day, []).extend(lines[1:])
        by_day.setdefault("headers", []).append(lines[0])
    return by_day


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y/%m/%d")


@pytest.mark.parametrize("kind", ["default", "custom"])
def test_a_log_group_pull_writes_one_file_a_day_in_the_s3_layout(cwl_trees, boto, proxy, tmp_path, kind):
    g = cwl_trees[kind]
    events = events_of(g)
    put_events(boto, "/vpc/flow-logs", events)
    fl = cwl_flow_log(boto, "/vpc/flow-logs", CUSTOM_LOG_FORMAT if kind == "custom" else None)
    proxy.logs_page_size = 25  # many pages per stream batch
    out = tmp_path / "o"
    since, until = _recent(6), _recent(0)
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", since, "--until", until)
    assert r.exit_code == 0, r.output
    fmt = parse_log_format(CUSTOM_LOG_FORMAT if kind == "custom" else DEFAULT_LOG_FORMAT)
    got = pulled_lines(out)
    assert set(got.pop("headers")) == {fmt.header()}
    want: dict[str, list[str]] = {}
    for _, ts, msg in events:
        want.setdefault(day_of(ts), []).append(msg)
    assert {d: sorted(v) for d, v in got.items()} == {d: sorted(v) for d, v in want.items()}
    for rel in local_tree(out):  # AWS's S3 layout and file-name pattern, with the flow log's id
        parts = rel.split("/")
        assert parts[:4] == ["AWSLogs", ACCOUNT, "vpcflowlogs", REGION]
        assert parts[-1].startswith(f"{ACCOUNT}_vpcflowlogs_{REGION}_{fl}_{''.join(parts[4:7])}T0000Z_")
    paged = [b for op, b in proxy.json_requests if op == "FilterLogEvents" and b.get("nextToken")]
    assert paged, "the pull followed nextToken"
    streams = {s for op, b in proxy.json_requests if op == "FilterLogEvents" for s in b.get("logStreamNames", [])}
    assert len(streams) == len({s for s, _, _ in events}) > 3  # several streams, each asked for


def test_the_same_answer_from_cloudwatch_logs_as_from_s3_for_the_same_records(cwl_trees, boto, tmp_path):
    g = cwl_trees["custom"]
    upload(boto, "logs", g.root)
    put_events(boto, "/vpc/flow-logs", events_of(g))
    cwl_flow_log(boto, "/vpc/flow-logs", CUSTOM_LOG_FORMAT)
    since, until = _recent(6), _recent(0)
    window = ("--since", since, "--until", until)
    assert invoke("pull", "--bucket", "logs", "--out", tmp_path / "s3", *window).exit_code == 0
    assert invoke("pull", "--log-group", "/vpc/flow-logs", "--out", tmp_path / "cwl", *window).exit_code == 0
    answers = {}
    for name in ("s3", "cwl"):
        q = invoke("query", "top-destinations", "--source", tmp_path / name, *window, "-o", "json",
                   "-p", "action=ANY", "-p", "limit=1000")
        assert q.exit_code == 0, q.output
        answers[name] = json.loads(q.stdout)
    assert answers["s3"] == answers["cwl"] == oracle.top_destinations(g.records, since=since, until=until,
                                                                      limit=1000, action="ANY")
    # one day: S3 files by their delivery folder, CloudWatch Logs events by their timestamp's UTC day
    day = g.records[0]["day"]
    by_start = [{**r, "day": datetime.fromtimestamp(r["start"], timezone.utc).date()} for r in g.records
                if r["start"] is not None]
    for name, records in (("s3", g.records), ("cwl", by_start)):
        q = invoke("query", "top-destinations", "--source", tmp_path / name, "--since", day, "--until", day,
                   "-o", "json", "-p", "action=ANY", "-p", "limit=1000")
        assert json.loads(q.stdout) == oracle.top_destinations(records, since=day, until=day, limit=1000, action="ANY")


def test_a_log_group_without_a_flow_log_is_read_in_the_default_format_and_said(cwl_trees, boto, tmp_path):
    put_events(boto, "/old/flow-logs", events_of(cwl_trees["default"]))
    r = invoke("pull", "--log-group", "/old/flow-logs", "--out", tmp_path / "o", "--since", _recent(6))
    assert r.exit_code == 0, r.output
    assert "no flow log publishes to log group /old/flow-logs any more" in r.stderr
    assert set(pulled_lines(tmp_path / "o")["headers"]) == {" ".join(parse_log_format(None).names)}
    assert all("_fl-unknown_" in rel for rel in local_tree(tmp_path / "o"))


def test_throttling_in_the_middle_of_a_pagination_is_waited_out_and_resumes_there(cwl_trees, boto, proxy, tmp_path):
    events = events_of(cwl_trees["default"])
    put_events(boto, "/vpc/flow-logs", events)
    cwl_flow_log(boto, "/vpc/flow-logs")
    proxy.logs_page_size = 40
    proxy.throttle_paged["FilterLogEvents"] = 4  # one call throttled more often than botocore tries (4)
    out = tmp_path / "o"
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", _recent(6), "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert proxy.throttle_paged["FilterLogEvents"] == 0  # the throttles happened
    assert sorted(m for v in pulled_lines(out).values() for m in v if not m.startswith("version")) == \
        sorted(m for _, _, m in events)
    # resumed, not restarted: a unit's first page (no nextToken) is never asked again after its later pages
    seen_paged = set()
    for op, b in proxy.json_requests:
        if op != "FilterLogEvents":
            continue
        unit = (tuple(b["logStreamNames"]), b["startTime"])
        if b.get("nextToken"):
            seen_paged.add(unit)
        else:
            assert unit not in seen_paged, unit


def test_narrowing_by_address_and_port_is_asked_of_the_service_and_applied_again(cwl_trees, boto, proxy, tmp_path):
    events = events_of(cwl_trees["default"])
    put_events(boto, "/vpc/flow-logs", events)
    cwl_flow_log(boto, "/vpc/flow-logs")
    fmt = parse_log_format(None)
    src, dst, dport = fmt.names.index("srcaddr"), fmt.names.index("dstaddr"), fmt.names.index("dstport")
    sport = fmt.names.index("srcport")
    address = next(m.split(" ")[src] for _, _, m in events if m.split(" ")[src].startswith("10."))
    out = tmp_path / "o"
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", _recent(6),
               "--filter-address", address, "--filter-port", "443")
    assert r.exit_code == 0, r.output
    want = sorted(m for _, _, m in events
                  if address in (m.split(" ")[src], m.split(" ")[dst]) and "443" in (m.split(" ")[sport], m.split(" ")[dport]))
    got = sorted(m for k, v in pulled_lines(out).items() if k != "headers" for m in v)
    assert want and got == want  # moto ignores the patterns: the answer is the local check's
    patterns = {b.get("filterPattern") for op, b in proxy.json_requests if op == "FilterLogEvents"}
    assert any(f'srcaddr="{address}"' in p and 'dstport="443"' in p for p in patterns if p)
    assert any(f'dstaddr="{address}"' in p and 'srcport="443"' in p for p in patterns if p)
    # a pull of the same group without narrowing into that folder would count records twice: refused
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", _recent(6))
    one_error_line(r, 2, "pull with no narrowing into another folder")


def test_a_second_log_group_pull_rewrites_nothing_that_did_not_change(cwl_trees, boto, tmp_path):
    put_events(boto, "/vpc/flow-logs", events_of(cwl_trees["default"]))
    cwl_flow_log(boto, "/vpc/flow-logs")
    out = tmp_path / "o"
    assert invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", _recent(6)).exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.log.gz")}
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", out, "--since", _recent(6))
    assert r.exit_code == 0 and f"0 day file(s) written, {len(before)} unchanged" in r.stdout, r.output
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.log.gz")} == before


def test_events_that_are_no_record_of_the_format_are_left_out_and_said(boto, tmp_path):
    now = int(datetime.now(timezone.utc).timestamp()) - 3600
    good = f"2 {ACCOUNT} eni-1 10.0.0.1 10.0.0.2 1234 443 6 1 60 {now} {now + 60} ACCEPT OK"
    put_events(boto, "/vpc/flow-logs", [("eni-1-all", now * 1000, good), ("eni-1-all", now * 1000, "hello world"),
                                        ("eni-1-all", now * 1000, good.replace(" ACCEPT", "  ACCEPT"))])
    r = invoke("pull", "--log-group", "/vpc/flow-logs", "--out", tmp_path / "o", "--since", "-1d")
    assert r.exit_code == 0, r.output
    assert "LEFT OUT 2 event(s) that are no record of the format" in r.stderr
    assert [m for k, v in pulled_lines(tmp_path / "o").items() if k != "headers" for m in v] == [good]
    q = invoke("query", "top-destinations", "--source", tmp_path / "o", "--since", "-1d", "-o", "json")
    assert q.exit_code == 0 and json.loads(q.stdout)[0]["dstaddr"] == "10.0.0.2", q.output


# -- with neither source: the account's flow logs ------------------------------------------------

def test_without_a_source_every_flow_log_of_the_account_is_pulled(cwl_trees, tree, boto, proxy, tmp_path):
    from awsfixtures import make_flow_log

    fl = make_flow_log(boto, "org-logs", prefix="vpc")
    objects = upload(boto, "org-logs", tree.root, prefix="vpc", create=False)
    put_events(boto, "/vpc/flow-logs", events_of(cwl_trees["default"]))
    cwl_flow_log(boto, "/vpc/flow-logs")
    out = tmp_path / "o"
    r = invoke("pull", "--out", out, "--since", START, "--until", _recent(0))
    assert r.exit_code == 0, r.output
    assert fl and "s3://org-logs/vpc/AWSLogs/" in r.stdout and "log group /vpc/flow-logs" in r.stdout
    got = local_tree(out)
    # S3: the flow log's own account and region only
    s3_part = {k.removeprefix("vpc/"): v for k, v in objects.items()
               if in_window(k, START, _recent(0), [ACCOUNT], [REGION])}
    assert s3_part and all(got[k] == v for k, v in s3_part.items())
    assert any(k.split("/")[-1].startswith(f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-") and k not in s3_part for k in got)


# -- iam-policy --for pull covers every call -----------------------------------------------------

def test_iam_policy_for_pull_allows_every_call_it_makes(cwl_trees, tree, boto, proxy, tmp_path):
    from fnmatch import fnmatchcase

    from test_cli_aws import _allowed, _needs

    from awsfixtures import make_flow_log

    make_flow_log(boto, "org-logs", prefix="vpc")
    upload(boto, "org-logs", tree.root, prefix="vpc", create=False)
    put_events(boto, "/vpc/flow-logs", events_of(cwl_trees["default"]))
    cwl_flow_log(boto, "/vpc/flow-logs")
    proxy.requests.clear()
    for args in (("--bucket", "org-logs/vpc"), ("--log-group", "/vpc/flow-logs", "--filter-port", "443"), ()):
        r = invoke("pull", "--out", tmp_path / f"o{len(args)}", "--since", START, "--until", _recent(0), *args)
        assert r.exit_code == 0, r.output
    calls = {_needs(*x) for x in proxy.requests if x[1] != "GetCallerIdentity"}
    assert {a for a, _ in calls} >= {"s3:ListBucket", "s3:GetObject", "logs:FilterLogEvents",
                                     "logs:DescribeLogGroups", "logs:DescribeLogStreams", "ec2:DescribeFlowLogs"}
    policy = json.loads(invoke("iam-policy", "--for", "pull").stdout)
    assert all(s["Sid"].startswith("FlowsqlPull") for s in policy["Statement"])
    denied = sorted(f"{a} on {res}" if res else a for a, res in calls if not _allowed(policy, a, res))
    assert not denied, denied
    # every listing names a prefix the s3:prefix condition allows (pull never lists a bucket whole)
    allowed = [p for s in policy["Statement"] if "s3:ListBucket" in s["Action"]
               for p in s["Condition"]["StringLike"]["s3:prefix"]]
    for prefix, _ in listings(proxy):
        assert any(fnmatchcase(prefix, p) for p in allowed), prefix
    assert "FlowsqlPullDiscoverFlowLogs" in {s["Sid"] for s in json.loads(invoke("iam-policy").stdout)["Statement"]}
