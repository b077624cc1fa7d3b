"""Jinja's compiled templates kept between renderings (flowsql/pack/compiled.py): a rendering that
finds them compiles nothing and renders the same SQL; a changed template, macro or a torn entry is
compiled again, never answered with stale code; the entries `ship` computes at install are read
before the cache."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import jinja2
import pytest

from flowsql.engines.base import Target
from flowsql.pack import compiled
from flowsql.pack.params import Window, resolve
from flowsql.pack.queries import parse_query
from flowsql.pack.render import render_text

ROOT = Path(__file__).resolve().parent.parent
TARGET = Target("local", flow_logs="flow_logs")


@pytest.fixture
def pack(tmp_path, monkeypatch):
    """A copy of the pack (its macros and one query), no shipped entries, a cold cache; the number of
    templates Jinja compiles, counted."""
    root = tmp_path / "sql"
    shutil.copytree(ROOT / "sql" / "macros", root / "macros")
    (root / "queries").mkdir()
    shutil.copy(ROOT / "sql" / "queries" / "top-destinations.sql", root / "queries")
    monkeypatch.setattr(compiled, "SHIPPED", tmp_path / "compiled.json")
    monkeypatch.setattr(compiled.CodeCache, "_shipped", None)
    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    compiles = []
    real = jinja2.Environment.compile

    def counted(self, source, *args, **kwargs):
        compiles.append(source)
        return real(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return root, compiles


def _render(root: Path, day: int = 1) -> str:
    query = parse_query(root / "queries" / "top-destinations.sql")
    window = Window(date(2026, 3, day), date(2026, 3, 9))
    return render_text(query.body, resolve(list(query.parameters), {"limit": "7"}), TARGET, window, root=root)


def _fresh(root: Path, day: int = 1) -> str:
    """The same rendering from code compiled afresh (as `ship` compiles: no entry is read)."""
    with compiled.recording():
        return _render(root, day)


def test_a_rendering_compiles_once_then_reads_the_code(pack):
    root, compiles = pack
    first = _render(root)
    assert compiles and list((Path(compiled.cache_dir("jinja"))).glob("*.json"))
    compiles.clear()
    second = _render(root, day=2)  # another window: what the rendering cache of render() would miss
    assert compiles == [] and second == _fresh(root, day=2) and second != first
    compiles.clear()
    again = _render(root)
    assert again == first and compiles == []


@pytest.mark.parametrize("change", ["the query", "a macro", "a torn entry"])
def test_a_change_is_compiled_again_never_read_stale(pack, change):
    root, compiles = pack
    _render(root)
    if change == "the query":
        path = root / "queries" / "top-destinations.sql"
        path.write_text(path.read_text().replace("LIMIT", "-- changed\nLIMIT"))
    elif change == "a macro":
        path = root / "macros" / "window.sql"
        path.write_text(path.read_text() + "\n{% macro flowsql_test_marker() %}x{% endmacro %}\n")
    else:
        for entry in Path(compiled.cache_dir("jinja")).glob("*.json"):
            entry.write_text('"' + "QUJD" * 3 + '"')  # base64 of no bytecode Jinja can read
    compiles.clear()
    out = _render(root)
    assert compiles  # compiled again
    if change == "the query":
        assert "-- changed" in out
    assert out == _fresh(root)


def test_the_shipped_entries_come_first_and_the_cache_is_not_written(pack, tmp_path):
    root, compiles = pack
    with compiled.recording() as entries:
        expected = _render(root)
    assert entries
    from flowsql.files import dumps_json

    compiled.SHIPPED.write_text(dumps_json(entries))
    shutil.rmtree(compiled.cache_dir("jinja"), ignore_errors=True)
    compiles.clear()
    assert _render(root) == expected and compiles == []
    assert not Path(compiled.cache_dir("jinja")).exists()
