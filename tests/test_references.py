"""Every file the docs and the dbt project point a reader to exists, and every exposure's url opens in the docs
site: README.md, docs/*.md and the dbt project's yml (descriptions, exposures, dbt_project.yml's comments)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from orchestration.local import docs_site

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_smartgrid"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DBT_YML = sorted(p for p in DBT.rglob("*.yml") if not {"target", "logs", "dbt_packages"} & set(p.parts))
# a path: a file name with one of these endings, or anything under one of the repository's folders
FILE = r"[\w.-]+\.(?:py|sql|yml|yaml|md|json|png|cfg)"
FOLDER = r"(?:orchestration|dbt_smartgrid|docs|tests|benchmarks|gx|profiles|models|macros|sql|steps|flows|db|local)/"
PATH = re.compile(rf"(?<![\w/.$*<>~{{-])((?:[\w.-]+/)*{FILE}|{FOLDER}(?:[\w.-]+/?)*)(?![\w/])")
BASES = (REPO, DBT, REPO / "orchestration")  # plus the citing file's own folder


def _ignored(paths: set[str]) -> set[Path]:
    """The paths git ignores: what the pipeline writes (benchmarks/results.json, dbt's target/, gx/uncommitted/).

    A cited folder keeps its trailing slash: git matches a pattern like `target/` only to a folder, and in a fresh
    clone the folder does not exist yet."""
    resolved = {(Path(p).resolve(), p.endswith("/")) for p in paths}
    inside = [str(r.relative_to(REPO)) + "/" * folder for r, folder in resolved if r.is_relative_to(REPO)]
    done = subprocess.run(["git", "check-ignore", "--no-index", *inside], cwd=REPO, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return {REPO / path for path in done.stdout.split()}


def cited_paths() -> dict[str, set[str]]:
    """"page:line" -> the paths it names (URLs left out)."""
    cited = {}
    for page in PAGES + DBT_YML:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            line = re.sub(r"\w+://\S+", "", line)
            found = {m.group(1) for m in PATH.finditer(line)}
            if found:
                cited[f"{page.relative_to(REPO)}:{number}"] = found
    return cited


def test_every_path_the_docs_and_the_dbt_project_name_exists():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    names = {Path(path).name for path in tracked} | {path.name for path in REPO.rglob("*.py")}  # new files too
    cited = cited_paths()
    every = {path for paths in cited.values() for path in paths}
    assert {"orchestration/steps/loader.py", "dq_results.py", "docs/data-contract.md"} <= every  # the scan sees them
    folders = {where: (REPO / where.split(":")[0]).parent for where in cited}
    ignored = _ignored({f"{base}/{path}" for where, paths in cited.items() for path in paths for base in
                        (folders[where], *BASES)})  # fmt: skip
    missing = {}
    for where, paths in cited.items():
        for path in paths:
            candidates = [(base / path).resolve() for base in (folders[where], *BASES)]
            found = any(c.exists() or c in ignored for c in candidates)
            if not found and not ("/" in path.rstrip("/") or path not in names):
                found = True  # a bare file name: some file of the repository has it
            if not found:
                missing.setdefault(where, []).append(path)
    assert missing == {}


def test_every_section_of_the_readme_the_project_cites_exists():
    """`README "Section"` or `README, "Section"` in a yml, a page or the Makefile names a README heading."""
    headings = {line.lstrip("#").strip() for line in (REPO / "README.md").read_text().splitlines() if line[:1] == "#"}
    citing = [*PAGES, *DBT_YML, REPO / "Makefile"]
    cited = {m for p in citing for m in re.findall(r'README,? (?:section )?"([^"]+)"', p.read_text())}
    assert cited - headings == set()


def test_every_exposure_url_opens_in_the_docs_site(tmp_path):
    """An exposure's url is the page `make docs` writes beside the site's index.html: the latest grid report, or
    (before there is one) a page that says how to build it."""
    exposures = [e for p in DBT_YML for e in (yaml.safe_load(p.read_text()) or {}).get("exposures") or []]
    urls = {e["name"]: e["url"] for e in exposures if "url" in e}
    assert len(exposures) >= 4 and len(urls) >= 3
    assert {name: url for name, url in urls.items() if url != docs_site.REPORT_PAGE} == {}

    placeholder = docs_site.write_report_page(tmp_path / "no-report-yet.html", tmp_path)
    assert placeholder == tmp_path / "grid-report.html"
    assert "run <code>smartgrid report</code>" in placeholder.read_text()
    report = tmp_path / "built.html"
    report.write_text("<html>the grid report</html>")
    assert docs_site.write_report_page(report, tmp_path).read_text() == "<html>the grid report</html>"
