"""`flowsql diagnose`: the troubleshooting runbook for one conversation."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import List, Optional

import typer

from .common import (AccountOpt, ListFormat, OutputFormat, RegionOpt, SinceOpt, Spinner, UntilOpt, app, command, ids,
                     note, out, print_rows, window)
from .engine_options import engine_options


@command(app, "diagnose")
@engine_options(exclude=("inventory",))
def diagnose_cmd(
    src: str = typer.Option(..., "--src", metavar="IP", help="The client: the address that sends the request."),
    dst: str = typer.Option(..., "--dst", metavar="IP", help="The server: the address the request goes to."),
    port: Optional[str] = typer.Option(None, "--port", metavar="N", help="The server's port."),
    protocol: Optional[str] = typer.Option(None, "--protocol", metavar="P", help="tcp, udp, icmp or a number."),
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine=None,
    inventory: Optional[Path] = typer.Option(
        None, "--inventory", "-i", metavar="DIR",
        help="Folder with network-interfaces.json, subnets.json, vpcs.json and, from `inventory sync`, "
             "security-groups.json, network-acls.json, route-tables.json (and dated snapshots): the path is "
             "then evaluated against them. Local engine or Athena."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="table or json."),
):
    """Why does SRC not reach DST? Reads both directions of the conversation and gives a verdict —
    rejected (request or response), one-way, no-records or accepted — with its evidence (the records,
    the ENI that logged them, when) and the next step to check. With an inventory that holds the
    security groups, network ACLs and route tables, the path is evaluated as AWS does and the
    resource and rule that decided are named (-o json: `cause`, `path`, `configuration`).

    Example: flowsql diagnose --src 10.0.1.5 --dst 10.0.2.9 --port 5432 --protocol tcp --engine local --source ./logs --inventory ./inv
    """
    from ..files import dumps_json

    from ..diagnose.records import QUERY, diagnose, parse_target
    from ..inventory import load_inventory
    from ..output import plain
    from ..pack.queries import get_query

    parse_target(src, dst, port, protocol)  # a malformed value is exit 2 before anything is read
    w = window(since, until)
    accounts = ids(account, "--account", "account_id")
    regions = ids(region, "--region", "region")
    joins = engine.spec.reads_inventory
    # an engine that does not join the inventory itself (Athena): it is read here, for the sides of the
    # conversation and its configuration
    inv = None if joins or inventory is None else load_inventory(inventory, window=w)
    eng = engine.create(window=w, accounts=accounts, regions=regions, inventory=inventory)
    try:
        with Spinner(f"reading the conversation {src} → {dst} on {engine.name} ({w.since} … {w.until})"):
            d = diagnose(eng, w, src=src, dst=dst, port=port, protocol=protocol, accounts=accounts,
                         regions=regions, inventory=getattr(eng, "inventory", None) if joins else inv)
    finally:
        eng.close()
    from ..engines import stats_lines

    for line in stats_lines(d.stats):
        note(line)
    if output is ListFormat.json:
        doc = d.to_dict()
        doc["evidence"] = [{k: plain(v) for k, v in r.items()} for r in doc["evidence"]]
        out(dumps_json(doc, indent=2))
        return
    width = 100
    out(f"verdict: {d.verdict}" + (f" ({d.direction})" if d.direction else ""))
    out(textwrap.fill(d.explanation, width) + "\n")
    out("next steps:")
    for i, step in enumerate(d.next_steps, 1):
        out(textwrap.fill(step, width, initial_indent=f"  {i}. ", subsequent_indent="     "))
    out("")
    if d.configuration is not None:
        snap = d.configuration["snapshot"]
        print_rows(["leg", "at", "step", "direction", "resource", "verdict", "rule"],
                   [(p["leg"], p["at"], p["step"], p["direction"], p["resource"], p["verdict"], _rule_text(p))
                    for p in d.path], OutputFormat.table,
                   title=f"path (the configuration in {snap['folder']}, {snap['day']}): cause {d.cause['kind']}")
        out("")
    if d.transit_gateway is not None:
        from ..diagnose.tgw import QUERY as TGW_QUERY

        tcols = ["direction", "tgw_id", "tgw_attachment_id", "flow_direction", "flows", "packets",
                 "packets_lost_no_route", "packets_lost_blackhole", "packets_lost_mtu_exceeded",
                 "packets_lost_ttl_expired"]
        print_rows(tcols, [tuple(r.get(c) for c in tcols) for r in d.transit_gateway["evidence"]], OutputFormat.table,
                   title=f"transit gateways (the {TGW_QUERY} query)")
        out("")
    columns = ["direction", "interface_id", "action", "protocol", "port", "flow_direction", "tcp_flags", "flows",
               "packets", "bytes", "first_seen", "last_seen"]
    print_rows(columns, [tuple(r.get(c) for c in columns) for r in d.evidence], OutputFormat.table,
               title="evidence (the conversation query; `flowsql render conversation` shows its SQL)",
               types=get_query(QUERY).columns)


def _rule_text(step: dict) -> str | None:
    """A path step's rule, short: a network ACL's number, what a security group matched, a route."""
    rule = step.get("rule")
    if not isinstance(rule, dict):
        return None
    if step["step"] == "network-acl":
        return f"{rule.get('RuleNumber')} {rule.get('RuleAction')}"
    if step["step"] == "security-group":
        return f"{rule.get('GroupId')}: {rule.get('matched')}"
    keys = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
    dest = next((rule[k] for k in keys if rule.get(k)), None)
    target = next((v for k, v in rule.items() if k not in (*keys, "State", "Origin")), None)
    return f"{dest} → {target}" + (" (blackhole)" if rule.get("State") == "blackhole" else "")
