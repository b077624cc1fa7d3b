"""VPCs whose data class needs an audit record deliver their flow logs to S3."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import S3, Facts, flow_log_problems

META = CheckMeta(
    id="vpc_audit_copy_s3",
    title="VPCs whose data class needs an audit copy log ALL traffic to S3",
    severity="high",
    why="CloudWatch Logs is for the last days' troubleshooting and is kept short; S3 keeps the record "
        "an auditor or a late-found incident needs. By default production and critical VPCs need it.",
    remediation="Add a flow log to S3 beside the CloudWatch Logs one: aws ec2 create-flow-logs "
                "--resource-type VPC --resource-ids VPC_ID --traffic-type ALL --log-destination-type s3 "
                "--log-destination arn:aws:s3:::BUCKET/PREFIX",
    compliance=(),
    iam_actions=("ec2:DescribeFlowLogs", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
                 "ec2:DescribeNetworkInterfaces"),
)


def run(facts: Facts):
    for vpc in facts.vpcs:
        cls = facts.data_class(vpc)
        if facts.exempt(vpc):
            yield facts.row(META.id, vpc, "skip", f"data class {cls.name} is exempt from flow logging", vpc=vpc)
            continue
        rule = facts.policy.classes[cls.name]
        cover = facts.coverage(vpc, lambda fl: facts.destination(fl).kind == S3)
        targets = sorted({facts.destination(fl).target for fl in cover.flow_logs})
        if cover.covered:
            yield facts.row(META.id, vpc, "ok", f"ALL traffic to S3 {cover.how}: {', '.join(targets)}", vpc=vpc)
        elif rule.s3_copy:
            attached = [fl for fl, _ in facts.flow_logs_of(vpc)]
            to_s3 = [fl for fl in attached if facts.destination(fl).kind == S3]
            elsewhere = sorted({f"{d.kind} {d.target}" for d in map(facts.destination, attached) if d.kind != S3})
            if to_s3:
                problems = [p for fl in to_s3 for p in flow_log_problems(fl)]
                where = "its flow logs to S3 do not log all of its traffic" + (
                    f": {'; '.join(problems)}" if problems else " (not on every subnet or ENI)")
            elif elsewhere:
                where = f"its flow logs go only to {', '.join(elsewhere)}"
            else:
                where = "it has no flow log"
            yield facts.row(META.id, vpc, "alarm", f"data class {cls.name} needs an S3 copy of ALL traffic for "
                            f"audit; {where} (CloudWatch Logs alone is short-term)", vpc=vpc)
        else:
            yield facts.row(META.id, vpc, "ok", f"data class {cls.name} needs no S3 copy", vpc=vpc)
