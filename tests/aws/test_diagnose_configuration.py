"""`flowsql diagnose` with the network configuration: the security groups, network ACLs and route tables
built in the moto server and written by `inventory sync` (dated snapshots included), the records a
small hand-written flow-log tree holds; the cause and path the JSON gives, and where the records
and the configuration disagree."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from test_diagnose_path_aws import Net, tcp
from trees import write_log
from typer.testing import CliRunner

from flowsql.account.inventory_sync import sync
from flowsql.cli import app

DAY = date(2026, 6, 10)
ACCOUNT = "123456789012"
runner = CliRunner()


def line(eni, src, dst, sport, dport, action="ACCEPT", proto=6, day=DAY, packets=5):
    t = int(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc).timestamp())
    return f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} {proto} {packets} {packets * 60} {t} {t + 60} {action} OK"


@pytest.fixture
def net(boto):
    """app 10.0.1.5 → db 10.0.2.9 (PostgreSQL admitted from app's group), and a peered VPC's 10.9.1.20 that
    no route reaches."""
    n = Net(boto)
    n.subnet("app", "10.0.1.0/24")
    n.subnet("db", "10.0.2.0/24")
    n.sg_app = n.sg("app")
    n.sg_db = n.sg("db", ingress=[tcp(5432, group=n.sg_app)])
    n.app = n.eni("app", "10.0.1.5", [n.sg_app])
    n.db = n.eni("db", "10.0.2.9", [n.sg_db])
    other = boto.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    n.subnet("peer", "10.9.1.0/24", vpc=other)
    n.peer = n.eni("peer", "10.9.1.20", [n.sg("peer", ingress=[tcp(443, cidr="10.0.0.0/8")], vpc=other)])
    return n


def diagnose(tree, inv, src, dst, port, *extra, day=DAY, protocol="tcp"):
    args = ["diagnose", "--src", src, "--dst", dst, *(["--port", str(port)] if port is not None else []),
            *(["--protocol", protocol] if protocol else []), "--engine", "local", "--source", str(tree),
            "--inventory", str(inv), "--since", str(day), "--until", str(day), *extra]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout) if "-o" in extra else r.stdout


def records(tmp_path, *lines, day=DAY):
    tree = tmp_path / "logs"
    write_log(tree, "a.log.gz", list(lines) or [line("eni-other", "10.0.7.7", "10.0.7.8", 40000, 80)],
              account=ACCOUNT, day=day)
    return tree


def synced(aws, tmp_path, day=DAY):
    inv = tmp_path / "inv"
    sync(aws, inv, posture=False, today=day)
    return inv


def _cause(doc):
    return {k: doc["cause"][k] for k in ("kind", "resource", "rule", "direction")}


def test_a_network_acl_deny_rule_inbound(net, aws, tmp_path):
    acl = net.acl("db", [(90, False, "deny", "6", "10.0.1.0/24", (5432, 5432)),
                         (100, False, "allow", "-1", "0.0.0.0/0", None), (100, True, "allow", "-1", "0.0.0.0/0", None)])
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT"))
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert (doc["verdict"], doc["direction"]) == ("rejected", "request")
    assert _cause(doc) == {"kind": "network-acl", "resource": acl, "rule": 90, "direction": "inbound"}
    assert doc["configuration"]["agrees_with_records"] is True and doc["configuration"]["disagreements"] == []
    assert doc["configuration"]["snapshot"]["day"] == str(DAY) and doc["configuration"]["snapshot"]["dated"]
    assert [p["verdict"] for p in doc["path"]][:4] == ["allow", "allow", "allow", "deny"]
    assert "names what decides (network ACL, rule 90, inbound)" in doc["explanation"]
    assert f"{acl} " in doc["explanation"] and "rule 90 denies" in doc["explanation"]
    assert acl in doc["next_steps"][0] and "rule 90" in doc["next_steps"][0]
    # the evidence is still the records', with the client's port
    assert doc["evidence"][0]["client_port_min"] == doc["evidence"][0]["client_port_max"] == 45000


def test_a_missing_security_group_rule(net, aws, tmp_path):
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 6379, "REJECT"))
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", 6379, "-o", "json")
    assert _cause(doc) == {"kind": "security-group", "resource": net.sg_db, "rule": None, "direction": "inbound"}
    assert doc["configuration"]["agrees_with_records"] is True
    assert f"security group {net.sg_db}" in doc["next_steps"][0]


def test_a_reply_denied_by_a_network_acl_on_the_clients_port_from_the_records(net, aws, tmp_path):
    # db's subnet lets replies out to 32768-60999 only; this client uses 62011
    acl = net.acl("db", [(100, False, "allow", "-1", "0.0.0.0/0", None),
                         (100, True, "allow", "6", "10.0.0.0/16", (32768, 60999))])
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 62011, 5432, "ACCEPT"),
                   line(net.db, "10.0.2.9", "10.0.1.5", 5432, 62011, "REJECT"))
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert (doc["verdict"], doc["direction"]) == ("rejected", "response")
    assert _cause(doc) == {"kind": "network-acl", "resource": acl, "rule": 32767, "direction": "outbound"}
    assert doc["configuration"]["ephemeral_ports"]["basis"] == "records"
    assert doc["configuration"]["connection"]["client_ports"] == [[62011, 62011]]
    assert doc["configuration"]["agrees_with_records"] is True
    reply = [p for p in doc["path"] if p["leg"] == "reply" and p["step"] == "network-acl" and p["at"] == "destination"]
    assert reply[0]["verdict"] == "deny" and reply[0]["ports"][0]["from"] == 62011


def test_a_missing_route_without_records(net, aws, tmp_path):
    tree = records(tmp_path)  # other traffic only: nothing between the two
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.9.1.20", 443, "-o", "json")
    assert doc["verdict"] == "no-records"
    assert doc["cause"]["kind"] == "route" and doc["cause"]["resource"].startswith("rtb-")
    assert "no route to 10.9.1.20" in doc["cause"]["detail"]
    assert doc["configuration"]["agrees_with_records"] is None  # no records to agree or not
    assert doc["configuration"]["snapshot"]["day"] == str(DAY)  # the window's day: no records to be near
    assert "Fix the route in rtb-" in doc["next_steps"][0]


def test_all_allowed(net, aws, tmp_path):
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432),
                   line(net.db, "10.0.2.9", "10.0.1.5", 5432, 45000))
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert doc["verdict"] == "accepted"
    assert doc["cause"] == {**doc["cause"], "kind": "none", "resource": None, "rule": None, "direction": None}
    assert {p["verdict"] for p in doc["path"]} == {"allow"} and len(doc["path"]) == 8
    assert doc["configuration"]["agrees_with_records"] is True and "allows the whole path" in doc["explanation"]


def test_the_records_and_the_rules_disagree(net, aws, tmp_path):
    # the records say REJECT, the rules allow: the configuration may have changed
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT"))
    inv = synced(aws, tmp_path)
    doc = diagnose(tree, inv, "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert doc["cause"]["kind"] == "none" and doc["configuration"]["agrees_with_records"] is False
    [why] = doc["configuration"]["disagreements"]
    assert "REJECTed on " + net.db in why and "every rule" in why
    assert "disagree" in doc["explanation"] and "may have" in doc["explanation"]
    assert "CloudTrail" in doc["next_steps"][0]
    # the records say ACCEPT at the destination, the rules deny
    net.acl("db", [(100, True, "allow", "-1", "0.0.0.0/0", None)])  # nothing allowed in
    inv = synced(aws, tmp_path)
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432),
                   line(net.db, "10.0.2.9", "10.0.1.5", 5432, 45000))
    doc = diagnose(tree, inv, "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert doc["verdict"] == "accepted" and doc["cause"]["kind"] == "network-acl"
    assert doc["configuration"]["agrees_with_records"] is False
    assert any("ACCEPTed on " + net.db in w and "denies" in w for w in doc["configuration"]["disagreements"])


def test_the_snapshot_nearest_the_records_is_the_one_evaluated(net, aws, tmp_path, boto):
    before, after = DAY - timedelta(days=1), DAY + timedelta(days=3)
    acl = net.acl("db", [(90, False, "deny", "-1", "10.0.1.0/24", None), (100, False, "allow", "-1", "0.0.0.0/0", None),
                         (100, True, "allow", "-1", "0.0.0.0/0", None)])
    inv = synced(aws, tmp_path, day=before)
    boto.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=90, Egress=False)  # fixed afterwards
    sync(aws, inv, posture=False, today=after)
    # records of DAY: the day before is nearer than three days after
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT"))
    doc = diagnose(tree, inv, "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert doc["configuration"]["snapshot"]["day"] == str(before)
    assert _cause(doc) == {"kind": "network-acl", "resource": acl, "rule": 90, "direction": "inbound"}
    # the same REJECT two days later: the fixed snapshot is nearest, and it disagrees with the records
    later = DAY + timedelta(days=2)
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT", day=later), day=later)
    doc = diagnose(tree, inv, "10.0.1.5", "10.0.2.9", 5432, "-o", "json", day=later)
    assert doc["configuration"]["snapshot"]["day"] == str(after)
    assert doc["cause"]["kind"] == "none" and doc["configuration"]["agrees_with_records"] is False


def test_icmp_from_the_records_protocol(net, aws, tmp_path):
    # db's group admits no ICMP: ping is denied; the protocol is read from the records when not given
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 0, 0, "REJECT", proto=1))
    doc = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", None, "-o", "json", protocol=None)
    assert doc["configuration"]["connection"]["protocol"] == 1
    assert _cause(doc) == {"kind": "security-group", "resource": net.sg_db, "rule": None, "direction": "inbound"}
    assert "type 8 code 0" in doc["cause"]["detail"]


def test_the_table_output_shows_the_path(net, aws, tmp_path):
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 6379, "REJECT"))
    text = diagnose(tree, synced(aws, tmp_path), "10.0.1.5", "10.0.2.9", 6379)
    assert "path (the configuration in" in text and "cause security-group" in text
    assert net.sg_db in text and "10.0.0.0/16 → local" in text


def test_without_the_configuration_files_diagnose_is_as_before(net, aws, tmp_path):
    inv = synced(aws, tmp_path)
    for folder in (inv, inv / str(DAY)):
        for name in ("security-groups.json", "network-acls.json", "route-tables.json"):
            (folder / name).unlink()
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT"))
    doc = diagnose(tree, inv, "10.0.1.5", "10.0.2.9", 5432, "-o", "json")
    assert set(doc) == {"verdict", "direction", "explanation", "next_steps", "evidence", "sql"}
    assert "configuration" not in doc["explanation"]


def test_a_broken_configuration_file_is_an_error_naming_it(net, aws, tmp_path):
    inv = synced(aws, tmp_path)
    (inv / str(DAY) / "route-tables.json").write_text('{"RouteTables": [{"RouteTableId": "rtb-1"}]}')
    tree = records(tmp_path, line(net.db, "10.0.1.5", "10.0.2.9", 45000, 5432, "REJECT"))
    r = runner.invoke(app, ["diagnose", "--src", "10.0.1.5", "--dst", "10.0.2.9", "--port", "5432", "--engine", "local",
                            "--source", str(tree), "--inventory", str(inv), "--since", str(DAY), "--until", str(DAY)])
    assert r.exit_code == 2 and r.stdout == ""
    assert str(inv / str(DAY) / "route-tables.json") in r.stderr and "'VpcId'" in r.stderr


def test_on_athena_the_inventory_gives_the_configuration(net, boto, aws, moto, tmp_path):
    """Athena runs the conversation query (moto answers it with the queued rows); --inventory, read locally,
    gives the sides and the configuration."""
    from awsfixtures import REGION, log_key, make_flow_log, put_text_log
    from test_athena_engine import queue_result

    from flowsql.engines.athena import config as config_mod
    from flowsql.account.discovery import discover_flow_logs
    from flowsql.logs.fields import DEFAULT_FIELDS
    from flowsql.account.provision import apply, plan_setup

    fl = make_flow_log(boto, "logs", resource=net.vpc)
    put_text_log(boto, "logs", log_key("", ACCOUNT, REGION, DAY, fl), " ".join(DEFAULT_FIELDS))
    p = plan_setup(aws, discover_flow_logs(aws))
    apply(aws, p)
    config_mod.save(p.config)
    inv = synced(aws, tmp_path)
    t = int(datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=timezone.utc).timestamp())
    columns = [("direction", "varchar"), ("interface_id", "varchar"), ("action", "varchar"), ("protocol", "integer"),
               ("port", "integer"), ("flow_direction", "varchar"), ("tcp_flags", "integer"), ("flows", "bigint"),
               ("packets", "bigint"), ("bytes", "bigint"), ("first_seen", "bigint"), ("last_seen", "bigint"),
               ("client_port_min", "integer"), ("client_port_max", "integer")]
    queue_result(moto, columns, [["request", net.db, "REJECT", 6, 6379, None, None, 1, 5, 300, t, t + 60, 45000, 45000]])
    r = runner.invoke(app, ["diagnose", "--src", "10.0.1.5", "--dst", "10.0.2.9", "--port", "6379", "--protocol", "tcp",
                            "--engine", "athena", "--inventory", str(inv), "--since", str(DAY), "--until", str(DAY),
                            "-o", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["verdict"], doc["direction"]) == ("rejected", "request")
    assert "inbound at the destination" in doc["explanation"]  # the side, from the inventory
    assert _cause(doc) == {"kind": "security-group", "resource": net.sg_db, "rule": None, "direction": "inbound"}
    assert doc["configuration"]["agrees_with_records"] is True
