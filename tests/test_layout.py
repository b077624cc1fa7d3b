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
    ("pack/lint/settings.py", "from flowsql.pack.lint.gate import lint_sql", "No cycles are allowed in flowsql.pack.lint"),
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
