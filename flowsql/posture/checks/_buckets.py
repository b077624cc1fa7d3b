"""The S3 buckets the snapshot's flow logs deliver to (shared by the bucket checks)."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts import S3, Facts


@dataclass(frozen=True)
class FlowLogBucket:
    name: str
    resource: str  # s3://bucket
    vpcs: tuple[str, ...]
    exempt: bool  # every VPC delivering there is exempt
    where: dict  # account, region and vpc for the row: the delivering VPCs' when they agree


def flow_log_buckets(facts: Facts) -> list[FlowLogBucket]:
    found: dict[str, list[str]] = {}
    for vpc in facts.vpcs:
        for fl, _ in facts.flow_logs_of(vpc):
            dest = facts.destination(fl)
            if dest.kind == S3 and dest.bucket:
                vpcs = found.setdefault(dest.bucket, [])
                if vpc not in vpcs:
                    vpcs.append(vpc)
    out = []
    for name, vpcs in sorted(found.items()):
        accounts = {facts.account(v) for v in vpcs}
        regions = {facts.region(v) for v in vpcs}
        where = {"vpc": vpcs[0] if len(vpcs) == 1 else None,
                 "account": accounts.pop() if len(accounts) == 1 else None,
                 "region": regions.pop() if len(regions) == 1 else None}
        out.append(FlowLogBucket(name, f"s3://{name}", tuple(vpcs), all(facts.exempt(v) for v in vpcs), where))
    return out
