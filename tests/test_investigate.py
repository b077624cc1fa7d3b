"""`flowsql investigate` on generated trees: every figure of the case file against the plain-Python oracle
(tests/oracle_case.py) for IPv4 and IPv6 addresses, CIDR blocks and ENIs (default and custom formats), an
ENI only a dated snapshot has, case.json against its schema, the evidence re-run, byte-identical runs,
hostile data escaped, what is refused and what is said."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import shlex
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import oracle
import oracle_case
from flowsql.cli import app
from flowsql.engines.local.engine import LocalEngine
from flowsql.investigate import SCHEMA_PATH
from flowsql.pack.params import Window
from test_oracle import PLAIN_SCENARIO, START

SINCE, UNTIL = START + timedelta(days=2), START + timedelta(days=5)
FILES = ("case.html", "case.md", "case.json")


@pytest.fixture(scope="module")
def tree(generated_tree):
    # the traffic of tests/test_oracle.py in AWS's spelling, one tree per session
    return generated_tree(PLAIN_SCENARIO)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def investigate(tree, subject, out, *more, inventory=True, since=SINCE, until=UNTIL):
    args = ["investigate", subject, "--engine", "local", "--source", tree.root, "--since", since, "--until", until,
            "--out", out, *more]
    if inventory:
        args += ["--inventory", tree.inventory_dir]
    return invoke(*args)


def _busiest(tree, column, region, ipv6=False, where=lambda r: True):
    counts = Counter(r[column] for r in oracle._selected(tree.records, SINCE, UNTIL, None, [region])
                     if r[column] is not None and (":" in r[column]) == ipv6 and where(r))
    return min(counts, key=lambda v: (-counts[v], v))


def _inventory_ids(folder: Path) -> set[str]:
    return {e["NetworkInterfaceId"] for e in json.loads((folder / "network-interfaces.json").read_text())["NetworkInterfaces"]}


def _retired(tree) -> str:
    """The busiest ENI that only the dated snapshot has (one per account and region)."""
    [dated] = [p for p in tree.inventory_dir.iterdir() if p.is_dir() and p.name[:2] == "20"]
    gone = _inventory_ids(dated) - _inventory_ids(tree.inventory_dir)
    return _busiest(tree, "interface_id", "us-east-1", where=lambda r: r["interface_id"] in gone)


def _eni_addresses(tree, eni) -> str | None:
    found = oracle_case.attribution(tree.inventory_dir, SINCE, UNTIL)
    if eni not in found:
        return None
    ips = set()
    for folder in oracle._folders(tree.inventory_dir, SINCE, UNTIL):
        path = folder / "network-interfaces.json"
        for e in json.loads(path.read_text())["NetworkInterfaces"]:
            if e["NetworkInterfaceId"] == eni:
                ips |= oracle._eni_ips(e)
    return ",".join(sorted(ips))


def subjects(tree) -> dict:
    """kind -> (SUBJECT, the oracle's kind and parameters)."""
    not_ecs = lambda r: r["version"] != 7  # noqa: E731  (the ECS VPCs' records: their own subject)
    v4 = _busiest(tree, "srcaddr", "us-east-1", where=not_ecs)
    v6 = _busiest(tree, "srcaddr", "eu-west-1", ipv6=True)
    custom_eni = _busiest(tree, "interface_id", "eu-west-1")  # v5 format: flow-direction says the side
    inventory = _inventory_ids(tree.inventory_dir)
    default_eni = _busiest(tree, "interface_id", "us-east-1",
                           where=lambda r: r["interface_id"] in inventory and not_ecs(r))
    ghost = _busiest(tree, "interface_id", "us-east-1",
                     where=lambda r: not_ecs(r) and r["interface_id"] not in inventory | _inventory_ids(
                         next(p for p in tree.inventory_dir.iterdir() if p.is_dir() and p.name[:2] == "20")))
    ecs_task = _busiest(tree, "srcaddr", "us-east-1", where=lambda r: r["ecs_service_name"] == "orders-api")
    block6 = str(ipaddress.ip_network(f"{v6}/64", strict=False))
    retired = _retired(tree)
    out = {
        "ipv4": (v4, "address", {"address": v4}),
        "ipv6": (v6.upper(), "address", {"address": v6}),  # any spelling: the case names it compressed
        "cidr4": ("10.11.10.0/24", "cidr", {"block": "10.11.10.0/24"}),
        "cidr6": (block6, "cidr", {"block": block6}),
        "eni-custom": (custom_eni, "eni", {"eni": custom_eni}),
        "eni-default": (default_eni, "eni", {"eni": default_eni}),
        "eni-ghost": (ghost, "eni", {"eni": ghost}),
        "eni-retired": (retired, "eni", {"eni": retired}),
        "ecs-task": (ecs_task, "address", {"address": ecs_task}),
    }
    for name, (_, kind, params) in out.items():
        if kind == "eni":
            addresses = _eni_addresses(tree, params["eni"])
            if addresses:
                params["addresses"] = addresses
    return out


KINDS = ["ipv4", "ipv6", "cidr4", "cidr6", "eni-custom", "eni-default", "eni-ghost", "eni-retired", "ecs-task"]


@pytest.fixture(scope="module")
def cases(tree, tmp_path_factory):
    """Every subject's case, made once through the CLI: name -> (case.json, the result, out folder, oracle)."""
    base = tmp_path_factory.mktemp("cases")
    made = {}
    for name, (subject, kind, params) in subjects(tree).items():
        out = base / name
        r = investigate(tree, subject, out, "-o", "json")
        want = oracle_case.case_file(tree.records, tree.inventory_dir, kind, params, SINCE, UNTIL)
        made[name] = (json.loads(r.stdout) if r.exit_code == 0 else None, r, out, want)
    return made


@pytest.mark.parametrize("name", KINDS)
def test_the_figures_equal_the_oracle(cases, name):
    case, r, out, want = cases[name]
    assert r.exit_code == 0, (r.stdout[-2000:], r.stderr)
    assert case == json.loads((out / "case.json").read_text())  # -o json prints case.json itself
    assert want["records"] > 0, "a subject without records proves little"
    s = case["summary"]
    assert (case["first_seen"], case["last_seen"]) == (want["first_seen"], want["last_seen"])
    assert {k: s[k] for k in ("records", "bytes", "bytes_sent", "bytes_received", "rejected_flows")} == {
        k: want[k] for k in ("records", "bytes", "bytes_sent", "bytes_received", "rejected_flows")}
    assert s["seen"] and s["evaluated"] and s["exit_code"] == 0
    got_peers = [{k: p[k] for k in want["peers"][0]} for p in case["peers"]["rows"]] if want["peers"] else []
    assert got_peers == want["peers"]
    got = {i["interface_id"]: i for i in case["interfaces"]["rows"]}
    assert set(got) == set(want["interfaces"])
    for eni, w in want["interfaces"].items():
        g = got[eni]
        inv = g["inventory"] or {}
        assert {k: g[k] for k in ("flows", "bytes", "flows_sent", "flows_received", "first_seen", "last_seen")} == {
            k: w[k] for k in ("flows", "bytes", "flows_sent", "flows_received", "first_seen", "last_seen")}, eni
        assert (inv.get("found_in"), inv.get("snapshots", []), inv.get("subnet_id"), inv.get("vpc_id"),
                inv.get("interface_type"), inv.get("instance_id")) == (
            w["found_in"], w["snapshots"], w["subnet_id"], w["vpc_id"], w["interface_type"], w["instance_id"]), eni
    net = case["internet"]
    assert {k: net[k] for k in want["internet"]} == want["internet"]
    assert s["bytes_to_internet"] == want["internet"]["bytes_sent"]
    rejected = Counter()
    for row in case["rejected"]["rows"]:
        rejected[(row["address"], row["direction"], row["port"], row["protocol"])] += row["flows"]
    assert dict(rejected) == want["rejected"]
    got_hours = [{k: h[k] for k in want["timeline"][0]} for h in case["timeline"]["rows"]]
    assert got_hours == want["timeline"]
    assert case["ecs_tasks"]["rows"] == want["ecs_tasks"]


def test_the_subjects_reach_what_the_case_is_for(cases):
    """What would make the comparisons weak if it were absent."""
    v4 = cases["ipv4"][0]
    assert v4["internet"]["bytes_sent"] and v4["rejected"]["flows"] and len(v4["timeline"]["rows"]) > 24
    assert {p["network"] for p in v4["peers"]["rows"]} == {"vpc", "private", "internet"}
    assert {p["direction"] for p in v4["peers"]["rows"]} == {"outbound", "inbound"}
    assert any(i["inventory"] and i["inventory"]["in_latest"] for i in v4["interfaces"]["rows"])
    v6 = cases["ipv6"][0]
    assert v6["subject"]["ip_version"] == 6 and v6["subject"]["value"] == str(ipaddress.ip_address(
        v6["subject"]["value"].upper())), "named compressed and in lower case, as flow logs write it"
    cidr = cases["cidr4"][0]
    assert any(p["address"] and ipaddress.ip_address(p["address"]) in ipaddress.ip_network("10.11.10.0/24")
               for p in cidr["peers"]["rows"]), "traffic inside the block: both directions of one record"
    assert len(cidr["interfaces"]["rows"]) > 2
    # the default format has no flow-direction: the ENI's addresses from the inventory tell the side
    default = cases["eni-default"][0]
    assert default["evidence"]["queries"][0]["parameters"]["addresses"]
    assert default["peers"]["rows"] and not default["undirected"]["rows"]
    custom = cases["eni-custom"][0]
    assert {p["direction"] for p in custom["peers"]["rows"]} == {"outbound", "inbound"}
    # an ENI no inventory folder has, in a format without flow-direction: no side is known, and said
    ghost = cases["eni-ghost"][0]
    assert not ghost["peers"]["rows"] and ghost["undirected"]["flows"] == ghost["summary"]["records"] > 0
    assert ghost["interfaces"]["rows"][0]["inventory"] is None
    assert "undirected" not in v4
    # an ECS task's address: its own task named (cluster, service, task id), and the task it calls
    ecs = cases["ecs-task"][0]
    named = {(t["cluster"], t["service"]) for t in ecs["ecs_tasks"]["rows"]}
    assert ("prod", "orders-api") in named and ("prod", "payments-worker") in named
    assert all(t["task_arn"].endswith("/" + t["task_id"]) for t in ecs["ecs_tasks"]["rows"])
    assert any(((i["inventory"] or {}).get("attached_to") or "").startswith("an ECS task (ENI attachment ")
               for i in ecs["interfaces"]["rows"]), "the task's ENI as ECS describes it"
    md = (cases["ecs-task"][2] / "case.md").read_text()
    assert ecs["ecs_tasks"]["rows"][0]["task_id"] in md


def test_an_eni_only_a_dated_snapshot_has_is_attributed_and_said(cases, tree):
    """Lambda deleted the nightly-report function's ENI half-way: the latest inventory lacks it, the
    snapshot of the first day has it."""
    case = cases["eni-retired"][0]
    [row] = case["interfaces"]["rows"]
    inv = row["inventory"]
    assert inv["found_in"] == START.isoformat() and not inv["in_latest"] and inv["snapshots"] == [START.isoformat()]
    assert inv["lambda_function"] == "nightly-report" and inv["attached_to"] == "Lambda function nightly-report"
    html = (cases["eni-retired"][2] / "case.html").read_text()
    md = (cases["eni-retired"][2] / "case.md").read_text()
    for text in (html, md):
        assert f"only in the snapshot {START.isoformat()} (deleted since)" in text
    # and as a peer's interface: the retired function's address, seen by its ENI and the NAT gateway's
    address = inv["addresses"][0]
    r = investigate(tree, address, cases["eni-retired"][2].parent / "retired-address", "-o", "json")
    assert r.exit_code == 0, r.output
    rows = {i["interface_id"]: i for i in json.loads(r.stdout)["interfaces"]["rows"]}
    assert rows[row["interface_id"]]["inventory"]["found_in"] == START.isoformat()
    assert any(i["inventory"] and i["inventory"]["interface_type"] == "nat_gateway" for i in rows.values())


def test_case_json_validates_against_its_schema(cases):
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in KINDS:
        validator.validate(cases[name][0])
    data = cases["ipv4"][0]
    bad = json.loads(json.dumps(data))
    bad["peers"]["rows"][0]["direction"] = "sideways"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(data))
    del bad["evidence"]["inputs"][0]["sha256"]
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(data))
    bad["first_seen"] = 1790000000  # times are ISO 8601 text
    assert not validator.is_valid(bad)


