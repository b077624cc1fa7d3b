"""flowsql's sqlfluff plugin: FS01 in `sqlfluff lint` (the real CLI of the venv) as in `flowsql lint`, and
the `flowsql` templater that lints each pack template with its own parameters."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlfluff.utils.testing.rules import load_test_cases, rules__test_helper

ROOT = Path(__file__).resolve().parent.parent
SQLFLUFF = Path(sys.executable).parent / "sqlfluff"

ids, cases = load_test_cases(str(ROOT / "tests" / "rules" / "*.yml"))


@pytest.mark.parametrize("case", cases, ids=ids)
def test_rule_cases(case):
    """tests/rules/*.yml, through sqlfluff's own rule-test helper (pass_str/fail_str/violations)."""
    rules__test_helper(case)


def _run(*args, cwd, stdin=None, **env):
    return subprocess.run([str(a) for a in args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          env={**os.environ, **env})


def sqlfluff(*args, cwd, stdin=None):
    return _run(SQLFLUFF, *args, cwd=cwd, stdin=stdin)


def flowsql(*args, cwd, **env):
    return _run(sys.executable, "-m", "flowsql", *args, cwd=cwd, **env)


UNBOUNDED = """SELECT
    dstaddr,
    sum(bytes) AS bytes
FROM flowsql.vpc_flow_logs
WHERE action = 'REJECT' AND day >= '2026/11/01'
GROUP BY dstaddr
"""
BOUNDED = UNBOUNDED.replace("day >= '2026/11/01'", "day BETWEEN '2026/11/01' AND '2026/11/07'")


def test_a_hand_written_query_without_the_bound_fails_both_linters(tmp_path):
    (tmp_path / "scan.sql").write_text(UNBOUNDED)
    (tmp_path / "ok.sql").write_text(BOUNDED)
    # sqlfluff finds the rule through the plugin's entry point: no config names it
    r = sqlfluff("lint", "--dialect", "athena", "--format", "github-annotation-native", "scan.sql", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "file=scan.sql,line=4,col=6" in r.stdout and "FS01" in r.stdout and "day" in r.stdout
    r = sqlfluff("lint", "--dialect", "athena", "ok.sql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # flowsql lint: the same rule, the same place
    r = flowsql("lint", "scan.sql", cwd=tmp_path)
    assert r.returncode == 1 and "scan.sql:4:6: FS01 " in r.stdout, r.stdout + r.stderr
    r = flowsql("lint", "ok.sql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_noqa_silences_fs01_for_sqlfluff_but_not_for_the_gate(tmp_path):
    (tmp_path / "scan.sql").write_text(UNBOUNDED.replace("FROM flowsql.vpc_flow_logs",
                                                         "FROM flowsql.vpc_flow_logs  -- noqa: FS01"))
    r = sqlfluff("lint", "--dialect", "athena", "scan.sql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = flowsql("lint", "scan.sql", cwd=tmp_path)
    assert r.returncode == 1 and "scan.sql:4:6: FS01 " in r.stdout, r.stdout + r.stderr
    # other rules' noqa still counts in the gate
    spaced = BOUNDED.replace("sum(bytes) AS bytes", "sum(bytes)  AS bytes")
    (tmp_path / "spaced.sql").write_text(spaced)
    r = flowsql("lint", "spaced.sql", cwd=tmp_path)
    assert r.returncode == 1 and "spaced.sql:3:15: LT01 " in r.stdout, r.stdout + r.stderr
    (tmp_path / "spaced.sql").write_text(spaced.replace("AS bytes\n", "AS bytes  -- noqa: LT01\n", 1))
    r = flowsql("lint", "spaced.sql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


NEW_QUERY = """{#-
title: Port scans
description: Sources that tried many destination ports.
severity: high
why: A source that tries many ports is looking for a way in.
remediation: Block the source in the network ACL.
parameters:
  min_ports:
    type: int
    default: 100
    min: 1
    description: How many distinct ports make a scan.
  protocol:
    type: protocol
    description: Only this protocol (default all).
  action:
    type: enum
    values: [ACCEPT, REJECT, ANY]
    default: REJECT
    description: Which records count.
example:
  min_ports: 25
  protocol: tcp
  action: ANY
-#}
SELECT
    srcaddr,
    count(DISTINCT dstport) AS ports
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    {% if action != 'ANY' %}
    AND action = {{ action }}
    {% endif %}
    {% if protocol %}
    AND protocol = {{ protocol }}
    {% endif %}
GROUP BY srcaddr
HAVING count(DISTINCT dstport) >= {{ min_ports }}
"""


@pytest.fixture
def pack(tmp_path):
    """A copy of the repository's pack and sqlfluff settings: what a team adding queries has."""
    shutil.copytree(ROOT / "sql", tmp_path / "sql")
    for name in (".sqlfluff", ".sqlfluffignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.mark.slow  # sqlfluff over the whole pack, four times
def test_a_new_query_with_a_new_parameter_lints_with_no_config_edit(pack):
    new = pack / "sql" / "queries" / "port-scans.sql"
    new.write_text(NEW_QUERY)
    settings = (pack / ".sqlfluff").read_text()
    assert "min_ports" not in settings and "protocol" not in settings
    r = sqlfluff("lint", "sql/", cwd=pack)
    assert r.returncode == 0, r.stdout + r.stderr
    # rendered with the header's example values, then its defaults (not stand-ins from a config)
    r = sqlfluff("render", "sql/queries/port-scans.sql", cwd=pack)
    assert r.returncode == 0, r.stderr
    assert ">= 25" in r.stdout and "protocol = 6" in r.stdout  # example: min_ports 25, protocol tcp
    assert ">= 100" in r.stdout and "action = 'REJECT'" in r.stdout  # defaults: the action the example skips
    assert "day BETWEEN '2024/01/01' AND '2024/01/07'" in r.stdout and "FROM flowsql.vpc_flow_logs" in r.stdout
    # the text comes from stdin (an editor's buffer): the header is read from it
    r = sqlfluff("lint", "-", cwd=pack, stdin=NEW_QUERY)
    assert r.returncode == 0, r.stdout + r.stderr

    # without the window: FS01 from sqlfluff and from flowsql lint, at the template's FROM line
    new.write_text(NEW_QUERY.replace("    {{ window() }}\n    AND log_status", "    log_status"))
    line = next(i for i, t in enumerate(new.read_text().splitlines(), 1) if t.startswith("FROM"))
    r = sqlfluff("lint", "--format", "github-annotation-native", "sql/", cwd=pack)
    assert r.returncode == 1
    found = [x for x in r.stdout.splitlines() if "FS01" in x]
    assert found and all(f"file=sql/queries/port-scans.sql,line={line},col=6" in x for x in found), r.stdout
    r = flowsql("lint", cwd=pack, FLOWSQL_SQL_DIR=str(pack / "sql"))
    assert r.returncode == 1 and f"port-scans.sql:{line}:6: FS01 " in r.stdout, r.stdout + r.stderr


def test_a_name_the_template_does_not_declare_still_fails(pack):
    new = pack / "sql" / "queries" / "port-scans.sql"
    new.write_text(NEW_QUERY.replace("{{ min_ports }}", "{{ min_port }}"))
    r = sqlfluff("lint", "sql/queries/port-scans.sql", cwd=pack)
    assert r.returncode == 1 and "TMP" in r.stdout and "min_port" in r.stdout, r.stdout


def test_a_broken_header_is_a_templating_error(pack):
    new = pack / "sql" / "queries" / "broken.sql"
    new.write_text("{#-\ntitle: T\ndescription: D\nseverity: urgent\n-#}\nSELECT 1\n")
    r = sqlfluff("lint", "sql/queries/broken.sql", cwd=pack)
    assert r.returncode == 1 and "TMP" in r.stdout and "severity must be one of" in r.stdout, r.stdout


def test_the_plugin_default_is_the_table_list_of_flowsql_lint():
    from sqlfluff.core import FluffConfig

    from flowsql.pack.lint.partition_bound import DEFAULT_TABLES, NAME, parse_tables

    configured = FluffConfig(overrides={"dialect": "athena"}).get_section(("rules", NAME))["flow_log_tables"]
    assert parse_tables(configured) == DEFAULT_TABLES


@pytest.mark.parametrize("sql,found", [
    ("SELECT count(*) FROM vpc_flow_logs WHERE day >=", True),    # mentions the table: not let through
    ("SELECT count(*) FROM inventory_enis WHERE x >=", False),   # another table's SQL is not FS01's business
])
def test_sql_that_does_not_parse(sql, found):
    from flowsql.pack.lint.partition_bound import unbounded_reads

    reads = unbounded_reads(sql, ("vpc_flow_logs",), dialect="athena")
    assert bool(reads) is found
    if found:
        assert reads[0].offset == sql.index("vpc_flow_logs") and "cannot check" in reads[0].message


def test_templater_engines_setting(tmp_path):
    """`[sqlfluff:templater:flowsql] engines = athena,local`: each engine's tables, example values and defaults."""
    from sqlfluff.core import FluffConfig, Linter

    query = tmp_path / "queries" / "port-scans.sql"
    query.parent.mkdir()
    query.write_text(NEW_QUERY)
    shutil.copytree(ROOT / "sql" / "macros", tmp_path / "macros")
    config = FluffConfig(configs={"core": {"dialect": "athena", "templater": "flowsql"},
                                  "templater": {"flowsql": {"engines": "athena,local"}}})
    rendered = Linter(config=config).render_string(NEW_QUERY, str(query), config, "utf-8")
    texts = [v.templated_str for v in rendered.templated_variants]
    firsts = [(t.split("FROM ")[1].split()[0], t.split(">= ")[1].split()[0]) for t in texts[:4]]
    assert firsts == [("flowsql.vpc_flow_logs", "25"), ("flowsql.vpc_flow_logs", "100"),
                      ("flow_logs", "25"), ("flow_logs", "100")]
    assert not rendered.templater_violations
    # an example that takes every branch: the defaults reach nothing more, and are left to flowsql lint
    every = NEW_QUERY.replace("  action: ANY\n", "  action: ACCEPT\n")
    query.write_text(every)
    rendered = Linter(config=config).render_string(every, str(query), config, "utf-8")
    texts = [v.templated_str for v in rendered.templated_variants]
    assert texts and not any(">= 100" in t for t in texts) and all("FROM " in t for t in texts)
    assert {t.split("FROM ")[1].split()[0] for t in texts} == {"flowsql.vpc_flow_logs", "flow_logs"}
