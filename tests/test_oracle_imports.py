"""The oracle stays independent of the code it checks: tests/oracle*.py import nothing from flowsql but
the data generator's public API. An oracle that reused a predicate or a table of flowsql's (the Lambda
ENI rule, the protocol names) would agree with a bug in it."""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ORACLES = sorted(TESTS.glob("oracle*.py"))
# flowsql.demo.generate's public API: what to generate, the call, and what it returns
ALLOWED = {"flowsql.demo.generate": {"Scenario", "generate", "Generated"}}


def flowsql_imports(source: str) -> list[tuple[str, str | None]]:
    """(module, name) of every import of flowsql in `source`, function-local ones included; name is
    None for `import flowsql.x`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] == "flowsql"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "flowsql":
            found += [(node.module, a.name) for a in node.names]
    return found


def forbidden(source: str) -> list[str]:
    return [f"{m}.{n}" if n else m for m, n in flowsql_imports(source) if n not in ALLOWED.get(m, ())]


def test_the_oracle_modules_are_found():
    assert {"oracle.py", "oracle_case.py", "oracle_diagnose.py"} <= {p.name for p in ORACLES}


@pytest.mark.parametrize("path", ORACLES, ids=lambda p: p.name)
def test_an_oracle_imports_only_the_generator_from_flowsql(path):
    bad = forbidden(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.name} imports {bad} from flowsql: reimplement them in plain Python from the docs"


def test_the_check_sees_every_kind_of_import():
    source = ("import flowsql.inventory\n"
              "from flowsql.pack.params import PROTOCOLS\n"
              "from flowsql.demo.generate import Scenario, _Topology\n"
              "def f():\n    from flowsql import inventory\n"
              "from flowsql.demo.generate import generate\n"
              "from . import x\nimport json\n")
    assert forbidden(source) == ["flowsql.inventory", "flowsql.pack.params.PROTOCOLS",
                                 "flowsql.demo.generate._Topology", "flowsql.inventory"]
