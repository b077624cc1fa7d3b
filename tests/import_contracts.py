"""An import-linter contract type for what `acyclic_siblings` cannot see: a cycle through a package's own
`__init__` (`flowsql.cli` imports `flowsql.cli.common`, which imports `flowsql.cli`). Module by module, no
import cycle at all, function-local imports included. Registered in pyproject.toml's [tool.importlinter]."""

from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import graph's strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, iter(sorted(graph.find_modules_directly_imported_by(other)))))
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


class AcyclicModulesContract(Contract):
    """No module imports, directly or not, a module that imports it."""

    type_name = "acyclic_modules"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        found = cycles(graph)
        return ContractCheck(kept=not found, warnings=[], metadata={"cycles": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        graph_cycles = check.metadata["cycles"]
        for component in graph_cycles:
            output.print_error("These modules import one another (a cycle):")
            for module in component:
                output.print_error(f"- {module}")
            output.new_line()
