"""The command line as a user meets it: bad inputs give one clear line and the right exit code."""

import gzip
import os
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate

runner = CliRunner()
DAY = date(2026, 10, 5)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("cli"), Scenario(start=DAY, days=2, flows_per_day=80, seed=3))


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(result, code, *needles):
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("flowsql: error: "), result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # handled, not a crash
    for n in needles:
        assert n in lines[-1], lines[-1]


def local(tree, *more):
    return ("query", "top-destinations", "--engine", "local", "--source", tree.root,
            "--since", DAY, "--until", DAY, *more)


def test_unknown_query(tree):
    one_error_line(invoke("query", "top-destination", "--source", tree.root), 2, "unknown query 'top-destination'",
                   "top-destinations")


def test_unknown_parameter(tree):
    one_error_line(invoke(*local(tree, "-p", "limt=5")), 2, "unknown parameter 'limt'", "limit")


@pytest.mark.parametrize("value,needle", [("0", "out of range"), ("ten", "expected an integer"),
                                          ("5; DROP TABLE x", "expected an integer")])
def test_malformed_parameter_value(tree, value, needle):
    one_error_line(invoke(*local(tree, "-p", f"limit={value}")), 2, "parameter limit", needle)


def test_malformed_assignment(tree):
    one_error_line(invoke(*local(tree, "-p", "limit")), 2, "expected NAME=VALUE")


def test_enum_parameter(tree):
    one_error_line(invoke(*local(tree, "-p", "action=DENY")), 2, "parameter action", "ACCEPT, REJECT, ANY")


def test_reversed_window(tree):
    r = invoke("query", "top-destinations", "--source", tree.root, "--since", "2026-10-06", "--until", "2026-10-05")
    one_error_line(r, 2, "reversed")


def test_bad_day(tree):
    one_error_line(invoke("query", "top-destinations", "--source", tree.root, "--since", "2026-13-01"), 2,
                   "--since", "invalid day")


def test_missing_source(tmp_path):
    one_error_line(invoke("query", "top-destinations", "--engine", "local", "--source", tmp_path / "nope"), 2,
                   "does not exist")
    one_error_line(invoke("query", "top-destinations", "--engine", "local", "--source", tmp_path), 2,
                   "no AWSLogs/")
    one_error_line(invoke("query", "top-destinations", "--engine", "local"), 2, "needs --source")


def test_missing_inventory(tree, tmp_path):
    one_error_line(invoke(*local(tree, "--inventory", tmp_path / "inv")), 2, "inventory folder")


def test_bad_output_format(tree):
    r = invoke(*local(tree, "--output", "xml"))
    assert r.exit_code == 2 and "xml" in r.stderr


def _corrupt_copy(tree, tmp_path, how):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(tree.root / "AWSLogs", dst / "AWSLogs")
    files = sorted(p for p in (dst / "AWSLogs").rglob("*.log.gz") if f"{DAY:%Y/%m/%d}" in p.as_posix())
    victim = files[0]
    data = victim.read_bytes()
    if how == "not-gzip":
        victim.write_bytes(b"this is not gzip at all\n")
    elif how == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif how == "bad-header":
        victim.write_bytes(gzip.compress(b"version nonsense-field\n2 x\n"))
    elif how == "bad-row":
        text = gzip.decompress(data).decode()
        victim.write_bytes(gzip.compress((text + "2 too few fields\n").encode()))
    return dst, victim


@pytest.mark.parametrize("how", ["not-gzip", "truncated", "bad-header", "bad-row"])
def test_corrupt_file_is_named_never_silently_dropped(tree, tmp_path, how):
    dst, victim = _corrupt_copy(tree, tmp_path, how)
    args = ("query", "top-destinations", "--engine", "local", "--source", dst, "--since", DAY, "--until", DAY,
            "-o", "json")
    r = invoke(*args)
    one_error_line(r, 1, victim.name)
    assert r.stdout == ""
    # with --skip-bad-files: rows from the other files, and the skip counted and named on stderr
    r = invoke(*args, "--skip-bad-files")
    assert r.exit_code == 0, r.output
    assert "SKIPPED 1" in r.stderr and victim.name in r.stderr
    assert json.loads(r.stdout)


