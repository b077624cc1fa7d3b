"""Every transit gateway's traffic is logged (and every attachment's own, where the policy asks)."""

from __future__ import annotations

from ..facts import Facts, region_of_arn
from ..model import CheckMeta

META = CheckMeta(
    id="tgw_flow_logs_enabled",
    title="Every transit gateway logs its traffic, on the transit gateway or on each attachment, and the "
          "logs are delivered",
    severity="medium",
    why="Traffic between VPCs, accounts and the offices crosses the transit gateway, and only its flow "
        "logs say what it dropped (no route, a blackhole route, too big for the VPN): a VPC's flow logs "
        "see the packets leave and never why they did not arrive.",
    remediation="aws ec2 create-flow-logs --resource-type TransitGateway --resource-ids TGW_ID "
                "--log-destination-type s3 --log-destination arn:aws:s3:::BUCKET/PREFIX (or "
                "--resource-type TransitGatewayAttachment --resource-ids TGW_ATTACHMENT_ID for one "
                "attachment); for a failed delivery, fix the destination's permissions.",
    compliance=(),
    iam_actions=("ec2:DescribeFlowLogs", "ec2:DescribeTransitGateways", "ec2:DescribeTransitGatewayAttachments"),
)

# gone, or never to carry traffic: nothing to log
_INACTIVE = ("deleted", "deleting", "failed", "failing", "rejected", "rejecting")


def run(facts: Facts):
    snap = facts.snapshot
    if snap.transit_gateways is None or snap.tgw_attachments is None:
        missing = [n for n, v in (("transit-gateways.json", snap.transit_gateways),
                                  ("transit-gateway-attachments.json", snap.tgw_attachments)) if v is None]
        yield facts.row(META.id, "transit gateways", "skip",
                        f"transit gateways not synced ({' and '.join(missing)} absent: a snapshot of an older "
                        "flowsql, or a describe call that failed); `flowsql inventory sync` writes them")
        return
    policy = facts.policy
    gateways = {g["TransitGatewayId"]: g for g in snap.transit_gateways if g.get("State") not in _INACTIVE}
    attachments: dict[str, list[dict]] = {}
    for a in sorted(snap.tgw_attachments, key=lambda a: a["TransitGatewayAttachmentId"]):
        if a.get("State") not in _INACTIVE:
            attachments.setdefault(a["TransitGatewayId"], []).append(a)
    # the snapshot's own account(s), by its VPCs' owners: a transit gateway another account shares
    # with this one (AWS RAM) is listed here too, but its flow logs are in its owner's snapshot
    owners = {v.get("OwnerId") for v in snap.vpcs if v.get("OwnerId")}
    for tgw_id in sorted(gateways):
        g = gateways[tgw_id]
        account, region = g.get("OwnerId"), region_of_arn(g.get("TransitGatewayArn"))
        if owners and account and account not in owners:
            yield facts.row(META.id, tgw_id, "skip", f"owned by account {account} and shared with this one: its "
                            "flow logs are in its owner's snapshot (sync that account too)", account=account,
                            region=region)
            continue
        if not policy.tgw_require_flow_logs:
            yield facts.row(META.id, tgw_id, "skip", "the policy does not require transit gateway flow logs "
                            "(transit_gateways.require_flow_logs: false)", account=account, region=region)
            continue
        own = _good(facts, tgw_id)
        mine = attachments.get(tgw_id, [])
        if own:
            yield facts.row(META.id, tgw_id, "ok", "logged on the transit gateway (every attachment's traffic: "
                            + ", ".join(fl["FlowLogId"] for fl in own[:5]) + ")", account=account, region=region)
        elif mine and all(_good(facts, a["TransitGatewayAttachmentId"]) for a in mine):
            yield facts.row(META.id, tgw_id, "ok", f"logged on every attachment ({len(mine)}); attachments made "
                            "later are not logged", account=account, region=region)
        else:
            yield facts.row(META.id, tgw_id, "alarm", _why_not(facts, tgw_id, mine), account=account, region=region)
        if policy.tgw_attachment_flow_logs:
            for a in mine:
                yield _attachment_row(facts, a, account, region)


def _attachment_row(facts: Facts, a: dict, owner: str | None, region: str | None):
    att = a["TransitGatewayAttachmentId"]
    what = f"{a.get('ResourceType') or 'attachment'} {a.get('ResourceId') or ''}".strip()
    account = a.get("ResourceOwnerId") or a.get("TransitGatewayOwnerId") or owner
    vpc = a.get("ResourceId") if a.get("ResourceType") == "vpc" else None
    own = _good(facts, att)
    if own:
        return facts.row(META.id, att, "ok", f"{what}: logged on the attachment ({own[0]['FlowLogId']})",
                         account=account, region=region, vpc=vpc)
    problems = [p for fl in facts.flow_logs_on.get(att, []) for p in problems_of(fl)]
    reason = "; ".join(problems) if problems else "no flow log on the attachment"
    return facts.row(META.id, att, "alarm", f"{what}: {reason} (transit_gateways.attachment_flow_logs asks for "
                     "one on every attachment; the transit gateway's own does not count)",
                     account=account, region=region, vpc=vpc)


def _why_not(facts: Facts, tgw_id: str, mine: list[dict]) -> str:
    problems = [p for fl in facts.flow_logs_on.get(tgw_id, []) for p in problems_of(fl)]
    parts = problems or ["no flow log on the transit gateway"]
    logged = [a for a in mine if _good(facts, a["TransitGatewayAttachmentId"])]
    if logged:
        missing = [a["TransitGatewayAttachmentId"] for a in mine if a not in logged]
        parts.append(f"logged on {len(logged)} of {len(mine)} attachments; not on "
                     + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    return "; ".join(parts)


def _good(facts: Facts, resource: str) -> list[dict]:
    return [fl for fl in facts.flow_logs_on.get(resource, []) if not problems_of(fl)]


def problems_of(fl: dict) -> list[str]:
    """Why a transit gateway's flow log records nothing: not active, not delivering. (A transit
    gateway's flow log has no traffic type: it logs every flow.)"""
    problems = []
    if fl.get("FlowLogStatus") != "ACTIVE":
        problems.append(f"{fl['FlowLogId']} is {fl.get('FlowLogStatus') or 'of unknown status'}, not ACTIVE")
    if fl.get("DeliverLogsStatus") != "SUCCESS":
        message = fl.get("DeliverLogsErrorMessage")
        problems.append(f"{fl['FlowLogId']} delivery {fl.get('DeliverLogsStatus') or 'status unknown'}"
                        + (f" ({message})" if message else ""))
    return problems