def sha256_rows(rows: list[dict]) -> str:
    """The canonical form as the README puts it, written here independently."""
    text = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_evidence_is_the_sql_as_it_ran_and_reruns(cases, tree):
    case = cases["cidr4"][0]
    [e] = case["evidence"]["queries"]
    assert e["query"] == "case-cidr" and e["parameters"] == {"block": "10.11.10.0/24"} and e["engine"] == "local"
    assert e["files_read"] > 0 and e["row_count"] > 0
    w = Window(SINCE, UNTIL)
    engine = LocalEngine(tree.root, w)
    try:
        result = engine.execute(e["sql"])
    finally:
        engine.close()
    assert sha256_rows([dict(zip(result.columns, r)) for r in result.rows]) == e["rows_sha256"]
    argv = shlex.split(e["command"])
    assert argv[:3] == ["flowsql", "query", "case-cidr"]
    r = CliRunner().invoke(app, argv[1:])
    assert r.exit_code == 0, r.output
    assert sha256_rows(json.loads(r.stdout)) == e["rows_sha256"]
    # every file read, with its SHA-256, and the inventory's files
    inputs = case["evidence"]["inputs"]
    logs = [i for i in inputs if i["root"] == "source"]
    assert len(logs) == e["files_read"] and sum(i["bytes"] for i in logs) == e["bytes_read"]
    for i in inputs:
        root = tree.root if i["root"] == "source" else tree.inventory_dir
        assert hashlib.sha256((root / i["path"]).read_bytes()).hexdigest() == i["sha256"], i["path"]
    assert {i["path"] for i in inputs if i["root"] == "inventory"} == {
        "network-interfaces.json", "vpcs.json", f"{START}/network-interfaces.json", f"{START}/vpcs.json"}
    # and the command that makes the case again
    argv = shlex.split(case["evidence"]["command"])
    assert argv[:3] == ["flowsql", "investigate", "10.11.10.0/24"] and "--inventory" in argv


