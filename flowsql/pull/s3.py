"""Pulling flow-log objects from S3: list only the window's prefixes, fetch in parallel what the
local tree lacks, verify each object on the stream, write it whole.

An object is skipped when the output folder's record says it was written from the same key, size
and ETag and the local file is unchanged since (size, modification and change time, inode); a local
file the record does not know is kept when its size matches and its MD5 equals an MD5 ETag (a tree
made by `aws s3 sync`, or a run killed before its record was saved); anything else is fetched again.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime

from ..aws import errors, is_code, map_error
from ..errors import AwsError, UsageError
from ..files import is_plain_relative_path
from ..logs.layout import Partition
from . import backoff
from .record import Record
from .tree import Tree, UnsafePath
from .verify import Verifier, is_md5_etag
from .window import Scope, listing_prefixes, parse_object_key, service_prefix

CHUNK = 1 << 20
# What flow-log keys look like: decided at once, without files.is_plain_relative_path's fuller check
_SIMPLE = re.compile(r"^AWSLogs(?:/[A-Za-z0-9_=.-]{1,200})+$")
ATTEMPTS = 3  # per object, for a body cut short or a checksum that does not match (a transient fault)


@dataclass(frozen=True)
class S3Source:
    """A bucket (and the key prefix above `AWSLogs/`) to pull from; `accounts`/`regions` narrow it
    further (discovery: a flow log's own account and region)."""

    bucket: str
    prefix: str = ""
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def awslogs_key(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"

    @property
    def base(self) -> str:
        """What is taken off a key to make its local path (the part above `AWSLogs/`)."""
        return f"{self.prefix}/" if self.prefix else ""

    @property
    def label(self) -> str:
        return f"s3://{self.bucket}/{self.awslogs_key}"


@dataclass
class Listed:
    key: str
    rel: str  # the local path below the output folder: the key without the bucket prefix
    size: int
    etag: str
    last_modified: datetime | None
    partition: Partition


@dataclass
class Listing:
    objects: list[Listed] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (key, why): never written
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (key, why): no flow-log file
    prefixes: int = 0  # how many prefixes were listed


def _listed(s3, stop: threading.Event, **params):
    """ListObjectsV2 pages; throttling beyond botocore's retries is waited out and the listing goes
    on from its last continuation token."""
    return backoff.pages(s3.list_objects_v2, stop, token_in="ContinuationToken", token_out="NextContinuationToken",
                         more=lambda page: page.get("IsTruncated", False), **params)


def _one_level(s3, bucket: str, prefix: str, stop: threading.Event) -> list[str]:
    """The folder names directly below `prefix`."""
    out: list[str] = []
    for page in _listed(s3, stop, Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out.extend(cp["Prefix"][len(prefix):].rstrip("/") for cp in page.get("CommonPrefixes", []))
    return out


def _listing_error(e: BaseException, source: S3Source, prefix: str):
    if is_code(e, "NoSuchBucket"):
        return UsageError(f"bucket {source.bucket} does not exist")
    if is_code(e, "AccessDenied", "403", "Forbidden"):
        return AwsError(f"listing s3://{source.bucket}/{prefix}: access denied (s3:ListBucket); "
                        "see `flowsql iam-policy --for pull`")
    return map_error(e, f"listing s3://{source.bucket}/{prefix}")


def list_window(s3, source: S3Source, scope: Scope, pool, stop: threading.Event) -> Listing:
    """Every object of the window under the source, listing only the window's prefixes: the account
    folders under `AWSLogs/` (both layouts), their region folders (unless --region names them), then
    each (account, region) day or whole month of the window, in parallel."""
    awslogs = source.awslogs_key
    try:
        top = _one_level(s3, source.bucket, awslogs, stop)
    except errors() as e:
        raise _listing_error(e, source, awslogs) from None
    found: list[tuple[str, bool]] = []  # (account, hive)
    for name in top:
        hive = name.startswith("aws-account-id=")
        account = name.split("=", 1)[1] if hive else name
        if len(account) == 12 and account.isdigit():
            found.append((account, hive))
    wanted = [(a, h) for a, h in found if scope.wants_account(a) and (not source.accounts or a in source.accounts)]
    named = [r for r in (scope.regions or source.regions) if not source.regions or r in source.regions]

    def regions(pair):
        if scope.regions or source.regions:  # named: nothing to list
            return pair, named
        base = awslogs + service_prefix(*pair)
        try:
            return pair, [n.split("=", 1)[-1] for n in _one_level(s3, source.bucket, base, stop)]
        except errors() as e:
            raise _listing_error(e, source, base) from None

    regions_of = dict(pool.map(regions, wanted))
    prefixes = [awslogs + p for (a, h), rs in regions_of.items() for r in rs
                for p in listing_prefixes(a, r, scope.window, hive=h)]
    listing = Listing(prefixes=len(prefixes))

    def list_prefix(prefix: str):
        items = []
        try:
            for page in _listed(s3, stop, Bucket=source.bucket, Prefix=prefix):
                items.extend(page.get("Contents", []))
        except errors() as e:
            raise _listing_error(e, source, prefix) from None
        return items

    for items in pool.map(list_prefix, prefixes):
        for o in items:
            key = o["Key"]
            if key.endswith("/"):
                continue  # a console-made "folder": no object to copy
            rel = key[len(source.base):] if key.startswith(source.base) else key
            if not (_SIMPLE.match(rel) and ".." not in rel) and not is_plain_relative_path(rel):
                listing.refused.append((key, "not a plain relative path (`..`, `//`, `./` or an absolute part); "
                                        "never written"))
                continue
            parsed = parse_object_key(rel)
            if parsed is None:
                listing.ignored.append((key, "not a flow-log file in the flow-log layout"))
                continue
            if not scope.covers(parsed[0]):
                continue
            listing.objects.append(Listed(key, rel, int(o.get("Size", 0)), o.get("ETag", ""), o.get("LastModified"),
                                          parsed[0]))
    listing.objects.sort(key=lambda x: x.rel)
    return listing


# -- deciding what to fetch ------------------------------------------------------------------------

def split_rel(rel: str) -> tuple[str, str]:
    folder, _, name = rel.rpartition("/")
    return folder, name


def is_current(tree: Tree, record: Record, source: S3Source, obj: Listed) -> tuple[bool, bool]:
    """(skip, adopt?): skip when the record and the file agree with the listing; `adopt` when a file
    the record does not know might be the object (same size, an MD5 ETag): the caller checks its MD5."""
    folder, name = split_rel(obj.rel)
    try:
        with tree.folder(folder, create=False) as fd:
            state = tree.state(fd, name) if fd is not None else None
    except UnsafePath:  # fetch() says so for this object, and the others are pulled
        return False, False
    if state is None:
        return False, False
    entry = record.get(obj.rel)
    if entry is not None:
        same = (entry.get("source") == f"s3://{source.bucket}/{obj.key}" and entry.get("etag") == obj.etag
                and entry.get("size") == obj.size)
        return same and Record.unchanged(entry, state), False
    return False, state.size == obj.size and is_md5_etag(obj.etag)


def adopt(tree: Tree, record: Record, source: S3Source, obj: Listed, stop: threading.Event) -> bool:
    """A local file the record does not know: kept (and recorded) when its MD5 is the object's ETag."""
    folder, name = split_rel(obj.rel)
    with tree.folder(folder, create=False) as dfd:
        if dfd is None:
            return False
        try:
            fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), dir_fd=dfd)
        except OSError:
            return False
        try:
            before = os.fstat(fd)
            md5 = hashlib.md5(usedforsecurity=False)
            while chunk := os.read(fd, CHUNK):
                if stop.is_set():
                    return False
                md5.update(chunk)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        state = tree.state(dfd, name)
    if (md5.hexdigest() != obj.etag.strip('"').lower() or after.st_mtime_ns != before.st_mtime_ns
            or state is None or state.ino != after.st_ino or state.size != obj.size):
        return False
    record.put(obj.rel, _entry(source, obj, obj.etag, "md5", None, obj.size), state)
    return True


def _entry(source: S3Source, obj: Listed, etag: str, method: str, checksum: str | None, size: int) -> dict:
    return {"source": f"s3://{source.bucket}/{obj.key}", "etag": etag, "size": size, "verified": method,
            "checksum": checksum}


# -- fetching --------------------------------------------------------------------------------------

@dataclass
class Fetched:
    obj: Listed
    size: int = 0
    method: str = ""  # how it was verified: crc32, md5, size, …
    problem: str | None = None  # None: fetched and verified
    unusable: tuple[str, ...] = ()


class Bodies:
    """The response bodies being read now, so a stop can close them and end the reads at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: set = set()

    def add(self, body) -> None:
        with self._lock:
            self._open.add(body)

    def remove(self, body) -> None:
        with self._lock:
            self._open.discard(body)

    def close_all(self) -> None:
        with self._lock:
            bodies, self._open = list(self._open), set()
        for b in bodies:
            try:
                b.close()
            except Exception:
                pass


def _transient() -> tuple[type[BaseException], ...]:
    import botocore.exceptions as bx

    return (bx.IncompleteReadError, bx.ResponseStreamingError, bx.ReadTimeoutError, bx.ConnectionClosedError,
            bx.EndpointConnectionError, ConnectionError)


def fetch(s3, tree: Tree, record: Record, source: S3Source, obj: Listed, *, stop: threading.Event,
          bodies: Bodies, on_bytes) -> Fetched:
    """Download one object to its path, verified on the stream, written atomically; a Fetched whose
    `problem` says why when it could not be (the old local file, if any, is left as it was)."""
    folder, name = split_rel(obj.rel)
    transient = _transient()
    problem = "not fetched"
    try:
        with tree.folder(folder, create=True) as dfd:
            for attempt in range(1, ATTEMPTS + 1):
                if stop.is_set():
                    raise InterruptedError("stopped")
                f = tree.new_file(dfd, name)
                body = None
                try:
                    resp = s3.get_object(Bucket=source.bucket, Key=obj.key, ChecksumMode="ENABLED")
                    body = resp["Body"]
                    bodies.add(body)
                    headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                    length = resp.get("ContentLength")
                    v = Verifier(headers, int(length) if length is not None else None)
                    buf = bytearray(CHUNK)
                    view = memoryview(buf)
                    while True:
                        if stop.is_set():
                            raise InterruptedError("stopped")
                        n = body.readinto(buf)
                        if not n:
                            break
                        chunk = view[:n]
                        v.update(chunk)
                        f.write(chunk)
                        on_bytes(n)
                    problem = v.check()
                    etag = resp.get("ETag") or obj.etag
                    if problem is None and etag == obj.etag and v.size != obj.size:
                        # the object the listing saw (same ETag) cannot have another size
                        problem = f"received {v.size:,} bytes, the listing says {obj.size:,}"
                    if problem is None:
                        modified = resp.get("LastModified")
                        mtime = int(modified.timestamp() * 1e9) if modified else None
                        state = f.commit(mtime_ns=mtime)
                        record.put(obj.rel, _entry(source, obj, etag, v.method, v.value, v.size), state)
                        return Fetched(obj, v.size, v.method, None, tuple(v.unusable))
                    f.discard()
                except transient as e:
                    f.discard()
                    if stop.is_set():
                        raise InterruptedError("stopped") from None
                    problem = f"the transfer broke off ({type(e).__name__})"
                except errors() as e:
                    f.discard()
                    if is_code(e, "NoSuchKey", "404"):
                        return Fetched(obj, problem="deleted since it was listed")
                    if is_code(e, "AccessDenied", "403"):
                        return Fetched(obj, problem="access denied (s3:GetObject, or kms:Decrypt for an SSE-KMS "
                                                    "object); see `flowsql iam-policy --for pull`")
                    return Fetched(obj, problem=str(map_error(e, "fetching")).removeprefix("fetching: "))
                except BaseException:
                    f.discard()
                    raise
                finally:
                    if body is not None:
                        bodies.remove(body)
                        body.close()
    except UnsafePath as e:
        return Fetched(obj, problem=str(e))
    except OSError as e:
        if isinstance(e, InterruptedError):
            raise
        return Fetched(obj, problem=f"cannot write it: {e.strerror or e}")
    return Fetched(obj, problem=problem or "not fetched")


def make_client(aws, region: str | None, jobs: int):
    """An S3 client for `jobs` threads at once (botocore clients are thread-safe; the pool must be as
    wide as the threads, or they queue for connections). botocore's own response-checksum check is
    turned off for GetObject: flowsql checks every object itself, on the same bytes, once."""
    from botocore.config import Config

    from ..aws import client_config

    config = client_config().merge(Config(max_pool_connections=jobs + 4, tcp_keepalive=True))
    s3 = aws.session.client("s3", region_name=region or aws.region, config=config)
    s3.meta.events.register("before-call.s3.GetObject", _no_sdk_response_checksum)
    return s3


def _no_sdk_response_checksum(params, **_):
    # botocore would wrap the body in its own checksum for CRC32/SHA (and fail with a generic error);
    # Verifier computes the same checksum on the same chunks and says which object failed and why.
    checksum = (params.get("context") or {}).get("checksum")
    if isinstance(checksum, dict):
        checksum.pop("response_algorithms", None)


