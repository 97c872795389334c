"""Open a built report in headless Chromium (through orchestration/local/docs_site.py, Playwright): which charts
plotly.js drew, what hovering a bar shows, every URL the page requested and its console errors. Also takes the
README's screenshot (`smartgrid report --screenshot docs/grid-report.png`).
"""

from __future__ import annotations

from pathlib import Path

from orchestration.local import docs_site

# null until the page has loaded and plotly.js has drawn every chart (or 20 s have passed)
DRAWN_JS = """(() => {
  if (document.readyState !== 'complete') return null;
  const plots = [...document.querySelectorAll('div.plot')];
  const drawn = plots.filter(p => p._fullLayout && p.querySelector('svg.main-svg'));
  if (drawn.length < plots.length && performance.now() < 20000) return null;
  let hover = null;
  const bars = drawn.find(p => p.data.length && p.data[0].type === 'bar');
  if (bars) {
    Plotly.Fx.hover(bars, [{curveNumber: 0, pointNumber: 0}]);
    const label = bars.querySelector('.hovertext');
    hover = {chart: bars.id, text: label ? label.textContent : ''};
    Plotly.Fx.unhover(bars);
  }
  const notice = document.querySelector('.no-data');
  return {plots: plots.map(p => p.id), drawn: drawn.map(p => p.id), hover: hover,
          notice: notice ? notice.textContent : null,
          headings: [...document.querySelectorAll('h2')].map(h => h.textContent)};
})()"""


def open_report(path: Path, screenshot: Path | None = None, timeout: float = 90) -> dict:
    """{"value": what DRAWN_JS saw, "requested": [urls], "errors": [console errors]} for the report at `path`."""
    return docs_site.render_page(path.resolve().as_uri(), DRAWN_JS, screenshot, timeout, full_page=True)


def offsite(requested: list[str], path: Path) -> list[str]:
    """Requests other than the report file itself and inline data: none, for a report that works offline."""
    return [url for url in requested if url != path.resolve().as_uri() and not url.startswith("data:")]



def check_in_browser(report: Path, screenshot: Path) -> int:
    """Open the report, take the screenshot, print what was drawn; 0 when every chart drew, offline, error-free."""
    seen = open_report(report, screenshot)
    value = seen["value"] or {}
    print(f"{len(value.get('drawn', []))} of {len(value.get('plots', []))} charts drawn; screenshot {screenshot}")
    elsewhere = offsite(seen["requested"], report)
    print(f"  console errors: {seen['errors'] or 'none'}; requests elsewhere: {elsewhere or 'none'}")
    return 0 if value and not seen["errors"] and not elsewhere else 1
