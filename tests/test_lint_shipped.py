"""Lint results computed at install (flowsql/pack/lint/shipped.py): a rendering whose shape was linted
clean for this very template is not linted again; a changed template, or any other text, is."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from flowsql.pack.lint import gate, ship, shipped
from flowsql.pack.params import Window
from flowsql.pack.queries import parse_query
from flowsql.pack.render import render

ROOT = Path(__file__).resolve().parent.parent


def test_shape_makes_values_placeholders_and_keeps_the_rest():
    a = "SELECT t1.x FROM t1 WHERE day BETWEEN '2024/01/01' AND '2024/01/07' AND a IN ('1', '2') LIMIT 5"
    b = "SELECT t1.x FROM t1 WHERE day BETWEEN '2026/03/01' AND '2026/03/09' AND a IN ('3') LIMIT 50"
    assert shipped.shape(a) == shipped.shape(b)
    # names, quoted names, comments and keywords are not values
    for other in ("SELECT t2.x FROM t1 WHERE day BETWEEN '2024/01/01' AND '2024/01/07' AND a IN ('1') LIMIT 5",
                  "SELECT t1.x FROM t1 WHERE day BETWEEN '2024/01/01' AND '2024/01/07' AND a IN (1) LIMIT 5",
                  "SELECT t1.x FROM t1 WHERE day BETWEEN '2024/01/01' AND '2024/01/07' AND a IN ('1') limit 5",
                  "SELECT t1.x FROM t1 WHERE day BETWEEN '2024/01/01' AND '2024/01/07' AND a IN ('1')  LIMIT 5"):
        assert shipped.shape(other) != shipped.shape(a), other
    assert shipped.shape('SELECT "1" -- noqa: 12\n') == 'SELECT "1" -- noqa: 12\n'
    # a literal over two lines is kept as written, and what follows it is not taken for a literal
    assert shipped.shape("SELECT 'a\nb' AS x, 'c' FROM t") == "SELECT 'a\nb' AS x, '?' FROM t"
    # an argument list is not an IN list
    assert shipped.shape("strpos('a', 'b')") == "strpos('?', '?')"


@pytest.fixture
def pack(tmp_path, monkeypatch):
    """A pack of one query, its lint results computed as `make install` does, and a cold cache."""
    root = tmp_path / "sql"
    shutil.copytree(ROOT / "sql" / "macros", root / "macros")
    (root / "queries").mkdir()
    shutil.copy(ROOT / "sql" / "queries" / "top-destinations.sql", root / "queries")
    monkeypatch.setenv("FLOWSQL_LINT_SHIPPED", str(tmp_path / "shipped.json"))
    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    figures = ship.build(root)
    assert figures["templates"] == 1 and figures["shapes"] >= 1
    return root


def _lint(root: Path, window: Window, accounts=(), limit="7"):
    query = parse_query(root / "queries" / "top-destinations.sql")
    target = gate.lint_target("local")
    sql = render(query, {"limit": limit}, target, window, accounts=accounts, root=root).sql
    return sql, gate.lint_sql(sql, str(query.path), flow_log_table=target.flow_log_tables)  # as the runner does


def test_an_unchanged_template_is_not_linted_and_a_changed_one_is(pack):
    # another window, other accounts, another limit than at install: the same shape
    before = dict(gate.runs)
    sql, found = _lint(pack, Window(date(2026, 3, 1), date(2026, 3, 9)), ("111111111111", "222222222222"))
    assert found == []
    assert gate.runs["sqlfluff"] == before["sqlfluff"]
    assert gate.runs["shipped"] == before["shipped"] + 1
    assert "2026/03/01" in sql  # the rendering is today's, not the one linted at install

    # the template changed (a column more): it is linted again, though its rendering lints clean
    path = pack / "queries" / "top-destinations.sql"
    path.write_text(path.read_text().replace("    count(*) AS flows,", "    count(*) AS flows,\n    count(*) AS n,"))
    before = dict(gate.runs)
    sql, found = _lint(pack, Window(date(2026, 3, 1), date(2026, 3, 9)))
    assert "AS n," in sql
    assert found == []
    assert gate.runs["sqlfluff"] == before["sqlfluff"] + 1
    assert gate.runs["shipped"] == before["shipped"]


def test_other_text_under_a_shipped_template_is_linted(pack):
    """The results vouch for shapes, not for the template: any other text is linted, findings reported."""
    sql, _ = _lint(pack, Window(date(2026, 3, 1), date(2026, 3, 9)))
    path = pack / "queries" / "top-destinations.sql"
    before = dict(gate.runs)
    found = gate.lint_sql(sql.replace("WHERE", "WHERE TRUE OR", 1), str(path), flow_log_table="flow_logs")
    assert gate.runs["sqlfluff"] == before["sqlfluff"] + 1
    assert any(f.code == "FS01" for f in found)


def test_results_of_other_settings_are_not_used(pack, tmp_path):
    doc = (tmp_path / "shipped.json").read_text()
    (tmp_path / "shipped.json").write_text(doc.replace('"shapes":"', '"shapes":"0', 1))
    shipped._loaded.clear()
    before = dict(gate.runs)
    _, found = _lint(pack, Window(date(2026, 3, 1), date(2026, 3, 9)))
    assert found == []
    assert gate.runs["sqlfluff"] == before["sqlfluff"] + 1


def test_the_first_query_after_install_does_not_import_sqlfluff(tmp_path):
    """A pack query, every cache cold, the shipped results computed: sqlfluff is never imported."""
    import subprocess
    import sys

    if not shipped.DEFAULT_PATH.exists():
        ship.build(out=shipped.DEFAULT_PATH)  # what `make install` does
    code = ("import sys\nfrom flowsql.cli import main\nsys.argv = ['flowsql'] + sys.argv[1:]\n"
            "try:\n    main()\nfinally:\n"
            "    print('heavy', [m for m in ('sqlfluff',) if m in sys.modules], file=sys.stderr)\n")
    import os

    env = {k: v for k, v in os.environ.items() if k != "FLOWSQL_LINT_SHIPPED"}
    env.update(FLOWSQL_CONFIG=str(tmp_path / "none.json"), FLOWSQL_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", code, "render", "top-talkers", "--engine", "local",
                          "--since", "2025-06-01", "--until", "2025-06-30"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "heavy []" in out.stderr, out.stderr
