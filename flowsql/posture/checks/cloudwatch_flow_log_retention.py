"""CloudWatch Logs groups that receive flow logs keep them a set, short time."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import CLOUDWATCH_LOGS, Facts, account_of_arn, region_of_arn

META = CheckMeta(
    id="cloudwatch_flow_log_retention",
    title="CloudWatch Logs groups receiving flow logs have a retention, within the policy's maximum",
    severity="medium",
    why="CloudWatch Logs is for the last days' troubleshooting and costs more to keep than S3. A group "
        "that never expires grows its bill without end and still is not the audit record (S3 is); "
        "the reference design keeps 7 to 30 days there.",
    remediation="aws logs put-retention-policy --log-group-name GROUP --retention-in-days 30 (or 7/14: at most "
                "the policy's cloudwatch_logs.max_retention_days)",
    compliance=("AWS-FSBP:CloudWatch.16",),
    iam_actions=("ec2:DescribeFlowLogs", "logs:DescribeLogGroups"),
)


def run(facts: Facts):
    groups: dict[str, tuple[dict, list]] = {}
    for vpc in facts.vpcs:
        for fl, _ in facts.flow_logs_of(vpc):
            if facts.destination(fl).kind != CLOUDWATCH_LOGS:
                continue
            _, vpcs = groups.setdefault(facts.group_key(fl), (fl, []))
            if vpc not in vpcs:
                vpcs.append(vpc)
    limit = facts.policy.cloudwatch_max_retention_days
    for key, (fl, vpcs) in sorted(groups.items()):
        g = facts.log_group(fl, vpcs[0])
        name = g["logGroupName"] if g else facts.destination(fl).target
        arn = (g.get("logGroupArn") or g.get("arn")) if g else fl.get("LogDestination")
        vpc = vpcs[0] if len(vpcs) == 1 else None
        who = f" (flow logs of {', '.join(vpcs)})" if len(vpcs) > 1 else ""
        where = dict(vpc=vpc, account=account_of_arn(arn) or (facts.account(vpc) if vpc else None),
                     region=region_of_arn(arn) or (facts.region(vpc) if vpc else None))
        if all(facts.exempt(v) for v in vpcs):
            yield facts.row(META.id, name, "skip", "receives flow logs of exempt VPCs only" + who, **where)
        elif g is None:
            yield facts.row(META.id, name, "alarm", "not in log-groups.json: the group does not exist yet (the "
                            "first delivery creates it without a retention, so it never expires) or belongs to "
                            "another account" + who, **where)
        elif g.get("retentionInDays") is None:
            yield facts.row(META.id, name, "alarm", f"never expires (no retention set); keep at most {limit} days "
                            "in CloudWatch Logs, the record belongs in S3 (Security Hub CloudWatch.16 passes "
                            "'Never expire', flowsql does not)" + who, **where)
        elif g["retentionInDays"] > limit:
            yield facts.row(META.id, name, "alarm", f"kept {g['retentionInDays']} days, more than the policy's "
                            f"{limit}: CloudWatch Logs is for the last days' troubleshooting, S3 keeps the record"
                            + who, **where)
        else:
            yield facts.row(META.id, name, "ok", f"kept {g['retentionInDays']} days (at most {limit})" + who,
                            **where)
