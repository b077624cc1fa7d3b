"""The exposure queries against their oracle (tests/oracle_exposure.py) for the parameter values the
20-window matrix of tests/test_oracle.py does not run, and checks that the generated traffic each
query exists to find reaches its results."""

import ipaddress
from datetime import timedelta

import pytest

import oracle
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.runner import run
from test_oracle import PLAIN_SCENARIO, START

WINDOW = Window(START, START + timedelta(days=8))

# Run once each, over the whole tree; the first case of each query is in ORACLES (the matrix).
EXTRA_CASES = [
    ("rejected-traffic", {"limit": "7"}),
    ("rejected-inbound-from-internet", {"limit": "3"}),
    ("admin-ports-from-internet", {"ports": "3389, 3306,6379"}),
    ("db-ports-from-internet", {"ports": "6379"}),
    ("port-scan-suspects", {}),
    ("port-scan-suspects", {"min_ports": "65536", "min_hosts": "4"}),
    ("large-egress-to-internet", {}),
    ("unusual-protocols", {"expected": "tcp, UDP, 1"}),
    ("unusual-protocols", {"expected": "gre, 6, 17, 1, 58"}),
]


@pytest.fixture(scope="module")
def tree(generated_tree):
    # the traffic of tests/test_oracle.py in AWS's spelling, one tree per session
    return generated_tree(PLAIN_SCENARIO)


def _run(tree, name, params):
    engine = LocalEngine(tree.root, WINDOW, inventory=load_inventory(tree.inventory_dir, window=WINDOW))
    try:
        return run(get_query(name), params, engine, WINDOW).result.records()
    finally:
        engine.close()


def _expected(tree, name, params):
    fn, _ = oracle.ORACLES[name]
    return fn(tree.records, tree.inventory_dir, params, since=WINDOW.since, until=WINDOW.until,
              accounts=None, regions=None)


@pytest.mark.parametrize("name,params", EXTRA_CASES, ids=[f"{n}-{'-'.join(p.values()) or 'defaults'}"
                                                          for n, p in EXTRA_CASES])
def test_parameters_against_oracle(tree, name, params):
    assert _run(tree, name, params) == _expected(tree, name, params)


def test_extra_cases_are_not_all_empty(tree):
    """Empty answers agree too easily: most of the extra cases must find something."""
    empty = [(n, p) for n, p in EXTRA_CASES if not _expected(tree, n, p)]
    assert empty == [("unusual-protocols", {"expected": "gre, 6, 17, 1, 58"})]


def _public(addr):
    a = ipaddress.ip_address(addr)
    return not any(a.version == n.version and a in n for n in oracle.PRIVATE_NETWORKS)


def test_the_traffic_each_query_looks_for_reaches_its_results(tree):
    def rows(name, **params):
        fn, _ = oracle.ORACLES[name]
        return fn(tree.records, tree.inventory_dir, params, since=WINDOW.since, until=WINDOW.until,
                  accounts=None, regions=None)

    inbound = rows("rejected-inbound-from-internet", limit="10000")
    assert any(":" in r["srcaddr"] for r in inbound), "IPv6 scanners"
    assert any(r["srcaddr"].startswith("198.51.100.") for r in inbound), "documentation ranges count as public"
    admin = rows("admin-ports-from-internet")
    assert {r["dstport"] for r in admin} == {22, 3389}
    db = rows("db-ports-from-internet")
    assert {r["dstport"] for r in db} == {3306, 6379}
    assert any(r["dstaddr"].startswith("100.64.") for r in db), "a node in a 100.64/10 subnet"
    scans = rows("port-scan-suspects", min_ports="3", min_hosts="3")
    assert any(not _public(r["srcaddr"]) for r in scans) and any(_public(r["srcaddr"]) for r in scans)
    assert any(r["flows"] > r["rejected_flows"] for r in scans), "a source with accepted traffic too"
    egress = rows("large-egress-to-internet", min_bytes="1")
    assert any(r["bytes"] > 2**32 for r in egress)
    nat = {e["NetworkInterfaceId"] for e in oracle._read(tree.inventory_dir, "network-interfaces.json")
           if e.get("InterfaceType") == "nat_gateway"}
    via_nat = {r["dstaddr"] for r in egress if r["interface_id"] in nat}
    assert via_nat & {r["dstaddr"] for r in egress if r["interface_id"] not in nat}, \
        "a transfer through a NAT gateway, seen on the sender's interface and on the gateway's"
    assert {r["protocol"] for r in rows("unusual-protocols")} == {47}


def test_rejected_replies_are_not_probes(tree):
    """A stateless network ACL rejects the bastion's SSH replies to many clients' ephemeral ports:
    counted as probes, the bastion would top port-scan-suspects (docs/queries.md)."""
    replies = [r for r in tree.records if r["action"] == "REJECT" and r["log_status"] == "OK"
               and r["srcport"] == 22 and WINDOW.since <= r["day"] <= WINDOW.until]
    assert len({r["dstport"] for r in replies}) > 10
    bastions = {r["srcaddr"] for r in replies}
    scans = oracle.ORACLES["port-scan-suspects"][0](tree.records, tree.inventory_dir, {"min_ports": "3",
                                                    "min_hosts": "3"}, since=WINDOW.since, until=WINDOW.until,
                                                    accounts=None, regions=None)
    assert not bastions & {r["srcaddr"] for r in scans}
