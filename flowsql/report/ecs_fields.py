"""The posture row that needs the records: a VPC whose flow log format has the ecs-* fields but whose
records of the month leave them all `-`.

`flowsql posture` reads the snapshot only, so it cannot tell; the report has both. When a flow log of
the snapshot asks for ecs-* fields, the posture section runs the query ecs-fields-empty and turns each
of its rows into an `info` row of the check below: AWS fills the fields only when the flow log may
call the ECS APIs it documents for them (or the VPC runs no ECS task, and the fields are rightly `-`).
"""

from __future__ import annotations

QUERY = "ecs-fields-empty"
# The calls AWS's "Flow log records" page names for the ecs-* fields: ListClusters for every one of
# them; ListContainerInstances for the container-instance fields, ListServices for the service,
# ListTaskDefinitions for the task definition, ListTasks for the task ARN and id.
ECS_ACTIONS = ("ecs:ListClusters", "ecs:ListContainerInstances", "ecs:ListServices", "ecs:ListTaskDefinitions",
               "ecs:ListTasks")
CHECK = {
    "id": "vpc_ecs_fields",
    "title": "A flow log that records the ecs-* fields can read ECS (from the month's records)",
    "severity": "low",
    "why": "A version 7 format with the ecs-* fields names the ECS cluster, service and task of every "
           "record, but only when the flow log may call ECS: without the permissions every field is `-`, "
           "and ECS traffic cannot be told apart by task or service.",
    "remediation": "Allow " + ", ".join(ECS_ACTIONS) + " to the flow log's IAM role (and the principal "
                   "that creates the flow log); a VPC that runs no ECS task needs nothing.",
    "compliance": [],
}


def _flow_logs(inv) -> list[dict]:
    """Every flow log of the posture snapshots (one, or a tree's: flowsql.posture.tree.Snapshots)."""
    return [fl for part in inv.parts for fl in part.snapshot.flow_logs]


def wanted(inv) -> bool:
    """Does any flow log of the snapshots ask for ecs-* fields?"""
    return any("${ecs-" in (fl.get("LogFormat") or "") for fl in _flow_logs(inv))


def rows(outcome, inv) -> list[dict]:
    """The posture info rows of the query's outcome (evaluated), one per VPC."""
    ecs_logs: dict[str, list[str]] = {}
    for fl in _flow_logs(inv):
        if "${ecs-" in (fl.get("LogFormat") or ""):
            ecs_logs.setdefault(fl.get("ResourceId"), []).append(fl.get("FlowLogId") or "?")
    out = []
    for r in outcome.rows:
        vpc = r["vpc_id"]
        logs = sorted(ecs_logs.get(vpc, []))
        which = f"its flow log {', '.join(logs)} records" if logs else "its records come from a format with"
        out.append({
            "check": CHECK["id"], "resource": vpc or "?", "status": "info",
            "reason": f"{which} the ecs-* fields, but none of its {r['flows']:,} records of the window names an "
                      f"ECS task (every field is -): ECS fields need the flow log's IAM role to allow "
                      f"{', '.join(ECS_ACTIONS)}; or the VPC runs no ECS task ({outcome.evidence})",
            "account": r["aws_account_id"], "region": r["aws_region"], "vpc": vpc,
        })
    return out
