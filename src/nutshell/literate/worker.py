"""Run one page's code cells in order, in this process, capturing what each cell shows.

Started as ``python -m nutshell.literate.worker ROOT NAME OUT`` by the runner (one process
per page: isolation, a real timeout, parallel pages), or called in-process by
``python -m nutshell run``. Writes ``OUT/result.json`` and one PNG per figure.

Each cell is compiled with the page's own path and line numbers, so a traceback points into
``docs/<section>/<topic>.md``; ``dont_inherit=True`` keeps this file's ``__future__`` imports
out of the page, while a page's own ``__future__`` flags carry from cell to cell.
"""

from __future__ import annotations
import __future__

import ast
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path

_FUTURE_MASK = 0
for _name in __future__.all_feature_names:
    _FUTURE_MASK |= getattr(__future__, _name).compiler_flag


class _Tee(io.TextIOBase):
    """Collects writes as ordered text events (and echoes them in terminal mode)."""

    def __init__(self, events: list, echo=None):
        self.events = events
        self.echo = echo

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if s:
            if self.events and self.events[-1]["type"] == "text":
                self.events[-1]["text"] += s
            else:
                self.events.append({"type": "text", "text": s})
            if self.echo is not None:
                self.echo.write(s)
                self.echo.flush()
        return len(s)

    def isatty(self) -> bool:
        return bool(self.echo is not None and self.echo.isatty())


def _split_trailing_expression(tree: ast.Module, source: str):
    """(statements, trailing expression or None); a trailing ``;`` suppresses display."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return tree.body, None
    code_lines = [ln.split("#")[0].rstrip() for ln in source.rstrip().splitlines()]
    code_lines = [ln for ln in code_lines if ln]
    if code_lines and code_lines[-1].endswith(";"):
        return tree.body, None
    return tree.body[:-1], tree.body[-1]


def _display_value(value) -> dict | None:
    if value is None:
        return None
    kind = type(value).__module__ + "." + type(value).__qualname__
    if kind.startswith("matplotlib."):
        return None  # figures, axes and artists are shown as figures
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        try:
            text = html()
        except Exception:  # noqa: BLE001 - fall back to repr
            text = None
        if text:
            return {"type": "html", "html": text}
    return {"type": "result", "text": repr(value)}


def _figure_title(fig) -> str:
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    for ax in fig.axes:
        if ax.get_title():
            return ax.get_title()
    return ""


def _save_figures(out: Path, cell_index: int, events: list) -> None:
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt

    for k, num in enumerate(plt.get_fignums(), start=1):
        fig = plt.figure(num)
        name = f"cell{cell_index:02d}-{k}.png"
        fig.savefig(out / name, dpi=110, bbox_inches="tight", facecolor=fig.get_facecolor())
        events.append({"type": "figure", "file": name, "title": _figure_title(fig)})
        plt.close(fig)


def _where(exc: BaseException, page_file: str, cells, rel_md: str) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    page_frames = [f for f in frames if f.filename == page_file]
    # The statement of the running cell (the outermost page frame); deeper page frames, such
    # as a function defined in an earlier cell, are in the traceback below it.
    line = page_frames[0].lineno if page_frames else None
    cell = None
    if line is not None:
        cell = next((c.index for c in cells if c.fence_line < line < c.end_line), None)
    # The traceback from the page's first frame on (the engine's own frames are noise).
    start = next((i for i, f in enumerate(frames) if f.filename == page_file), 0)
    text = "".join(traceback.format_list(frames[start:]))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return {
        "line": line,
        "cell": cell,
        "exception": type(exc).__name__,
        "message": str(exc),
        "traceback": text.replace(page_file, rel_md),
    }


def execute(root: Path, name: str, out: Path, terminal: bool = False) -> dict:
    """Run page ``name`` under ``root``; return (and write) its result."""
    from nutshell import claims

    from .pages import Page

    page = Page(root, name)
    cells = page.cells
    out.mkdir(parents=True, exist_ok=True)
    page_file = str(page.md)
    namespace: dict = {"__name__": "__main__", "__file__": page_file}
    results: list[dict] = []
    all_claims: list[dict] = []
    error = None
    flags = 0
    before = set(sys.modules)
    started = time.perf_counter()
    real_stdout = sys.stdout
    progress = out / "progress.json"

    for cell in cells:
        events: list[dict] = []
        progress.write_text(json.dumps({"cell": cell.index, "line": cell.line}))

        def record(c: dict, events=events, cell=cell) -> None:
            c = dict(c, page=page.rel_md, cell=cell.index)
            if c["file"] == page_file:
                c["file"] = page.rel_md
            events.append({"type": "claim", **c})
            all_claims.append(c)
            if terminal:
                mark = "holds" if c["holds"] else "DOES NOT HOLD"
                real_stdout.write(f"  [claim {mark}] {c['statement']}: {c['measured']}\n")

        claims._recorder = record
        sys.stdout = _Tee(events, real_stdout if terminal else None)
        try:
            tree = ast.parse(cell.source, filename=page_file)
            ast.increment_lineno(tree, cell.line - 1)
            body, last = _split_trailing_expression(tree, cell.source)
            code = compile(ast.Module(body=body, type_ignores=[]), page_file, "exec", flags, True)
            flags |= code.co_flags & _FUTURE_MASK
            exec(code, namespace)
            if last is not None:
                expr = compile(ast.Expression(last.value), page_file, "eval", flags, True)
                shown = _display_value(eval(expr, namespace))
                if shown:
                    events.append(shown)
                    if terminal and shown["type"] == "result":
                        real_stdout.write(shown["text"] + "\n")
        except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
            error = _where(exc, page_file, cells, page.rel_md)
            if error["cell"] is None:
                error["cell"], error["line"] = cell.index, error["line"] or cell.line
        finally:
            sys.stdout = real_stdout
            claims._recorder = None
        _save_figures(out, cell.index, events)
        results.append({"index": cell.index, "outputs": events})
        if error:
            break

    seconds = time.perf_counter() - started
    modules = {}
    for mod_name in set(sys.modules) - before | {"nutshell", "nutshell.claims"}:
        mod = sys.modules.get(mod_name)
        file = getattr(mod, "__file__", None)
        if (
            mod_name.startswith("nutshell")
            and not mod_name.startswith("nutshell.literate")
            and file
        ):
            modules[mod_name] = file
    device = "cpu"
    torch_version = ""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch_version = torch.__version__
        from nutshell.device import default_device, describe

        try:
            device = describe(default_device())
        except Exception:  # noqa: BLE001 - an unusable NUTSHELL_DEVICE already failed the page
            device = os.environ.get("NUTSHELL_DEVICE", "cpu")
    result = {
        "page": page.rel_md,
        "name": name,
        "cells": results,
        "claims": all_claims,
        "error": error,
        "seconds": round(seconds, 3),
        "device": device,
        "torch": torch_version,
        "modules": modules,
        "finished": time.time(),
    }
    (out / "result.json").write_text(json.dumps(result, indent=1))
    progress.unlink(missing_ok=True)
    return result


def main(argv: list[str] | None = None) -> int:
    root, name, out = (argv or sys.argv[1:])[:3]
    result = execute(Path(root), name, Path(out))
    return 1 if result["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
