"""`--upload s3://bucket/prefix/`: the report's files to S3, each checked by its SHA-256.

Keys are PREFIX/YYYY-MM/report.{html,md,json}, so a monthly run keeps every month; a location
holding `{month}` (`s3://bucket/{month}/report/`) has it replaced by the month instead, as --out
does. Each object is sent with its SHA-256 (ChecksumAlgorithm SHA256 and the ChecksumSHA256 value):
S3 refuses an object whose bytes do not match it, stores the checksum with the object, and returns
it, which is compared with ours. Only s3:PutObject is needed (the role `flowsql schedule --target
eventbridge` makes has no more).

Before the month's queries run, `check_writable` puts one small object, `.flowsql-write-check`, where
the month's files go (as AWS Config checks a delivery bucket with its ConfigWritabilityCheckFile): a
bucket that does not exist or cannot be written is found before any work, not after it. The same
key is overwritten every run; without s3:DeleteObject it cannot be removed.

Each PutObject replaces its object whole, but three objects cannot be replaced at once: when one
fails, the error says which of the month's objects now hold this run's files and which were left as
they were (the local report is whole: `aws s3 cp` or a new run puts the rest).
"""

from __future__ import annotations

import base64
import hashlib

from ..aws import aws_errors, split_s3_uri
from ..errors import FlowsqlError
from .write import MEDIA_TYPES

CHECK_OBJECT = ".flowsql-write-check"
_CHECK_BODY = (b"flowsql report puts this object here before it runs a month's queries, to find out that it may "
               b"write the month's report here (a missing bucket or a denied s3:PutObject is found before any "
               b"work).\n")


def keys_for(location: str, month: str, names) -> tuple[str, dict[str, str]]:
    """(bucket, file name -> key); a UsageError for a location that is not s3://bucket[/prefix]."""
    if "{month}" in location:
        bucket, prefix = split_s3_uri(location.replace("{month}", month), "--upload")
        base = prefix.strip("/")
    else:
        bucket, prefix = split_s3_uri(location, "--upload")
        base = "/".join(p for p in (prefix.strip("/"), month) if p)
    return bucket, {name: f"{base}/{name}" if base else name for name in names}


def _put(s3, bucket: str, key: str, data: bytes, content_type: str) -> None:
    digest = hashlib.sha256(data).digest()
    b64 = base64.b64encode(digest).decode()
    uri = f"s3://{bucket}/{key}"
    with aws_errors(f"uploading {uri}"):
        resp = s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                             ChecksumAlgorithm="SHA256", ChecksumSHA256=b64)
    if resp.get("ChecksumSHA256") != b64:
        raise FlowsqlError(f"uploading {uri}: S3 answered checksum {resp.get('ChecksumSHA256')!r}, not the "
                           f"file's SHA-256 {b64!r}: the object cannot be trusted, upload again")


def check_writable(aws, location: str, month: str) -> str:
    """Put the check object where the month's files go; returns its URI. The AwsError of a bucket
    that does not exist or may not be written, before any query runs."""
    bucket, keys = keys_for(location, month, [CHECK_OBJECT])
    try:
        _put(aws.client("s3"), bucket, keys[CHECK_OBJECT], _CHECK_BODY, "text/plain; charset=utf-8")
    except FlowsqlError as e:
        raise type(e)(f"--upload {location}: cannot write there, so no query was run: "
                      f"{str(e).removeprefix('uploading ')}") from None
    return f"s3://{bucket}/{keys[CHECK_OBJECT]}"


def upload(aws, files: dict[str, bytes], location: str, month: str) -> list[dict]:
    """Put each file; returns [{uri, sha256}] (hex) in the order given. A failure names the objects
    this run replaced and those it left as they were."""
    bucket, keys = keys_for(location, month, files)
    s3 = aws.client("s3")
    done = []
    for name, data in files.items():
        try:
            _put(s3, bucket, keys[name], data, MEDIA_TYPES[name])
        except FlowsqlError as e:
            if not done:
                raise type(e)(f"{e}; nothing in S3 was replaced") from None
            left = ", ".join(f"s3://{bucket}/{keys[n]}" for n in list(files)[len(done):])
            raise type(e)(f"{e}; the month's objects in S3 are now a mix: {', '.join(d['uri'] for d in done)} "
                          f"hold this run's files, {left} do not") from None
        done.append({"uri": f"s3://{bucket}/{keys[name]}", "sha256": hashlib.sha256(data).hexdigest()})
    return done
