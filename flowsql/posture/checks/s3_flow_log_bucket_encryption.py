"""The buckets flow logs are delivered to encrypt objects by default."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import Facts
from ._buckets import flow_log_buckets

META = CheckMeta(
    id="s3_flow_log_bucket_encryption",
    title="S3 buckets receiving flow logs have default encryption (SSE-KMS where the policy requires it)",
    severity="medium",
    why="Flow logs name every internal address, port and peer: a map of the network. They must be "
        "encrypted at rest; SSE-KMS adds a key policy and an audit trail of every read.",
    remediation="aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration "
                "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\","
                "\"KMSMasterKeyID\":\"KEY_ARN\"},\"BucketKeyEnabled\":true}]}' (with SSE-KMS, the flow-log "
                "delivery and Athena readers need the key: flowsql iam-policy --for query grants kms:Decrypt)",
    compliance=("AWS-FSBP:S3.17",),
    iam_actions=("ec2:DescribeFlowLogs", "s3:GetEncryptionConfiguration"),
)


def run(facts: Facts):
    kms_only = facts.policy.require_sse_kms
    for b in flow_log_buckets(facts):
        enc = facts.bucket(b.name).encryption
        algorithms = sorted({(r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "?")
                             for r in ((enc or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []})
        if b.exempt:
            yield facts.row(META.id, b.resource, "skip", "receives flow logs of exempt VPCs only", **b.where)
        elif not algorithms:
            yield facts.row(META.id, b.resource, "alarm", "no default encryption configured "
                            "(encryption.json absent)", **b.where)
        elif kms_only and not any(a.startswith("aws:kms") for a in algorithms):
            yield facts.row(META.id, b.resource, "alarm", f"default encryption {', '.join(algorithms)}; the policy "
                            "requires SSE-KMS (aws:kms)", **b.where)
        else:
            note = "" if kms_only or any(a.startswith("aws:kms") for a in algorithms) else \
                " (Security Hub S3.17 asks for SSE-KMS; the policy accepts SSE-S3)"
            yield facts.row(META.id, b.resource, "ok", f"default encryption {', '.join(algorithms)}{note}", **b.where)
