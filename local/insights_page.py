"""The offline insights page, QuickSight's stand-in: `out/insights.html`, one self-contained file built from the
insight views as the analyst role reads them (local/governed.py), with plotly.js inlined so it opens with no network.

On the page: the charts a brand manager looks at first (sales and units per day per marketplace, top movers,
conversion, inventory days of cover, payouts, search-term share), the period the data covers, each dataset's
freshness (its newest day) and its last validation, linking the dataset's Data Docs page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from lake_formation import bi, registry

if TYPE_CHECKING:
    from pathlib import Path

    from local.governed import Session

# Chart ids the page, its browser test and the QuickSight dashboard agree on, with what each chart shows: declared
# once, with the dashboard (lake_formation/bi.py).
CHARTS = {chart.id: chart.title for chart in bi.CHARTS}
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Validation:
    """A dataset's last curation run, as the page shows it."""

    dataset: str
    day: str  # the simulated day of the run (yyyy-mm-dd)
    success: bool
    evaluated: int
    failed: list[str]  # one line per failed expectation
    docs: str | None  # the Data Docs page, relative to the insights page


def _rows(session: Session, sql: str, view: str) -> list[dict[str, Any]]:
    """The rows of a query over one view; none when the role cannot read the view (its chart stays empty)."""
    if view not in session.views:
        return []
    return session.rows(sql)


def _by_marketplace(rows: list[dict[str, Any]], x: str, y: str, kind: str = "line") -> go.Figure:
    figure = go.Figure()
    for market in sorted({r["marketplace_id"] for r in rows}):
        points = [r for r in rows if r["marketplace_id"] == market]
        xs, ys = [r[x] for r in points], [float(r[y] or 0) for r in points]
        trace = go.Scatter(x=xs, y=ys, name=market, mode="lines") if kind == "line" else go.Bar(x=xs, y=ys, name=market)
        figure.add_trace(trace)
    return figure


def figures(session: Session) -> dict[str, go.Figure]:
    """One figure per chart of CHARTS, from the views (Athena SQL, as the analyst)."""
    daily = _rows(session, """SELECT marketplace_id, day, sum(units_ordered) AS units, sum(shipped_sales) AS sales
                              FROM daily_sales GROUP BY 1, 2 ORDER BY 1, 2""", "daily_sales")  # fmt: skip
    movers = _rows(session, """SELECT marketplace_id || ' ' || asin AS item, change FROM product_movers
                               ORDER BY abs(change) DESC, item LIMIT 15""", "product_movers")  # fmt: skip
    conversion = _rows(
        session, "SELECT marketplace_id, day, unit_session_percentage FROM conversion ORDER BY 1, 2", "conversion"
    )
    cover = _rows(session, """SELECT marketplace_id || ' ' || asin AS item, days_of_cover FROM inventory_health
                              WHERE days_of_cover IS NOT NULL ORDER BY days_of_cover, item LIMIT 15""",
                  "inventory_health")  # fmt: skip
    payouts = _rows(session, "SELECT marketplace_id, deposit_date, total FROM payouts ORDER BY 1, 2", "payouts")
    search = _rows(session, """SELECT marketplace_id || ' ' || search_term AS term, our_click_share
                               FROM search_term_share
                               WHERE week_start = (SELECT max(week_start) FROM search_term_share)
                               ORDER BY search_frequency_rank, term LIMIT 15""", "search_term_share")  # fmt: skip
    return {
        "sales": _by_marketplace(daily, "day", "sales"),
        "units": _by_marketplace(daily, "day", "units"),
        "movers": go.Figure(go.Bar(x=[r["change"] for r in movers], y=[r["item"] for r in movers], orientation="h")),
        "conversion": _by_marketplace(conversion, "day", "unit_session_percentage"),
        "cover": go.Figure(
            go.Bar(x=[float(r["days_of_cover"]) for r in cover], y=[r["item"] for r in cover], orientation="h")
        ),  # fmt: skip
        "payouts": _by_marketplace(payouts, "deposit_date", "total", kind="bar"),
        "search": go.Figure(
            go.Bar(x=[float(r["our_click_share"]) for r in search], y=[r["term"] for r in search], orientation="h")
        ),  # fmt: skip
    }


def freshness(session: Session) -> list[tuple[str, str, str]]:
    """(dataset, its first day, its newest day) for every table the analyst reads that holds rows."""
    found = []
    for table in session.tables:
        day = registry.dataset(table).curation.day
        row = session.query(f'SELECT min("{day}"), max("{day}") FROM "{table}"').fetchone()
        if row and row[1] is not None:
            found.append((table, str(row[0]), str(row[1])))
    return found


def render(session: Session, validations: list[Validation], title: str = "spapi-lake insights") -> str:
    """The whole page: header (period, freshness, validations), then the charts, plotly.js inlined once."""
    fresh = freshness(session)
    period = (min(f[1] for f in fresh), max(f[2] for f in fresh)) if fresh else ("-", "-")
    charts, first = [], True
    for chart_id, figure in figures(session).items():
        figure.update_layout(title=CHARTS[chart_id], height=380, margin={"l": 160, "r": 20, "t": 50, "b": 40})
        body = figure.to_html(full_html=False, include_plotlyjs=first, div_id=f"chart-{chart_id}",
                              config=PLOT_CONFIG)  # fmt: skip
        charts.append(f'<section class="chart" data-chart="{chart_id}">{body}</section>')
        first = False
    fresh_rows = "".join(f"<tr><td>{html.escape(t)}</td><td>{a}</td><td>{b}</td></tr>" for t, a, b in fresh)
    checks = "".join(
        f'<tr><td>{html.escape(v.dataset)}</td><td>{v.day}</td><td class="{"ok" if v.success else "failed"}">'
        f"{'passed' if v.success else 'FAILED: ' + html.escape('; '.join(v.failed))}</td><td>{v.evaluated}</td>"
        f"<td>{f'<a href={html.escape(v.docs, quote=True)!r}>Data Docs</a>' if v.docs else '-'}</td></tr>"
        for v in validations
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #1f2933; }}
table {{ border-collapse: collapse; margin: 8px 0 24px; }}
td, th {{ padding: 3px 10px; border-bottom: 1px solid #ddd; }}
.ok {{ color: #1a7f37; }} .failed {{ color: #b42318; font-weight: bold; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p id="period">Data from {period[0]} to {period[1]}, as the analyst role reads it (no PII column).</p>
<div class="charts">{"".join(charts)}</div>
<h2>Freshness</h2><table id="freshness"><tr><th>dataset</th><th>first day</th><th>newest day</th></tr>
{fresh_rows}</table>
<h2>Last validation</h2><table id="validations">
<tr><th>dataset</th><th>run</th><th>suite</th><th>expectations</th><th></th></tr>
{checks}</table>
</body></html>
"""


def write_page(session: Session, validations: list[Validation], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(session, validations), encoding="utf-8")
    return target