def test_a_second_run_is_byte_identical(cases, tree, tmp_path):
    _, _, out, _ = cases["ipv4"]
    first = {f: (out / f).read_bytes() for f in FILES}
    subject = cases["ipv4"][0]["subject"]["value"]
    (out / "notes.txt").write_text("mine")
    r = investigate(tree, subject, out)
    assert r.exit_code == 0, r.output
    for f in FILES:
        assert (out / f).read_bytes() == first[f], f
    assert (out / "notes.txt").read_text() == "mine"  # only the case's three files are replaced
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_html_is_self_contained_and_prints_the_sql(cases):
    html = (cases["ipv4"][2] / "case.html").read_text()
    assert "<script" not in html.lower() and "Content-Security-Policy" in html
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", html), "nothing to fetch"
    assert html.count("<svg") >= 2 and "Bytes per hour (UTC)" in html
    assert '<div class="print-only">' in html and "SQL as it ran" in html and "@media print" in html
    sql = cases["ipv4"][0]["evidence"]["queries"][0]["sql"]
    assert sql.split("\n")[0].replace("'", "&#x27;") in html


def test_the_table_summary(tree, tmp_path):
    subject = _busiest(tree, "dstaddr", "us-east-1")
    r = investigate(tree, subject, tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"case: IPv4 address {subject}\n") and "top peers by bytes" in r.stdout
    assert "first seen" in r.stdout and "bytes to the internet" in r.stdout
    assert f"wrote {tmp_path / 'out' / 'case.html'}" in r.stderr and "read " in r.stderr


