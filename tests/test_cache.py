"""flowsql's caches change nothing but time: a run answered from the cache prints what a run with an
empty cache prints, and the cache keys see every source a rendering or a lint result depends on."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from flowsql.cache import source_digest
from trees import DAY, record, write_log


def _flowsql(cache: Path, tmp_path: Path, *args: str) -> str:
    # the lint results computed at install (pack/lint/shipped.py) would answer the lint: this test is of the cache
    env = {**os.environ, "FLOWSQL_CACHE_DIR": str(cache), "FLOWSQL_CONFIG": str(tmp_path / "none.json"),
           "FLOWSQL_LINT_SHIPPED": str(tmp_path / "no-shipped.json")}
    r = subprocess.run([sys.executable, "-m", "flowsql", *args], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_cached_run_prints_what_a_fresh_one_prints(tmp_path):
    write_log(tmp_path / "src", "a.log.gz", [record(), record(dst="2001:db8::1", nbytes="600"),
                                             record(action="REJECT", dst="10.0.0.9")])
    day = ["--since", str(DAY), "--until", str(DAY)]
    runs = [("query", "top-destinations", "--engine", "local", "--source", str(tmp_path / "src"), *day,
             "-p", "action=ANY", "-o", "json"),
            ("render", "conversation", "--engine", "local", "-p", "src=10.0.0.1", "-p", "dst=9.9.9.9", *day),
            ("render", "rejects-by-subnet", "--engine", "athena", *day)]
    cache, fresh = tmp_path / "cache", tmp_path / "fresh"
    for args in runs:
        first = _flowsql(cache, tmp_path, *args)
        kept = sorted(p.relative_to(cache) for p in cache.rglob("*.json"))
        assert {"render", "lint"} <= {p.parts[0] for p in kept}, kept  # the second run can be answered from it
        again = _flowsql(cache, tmp_path, *args)
        assert sorted(p.relative_to(cache) for p in cache.rglob("*.json")) == kept  # nothing new: all cached
        assert not fresh.exists()
        assert first == again == _flowsql(fresh, tmp_path, *args) and first.strip()
        shutil.rmtree(fresh)


def test_the_source_digest_sees_an_edit_an_added_file_and_a_rename(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "sub" / "b.sql").write_text("select 1\n")
    seen = set()

    def digest():
        from flowsql import cache

        cache._digests.clear()  # computed once per process: a new process is what an edit meets
        d = source_digest(tmp_path / "pkg")
        assert d not in seen
        seen.add(d)

    digest()
    (tmp_path / "pkg" / "a.py").write_text("A = 2\n")
    digest()
    (tmp_path / "pkg" / "sub" / "c.sql").write_text("")
    digest()
    (tmp_path / "pkg" / "sub" / "c.sql").rename(tmp_path / "pkg" / "sub" / "d.sql")
    digest()
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    from flowsql import cache

    cache._digests.clear()
    assert source_digest(tmp_path / "pkg") in seen  # compiled files are not sources


def test_the_cache_keys_cover_the_folders_of_the_renderer_and_the_lint_gate():
    """Every module that renders or lints a query lives under a folder the keys hash whole, so a module
    added there needs no list updating."""
    import flowsql.pack.lint.partition_bound
    import flowsql.pack.lint.sqlfluff_plugin.rules
    import flowsql.pack.params
    import flowsql.pack.queries
    from flowsql.pack import render
    from flowsql.pack.lint import gate

    for module in (gate, flowsql.pack.lint.partition_bound, flowsql.pack.lint.sqlfluff_plugin,
                   flowsql.pack.lint.sqlfluff_plugin.rules):
        assert Path(module.__file__).resolve().is_relative_to(gate._HERE)
    for module in (render, flowsql.pack.params, flowsql.pack.queries, gate):
        assert Path(module.__file__).resolve().is_relative_to(render._PACKAGE / "pack")
