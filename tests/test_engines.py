"""The engine registry: every engine complete (attributes, methods, an implementation of every macro
the pack dispatches), an incomplete one named with what it lacks, engine-specific SQL only ever the
chosen engine's, and the command line's engine options checked against the engine they belong to."""

from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner

from flowsql import engines
from flowsql.engines.base import EngineOptions, EngineSpec, Target
from flowsql.errors import RenderError, UsageError
from flowsql.pack.params import Window
from flowsql.pack.render import render_text

W = Window(date(2024, 1, 1), date(2024, 1, 7))
FLOWSQL = Path(engines.__file__).resolve().parent.parent


def test_every_registered_engine_is_complete():
    assert engines.names() and len(set(engines.names())) == len(engines.names())
    for name in engines.names():
        spec = engines.get(name)
        assert spec.name == name and (FLOWSQL / "engines" / name / "__init__.py").is_file()
        engines.check_engine(spec, f"flowsql.engines.{name}")  # raises EngineError naming what is missing
    assert engines.FALLBACK in engines.names()


def test_the_pack_dispatches_and_every_engine_implements_each_macro():
    dispatched = engines.dispatched_macros()
    # the engine-specific macros of the pack (a test over an empty set would prove nothing)
    assert {"cidr_contains", "in_block", "same_address", "address_in"} <= dispatched
    for spec in engines.all_engines():
        assert dispatched <= spec.macros(), (spec.name, dispatched - spec.macros())


def test_no_template_of_the_pack_compares_engine_names():
    """Engine-specific SQL goes through dispatch(): no `{% if engine == … %}` left in the pack."""
    import re

    for path in sorted((FLOWSQL.parent / "sql").glob("*/*.sql")):
        assert not re.search(r"engine\s*(==|!=|\bin\b)", path.read_text()), path


def test_an_unknown_engine_is_a_usage_error_naming_the_known_ones():
    with pytest.raises(UsageError) as e:
        engines.get("bigquery")
    assert "bigquery" in str(e.value) and all(n in str(e.value) for n in engines.names())


def _fake_engine(root: Path, package: str, body: str, macros: dict[str, str] | None = None) -> str:
    folder = root / package
    folder.mkdir()
    (folder / "__init__.py").write_text(dedent(body))
    if macros is not None:
        (folder / "macros").mkdir()
        for name, text in macros.items():
            (folder / "macros" / name).write_text(text)
    return package


COMPLETE = """
    from flowsql.engines.base import EngineSpec, Target

    class Fake(EngineSpec):
        name = "fake"
        title = "the fake engine"
        dialect = "ansi"
        needs_aws = False
        lint_flow_logs = "flow_logs"
        lint_tgw_flow_logs = "tgw_flow_logs"
        options = ("source",)
        evidence_fields = (("files read", "files", ("files_read", "bytes_read")),)

        def create(self, options, *, window, accounts=(), regions=()):
            raise NotImplementedError("a fake")

        def render_target(self, options=None):
            return Target(self.name)

        def read_summary(self, stats):
            return "read nothing"

        def set_up(self):
            return False

        def unready(self, given, set_up):
            return None
    {more}
    ENGINE = Fake()
"""


def _macros_of_every_dispatch(name: str, leave_out=()) -> dict[str, str]:
    return {f"{m}.sql": f"{{% macro {name}__{m}(a, b) -%}}\nTRUE\n{{%- endmacro %}}\n"
            for m in engines.dispatched_macros() if m not in leave_out}


