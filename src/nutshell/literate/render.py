"""Turn a page's Markdown plus its run result into the Markdown mkdocs renders.

The prose is left byte for byte as written. Each code fence loses jupytext's own options
(``active``, ``tags``, ...; superfences would reject them) and keeps ``title``, ``hl_lines``
and ``linenums``; after it come the cell's printed output, its trailing value, its claims as
admonitions and its figures as images.
"""

from __future__ import annotations

import html
import json

from .pages import FENCE_OPTIONS, PAGE_FMT, locate_cells, read_notebook


def _fence_open(metadata: dict) -> str:
    opts = []
    for key in FENCE_OPTIONS:
        if key in metadata:
            opts.append(f"{key}={json.dumps(str(metadata[key]))}")
    return "```python" + (" " + " ".join(opts) if opts else "")


def _text_block(text: str, css: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [
        f'<div class="nutshell-output {css}" markdown>',
        "",
        f"{fence}text",
        text.rstrip("\n"),
        fence,
        "",
        "</div>",
    ]


def claim_admonition(c: dict) -> list[str]:
    kind, verdict = ("success", "holds") if c["holds"] else ("failure", "does not hold")
    title = c["statement"].replace('"', "'")
    parts = [f"measured **{c['measured']}**"]
    if c.get("expected"):
        parts.append(f"expected {c['expected']}")
    if c.get("paper"):
        parts.append(f"paper **{c['paper']}**")
    return [
        f'!!! {kind} "Claim {verdict}: {title}"',
        "    " + " · ".join(parts),
        "",
    ]


def render_outputs(outputs: list[dict], figure_prefix: str) -> list[str]:
    lines: list[str] = []
    for out in outputs:
        kind = out["type"]
        if kind == "text" and out["text"].strip():
            lines += _text_block(out["text"], "stdout") + [""]
        elif kind == "result":
            lines += _text_block(out["text"], "result") + [""]
        elif kind == "html":
            lines += ['<div class="nutshell-output html">', out["html"], "</div>", ""]
        elif kind == "claim":
            lines += claim_admonition(out)
        elif kind == "figure":
            alt = html.escape(out.get("title") or "figure").replace("[", "(").replace("]", ")")
            lines += [
                f"![{alt}]({figure_prefix}{out['file']}){{ .nutshell-figure loading=lazy }}",
                "",
            ]
    return lines


def render(markdown: str, result, figure_prefix: str) -> str:
    """``markdown`` (front matter already stripped by mkdocs) with outputs inserted."""
    nb = read_notebook(markdown, PAGE_FMT)
    code = [(c.source, c.metadata) for c in nb.cells if c.cell_type == "code"]
    cells = locate_cells(markdown, code)
    lines = markdown.splitlines()
    out: list[str] = []
    pos = 0
    for cell in cells:
        out += lines[pos : cell.fence_line - 1]
        out.append(_fence_open(cell.metadata))
        out += lines[cell.fence_line : cell.end_line]
        pos = cell.end_line
        if result is not None:
            outputs = result.outputs(cell.index)
            if outputs:
                out += [""] + render_outputs(outputs, figure_prefix)
    out += lines[pos:]
    if result is not None:
        out += ["", footer(result)]
    return "\n".join(out) + "\n"


def footer(result) -> str:
    data = result.data
    if result.error:
        err = result.error
        return (
            '!!! failure "This page did not run to the end"\n'
            f"    {html.escape(result.page.rel_md)}, line {err.get('line')}: "
            f"{err['exception']}: {html.escape(err['message'][:500])}\n"
        )
    held = sum(c["holds"] for c in result.claims)
    return (
        '<div class="nutshell-footer" markdown>\n'
        f"Tested with: **{data.get('device', '?')}** · torch {data.get('torch') or '-'} · "
        f"ran in {data.get('seconds', 0):.1f} s · "
        f"[{held} of {len(result.claims)} claims hold](../claims.md)\n"
        "</div>"
    )
