"""`--upload s3://bucket/prefix/`: the report's files to S3, each checked by its SHA-256.

Keys are PREFIX/YYYY-MM/report.{html,md,json}, so a monthly run keeps every month. Each object is
sent with its SHA-256 (ChecksumAlgorithm SHA256 and the ChecksumSHA256 value): S3 refuses an object
whose bytes do not match it, stores the checksum with the object, and returns it, which is compared
with ours. Only s3:PutObject is needed (the role `flowsql schedule --target eventbridge` makes has
no more).
"""

from __future__ import annotations

import base64
import hashlib

from ..aws import aws_errors, split_s3_uri
from ..errors import FlowsqlError
from .write import MEDIA_TYPES


def keys_for(location: str, month: str, names) -> tuple[str, dict[str, str]]:
    """(bucket, file name -> key); a UsageError for a location that is not s3://bucket[/prefix]."""
    bucket, prefix = split_s3_uri(location, "--upload")
    base = "/".join(p for p in (prefix.strip("/"), month) if p)
    return bucket, {name: f"{base}/{name}" for name in names}


def upload(aws, files: dict[str, bytes], location: str, month: str) -> list[dict]:
    """Put each file; returns [{uri, sha256}] (hex) in the order given."""
    bucket, keys = keys_for(location, month, files)
    s3 = aws.client("s3")
    done = []
    for name, data in files.items():
        digest = hashlib.sha256(data).digest()
        b64 = base64.b64encode(digest).decode()
        uri = f"s3://{bucket}/{keys[name]}"
        with aws_errors(f"uploading {uri}"):
            resp = s3.put_object(Bucket=bucket, Key=keys[name], Body=data, ContentType=MEDIA_TYPES[name],
                                 ChecksumAlgorithm="SHA256", ChecksumSHA256=b64)
        if resp.get("ChecksumSHA256") != b64:
            raise FlowsqlError(f"uploading {uri}: S3 answered checksum {resp.get('ChecksumSHA256')!r}, not the "
                               f"file's SHA-256 {b64!r}: the object cannot be trusted, upload again")
        done.append({"uri": uri, "sha256": digest.hex()})
    return done
