"""The tree as the README describes it: every room in the layout table, every module it names where it says,
modules of one job (none over 250 lines, the tests' and benchmarks' included), and no path of a particular
machine in the docs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
TABLE = [line for line in README.splitlines() if line.startswith("| `")]


def test_every_folder_is_a_row_of_the_layout_table_and_every_row_a_folder():
    rows = {re.match(r"\| `([^`]+)`", line).group(1).rstrip("/") for line in TABLE}
    rooms = {f"orchestration/{p.name}" for p in (REPO / "orchestration").iterdir() if (p / "__init__.py").exists()}
    top = {p.name for p in REPO.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "__pycache__"}
    assert rooms - {"orchestration/sql"} <= rows  # sql/ holds DDL files, named in the orchestration/ row
    assert {"dbt_smartgrid", "gx", "docs", "tests", "benchmarks", "orchestration"} <= rows
    assert [row for row in rows if not (REPO / row).exists()] == []
    assert top - {"dbt_smartgrid", "gx", "docs", "tests", "benchmarks", "orchestration"} <= {
        "build", "dist", "smartgrid_elt.egg-info"
    }  # fmt: skip


def test_every_module_the_table_names_lives_in_that_folder():
    for line in TABLE:
        folder = re.match(r"\| `([^`]+)`", line).group(1)
        if not folder.startswith("orchestration"):
            continue
        named = set(re.findall(r"`([a-z_/]+\.(?:py|yaml))`", line.split("|")[2]))
        assert named, line
        assert [name for name in named if not (REPO / folder / name).exists()] == [], folder


def test_no_module_is_over_250_lines():
    modules = [p for folder in ("orchestration", "tests", "benchmarks") for p in (REPO / folder).rglob("*.py")]
    assert any(p.parent.name == "tests" for p in modules) and any(p.parent.name == "benchmarks" for p in modules)
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in modules}
    assert {path: n for path, n in sizes.items() if n > 250} == {}


def test_the_docs_name_no_path_of_a_particular_machine():
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = page.read_text()
        assert "/work/" not in text and "../shared" not in text, page.name


def test_no_dbt_model_is_over_230_lines():
    models = list((REPO / "dbt_smartgrid" / "models").rglob("*.sql"))
    assert len(models) > 20
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in models}
    assert {path: n for path, n in sizes.items() if n > 230} == {}


def test_every_test_the_docs_name_exists():
    """`tests/x.py::name` (or `::name` after it on the same line) in the README and docs/ is a test there."""
    missing = []
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for line in page.read_text().splitlines():
            module = None
            for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", line):
                module = match.group(1) or module
                if module and not (REPO / module).exists():
                    missing.append(module)
                elif module and match.group(2) and f"def {match.group(2)}(" not in (REPO / module).read_text():
                    missing.append(f"{module}::{match.group(2)}")
    assert missing == []


# Imports run one way: a module imports its own layer or a lower one, never a higher one (function-level
# imports included). The embedded server's helpers (local/) sit above db/: production connection code knows
# nothing of them.
LAYERS = (
    ("orchestration.window", "orchestration.results", "orchestration.db", "orchestration.settings",
     "orchestration.sources", "orchestration.secrets", "orchestration.alerting", "orchestration.automations",
     "orchestration.warehouse_slot", "orchestration.process_exit"),
    ("orchestration.steps",),
    ("orchestration.report", "orchestration.local"),
    ("orchestration.flows",),
    ("orchestration.cli",),
)  # fmt: skip
# upward imports allowed for now (none: steps/freshness.py sends its alert through orchestration/alerting.py)
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _layer(module: str) -> int:
    found = [(len(name), n) for n, names in enumerate(LAYERS) for name in names
             if module == name or module.startswith(name + ".")]  # fmt: skip
    assert found, f"{module} is in no layer of tests/test_layout.py::LAYERS"
    return max(found)[1]  # the most specific name decides


def _imports() -> dict[str, set[str]]:
    """Every orchestration module -> the orchestration modules it imports anywhere in its body."""
    import ast

    graph = {}
    for path in (REPO / "orchestration").rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        modules = {m for m in found if m.startswith("orchestration.")}
        graph[module] = {m for m in modules if (REPO / (m.replace(".", "/") + ".py")).exists() or
                         (REPO / m.replace(".", "/") / "__init__.py").exists()}  # fmt: skip
    return graph


def test_imports_run_one_way_and_db_knows_nothing_of_the_embedded_server():
    graph = _imports()
    assert len(graph) > 50 and "orchestration.settings" in graph["orchestration.flows.smartgrid_etl_flow"]
    upward = {
        (module, imported)
        for module, imports in graph.items()
        for imported in imports
        if module != "orchestration" and _layer(imported) > _layer(module)
    }
    assert upward - KNOWN_UPWARD == set()
    assert upward >= KNOWN_UPWARD, "an allowance is no longer needed: remove it from KNOWN_UPWARD"
    db_to_local = {(m, i) for m, imports in graph.items() if m.startswith("orchestration.db") for i in imports
                   if i.startswith("orchestration.local")}  # fmt: skip
    assert db_to_local == set()


def test_no_import_circle():
    """No module reaches itself through imports (a submodule naming its own package aside): the settings circle
    settings -> db/targets -> local/postgres -> settings was one."""
    graph = {m: {i for i in imports if not m.startswith(i + ".")} for m, imports in _imports().items()}

    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen and module in graph:
                seen.add(module)
                todo += graph[module]
        return seen

    assert sorted(m for m in graph if m in reaches(m)) == []
