"""The wheel carries the query pack and the table definitions, and finds them once installed."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_sql_and_glue(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("flowsql-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for q in (ROOT / "sql" / "queries").glob("*.sql"):
        assert f"flowsql/sql/queries/{q.name}" in names
    for m in (ROOT / "sql" / "macros").glob("*.sql"):
        assert f"flowsql/sql/macros/{m.name}" in names
    assert "flowsql/engines/local/functions.sql" in names
    engine_macros = list((ROOT / "flowsql" / "engines").glob("*/macros/*.sql"))  # what dispatch() finds
    assert engine_macros and all(str(m.relative_to(ROOT)) in names for m in engine_macros)
    assert any(n.startswith("flowsql/glue/") for n in names)
    # the sqlfluff plugin: its default config, and the entry point sqlfluff finds it by
    assert "flowsql/pack/lint/sqlfluff_plugin/plugin_default_config.cfg" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "[sqlfluff]\nflowsql = flowsql.pack.lint.sqlfluff_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    # installed from the wheel alone (no source tree beside it), the pack is found and runs
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import flowsql.pack.queries as p, flowsql.engines as e; qs = [q.name for q in p.load_pack()]; "
            "[e.check_engine(x) for x in e.all_engines()]; print(p.sql_dir().parent.name, len(qs))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["flowsql", str(len(list((ROOT / "sql" / "queries").glob("*.sql"))))]
    # the posture policy's defaults and every check module ship, and discovery finds them
    assert "flowsql/posture/policy.yaml" in names
    code = "import flowsql.posture as p; print(len(p.all_checks()), p.load_policy().tag_key)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, check=True).stdout.split()
    checks = [f for f in (ROOT / "flowsql" / "posture" / "checks").glob("*.py") if not f.name.startswith("_")]
    assert out == [str(len(checks)), "data-class"]