@pytest.mark.slow  # sqlfluff over the whole pack
def test_lint_exit_codes(tmp_path):
    assert invoke("lint").exit_code == 0
    bad = tmp_path / "bad.sql"
    bad.write_text("select a,b from vpc_flow_logs where day = '2026/11/01'\n")
    r = invoke("lint", bad)
    assert r.exit_code == 1
    assert f"{bad}:1:" in r.stdout and ("LT01" in r.stdout or "CP01" in r.stdout)
    # flowsql's own rule: no full scans of the flow-log table
    scan = tmp_path / "scan.sql"
    scan.write_text("SELECT count(*) AS n\nFROM vpc_flow_logs\n")
    r = invoke("lint", scan)
    assert r.exit_code == 1 and "FS01" in r.stdout


def test_lint_a_broken_pack_template(tmp_path):
    t = tmp_path / "broken.sql"
    t.write_text("{#-\ntitle: T\ndescription: D\nseverity: info\n-#}\nSELECT  dstaddr FROM {{ flow_logs }}\n"
                 "WHERE {{ window() }}\n")
    r = invoke("lint", t)
    assert r.exit_code == 1 and "LT01" in r.stdout and f"{t}:6:" in r.stdout
    t.write_text("{#-\ntitle: T\nseverity: urgent\n-#}\nSELECT 1\n")
    r = invoke("lint", t)
    assert r.exit_code == 1 and "FS00" in r.stdout


def test_a_lint_finding_stops_the_query(tree, tmp_path, monkeypatch):
    """The gate: a pack whose template violates a rule refuses to run it (exit 1, file:line rule)."""
    import shutil

    from flowsql import resources as pack

    sql = tmp_path / "sql"
    shutil.copytree(pack.sql_dir(), sql)
    q = sql / "queries" / "top-destinations.sql"
    q.write_text(q.read_text().replace("    sum(bytes) AS bytes", "    sum(bytes)  AS bytes"))
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(sql))  # a pack of one's own, with the broken template
    r = invoke(*local(tree))
    assert r.exit_code == 1, r.output
    # the finding points at the template's own line
    line = next(i for i, t in enumerate(q.read_text().splitlines(), 1) if "sum(bytes)  AS bytes" in t)
    assert f"{q}:{line}:" in r.stderr and "LT01" in r.stderr and "not run" in r.stderr


def test_queries_json_contract():
    r = invoke("queries", "--output", "json")
    assert r.exit_code == 0
    items = json.loads(r.stdout)
    names = {i["name"] for i in items}
    assert {"top-destinations", "rejects-by-subnet", "lambda-egress"} <= names
    for i in items:
        assert {"name", "title", "description", "parameters"} <= set(i)
        for p in i["parameters"]:
            assert {"name", "type", "default", "required", "description"} <= set(p)


def test_render_prints_the_sql():
    r = invoke("render", "top-destinations", "--engine", "local", "-p", "limit=3", "--since", "2026-11-01",
               "--until", "2026-11-02", "--account", "123456789012")
    assert r.exit_code == 0, r.output
    assert "LIMIT 3" in r.stdout and "day BETWEEN '2026/11/01' AND '2026/11/02'" in r.stdout
    assert "aws_account_id IN ('123456789012')" in r.stdout


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_output_formats(tree, fmt):
    r = invoke(*local(tree, "-o", fmt))
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0 if fmt == "csv" else 1]
    assert first == '"dstaddr","flows","packets","bytes"' if fmt == "csv" else "dstaddr" in first


