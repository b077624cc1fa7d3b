"""S3 destinations archive flow logs and expire them no sooner than the VPC's data class needs."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import S3, Facts
from ..lifecycle import effective_lifecycle

META = CheckMeta(
    id="s3_flow_log_lifecycle",
    title="S3 flow-log destinations move objects to an archive class and expire them no sooner than the "
          "VPC's data class requires",
    severity="medium",
    why="Expiring too soon loses the evidence an auditor or a late-found incident needs (internal 90 days, "
        "production 180, critical 365 by default); no expiry grows the cost without end; no archive class "
        "pays Standard prices for logs nobody reads until they are needed.",
    remediation="aws s3api put-bucket-lifecycle-configuration --bucket BUCKET --lifecycle-configuration "
                "'{\"Rules\":[{\"ID\":\"flow-logs\",\"Status\":\"Enabled\",\"Filter\":{\"Prefix\":\"PREFIX/AWSLogs/\"},"
                "\"Transitions\":[{\"Days\":30,\"StorageClass\":\"GLACIER\"}],\"Expiration\":{\"Days\":365}}]}' "
                "(the days the VPCs' data classes need; merge with the bucket's other rules)",
    compliance=("AWS-FSBP:S3.13",),
    iam_actions=("ec2:DescribeFlowLogs", "s3:GetLifecycleConfiguration"),
)


def run(facts: Facts):
    for vpc in facts.vpcs:
        prefixes: dict[str, tuple] = {}
        for fl, _ in facts.flow_logs_of(vpc):
            dest = facts.destination(fl)
            if dest.kind == S3 and dest.bucket:
                prefixes.setdefault(dest.target, (dest, set()))[1].add(facts.object_prefix(dest, fl, vpc))
        cls = facts.data_class(vpc)
        for target, (dest, keys) in sorted(prefixes.items()):
            if facts.exempt(vpc):
                yield facts.row(META.id, target, "skip", f"data class {cls.name} is exempt", vpc=vpc)
                continue
            need = facts.policy.classes[cls.name].s3_min_days
            bucket = facts.bucket(dest.bucket)
            if bucket.lifecycle is None:
                yield facts.row(META.id, target, "alarm", f"no lifecycle configuration on {dest.bucket}: flow logs "
                                "are never archived nor expired (cost grows without end)", vpc=vpc)
                continue
            problems, summary = [], ""
            for key in sorted(keys):
                life = effective_lifecycle(bucket.lifecycle, key, facts.policy.archive_storage_classes)
                if not life.rules:
                    problems.append(f"no enabled lifecycle rule covers {key}")
                    continue
                summary = life.describe()
                if life.expire_date:
                    problems.append(f"objects expire on a fixed date ({life.expire_date}), not a number of days "
                                    "after delivery")
                elif life.expire_days is None:
                    problems.append("objects never expire (cost grows without end)")
                elif life.expire_days < need:
                    problems.append(f"objects expire after {life.expire_days} days; data class {cls.name} needs "
                                    f"at least {need} (too short loses evidence)")
                if life.archive is None:
                    problems.append("objects are not moved to an archive class ("
                                    + ", ".join(facts.policy.archive_storage_classes) + ")")
            if problems:
                yield facts.row(META.id, target, "alarm", "; ".join(dict.fromkeys(problems)), vpc=vpc)
            else:
                yield facts.row(META.id, target, "ok", f"{summary} (data class {cls.name}: at least {need} days)",
                                vpc=vpc)