# --- what is said, refused, not evaluated -------------------------------------------------------------

def test_without_an_inventory_the_interfaces_are_not_evaluated_the_rest_is(tree, tmp_path):
    subject = _busiest(tree, "srcaddr", "us-east-1")
    r = investigate(tree, subject, tmp_path / "out", "-o", "json", inventory=False)
    assert r.exit_code == 0, r.output
    case = json.loads(r.stdout)
    assert not case["interfaces"]["evaluated"] and "--inventory" in case["interfaces"]["reason"]
    assert all(i["inventory"] is None for i in case["interfaces"]["rows"]) and case["interfaces"]["rows"]
    assert {p["network"] for p in case["peers"]["rows"]} <= {"private", "internet"}
    assert {n["section"] for n in case["not_evaluated"]} == {"interfaces", "peers"}
    want = oracle_case.case_file(tree.records, tree.inventory_dir, "address", {"address": subject}, SINCE, UNTIL,
                                 with_inventory=False)
    assert [{k: p[k] for k in want["peers"][0]} for p in case["peers"]["rows"]] == want["peers"]
    assert "not evaluated: interfaces/inventory" in r.stderr
    assert "Not attributed: no --inventory was given" in (tmp_path / "out" / "case.md").read_text()


def test_an_inventory_folder_without_the_eni_file_is_not_evaluated(tree, tmp_path):
    import shutil

    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    (inv / "network-interfaces.json").unlink()
    subject = _busiest(tree, "srcaddr", "us-east-1")
    r = invoke("investigate", subject, "--engine", "local", "--source", tree.root, "--inventory", inv,
               "--since", SINCE, "--until", UNTIL, "--out", tmp_path / "out", "-o", "json")
    assert r.exit_code == 0, r.output
    case = json.loads(r.stdout)
    assert not case["interfaces"]["evaluated"]
    assert str(inv / "network-interfaces.json") in case["interfaces"]["reason"]
    assert case["peers"]["vpc_evaluated"]  # vpcs.json is there: the peers are classified with it