def _commands(group=app, prefix=()):
    """Every command of the CLI, found from typer itself (a new command is covered without edits)."""
    import typer.main

    cli = typer.main.get_command(group)
    out = []
    for name, cmd in cli.commands.items():
        if hasattr(cmd, "commands"):
            out += [(*prefix, name, sub) for sub in cmd.commands]
        else:
            out.append((*prefix, name))
    return out


COMMANDS = _commands()


def test_the_commands_of_the_contract_exist():
    names = {" ".join(c) for c in COMMANDS}
    assert {"queries", "render", "query", "lint", "demo", "setup", "iam-policy", "inventory sync"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example_and_is_in_the_readme(command):
    r = invoke(*command, "--help")
    assert r.exit_code == 0 and "Example: flowsql " + " ".join(command) in " ".join(r.stdout.split())
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "flowsql " + " ".join(command) in readme


def test_start_up_imports_nothing_heavy():
    code = ("import sys, flowsql.cli; heavy = [m for m in ('duckdb', 'sqlfluff', 'sqlglot', 'boto3', 'pyathena', "
            "'botocore', 'jinja2', 'yaml') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_each_command_loads_only_its_own_module_and_every_command_is_mapped():
    """`flowsql query …` imports only the module that registers `query`: the map must name the
    module of every command, or a command would be missing when called by its name."""
    from flowsql.cli import COMMANDS

    code = ("import json, sys\nimport flowsql.cli as cli\nfrom flowsql.cli.common import app\n"
            "cli.load_commands(sys.argv[1] if len(sys.argv) > 1 else None)\n"
            "print(json.dumps([c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]))")

    def registered(*first):
        return json.loads(subprocess.run([sys.executable, "-c", code, *first], capture_output=True, text=True,
                                         check=True).stdout)

    everything = registered()
    assert sorted(everything) == sorted(COMMANDS)
    for module in sorted(set(COMMANDS.values())):
        names = [n for n, m in COMMANDS.items() if m == module]
        assert set(names) <= set(registered(names[0])), module
    assert set(registered("query")) < set(everything)  # the point: not everything is loaded


@pytest.mark.parametrize("name", sorted(__import__("flowsql.cli", fromlist=["COMMANDS"]).COMMANDS))
def test_each_command_runs_by_its_name_from_the_entry_point(name):
    """With only its own module loaded, `flowsql NAME --help` is NAME's help (a Typer app holding
    one command would run that command without its name)."""
    code = "import sys\nfrom flowsql.cli import main\nsys.argv = ['flowsql'] + sys.argv[1:]\nmain()\n"
    r = subprocess.run([sys.executable, "-c", code, name, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith(f"Usage: flowsql {name} "), (r.returncode, r.stdout, r.stderr)


def test_demo_writes_and_prints_the_three_queries(tmp_path):
    r = invoke("demo", "--dir", tmp_path / "demo", "--days", "8")
    assert r.exit_code == 0, r.output
    for title in ("Top destinations", "Rejects by subnet", "Lambda egress"):
        assert title in r.stdout
    # a second run reuses the tree; a foreign non-empty folder is refused, untouched
    assert "already" in invoke("demo", "--dir", tmp_path / "demo", "--days", "8").stderr
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    one_error_line(invoke("demo", "--dir", other), 2, "did not write", "keep.txt")
    assert (other / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("where,bounded", [
    ("day BETWEEN '2026/11/01' AND '2026/11/02'", True),
    ("day = '2026/11/01' AND action = 'REJECT'", True),
    ("day IN ('2026/11/01', '2026/11/02')", True),
    ("day >= '2026/11/01' AND day <= '2026/11/02'", True),
    ("'2026/11/01' <= day AND day < '2026/11/03'", True),
    ("day >= '2026/11/01'", False),                                 # one side only
    ("day > '2026/11/01' OR TRUE", False),                          # under OR
    ("NOT day = '2026/11/01'", False),                              # under NOT
    ("action = 'REJECT'", False),
    ("day = srcaddr", False),                                       # not a literal
    ("x IN (SELECT day FROM t WHERE day = '2026/11/01')", False),  # inside a subquery
])
def test_partition_rule(tmp_path, where, bounded):
    f = tmp_path / "q.sql"
    f.write_text(f"SELECT count(*) AS n\nFROM vpc_flow_logs\nWHERE {where}\n")
    r = invoke("lint", f)
    assert ("FS01" in r.stdout) is not bounded, r.stdout


@pytest.mark.parametrize("content", ['{"NetworkInterfaces": [1]}', '{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1",'
                                     ' "PrivateIpAddresses": "x"}]}', '["abc"]', "not json"])
def test_malformed_inventory_is_a_usage_error(tree, tmp_path, content):
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "network-interfaces.json").write_text(content)
    one_error_line(invoke(*local(tree, "--inventory", inv)), 2, "inv")


def test_inventory_with_a_byte_order_mark(tree, tmp_path):
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "vpcs.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"Vpcs": []}).encode())
    assert invoke(*local(tree, "--inventory", inv)).exit_code == 0


@pytest.mark.parametrize("args", [["query"], ["query", "top-destinations", "--engine", "duck"], ["lint", "--bogus"],
                                  ["demo", "--days", "0"], ["query", "top-destinations", "-o", "xml"],
                                  ["render", "top-destinations", "--account", ","],
                                  ["render", "top-destinations", "--since", "0999-01-01"]])
def test_usage_errors_are_one_line_from_the_real_command(args, tmp_path):
    """Through `main()` as the console script runs it: typer's own argument errors too."""
    env = {**__import__("os").environ, "FLOWSQL_CONFIG": str(tmp_path / "none.json")}
    r = subprocess.run([sys.executable, "-m", "flowsql", *args], capture_output=True, text=True, env=env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowsql: error: "), r.stderr
    assert r.stdout == ""


def test_render_prints_nothing_when_lint_fails(tmp_path, monkeypatch):
    import shutil

    from flowsql import resources as pack

    sql = tmp_path / "sql"
    shutil.copytree(pack.sql_dir(), sql)
    q = sql / "queries" / "top-destinations.sql"
    q.write_text(q.read_text().replace("    dstaddr,\n", "    dstaddr ,\n", 1))
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(sql))
    r = invoke("render", "top-destinations", "--engine", "local")
    assert r.exit_code == 1 and r.stdout == "" and "LT01" in r.stderr


def test_demo_never_touches_folders_beside_it(tmp_path):
    for name in ("d.partial", "d.old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "precious").write_text("x")
    assert invoke("demo", "--dir", tmp_path / "d", "--days", "2").exit_code == 0
    assert invoke("demo", "--dir", tmp_path / "d", "--days", "2", "--seed", "8").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "d.old", "d.partial"]
    assert (tmp_path / "d.old" / "precious").exists() and (tmp_path / "d.partial" / "precious").exists()


# --- the demo never deletes what it did not write -------------------------------------------------

def test_demo_refuses_a_folder_it_made_once_the_user_added_to_it(tmp_path):
    demo = tmp_path / "logs"
    assert invoke("demo", "--dir", demo, "--days", "2").exit_code == 0
    (demo / "NOTES.md").write_text("mine")
    other = demo / "AWSLogs" / "999999999999" / "vpcflowlogs"
    other.mkdir(parents=True)
    (other / "keep.log.gz").write_bytes(b"another account's logs")
    before = sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*"))
    r = invoke("demo", "--dir", demo, "--days", "3")  # new parameters: the demo would rewrite its tree
    one_error_line(r, 2, "did not write", "NOTES.md", "AWSLogs/999999999999")
    assert sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*")) == before
    assert (demo / "NOTES.md").read_text() == "mine" and (other / "keep.log.gz").exists()


def test_demo_replaces_exactly_its_own_files(tmp_path):
    demo = tmp_path / "logs"
    assert invoke("demo", "--dir", demo, "--days", "3", "--seed", "1").exit_code == 0
    first = {p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.is_file()}
    assert invoke("demo", "--dir", demo, "--days", "2", "--seed", "2").exit_code == 0
    second = {p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.is_file()}
    manifest = json.loads((demo / ".flowsql-demo.json").read_text())
    assert set(manifest["files"]) | {".flowsql-demo.json"} == second != first
    assert manifest["params"]["days"] == 2


def test_demo_after_an_interrupted_replacement_finishes_the_job(tmp_path):
    """A run stopped while moving files leaves a record naming every file that may be there."""
    demo = tmp_path / "logs"
    assert invoke("demo", "--dir", demo, "--days", "2").exit_code == 0
    manifest = json.loads((demo / ".flowsql-demo.json").read_text())
    extra = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2020/01/01/half.log.gz"
    (demo / extra).parent.mkdir(parents=True)
    (demo / extra).write_bytes(b"")
    (demo / ".flowsql-demo.json").write_text(json.dumps({"params": None, "files": manifest["files"] + [extra]}))
    assert invoke("demo", "--dir", demo, "--days", "2").exit_code == 0
    assert not (demo / extra).exists() and not (demo / "AWSLogs/123456789012/vpcflowlogs/us-east-1/2020").exists()


@pytest.mark.parametrize("entry", ["../victim.txt", "/abs/victim.txt", "a/../../victim.txt"])
def test_demo_deletes_nothing_outside_its_folder_on_the_word_of_its_record(tmp_path, entry):
    """The record lists what the demo may replace; one naming a path outside the folder is refused."""
    demo = tmp_path / "logs"
    assert invoke("demo", "--dir", demo, "--days", "2").exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    manifest = json.loads((demo / ".flowsql-demo.json").read_text())
    entry = str(victim) if entry.startswith("/") else entry
    (demo / ".flowsql-demo.json").write_text(json.dumps({"params": None, "files": manifest["files"] + [entry]}))
    one_error_line(invoke("demo", "--dir", demo, "--days", "2", "--seed", "3"), 2, ".flowsql-demo.json",
                   "nothing was changed")
    assert victim.read_text() == "precious"


def test_demo_never_writes_through_a_link_its_record_names(tmp_path):
    """A record naming a link (here a folder link to elsewhere) does not make the link the demo's."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "vpcs.json").write_text("PRECIOUS")
    demo = tmp_path / "dm"
    demo.mkdir()
    (demo / "inventory").symlink_to(victim)
    (demo / ".flowsql-demo.json").write_text(json.dumps({"params": None, "files": ["inventory"]}))
    one_error_line(invoke("demo", "--dir", demo, "--days", "2"), 2, "inventory")
    assert (victim / "vpcs.json").read_text() == "PRECIOUS" and sorted(p.name for p in victim.iterdir()) == ["vpcs.json"]


def test_demo_removes_the_staging_folder_of_a_run_killed_with_sigkill(tmp_path):
    import signal
    import subprocess
    import sys

    killed = subprocess.run([sys.executable, "-c", "import os, signal, sys; from pathlib import Path; "
                             "from flowsql.files import temporary_folder; "
                             "(temporary_folder(Path(sys.argv[1]), 'new') / 'half.log.gz').write_bytes(b'x'); "
                             "os.kill(os.getpid(), signal.SIGKILL)", str(tmp_path / "d")])
    assert killed.returncode == -signal.SIGKILL and [p.name for p in tmp_path.iterdir()][0].startswith(".d.new-")
    (tmp_path / ".d.new-1-alive").mkdir()  # pid 1 runs: its folder is not the demo's to remove
    assert invoke("demo", "--dir", tmp_path / "d", "--days", "2").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".d.new-1-alive", "d"]


def test_demo_in_an_impossible_place_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    one_error_line(invoke("demo", "--dir", tmp_path / "file" / "demo"), 2, "--dir", "cannot write the demo")
    one_error_line(invoke("demo", "--dir", "/proc/flowsql-demo"), 2, "--dir")


# --- lint -----------------------------------------------------------------------------------------------

def test_lint_on_a_pack_path_that_holds_no_pack_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(tmp_path / "no-such-dir"))
    one_error_line(invoke("lint"), 2, "no queries/ folder")


@pytest.mark.parametrize("files", [[], ["README.md"], ["TOP.SQL"]])
def test_lint_and_queries_on_a_pack_without_queries_are_errors(tmp_path, monkeypatch, files):
    """A CI gate over a pack whose queries/ holds no *.sql must fail, not pass with "no findings"."""
    (tmp_path / "pack" / "queries").mkdir(parents=True)
    for name in files:
        (tmp_path / "pack" / "queries" / name).write_text("SELECT 1\n")
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(tmp_path / "pack"))
    one_error_line(invoke("lint"), 2, "holds no query")
    one_error_line(invoke("queries"), 2, "holds no query")


@pytest.mark.parametrize("make", ["fifo", "folder"])
def test_a_pack_entry_named_like_a_query_that_is_no_file_is_an_error_not_a_hang(tmp_path, monkeypatch, make):
    import shutil

    from flowsql.resources import shipped_sql_dir

    pack = tmp_path / "pack"
    shutil.copytree(shipped_sql_dir(), pack)
    odd = pack / "queries" / "odd.sql"
    os.mkfifo(odd) if make == "fifo" else odd.mkdir()
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(pack))
    one_error_line(invoke("lint"), 2, "odd.sql", "not a regular file")
    one_error_line(invoke("queries"), 2, "odd.sql")


def test_a_template_that_never_finishes_rendering_is_a_finding_not_a_hang(tmp_path):
    t = tmp_path / "loop.sql"
    t.write_text("{#-\ntitle: T\ndescription: D\nseverity: info\n-#}\n"
                 "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
                 "SELECT 1 AS x FROM {{ flow_logs }} WHERE {{ window() }}\n")
    r = invoke("lint", t)
    assert r.exit_code == 1 and "FS02" in r.stdout and "took more than" in r.stdout
    assert r.stdout.count("FS02") == 1


def test_a_template_that_prints_without_end_is_a_finding(tmp_path):
    t = tmp_path / "big.sql"
    t.write_text("{#-\ntitle: T\ndescription: D\nseverity: info\n-#}\nSELECT 1 AS x FROM {{ flow_logs }} WHERE "
                 "{% for i in range(100000) %}{{ window() }} AND {% endfor %}{{ window() }}\n")
    r = invoke("lint", t)
    assert r.exit_code == 1 and "FS02" in r.stdout and "characters of SQL" in r.stdout


# A rendering that reaches a bound: which of the two (memory, time) it reaches first depends on the
# machine's speed and load, and the code promises only that either ends it as one finding.
A_BOUND = re.compile(r"needs more than [\d,]+ MiB to render|took more than [\d.]+ s to render")


@pytest.mark.parametrize("body,needle", [
    ("SELECT '{{ \"x\" * 1000000000 }}' AS x", "more than 1,000,000 items"),  # folded at compile time before
    ("SELECT {{ 2 ** 100000 }} AS x", "power above 64"),
    ("{% for i in range(100001) %}{% endfor %}SELECT 1 AS x", "Range too big"),
    ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}SELECT 1 AS x", "calls itself"),
    ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
     "{{ ns.s|length }}SELECT 1 AS x", A_BOUND),
    ("{{ ('%02000000000d' % 1)|length }}SELECT 1 AS x", A_BOUND),
    ("{{ [1]|batch(300000000, 0)|list|length }}SELECT 1 AS x", A_BOUND),
    ("{{ ((10**64)**64)**2 }}SELECT 1 AS x", "template error"),
])
def test_a_template_that_would_exhaust_memory_or_the_stack_is_a_finding(tmp_path, body, needle):
    """Bounded in memory as in time: each is one FS02 finding, not a crash or gigabytes."""
    t = tmp_path / "bad.sql"
    t.write_text("{#-\ntitle: T\ndescription: D\nseverity: info\n-#}\n" + body
                 + " FROM {{ flow_logs }} WHERE {{ window() }}\n")
    r = invoke("lint", t)
    assert r.exit_code == 1 and "FS02" in r.stdout, r.output
    assert (needle.search(r.stdout) if isinstance(needle, re.Pattern) else needle in r.stdout), r.output
    assert "internal error" not in r.output


# --- Athena SQL that any Trino runs -----------------------------------------------------------------------

def test_athena_cidr_tests_compare_only_addresses_and_blocks_of_one_version():
    """Trino before 427 fails contains() across IP versions: every contains() is reached only inside a
    CASE whose condition compares the two values' versions."""
    import sqlglot
    from sqlglot import exp

    from flowsql.engines.base import Target
    from flowsql.pack.queries import load_pack
    from flowsql.pack.params import Window
    from flowsql.pack.render import render

    seen = 0
    for q in load_pack():
        sql = render(q, q.example, Target("athena", flow_logs="flowsql.vpc_flow_logs"),
                     Window(date(2026, 1, 1), date(2026, 1, 2))).sql
        for call in sqlglot.parse_one(sql, read="trino").find_all(exp.Anonymous, exp.ArrayContains):
            if call.sql(dialect="trino").lower().startswith("contains("):
                seen += 1
                branch = call.find_ancestor(exp.If)
                assert branch is not None and branch.args["true"] is call, call.sql()
                cond = branch.this.sql(dialect="trino").lower()
                assert cond.count("strpos(") == 2 and "':'" in cond, cond
    assert seen, "the pack has CIDR tests on Athena"


def test_a_warm_query_imports_neither_sqlfluff_nor_sqlglot(tmp_path):
    """The lint result and the DuckDB translation of a query that ran once come from the cache."""
    from trees import DAY, record, write_log

    write_log(tmp_path / "src", "a.log.gz", [record()])
    code = ("import sys\nfrom flowsql.cli import main\nsys.argv = ['flowsql'] + sys.argv[1:]\n"
            "try:\n    main()\nfinally:\n"
            "    print('heavy', [m for m in ('sqlfluff', 'sqlglot') if m in sys.modules], file=sys.stderr)\n"
            "    print('duckdb-package', 'duckdb' in sys.modules, file=sys.stderr)\n")
    env = {**__import__("os").environ, "FLOWSQL_CONFIG": str(tmp_path / "none.json"),
           "FLOWSQL_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", code, "query", "top-destinations", "--source", str(tmp_path / "src"),
            "--since", str(DAY), "--until", str(DAY)]
    cold = subprocess.run(args, capture_output=True, text=True, env=env)
    assert cold.returncode == 0 and "heavy ['sqlfluff', 'sqlglot']" in cold.stderr, cold.stderr
    warm = subprocess.run(args, capture_output=True, text=True, env=env)
    assert warm.returncode == 0 and "heavy []" in warm.stderr, warm.stderr
    # DuckDB's C extension alone: its Python package adds 0.1 s of start-up that flowsql never uses
    assert "duckdb-package False" in warm.stderr, warm.stderr


@pytest.mark.parametrize("package", ["sqlfluff", "sqlglot", "duckdb", "typer", "no-such-package"])
def test_cache_keys_see_the_installed_version_of_each_tool(package):
    """The lint and translation caches are keyed on the installed versions, read without
    importlib.metadata: the same answer as importlib.metadata's."""
    from importlib.metadata import PackageNotFoundError, version

    from flowsql.engines.local.translate import package_version

    try:
        expected = version(package)
    except PackageNotFoundError:
        expected = "?"
    assert package_version(package) == expected
