"""``REPORT.html``: the report as one self-contained page beside ``REPORT.md``.

The page opens with the verdict counts and the scoreboard (one row per claim, each
framework x mode a pair of columns: its verdict and the estimate it is decided by), every
claim's statistics in a table sortable by any column (click a header), each
case's plots embedded as base64 PNGs and the method text; no file, font or
script is fetched from anywhere, so the page opens offline and can be mailed.
``tests/test_html_browser.py`` opens it in headless Chromium.
"""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from bench.records import atomic

from bench.publish import scoreboard

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5rem auto;max-width:1250px;
padding:0 1rem;color:#1f2328;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.2rem;font-size:.86rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.reproduced{background:#dafbe1}td.contradicted{background:#ffebe9}
td.inconclusive{background:#eaeef2}td.smaller-than-claimed{background:#fff8c5}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.4rem 0}
.scroll{overflow-x:auto}td.nowrap{white-space:nowrap}code{background:#f6f8fa;padding:0 .2rem}
"""

# Sorts a table by the clicked column: numerically when both cells start with a
# number, else as text; a second click reverses. No library: the page is offline.
SCRIPT = """
(function(){
  function key(cell){
    var t=(cell.getAttribute('data-sort')||cell.textContent).trim();
    var m=t.match(/^[-+]?(\\d+\\.?\\d*|\\.\\d+)(e[-+]?\\d+)?/i);
    return m?{n:parseFloat(m[0]),t:t}:{n:null,t:t.toLowerCase()};
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('thead th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        table.querySelectorAll('thead th').forEach(function(o){o.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var body=table.tBodies[0];
        var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){
          var x=key(a.cells[col]),y=key(b.cells[col]),d;
          if(x.n!==null&&y.n!==null){d=x.n-y.n;}else{d=x.t<y.t?-1:(x.t>y.t?1:0);}
          return asc?d:-d;
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _table(rows: list[dict], table_id: str, cell_class=None, links=None) -> str:
    if not rows:
        return "<p>No claim could be tested: none has records for all of its arms.</p>"
    headers = list(rows[0])
    head = "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for h in headers:
            value = _e(row[h])
            if links and h in links:
                value = f'<a href="#{_e(links[h](row))}">{value}</a>'
            klass = f' class="{_e(cell_class(h, row))}"' if cell_class and cell_class(h, row) else ""
            cells.append(f"<td{klass}>{value}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _markdown_bits(text: str) -> str:
    """The method text's few Markdown marks (bold, italics, code, pipe tables) as HTML."""
    out, table = [], []

    def inline(s: str) -> str:
        s = _e(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"\*(.+?)\*", r"<em>\1</em>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    def flush():
        if table:
            cells = [[c.strip() for c in line.strip("|").split("|")] for line in table
                     if not set(line.replace("|", "").strip()) <= set("-: ")]
            head = "".join(f"<th>{inline(c)}</th>" for c in cells[0])
            body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            table.clear()

    for para in text.split("\n\n"):
        lines = para.strip().splitlines()
        if lines and all(line.startswith("|") for line in lines):
            table.extend(lines)
            flush()
        elif lines:
            out.append(f"<p>{inline(' '.join(lines))}</p>")
    return "\n".join(out)


def _verdict_class(verdict: str) -> str:
    return "verdict " + "-".join(str(verdict).split())


def _claims_class(header: str, row: dict) -> str:
    if header == "verdict":
        return _verdict_class(row["verdict"])
    return "nowrap" if header in ("estimate [CI]", "framework", "claim") else ""


def _board(evaluated) -> tuple[list[dict], object]:
    """The scoreboard's rows (one per claim) and the class of each of its cells."""
    names = scoreboard.variants(evaluated)
    rows = []
    for w in scoreboard.wide(evaluated):
        row = {"claim": w["claim"], "case": w["case"], "statement": w["statement"]}
        for name in names:
            cell = w["cells"].get(name)
            row[f"{name} verdict"] = cell["verdict"] if cell else ""
            row[f"{name} estimate [CI]"] = cell["estimate"] if cell else ""
        rows.append({**row, "metric": w["metric"], "post reported": w["post"]})

    def klass(header: str, row: dict) -> str:
        if header.endswith(" verdict") and row[header]:
            return _verdict_class(row[header])
        return "nowrap" if header.endswith("[CI]") or header == "claim" else ""
    return rows, klass


def write(path, profile: str, evaluated, claim_rows: list[dict], figures: dict, method: str,
          notes: list[str] = ()) -> Path:
    """Write the page to ``path`` and return it. ``figures`` maps case id -> PNG paths."""
    board, board_class = _board(evaluated)
    claims = [{"case": case.id, **row} for (case, *_), row in zip(evaluated, claim_rows)]
    sections = []
    for case, *_ in evaluated:
        if any(f'id="{scoreboard.anchor(case.id)}"' in s for s in sections):
            continue
        imgs = "".join(_img(p, f"{case.id} {Path(p).stem}") for p in figures.get(case.id, []))
        sections.append(f'<section id="{_e(scoreboard.anchor(case.id))}"><h2>{_e(case.id)}: {_e(case.title)}</h2>'
                        f"<p>Source: {_e(case.source)}</p>{imgs}</section>")
    note = "".join(f"<p>{_e(n.replace('**', '').replace('`', ''))}</p>" for n in notes if n)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>regbench results: {_e(profile)}</title><link rel="icon" href="data:,"><style>{STYLE}</style></head>
<body>
<h1>Results: profile <code>{_e(profile)}</code></h1>
<p id="headline"><strong>{_e(scoreboard.headline(evaluated))}</strong></p>
{note}
<h2 id="scoreboard-title">Scoreboard</h2>
<p>One row per claim; for each framework (and mode) its verdict and the estimate that verdict is decided by,
with its interval (the claims table below names each interval). Click a column header to sort; a claim links
to its case's plots.</p>
{_table(board, "scoreboard", cell_class=board_class, links={"claim": lambda r: scoreboard.anchor(r["case"])})}
<h2>Claims</h2>
<p>One row per claim x framework x mode, with every statistic.</p>
{_table(claims, "claims", cell_class=_claims_class)}
{''.join(sections)}
<details><summary>How to read this (method)</summary>{_markdown_bits(method)}</details>
<script>{SCRIPT}</script>
</body></html>
"""
    return atomic.write_text(path, page)