def test_a_subject_without_records_is_said_and_exits_0(tree, tmp_path):
    r = investigate(tree, "203.0.113.99", tmp_path / "out", "-o", "json")
    assert r.exit_code == 0, r.output
    case = json.loads(r.stdout)
    s = case["summary"]
    assert s["evaluated"] and not s["seen"] and s["records"] == 0 and s["files_read"] > 0
    assert case["first_seen"] is None and case["peers"]["rows"] == [] and case["timeline"]["rows"] == []
    for f in ("case.html", "case.md"):
        assert "No record of 203.0.113.99 in the window" in (tmp_path / "out" / f).read_text()


def test_a_window_without_logs_is_not_evaluated_and_exits_1(tree, tmp_path):
    far = START + timedelta(days=100)
    r = investigate(tree, "10.11.10.5", tmp_path / "out", "-o", "json", since=far, until=far)
    assert r.exit_code == 1, r.output
    case = json.loads((tmp_path / "out" / "case.json").read_text())
    assert not case["summary"]["evaluated"] and case["summary"]["reason"].startswith("no log files in ")
    assert "NOT EVALUATED" in (tmp_path / "out" / "case.html").read_text()
    assert "NOT EVALUATED" in r.stderr


@pytest.mark.parametrize("subject", ["foo", "10.0.0.300", "10.0.0.0/33", "eni-xyz", "fe80::1%eth0", "", "i-0123456789abcdef0",
                                     "10.0.0.1; DROP TABLE x"])
def test_a_bad_subject_is_one_line_exit_2_and_writes_nothing(tree, tmp_path, subject):
    r = investigate(tree, subject, tmp_path / "out")
    assert r.exit_code == 2, r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("flowsql: error: SUBJECT: expected an IPv4 or IPv6 address, "
                                                   "a CIDR block"), r.stderr
    assert not (tmp_path / "out").exists()


