"""The buckets flow logs are delivered to block public access."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import Facts
from ._buckets import flow_log_buckets

FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

META = CheckMeta(
    id="s3_flow_log_bucket_public_access",
    title="S3 buckets receiving flow logs block all public access (bucket-level Block Public Access)",
    severity="high",
    why="A public flow-log bucket publishes the network's map and its traffic. All four Block Public "
        "Access settings on the bucket stop an ACL or a bucket policy from ever making it public.",
    remediation="aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration "
                "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    compliance=("AWS-FSBP:S3.8",),
    iam_actions=("ec2:DescribeFlowLogs", "s3:GetBucketPublicAccessBlock"),
)


def run(facts: Facts):
    for b in flow_log_buckets(facts):
        pab = facts.bucket(b.name).public_access_block
        config = (pab or {}).get("PublicAccessBlockConfiguration") or {}
        off = [f for f in FLAGS if config.get(f) is not True]
        if b.exempt:
            yield facts.row(META.id, b.resource, "skip", "receives flow logs of exempt VPCs only", **b.where)
        elif pab is None:
            yield facts.row(META.id, b.resource, "alarm", "no Block Public Access configuration on the bucket "
                            "(public-access-block.json absent)", **b.where)
        elif off:
            yield facts.row(META.id, b.resource, "alarm", f"Block Public Access not on: {', '.join(off)}", **b.where)
        else:
            yield facts.row(META.id, b.resource, "ok", "all four Block Public Access settings on", **b.where)