def test_a_complete_fake_engine_passes(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = _fake_engine(tmp_path, "fake_ok", COMPLETE.format(more=""), _macros_of_every_dispatch("fake"))
    spec = engines.load_engine(module)
    engines.check_engine(spec, module)
    assert spec.macros() == engines.dispatched_macros()


def test_an_engine_without_an_attribute_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    body = COMPLETE.format(more="").replace('        dialect = "ansi"\n', "")
    module = _fake_engine(tmp_path, "fake_no_dialect", body, _macros_of_every_dispatch("fake"))
    with pytest.raises(engines.EngineError, match="fake_no_dialect: missing dialect"):
        engines.load_engine(module)


def test_an_engine_without_a_method_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    body = COMPLETE.format(more="").replace("        def read_summary(self, stats):\n            return \"read nothing\"\n", "")
    module = _fake_engine(tmp_path, "fake_no_summary", body, _macros_of_every_dispatch("fake"))
    with pytest.raises(engines.EngineError, match="missing read_summary"):
        engines.load_engine(module)


def test_an_engine_without_a_dispatched_macro_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = _fake_engine(tmp_path, "fake_no_macro", COMPLETE.format(more=""),
                          _macros_of_every_dispatch("fake", leave_out=("in_block",)))
    spec = engines.load_engine(module)  # loading reads no macro file (start-up)…
    with pytest.raises(engines.EngineError, match=r"no fake__in_block in .*fake_no_macro/macros"):
        engines.check_engine(spec, module)  # …the check does


def test_an_engine_with_an_option_flowsql_does_not_have_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    body = COMPLETE.format(more="").replace('options = ("source",)', 'options = ("source", "bucket")')
    module = _fake_engine(tmp_path, "fake_bad_option", body, _macros_of_every_dispatch("fake"))
    with pytest.raises(engines.EngineError, match="unknown option.*bucket"):
        engines.load_engine(module)


def test_a_module_without_engine_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = _fake_engine(tmp_path, "fake_empty", "X = 1\n")
    with pytest.raises(engines.EngineError, match="fake_empty has no ENGINE"):
        engines.load_engine(module)


def _pack(tmp_path: Path, macros: dict[str, str]) -> Path:
    (tmp_path / "pack" / "macros").mkdir(parents=True)
    (tmp_path / "pack" / "queries").mkdir()
    for name, text in macros.items():
        (tmp_path / "pack" / "macros" / name).write_text(text)
    return tmp_path / "pack"


def test_dispatch_without_the_engines_implementation_is_a_render_error_not_another_engines_sql(tmp_path):
    athena_only = "{% macro athena__only_here(a) -%}\nATHENA_SQL({{ a }})\n{%- endmacro %}\n"
    root = _pack(tmp_path, {"only_here.sql": athena_only})
    body = "SELECT {{ dispatch('only_here')(col('x')) }}"
    assert render_text(body, {}, Target("athena"), W, root=root) == "SELECT ATHENA_SQL(x)\n"
    with pytest.raises(RenderError) as e:
        render_text(body, {}, Target("local"), W, root=root)
    assert "only_here" in str(e.value) and "local" in str(e.value) and "ATHENA_SQL" not in str(e.value)


def test_dispatch_reaches_each_engines_own_sql():
    from flowsql.resources import shipped_sql_dir

    body = "SELECT {{ cidr_contains(cidr('10.0.0.0/8'), col('srcaddr')) }}"
    local = render_text(body, {}, Target("local"), W, root=shipped_sql_dir())
    athena = render_text(body, {}, Target("athena"), W, root=shipped_sql_dir())
    assert "flowsql_cidr_contains('10.0.0.0/8', srcaddr)" in local and "IPADDRESS" not in local
    assert "contains('10.0.0.0/8', cast(srcaddr AS IPADDRESS))" in athena and "flowsql_" not in athena


def test_choose_the_default_and_refuse_another_engines_option(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWSQL_CONFIG", str(tmp_path / "none.json"))  # `flowsql setup` has not run
    assert engines.choose(None, EngineOptions()).name == engines.FALLBACK
    assert engines.choose(None, EngineOptions(source=tmp_path)).spec.reads_files
    with pytest.raises(UsageError, match="--source is an option of the local engine"):
        engines.choose("athena", EngineOptions(source=tmp_path))
    with pytest.raises(UsageError, match="--table is an option of Athena"):
        engines.choose("local", EngineOptions(table="t"))
    assert engines.choose("athena", EngineOptions(profile="p"), shared=("profile",)).name == "athena"
    assert engines.choose("local", EngineOptions(profile="p"), shared=("profile",)).name == "local"


def test_every_engine_option_belongs_to_an_engine():
    owned = {o for spec in engines.all_engines() for o in spec.options}
    assert owned == set(EngineSpec.OPTIONS)


# --- the command line ---------------------------------------------------------------------------

def _invoke(*args, env=None):
    from flowsql.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _one_error_line(r, code, *needles):
    assert r.exit_code == code, (r.exit_code, r.output)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("flowsql: error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize("command", [
    ("query", "top-destinations"), ("render", "top-destinations"), ("report", "--month", "2025-01"),
    ("diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22"), ("investigate", "10.0.0.1"),
])
def test_unknown_engine_is_exit_2(command):
    import subprocess
    import sys

    # the console script (its usage errors are one line; CliRunner shows click's own)
    r = subprocess.run([sys.executable, "-m", "flowsql", *command, "--engine", "bigquery"], capture_output=True,
                       text=True, timeout=60)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("flowsql: error: "), r.stderr
    assert "bigquery" in lines[0] and all(n in lines[0] for n in engines.names())


@pytest.mark.parametrize("command", [
    ("query", "top-destinations"), ("report", "--month", "2025-01"),
    ("diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22"), ("investigate", "10.0.0.1"),
])
@pytest.mark.parametrize("engine, option, needle", [
    ("local", ("--table", "t"), "--table is an option of Athena"),
    ("athena", ("--source", "./logs"), "--source is an option of the local engine"),
    ("athena", ("--skip-bad-files",), "--skip-bad-files is an option of the local engine"),
])
def test_another_engines_option_is_exit_2(command, engine, option, needle, tmp_path):
    env = {"FLOWSQL_CONFIG": str(tmp_path / "none.json")}
    _one_error_line(_invoke(*command, "--engine", engine, *option, env=env), 2, needle)
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_render_with_a_table_on_the_local_engine_is_exit_2(tmp_path):
    # it used to render Athena's SQL for --engine local
    _one_error_line(_invoke("render", "top-destinations", "--engine", "local", "--table", "t"), 2,
                    "--table is an option of Athena")


def test_the_athena_profile_is_refused_on_local_but_reports_use_it_for_uploads(tmp_path):
    env = {"FLOWSQL_CONFIG": str(tmp_path / "none.json")}
    _one_error_line(_invoke("query", "top-destinations", "--engine", "local", "--profile", "p", env=env), 2,
                    "--profile is an option of Athena")
    # report: --profile is for --upload too, so the local engine takes it (and then needs --source)
    _one_error_line(_invoke("report", "--month", "2025-01", "--engine", "local", "--profile", "p",
                            "--out", tmp_path / "r", env=env), 2, "needs --source")


def test_the_json_schemas_list_every_engine():
    """report.json and case.json name the engine: their schemas must know every registered one (a new
    engine fails here until they do)."""
    import json

    def enums(node):
        if isinstance(node, dict):
            if "engine" in node and isinstance(node["engine"], dict) and "enum" in node["engine"]:
                yield node["engine"]["enum"]
            for v in node.values():
                yield from enums(v)
        elif isinstance(node, list):
            for v in node:
                yield from enums(v)

    for schema in ("report/schema/report.schema.json", "investigate/schema/case.schema.json"):
        found = list(enums(json.loads((FLOWSQL / schema).read_text())))
        assert found and all(set(e) == set(engines.names()) for e in found), (schema, found)
