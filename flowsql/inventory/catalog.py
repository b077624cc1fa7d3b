"""The bucket settings of the posture snapshot: one row per `buckets/BUCKET/FILE`, read by both
sides of the snapshot, so that a setting is named once.

- `flowsql inventory sync` (flowsql.account.snapshot_sync) makes each row's AWS call for every
  flow-log bucket and writes the answer as FILE; an error code of `not_found` means "no such
  configuration": no file. Its IAM policy includes each row's `iam_action`.
- the posture loader (flowsql.posture.snapshot) reads FILE where it is, checks it against `spec`
  (flowsql.inventory.shapes) and puts it in the `field` of its Bucket; an absent file is None there.

Adding a setting is one row here (and the Bucket field it fills); tests/test_registries.py checks
that every row is complete, that its field is a Bucket field, and (tests/aws) that a sync against
the moto server writes it and the loader reads it back. The storage-size files
(`size-STORAGETYPE.json`, one CloudWatch call per storage type the bucket has) are not rows: their
number depends on the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .shapes import INTEGER, LONG, TAGS, TIME, Num, Req


@dataclass(frozen=True)
class BucketSetting:
    file: str  # buckets/BUCKET/FILE
    client: str  # the boto3 client
    method: str  # the boto3 method
    args: Callable[[str], dict]  # the call's keyword arguments, for a bucket name
    not_found: tuple[str, ...]  # the error codes that mean "no such configuration"
    spec: Any  # the document's shape, as the loader checks it
    field: str  # the flowsql.posture.snapshot.Bucket field it fills
    iam_action: str  # what the call needs
    cli: str  # the AWS CLI command printing the same document

    def __post_init__(self):
        missing = [f for f in ("file", "client", "method", "field", "iam_action", "cli") if not getattr(self, f)]
        if not self.file.endswith(".json") or "/" in self.file:
            missing.append("a file name NAME.json")
        if not callable(self.args):
            missing.append("args (bucket name -> the call's arguments)")
        if not self.not_found or not all(isinstance(c, str) and c for c in self.not_found):
            missing.append("not_found (the error codes of an absent configuration)")
        if self.spec is None:
            missing.append("spec")
        if missing:
            raise ValueError(f"bucket setting {self.file or '?'}: {', '.join(missing)} missing or wrong")


def _bucket(name: str) -> dict:
    return {"Bucket": name}


_OBJECT_SIZE = Num(f"an object size in bytes (a whole number from 0 to {LONG})", low=0, high=LONG)
# S3: a transition may be 0 days after creation; an expiry must be a non-zero positive integer
_TRANSITION_DAYS = Num(f"a number of days (a whole number from 0 to {INTEGER})", low=0, high=INTEGER)
_EXPIRATION_DAYS = Num(f"a number of days (a whole number from 1 to {INTEGER}: S3 takes no expiry of 0 days)",
                       low=1, high=INTEGER)
_TRANSITION = {"Days": _TRANSITION_DAYS, "Date": TIME, "StorageClass": str}
_FILTER = {"Prefix": str, "Tag": {"Key": str, "Value": str}, "ObjectSizeGreaterThan": _OBJECT_SIZE,
           "ObjectSizeLessThan": _OBJECT_SIZE,
           "And": {"Prefix": str, "Tags": TAGS, "ObjectSizeGreaterThan": _OBJECT_SIZE,
                   "ObjectSizeLessThan": _OBJECT_SIZE}}

BUCKET_SETTINGS = (
    BucketSetting(
        file="lifecycle.json", client="s3", method="get_bucket_lifecycle_configuration", args=_bucket,
        not_found=("NoSuchLifecycleConfiguration",),
        spec={"Rules": Req([{"ID": str, "Status": Req(str), "Prefix": str, "Filter": _FILTER,
                             "Transitions": [_TRANSITION], "Transition": _TRANSITION,
                             "Expiration": {"Days": _EXPIRATION_DAYS, "Date": TIME,
                                            "ExpiredObjectDeleteMarker": bool}}])},
        field="lifecycle", iam_action="s3:GetLifecycleConfiguration",
        cli="aws s3api get-bucket-lifecycle-configuration"),
    BucketSetting(
        file="encryption.json", client="s3", method="get_bucket_encryption", args=_bucket,
        not_found=("ServerSideEncryptionConfigurationNotFoundError",),
        spec={"ServerSideEncryptionConfiguration": Req({"Rules": Req([{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": Req(str), "KMSMasterKeyID": str},
            "BucketKeyEnabled": bool}])})},
        field="encryption", iam_action="s3:GetEncryptionConfiguration", cli="aws s3api get-bucket-encryption"),
    BucketSetting(
        file="public-access-block.json", client="s3", method="get_public_access_block", args=_bucket,
        not_found=("NoSuchPublicAccessBlockConfiguration",),
        spec={"PublicAccessBlockConfiguration": Req({
            "BlockPublicAcls": bool, "IgnorePublicAcls": bool, "BlockPublicPolicy": bool,
            "RestrictPublicBuckets": bool})},
        field="public_access_block", iam_action="s3:GetBucketPublicAccessBlock",
        cli="aws s3api get-public-access-block"),
)


def check(rows=BUCKET_SETTINGS) -> None:
    """The table as a whole: one row per file and per field (each row checks itself when made)."""
    for attr in ("file", "field"):
        values = [getattr(r, attr) for r in rows]
        if len(set(values)) != len(values):
            raise ValueError(f"bucket settings: two rows with the same {attr}")


check()
