"""The dbt docs site: `smartgrid docs generate` builds it (offline), `smartgrid docs check` looks at its lineage page.

generate: `dbt docs generate --static` against the warehouse (the catalog then has every built relation's
columns and types). When the warehouse database cannot be reached (a fresh clone before `make demo`), the
site is built from the project alone (`--no-compile --empty-catalog`): lineage, descriptions and the
contracts' column types are all there. Either way `target/index.html` (for `make docs-serve`) and
`target/static_index.html` (one file that opens without a server) load nothing from the network.

check: serve the site with `dbt docs serve`, open the full lineage graph in headless Chromium (Debian's, at
/usr/bin/chromium, driven by Playwright, which downloads no browser of its own), and read the nodes and edges
the graph component (cytoscape) actually drew.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
MARTS = ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
SOURCES = ("ops.sensor_data", "ops.meter_readings")
REPORT_PAGE = "grid-report.html"  # the dashboard exposures' url: the latest grid report, beside the site's index
LINEAGE_PAGE = "#!/overview?g_v=1"  # the overview with the full-screen lineage graph open
# A headless Chromium that stays off the network except for the page it is told to load.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--window-size=1400,900",
]
BROWSER_ARGS = [flag for flag in CHROMIUM_FLAGS if flag not in ("--headless", "--window-size=1400,900")]  # Playwright
GRAPH_JS = """(() => {
  const container = document.getElementById('cy');
  const cy = container && container._cyreg && container._cyreg.cy;
  if (!cy || cy.nodes().length === 0) return null;
  return {
    nodes: cy.nodes().map(n => ({id: n.id(), label: n.data('label'), type: n.data('resource_type'),
                                 visible: n.visible()})),
    edges: cy.edges().map(e => [e.source().id(), e.target().id()]),
  };
})()"""


def generate(settings: Settings) -> int:
    """`smartgrid docs generate` (`make docs`)."""
    from orchestration.local.postgres import resolve_targets
    from orchestration.settings import library_environment
    from orchestration.steps.dbt_runner import dbt_environment

    warehouse, _ = resolve_targets(settings)
    args = ["docs", "generate", "--static"]
    try:
        import psycopg2

        psycopg2.connect(**warehouse.connect_kwargs(), connect_timeout=5).close()
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[-1]
        print(f"docs: the warehouse is not reachable ({reason}); building the site from the project alone")
        args += ["--no-compile", "--empty-catalog"]
    from dbt.cli.main import dbtRunner

    with library_environment(dbt_environment(settings, warehouse)):
        result = dbtRunner().invoke([*args, "--project-dir", str(settings.dbt_project_dir)])
    target = settings.dbt_project_dir / "target"
    if result.success:
        from orchestration.report.build import default_path

        write_report_page(default_path(settings, warehouse), target)
        print(f"docs: {target / 'index.html'} (make docs-serve) and {target / 'static_index.html'} (no server)")
    return 0 if result.success else 1


def write_report_page(report: Path, target: Path) -> Path:
    """target/grid-report.html, the page the exposures link to: a copy of `report` (the latest grid report of the
    warehouse), or, before there is one, a page that says how to build it. Served by `dbt docs serve`, and beside
    static_index.html for the site without a server."""
    import shutil

    page = target / REPORT_PAGE
    if report.exists():
        shutil.copyfile(report, page)
    else:
        page.write_text(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>smartgrid grid report</title>"
            "</head><body><h1>smartgrid grid report</h1><p>No grid report has been built for this warehouse yet: "
            "run <code>smartgrid report</code> (or <code>make report</code>), then <code>make docs</code>.</p>"
            "</body></html>\n"
        )
    return page


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int) -> subprocess.Popen:
    """`dbt docs serve` on 127.0.0.1:port (what `make docs-serve` runs), once it accepts connections."""
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "dbt", "docs", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-browser"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"dbt docs serve did not listen on port {port}")


def render_page(
    url: str, expression: str, screenshot: Path | None = None, timeout: float = 60, full_page: bool = False
) -> dict:
    """Load `url` in headless Chromium (driven by Playwright) and wait until the JavaScript `expression` returns
    something other than null; return {"value": that (None on timeout), "requested": every URL the page
    requested, "errors": its console errors and uncaught exceptions}."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    errors: list[str] = []
    value = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            try:
                value = page.wait_for_function(f"() => {expression}", timeout=timeout * 1000, polling=250).json_value()
            except PlaywrightError:  # never ready: report it as missing
                value = None
            if screenshot is not None and value is not None:
                page.screenshot(path=str(screenshot), full_page=full_page)
        finally:
            browser.close()
    return {"value": value, "requested": requested, "errors": errors}


def render_lineage(url: str, screenshot: Path | None = None, timeout: float = 60) -> dict:
    """The lineage graph the docs site at `url` drew, and every URL the page requested."""
    seen = render_page(url, GRAPH_JS, screenshot, timeout)
    return {"graph": seen["value"], "requested": seen["requested"]}


def check(settings: Settings) -> int:
    """`smartgrid docs check` (`make docs-check`): serve the site, draw its lineage page, and say what is
    missing (0 when nothing)."""
    if not CHROMIUM.exists():
        print(f"docs check: skipped, no Chromium at {CHROMIUM} (apt-get install chromium)")
        return 0
    screenshot = settings.dbt_project_dir / "target" / "lineage.png"
    port = free_port()
    server = serve(port)
    try:
        seen = render_lineage(f"http://127.0.0.1:{port}/{LINEAGE_PAGE}", screenshot=screenshot)
    finally:
        server.terminate()
        server.wait()
    labels = {node["label"] for node in (seen["graph"] or {}).get("nodes", []) if node["visible"]}
    missing = [name for name in (*SOURCES, *MARTS) if name not in labels]
    offsite = [url for url in seen["requested"] if not is_local(url, port)]
    print(f"docs check: the lineage graph drew {len(labels)} nodes (screenshot: {screenshot})")
    print(f"  missing sources or marts: {', '.join(missing) or 'none'}")
    print(f"  requests that left the local server: {', '.join(offsite) or 'none'}")
    return 1 if missing or offsite else 0


def is_local(url: str, port: int) -> bool:
    return url.startswith((f"http://127.0.0.1:{port}/", "data:", "about:"))

