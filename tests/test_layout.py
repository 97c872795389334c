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
    assert {"dbt_smartgrid", "gx", "profiles", "docs", "tests", "benchmarks", "orchestration"} <= rows
    assert [row for row in rows if not (REPO / row).exists()] == []
    assert top - {"dbt_smartgrid", "gx", "profiles", "docs", "tests", "benchmarks", "orchestration"} <= {
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
