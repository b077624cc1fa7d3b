"""The `flowsql pull` rows of `make bench` (also alone: `bench/run.py --only pull`).

A moto server is started in its own process on 127.0.0.1 and given a week of generated logs (about
1,000 objects) and a log group of recent events. Then, whole processes timed like every other row:

- `flowsql pull --bucket` of the window into an empty folder, against `aws s3 sync` of the same
  objects (the AWS CLI from PyPI, `awscli`, installed into bench/data/awscli on first use; the row
  says so when it cannot be installed): target ≥ 0.9 × its speed;
- the same pull again over the unchanged tree: what it costs beyond the listing, per 1,000 objects
  (target ≤ 0.1 s), as the pull itself times it (its summary line: the source's time and its
  listing's); and, whole processes, against the same re-pull of a bucket holding one object per day
  folder (the same listing calls, 28 objects), the difference over the difference in objects
  (conservative: the bigger listing pages, moto's and botocore's work per key, count as pull's);
  with a plain boto3 listing of the same prefixes (bench/baseline/s3_list.py) for reference;
- `flowsql pull --log-group` of the recent events: events per second, against one paginated
  FilterLogEvents loop over the whole group (bench/baseline/cwl_filter.py).

moto answers every request in one Python process, so these figures measure the clients' overhead
against a slow server, not a network; both clients of a row meet the same server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = date(2026, 1, 1)
DAYS = 7
ACCOUNTS = ("111111111111", "222222222222")
FILES_PER_DAY = 36  # 7 days × 2 accounts × 2 regions × 36 ≈ 1,000 objects
RECORDS = 1_000_000
EVENTS = 100_000
STREAMS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the moto server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def aws_env(endpoint: str, work: Path) -> dict:
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(work / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-creds")})
    env.pop("AWS_PROFILE", None)
    return env


def aws_cli(data: Path) -> Path | None:
    """The AWS CLI (v1, from PyPI) in a virtualenv of its own; None when it cannot be installed."""
    venv = data / "awscli"
    exe = venv / "bin" / "aws"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "awscli"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"  the AWS CLI could not be installed from PyPI ({e}); its row is left out", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        return None
    return exe if exe.exists() else None


def dataset(data: Path) -> Path:
    import json

    from flowsql.logs.fields import DEFAULT_LOG_FORMAT
    from flowsql.demo.generate import CUSTOM_LOG_FORMAT, Scenario, generate

    tree = data / "pull-week"
    marker = tree / ".bench.json"
    wanted = {"days": DAYS, "accounts": ACCOUNTS, "files": FILES_PER_DAY, "records": RECORDS, "version": 1}
    if marker.exists() and json.loads(marker.read_text()) == json.loads(json.dumps(wanted)):
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    print(f"generating the pull dataset ({RECORDS:,} records in about 1,000 files) into {tree} …", file=sys.stderr)
    generate(tree, Scenario(start=START, days=DAYS, accounts=ACCOUNTS, flows_per_day=RECORDS // (DAYS * 4),
                            files_per_day=FILES_PER_DAY, seed=2,
                            regions={"us-east-1": DEFAULT_LOG_FORMAT, "eu-west-1": CUSTOM_LOG_FORMAT}),
             keep_records=False)
    marker.write_text(json.dumps(wanted))
    return tree


def arrange(endpoint: str, tree: Path) -> tuple[int, int, int]:
    """The bucket (every file of the tree) and the log group (EVENTS recent events in STREAMS
    streams); (objects, bytes, events)."""
    import boto3
    from botocore.config import Config

    cfg = Config(max_pool_connections=16, retries={"mode": "standard", "total_max_attempts": 8})
    kw = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "bench",
          "aws_secret_access_key": "bench", "config": cfg}
    s3, logs = boto3.client("s3", **kw), boto3.client("logs", **kw)
    s3.create_bucket(Bucket="bench-pull")
    files = sorted(p for p in (tree / "AWSLogs").rglob("*.log.gz"))

    def put(p: Path) -> int:
        data = p.read_bytes()
        s3.put_object(Bucket="bench-pull", Key=p.relative_to(tree).as_posix(), Body=data)
        return len(data)

    with ThreadPoolExecutor(8) as pool:
        size = sum(pool.map(put, files))
    # the same folders, one object in each: the same listing calls for a tenth of the objects
    s3.create_bucket(Bucket="bench-sparse")
    firsts = {p.parent: p for p in reversed(files)}
    for p in firsts.values():
        s3.put_object(Bucket="bench-sparse", Key=p.relative_to(tree).as_posix(), Body=p.read_bytes())
    logs.create_log_group(logGroupName="/bench/flow-logs")
    now = int(datetime.now(timezone.utc).timestamp()) - 2 * 86400
    per = EVENTS // STREAMS
    for s in range(STREAMS):
        eni = f"eni-{s:017x}"
        logs.create_log_stream(logGroupName="/bench/flow-logs", logStreamName=f"{eni}-all")
        events = []
        for i in range(per):
            t = now + i * 86400 * 2 // per
            events.append({"timestamp": t * 1000, "message": f"2 111111111111 {eni} 10.0.{s}.{i % 250} "
                                                             f"203.0.113.{i % 200} {1024 + i % 60000} 443 6 10 "
                                                             f"{840 + i} {t} {t + 60} ACCEPT OK"})
        for i in range(0, len(events), 10_000):
            logs.put_log_events(logGroupName="/bench/flow-logs", logStreamName=f"{eni}-all",
                                logEvents=events[i:i + 10_000])
    return len(files), size, per * STREAMS


def _listing_and_total(stdout: str) -> tuple[float, float]:
    """(listing seconds, source seconds) from pull's summary line: "… (listed in X s, all in Y s): …"."""
    m = re.search(r"listed in ([0-9.]+) s, all in ([0-9.]+) s", stdout)
    if not m:
        raise RuntimeError(f"no timing in flowsql pull's summary: {stdout[-300:]!r}")
    return float(m[1]), float(m[2])


