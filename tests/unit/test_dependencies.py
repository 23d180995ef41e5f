"""The import graph of `crm/`: no cycle, and every edge down the order architecture.md writes.

core → reference, spreadsheets, jobs, mail → accounts → firms → eligibility → pipeline →
coaching, certification, listing, support → reminders → excel, reports, dashboard, portal,
admin → demo. A package imports only packages on an earlier step; packages on the same step do
not import each other. The modules at the top of `crm/` that assemble the app (`app`, `cli`,
`models`, the package itself) may import everything; `config` and `extensions` belong to the
kit. Every import counts, those inside functions too: a deferred import is still an edge.
"""

import ast
from pathlib import Path

CRM = Path(__file__).resolve().parents[2] / "crm"
ORDER = (
    {"core"},
    {"reference", "spreadsheets", "jobs", "mail"},
    {"accounts"},
    {"firms"},
    {"eligibility"},
    {"pipeline"},
    {"coaching", "certification", "listing", "support"},
    {"reminders"},
    {"excel", "reports", "dashboard", "portal", "admin"},
    {"demo"},
    {"crm"},
)
#: Modules at the top of `crm/` that belong to the kit; the others there assemble the app.
TOP_LEVEL_KIT = {"config", "extensions"}
STEP = {package: step for step, packages in enumerate(ORDER) for package in packages}


def module_name(path: Path) -> str:
    """Return the dotted name of a module file under `crm/`."""
    parts = path.relative_to(CRM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Return every module of `crm/` by dotted name (not the migrations' scripts: no package)."""
    return {
        module_name(path): path
        for path in sorted(CRM.rglob("*.py"))
        if all((CRM / folder / "__init__.py").exists() for folder in path.relative_to(CRM).parents)
    }


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Return the `crm` modules that the module at `path` imports, anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("crm"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not (node.module == "crm" or node.module.startswith("crm.")):
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found


def package(module: str) -> str:
    """Return the package of `crm/` a module belongs to; `crm` for the modules that assemble."""
    parts = module.split(".")
    if len(parts) > 1 and (CRM / parts[1]).is_dir():
        return parts[1]
    return "core" if len(parts) > 1 and parts[1] in TOP_LEVEL_KIT else "crm"


def graph() -> dict[str, set[str]]:
    """Return each module's imports of other `crm` modules."""
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_place_in_the_order():
    found = {package(name) for name in modules()}
    assert {"core", "firms", "pipeline", "demo", "crm"} <= found
    assert found <= set(STEP)


def test_imports_point_down_the_order():
    against = sorted(
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if package(source) != package(target) and STEP[package(target)] >= STEP[package(source)]
    )
    assert against == []


def test_no_module_imports_itself_back_through_others():
    assert cycles(graph()) == []


def test_the_checks_see_a_cycle_and_an_edge_against_the_order():
    edges = {"crm.firms.a": {"crm.firms.b"}, "crm.firms.b": {"crm.firms.a"}, "crm.core.c": set()}
    assert cycles(edges) == [["crm.firms.a", "crm.firms.b"]]
    assert STEP[package("crm.pipeline.views")] > STEP[package("crm.firms.views")]
