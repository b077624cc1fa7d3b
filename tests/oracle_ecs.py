"""Oracles of the ECS queries (docs/queries.md, "ECS"): plain Python over the generated records.

Imported by oracle.py, whose `@oracle` registers each function in ORACLES. The records of an ECS task
carry its cluster, service, task definition and task in the ecs-* fields (None where the format lacks
them or they are `-`); the generator's `Scenario(ecs=True)` writes such records.
"""

from __future__ import annotations

from collections import defaultdict

from oracle import _NullsLast, _selected, _sum, _vpc_networks, classify, oracle
from oracle_attribution import _header, _refuse_without


def destination(r: dict, vpc_networks) -> str:
    """docs/queries.md, ecs-service-traffic: aws-service, else vpc, else private, else internet."""
    if r["pkt_dst_aws_service"] is not None:
        return "aws-service"
    return classify(r["dstaddr"], vpc_networks)


@oracle("ecs-service-traffic", {})
def ecs_service_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    _refuse_without("flow-direction", records, since, until, accounts, regions)
    networks = _vpc_networks(inventory_dir, since, until)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "ACCEPT" or r["flow_direction"] != "egress" or r["ecs_cluster_name"] is None:
            continue
        key = (r["ecs_cluster_name"], r["ecs_service_name"], r["ecs_task_definition_arn"], destination(r, networks))
        groups[key].append(r)
    rows = [{"ecs_cluster": c, "ecs_service": s, "ecs_task_definition": td, "destination": d,
             "task_count": len({r["ecs_task_arn"] for r in rs if r["ecs_task_arn"] is not None}),
             "flows": len(rs), "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
            for (c, s, td, d), rs in groups.items()]
    rows.sort(key=lambda row: tuple(_NullsLast(row[k]) for k in
                                    ("ecs_cluster", "ecs_service", "ecs_task_definition", "destination")))
    rows.sort(key=lambda row: (row["bytes"] is None, -(row["bytes"] or 0)))
    return rows


@oracle("ecs-fields-empty", {})
def ecs_fields_empty(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    _refuse_without("ecs-cluster-name", records, since, until, accounts, regions)
    needed = ("log-status", "vpc-id", "interface-id", "ecs-cluster-name")
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if all(f in _header(r["file"]) for f in needed):  # the engines leave the other files out
            groups[(r["aws_account_id"], r["aws_region"], r["vpc_id"])].append(r)
    rows = [{"aws_account_id": a, "aws_region": g, "vpc_id": v, "flows": len(rs),
             "interfaces": len({r["interface_id"] for r in rs if r["interface_id"] is not None})}
            for (a, g, v), rs in groups.items() if all(r["ecs_cluster_name"] is None for r in rs)]
    rows.sort(key=lambda row: tuple(_NullsLast(row[k]) for k in ("aws_account_id", "aws_region", "vpc_id")))
    return rows