def rows(args, work: Path, fs: list[str], measure, note) -> None:
    """Add the pull rows through `note` (bench/run.py's)."""
    tree = dataset(args.data)
    aws = aws_cli(args.data)
    server = MotoServer(work / "moto.log")
    try:
        n, size, events = arrange(server.url, tree)
        env = aws_env(server.url, work)
        env["FLOWSQL_CACHE_DIR"] = str(work / "pull-cache")
        window = ["--since", str(START), "--until", str(START + timedelta(days=DAYS - 1))]
        runs = max(1, min(args.runs, 3))
        counter = {"i": 0}

        def fresh(prefix: str) -> str:
            counter["i"] += 1
            d = work / f"{prefix}-{counter['i']}"
            shutil.rmtree(d, ignore_errors=True)
            return str(d)

        # each timed run into an empty folder: the command is wrapped so the folder is new every time
        def into_new(cmd_for) -> list[str]:
            script = ("import os, subprocess, sys, tempfile\n"
                      f"d = tempfile.mkdtemp(dir={str(work)!r})\n"
                      "sys.exit(subprocess.call([a.replace('{OUT}', d) for a in sys.argv[1:]]))\n")
            return [sys.executable, "-c", script, *cmd_for("{OUT}")]

        what = f"{n:,} objects, {size / 1e6:.0f} MB"
        sync = None
        if aws is not None:
            sync = measure(into_new(lambda out: [str(aws), "s3", "sync", "s3://bench-pull", out, "--quiet"]),
                           runs, env=env)
            note(f"aws s3 sync: {what}", sync)
        pull = measure(into_new(lambda out: [*fs, "pull", "--bucket", "bench-pull", "--out", out, *window]),
                       runs, env=env)
        if sync is not None:
            r = sync["median_s"] / pull["median_s"]
            note(f"flowsql pull --bucket: {what}", pull, ratio=r, target="≥ 0.9 × aws s3 sync's speed", ok=r >= 0.9)
        else:
            note(f"flowsql pull --bucket: {what}", pull)
        # the re-pull of an unchanged window: beyond its listing, per 1,000 objects
        repulls = {}
        for bucket in ("bench-pull", "bench-sparse"):
            folder = fresh(bucket)
            subprocess.run([*fs, "pull", "--bucket", bucket, "--out", folder, *window], env=env, check=True,
                           capture_output=True)
            repulls[bucket] = measure([*fs, "pull", "--bucket", bucket, "--out", folder, *window], runs, env=env)
            repulls[bucket]["own"] = [_listing_and_total(subprocess.run(
                [*fs, "pull", "--bucket", bucket, "--out", folder, *window], env=env, check=True, capture_output=True,
                text=True).stdout) for _ in range(runs)]
        sparse = len({p.parent for p in (tree / "AWSLogs").rglob("*.log.gz")})
        listing = measure([sys.executable, str(HERE / "baseline" / "s3_list.py"), "bench-pull", str(START),
                           str(DAYS)], runs, env=env)
        note("boto3 listing of the window's prefixes", listing)
        note(f"flowsql pull, unchanged window ({sparse} objects, same prefixes)", repulls["bench-sparse"])
        # flowsql's own word (its summary line): the source's time beyond its listing, in the process
        per_k = statistics.median(max(total - listed, 0.0) for listed, total in repulls["bench-pull"].pop("own")) \
            * 1000 / n
        repulls["bench-sparse"].pop("own")
        note(f"flowsql pull, unchanged window ({n:,} objects)", repulls["bench-pull"], ratio=per_k,
             target="≤ 0.1 s per 1,000 objects beyond listing (ratio: s per 1,000)", ok=per_k <= 0.1)
        whole = max(repulls["bench-pull"]["median_s"] - repulls["bench-sparse"]["median_s"], 0.0) * 1000 / (n - sparse)
        note("  the same, from the sparse bucket's time", {"median_s": whole}, ratio=whole,
             target="(conservative: bigger listing pages count as pull's)", ok=None)
        # CloudWatch Logs: events per second
        since = (datetime.now(timezone.utc) - timedelta(days=3)).date()
        base = measure([sys.executable, str(HERE / "baseline" / "cwl_filter.py"), "/bench/flow-logs", str(since)],
                       runs, env=env)
        note(f"one FilterLogEvents loop: {events:,} events", base, ratio=events / base["median_s"],
             target="(events per second)")
        cwl = measure(into_new(lambda out: [*fs, "pull", "--log-group", "/bench/flow-logs", "--out", out,
                                            "--since", str(since)]), runs, env=env)
        note(f"flowsql pull --log-group: {events:,} events", cwl, ratio=events / cwl["median_s"],
             target="(events per second)")
    finally:
        server.stop()