def test_bad_options_are_exit_2_before_any_query(tree, tmp_path):
    (tmp_path / "file").write_text("x")
    for args, text in ((["--out", tmp_path / "file"], "is a file, not a folder"),
                       (["--inventory", tmp_path / "nope"], "no such folder"),
                       (["--since", "2026-10-09", "--until", "2026-10-01"], "reversed")):
        r = invoke("investigate", "10.0.0.1", "--engine", "local", "--source", tree.root,
                   *(["--out", tmp_path / "o"] if "--out" not in args else []), *args)
        assert r.exit_code == 2 and text in r.stderr, (args, r.output)
    assert not (tmp_path / "o").exists()


def test_the_default_folder_names_subject_and_window(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("investigate", "2001:db8::/32", "--engine", "local", "--source", tree.root, "--since", SINCE,
               "--until", UNTIL)
    assert r.exit_code == 0, r.output
    [made] = (tmp_path / "cases").iterdir()
    assert made.name == f"2001_db8___32-{SINCE}-{UNTIL}" and sorted(p.name for p in made.iterdir()) == sorted(FILES)


def test_the_private_ranges_are_is_private_sqls():
    """The case classifies peers in Python with the ranges the SQL macro lists: one list."""
    from flowsql.investigate.attribution import PRIVATE
    from flowsql.resources import sql_dir

    macro = (Path(sql_dir()) / "macros" / "is_private.sql").read_text()
    listed = re.search(r"set ranges = \[(.*?)\]", macro, re.S)[1]
    assert [str(n) for n in PRIVATE] == re.findall(r"'([^']+)'", listed)


# --- hostile data, ECS tasks ----------------------------------------------------------------------------

V7 = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status ecs-cluster-name ecs-service-name ecs-task-arn")
HOSTILE = "<script>alert(1)</script>|*x*_[a](javascript:b)`c`\\"


def test_hostile_names_are_escaped_and_ecs_tasks_named(tmp_path):
    """An ECS service named like markup, an ENI description with HTML and Markdown in it: shown as text,
    in case.html (escaped) and case.md (escaped), the ECS task named."""
    from trees import ACCOUNT, DAY, write_log

    eni = "eni-0123456789abcdef0"
    task = "arn:aws:ecs:us-east-1:111111111111:task/prod/0f0e0d0c0b0a"
    service = HOSTILE.replace(" ", "")  # one field: no spaces
    lines = [f"7 {ACCOUNT} {eni} 10.0.0.5 198.51.100.7 40000 443 6 10 5000 1772323200 1772323260 ACCEPT OK "
             f"prod-cluster {service} {task}",
             f"7 {ACCOUNT} {eni} 198.51.100.7 10.0.0.5 443 40000 6 8 900 1772323200 1772323260 ACCEPT OK "
             f"prod-cluster {service} {task}"]
    write_log(tmp_path / "logs", "a.log.gz", lines, header=V7)
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "network-interfaces.json").write_text(json.dumps({"NetworkInterfaces": [{
        "NetworkInterfaceId": eni, "SubnetId": "subnet-0123456789abcdef0", "VpcId": "vpc-0123456789abcdef0",
        "InterfaceType": "interface", "Description": HOSTILE, "PrivateIpAddress": "10.0.0.5",
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5"}]}]}))
    (inv / "vpcs.json").write_text(json.dumps({"Vpcs": [{"VpcId": "vpc-0123456789abcdef0",
                                                         "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}]}]}))
    out = tmp_path / "out"
    r = invoke("investigate", "10.0.0.5", "--engine", "local", "--source", tmp_path / "logs", "--inventory", inv,
               "--since", DAY, "--until", DAY, "--out", out, "-o", "json")
    assert r.exit_code == 0, r.output
    case = json.loads(r.stdout)
    [t] = case["ecs_tasks"]["rows"]
    assert (t["cluster"], t["service"], t["task_arn"], t["task_id"], t["flows"]) == (
        "prod-cluster", service, task, "0f0e0d0c0b0a", 2)
    assert case["interfaces"]["rows"][0]["inventory"]["description"] == HOSTILE
    html = (out / "case.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = (out / "case.md").read_text()
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "[a](javascript:b)" not in md and "\\[a\\](javascript:b)" in md
    for line in md.splitlines():
        if "prod-cluster" in line and line.startswith("|"):
            # the row keeps its cells: every pipe of the data is escaped
            assert len(re.findall(r"(?<!\\)\|", line)) == 9, line


# --- the inputs' digests ----------------------------------------------------------------------------------

def test_each_file_is_hashed_once_and_again_when_it_changes(tmp_path, monkeypatch):
    """The digest is remembered with the file's stamp (size, times, inode): a second case over the same
    file reads it from the cache; a file written since (its change time moves) is hashed again."""
    from flowsql.investigate.inputs import Hasher

    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "a.log"
    f.write_bytes(b"version\n" * 1000)
    want = hashlib.sha256(f.read_bytes()).hexdigest()
    [entry] = Hasher([("source", f, tmp_path)]).run()
    assert entry == {"root": "source", "path": "a.log", "bytes": 8000, "sha256": want}
    [cached] = list((tmp_path / "cache" / "sha256").iterdir())
    doc = json.loads(cached.read_text())
    assert doc["a.log"][-1] == want
    # a remembered digest is used as it is: the cache said so (here: a digest of other bytes)
    doc["a.log"][-1] = "0" * 64
    cached.write_text(json.dumps(doc))
    assert Hasher([("source", f, tmp_path)]).run()[0]["sha256"] == "0" * 64
    # the file rewritten with the same size: its change time moved, so it is hashed again
    f.write_bytes(b"VERSION\n" * 1000)
    assert Hasher([("source", f, tmp_path)]).run()[0]["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()


def test_a_file_that_changes_while_the_case_is_made_is_an_error(tmp_path, monkeypatch):
    from flowsql.errors import DataError
    from flowsql.investigate.inputs import Hasher

    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "a.log"
    f.write_bytes(b"one\n")
    hasher = Hasher([("source", f, tmp_path)])  # its stamp taken now, as before the query
    f.write_bytes(b"two, longer\n")  # what the query would read is not what was stamped
    with pytest.raises(DataError, match="changed while the case was made"):
        hasher.result()
    # and a named pipe in a file's place is refused, never opened to wait on
    import os

    pipe = tmp_path / "p.log"
    os.mkfifo(pipe)
    with pytest.raises(DataError, match="not a regular file"):
        Hasher([("source", pipe, tmp_path)]).run()


def _parts_cte(sql: str) -> str:
    """The body of a case query's `parts` CTE (sql/macros/case_records.sql)."""
    start = sql.index("\nparts AS (\n") + len("\nparts AS (\n")
    return sql[start:sql.index("\n)\n\nSELECT\n", start)]


@pytest.fixture(scope="module")
def subjects_of(tree):
    return subjects(tree)


@pytest.mark.parametrize("name", KINDS)
def test_the_local_parts_are_athenas_grouping_sets(tree, subjects_of, name):
    """The local engine sums each part of the case on its own (local__case_parts), Athena by grouping
    sets in one aggregation (athena__case_parts): the same rows. Athena's form, run here on DuckDB in
    place of the local one over the same records, gives every row the local form gives."""
    from flowsql.pack.queries import get_query
    from flowsql.pack.render import render
    from flowsql.engines.base import Target

    _, kind, params = subjects_of[name]
    query = get_query(f"case-{kind}")
    window = Window(SINCE, UNTIL)
    engine = LocalEngine(tree.root, window)
    try:
        local = render(query, params, engine.target(), window).sql
        athena = render(query, params, Target("athena", flow_logs="flowsql.vpc_flow_logs"), window).sql
        assert "GROUPING SETS" in _parts_cte(athena) and "GROUPING SETS" not in _parts_cte(local)
        engine.require(query, window=window)
        want = engine.execute(local)
        got = engine.execute(local.replace(_parts_cte(local), _parts_cte(athena)))
    finally:
        engine.close()
    assert got.columns == want.columns
    assert got.rows == want.rows and {r[0] for r in want.rows} >= {"interface", "hour"}
