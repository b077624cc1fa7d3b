"""The import contract (pyproject.toml's [tool.importlinter], what `make lint` checks): the real tree keeps
it, and a copy of the package with one import against the flow breaks it. Function-local imports count:
every import added below is inside a function, where the start-up-light code puts its imports."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(package_parent: Path, config_dir: Path) -> subprocess.CompletedProcess:
    """lint-imports with `package_parent`'s flowsql first on the path, run in `config_dir` (where it
    reads pyproject.toml and imports the contract type of tests/import_contracts.py from)."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=config_dir, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_tree_keeps_the_import_contract():
    r = lint_imports(ROOT, ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 3 kept, 0 broken." in r.stdout


@pytest.mark.slow  # lint-imports three times over a copy of the package: about 1 s each, more on a busy machine
@pytest.mark.parametrize("module,imports,said", [
    # a lower layer importing a higher one: the logs importing the CLI
    ("logs/fields.py", "from flowsql.cli import app", "flowsql.logs is not allowed to import flowsql.cli"),
    # a cycle between siblings of one package
    ("pack/lint/settings.py", "from flowsql.pack.lint.gate import lint_sql",
     "No cycles are allowed in flowsql.pack.lint"),
    # a cycle through a package's own __init__ (flowsql.posture imports posture.model at its top)
    ("posture/model.py", "from flowsql.posture import all_checks", "- flowsql.posture.model"),
], ids=["layer", "siblings", "package-init"])
def test_an_import_against_the_flow_breaks_the_contract(tmp_path, module, imports, said):
    src, config = tmp_path / "src", tmp_path / "config"
    shutil.copytree(ROOT / "flowsql", src / "flowsql", ignore=shutil.ignore_patterns("__pycache__"))
    (config / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", config)
    shutil.copy(ROOT / "tests" / "import_contracts.py", config / "tests")
    target = src / "flowsql" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n\ndef _against_the_flow():\n    {imports}\n",
                      encoding="utf-8")
    r = lint_imports(src, config)
    assert r.returncode != 0, r.stdout + r.stderr
    assert said in r.stdout, r.stdout  # broken by the import added, not by the copy
    assert "BROKEN" in r.stdout


# Names that several modules define on purpose: the API that discovery or a registry calls on every module
# of a kind, and the posture package's own interface over its modules. Anything else defined twice misleads
# (one name, two meanings), and a new one fails here.
SHARED = {
    "plan": "a report section's API (report/sections/__init__.py)", "build": "a report section's API",
    "html": "a report section's API", "markdown": "a report section's API",
    "run": "a posture check's API (posture/checks/__init__.py), and runner.run",
    "discover": "the discovery of report sections and of posture checks",
    "make_client": "a pull source's API (pull/cloudwatch.py, pull/s3.py)",
    "page": "case.html and case.md (investigate/render_html.py, render_md.py)",
    "table": "the report's HTML and Markdown building blocks",
    "kv_table": "the report's HTML and Markdown building blocks",
    "design_sheet": "flowsql.posture's interface", "evaluate": "flowsql.posture's interface",
    "has_snapshot": "flowsql.posture's interface", "load_policy": "flowsql.posture's interface",
    "load_snapshot": "flowsql.posture's interface",
    "has_snapshots": "flowsql.posture's interface", "load_snapshots": "flowsql.posture's interface",
    "evaluate_snapshots": "flowsql.posture's interface", "design_snapshots": "flowsql.posture's interface",
    # to rename with the report's orchestration (cli/report.py) in one change
    "render": "pack.render.render; report.write.render and investigate.write.render (the files' bytes)",
    "sweep": "engines.local.duck.sweep; report.write.sweep",
    "names": "a registry's API (flowsql.engines, schedule/targets.py)",
    "get": "a registry's API (flowsql.engines, schedule/targets.py)",
}


def test_no_two_modules_define_a_public_function_of_one_name():
    import ast
    import collections

    defined = collections.defaultdict(list)
    for path in sorted((ROOT / "flowsql").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                defined[node.name].append(path.relative_to(ROOT).as_posix())
    twice = {name: where for name, where in defined.items() if len(where) > 1 and name not in SHARED}
    assert not twice, twice
    assert set(SHARED) <= {name for name, where in defined.items() if len(where) > 1}  # none kept for nothing
