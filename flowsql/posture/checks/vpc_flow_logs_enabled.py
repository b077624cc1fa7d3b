"""Every VPC has flow logging of ALL traffic that is active and delivering."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import Facts, flow_log_problems

META = CheckMeta(
    id="vpc_flow_logs_enabled",
    title="Every VPC logs ALL traffic, at VPC level or on every subnet or ENI, and the logs are delivered",
    severity="high",
    why="Flow logs are the evidence of what reached a VPC and what was turned away. A VPC without them "
        "cannot be explained after an incident; a REJECT-only log misses every accepted connection, "
        "which is what an investigation asks about first; a log that fails delivery records nothing.",
    remediation="aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC_ID --traffic-type ALL "
                "--log-destination-type s3 --log-destination arn:aws:s3:::BUCKET/PREFIX; for a failed "
                "delivery, fix the destination's permissions (DeliverLogsErrorMessage says which).",
    compliance=("CIS-1.2:2.9", "CIS-1.4:3.9", "CIS-1.5:3.9", "CIS-2.0:3.9", "CIS-3.0:3.7", "CIS-4.0:3.7",
                "CIS-5.0:3.7", "CIS-6.0:4.7", "AWS-FSBP:EC2.6"),
    iam_actions=("ec2:DescribeFlowLogs", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces"),
)


def run(facts: Facts):
    for vpc in facts.vpcs:
        cls = facts.data_class(vpc)
        if facts.exempt(vpc):
            yield facts.row(META.id, vpc, "skip", f"data class {cls.name} is exempt from flow logging", vpc=vpc)
            continue
        attached = facts.flow_logs_of(vpc)
        # an ALL-traffic log that is not active or not delivering (a second destination, say)
        failing = [p for fl, _ in attached if fl.get("TrafficType") == "ALL" for p in flow_log_problems(fl)]
        cover = facts.coverage(vpc)
        if cover.covered:
            if failing:
                yield facts.row(META.id, vpc, "alarm", f"ALL traffic logged {cover.how}, but "
                                + "; ".join(failing), vpc=vpc)
            else:
                ids = ", ".join(sorted({fl["FlowLogId"] for fl in cover.flow_logs})[:5])
                yield facts.row(META.id, vpc, "ok", f"ALL traffic logged {cover.how} ({ids})", vpc=vpc)
            continue
        yield facts.row(META.id, vpc, "alarm", _why_not(facts, vpc, attached), vpc=vpc)


def _why_not(facts: Facts, vpc: str, attached: list) -> str:
    if not attached:
        return "no flow log on the VPC, its subnets or its ENIs"
    on_vpc = [fl for fl, level in attached if level == "VPC"]
    problems = [p for fl in on_vpc for p in flow_log_problems(fl)]
    parts = []
    if problems:
        text = "; ".join(problems)
        if any(fl.get("TrafficType") == "REJECT" for fl in on_vpc):
            text += " (Security Hub EC2.6 passes a REJECT-only log; flowsql needs ALL traffic)"
        parts.append(text)
    subnets = facts.subnets_of.get(vpc, [])
    logged = [sn for sn in subnets if any(not flow_log_problems(fl) for fl in facts.flow_logs_on.get(sn, []))]
    if logged:
        missing = [sn for sn in subnets if sn not in logged]
        parts.append(f"ALL traffic logged on {len(logged)} of {len(subnets)} subnets; not on "
                     + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    if not parts:
        parts = [p for fl, _ in attached for p in flow_log_problems(fl)] or ["flow logs on some ENIs only"]
    return "; ".join(parts)
