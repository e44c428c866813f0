"""The pair check and the sync: jupytext has no read-only check, so this is ours.

``check`` converts each side to the other in memory, compares the cells (type, source and
the metadata that matters), prints a unified diff on drift and writes nothing. ``sync``
rewrites one side from the other, in the direction you name (never "whichever is newer").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .pages import (
    MODULE_FMT,
    PAGE_FMT,
    Page,
    page_names,
    project_root,
    read_notebook,
    write_notebook,
)

# Cell metadata that is layout, not content (blank lines that ruff format adds or removes).
_LAYOUT_KEYS = {"lines_to_next_cell", "lines_to_end_of_cell_marker"}


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [
        (
            c.cell_type,
            c.source.strip("\n"),
            {k: v for k, v in c.metadata.items() if k not in _LAYOUT_KEYS},
        )
        for c in nb.cells
    ]


@dataclass
class Problem:
    name: str
    message: str
    diff: str = ""

    def __str__(self) -> str:
        return f"{self.message}\n{self.diff}" if self.diff else self.message


def _has_code(md: Path) -> bool:
    nb = read_notebook(md.read_text(encoding="utf-8"), PAGE_FMT)
    return any(c.cell_type == "code" for c in nb.cells)


def check_pair(page: Page) -> Problem | None:
    """None when the page and its module hold the same cells, else what differs."""
    md_text = page.md.read_text(encoding="utf-8")
    py_text = page.py.read_text(encoding="utf-8")
    md_nb = read_notebook(md_text, PAGE_FMT)
    py_nb = read_notebook(py_text, MODULE_FMT)
    if _cells(md_nb) == _cells(py_nb) and md_nb.metadata.get("nutshell") == py_nb.metadata.get(
        "nutshell"
    ):
        return None
    # Show the module as the page would have to read to match it.
    expected_py = write_notebook(md_nb, MODULE_FMT)
    diff = "".join(
        difflib.unified_diff(
            py_text.splitlines(keepends=True),
            expected_py.splitlines(keepends=True),
            fromfile=page.rel_py,
            tofile=f"{page.rel_py} (as {page.rel_md} says)",
        )
    )
    return Problem(page.name, f"{page.rel_md} and {page.rel_py} disagree:", diff)


def check(root: Path | None = None) -> list[Problem]:
    """Every pairing problem under ``root``; writes nothing."""
    root = root or project_root()
    problems: list[Problem] = []
    for name in page_names(root):
        page = Page(root, name)
        if page.md.exists() and not page.py.exists():
            if _has_code(page.md):
                problems.append(
                    Problem(name, f"{page.rel_md} has code but no module {page.rel_py}")
                )
        elif page.py.exists() and not page.md.exists():
            problems.append(Problem(name, f"{page.rel_py} has no page {page.rel_md}"))
        else:
            problem = check_pair(page)
            if problem:
                problems.append(problem)
    return problems


def sync(root: Path | None = None, source: str = "md", names: list[str] | None = None) -> list[str]:
    """Rewrite modules from pages (``source="md"``) or pages from modules (``"py"``).

    Returns the paths written. A page with code and no module gets one.
    """
    root = root or project_root()
    written = []
    for name in names or page_names(root):
        page = Page(root, name)
        if source == "md":
            if not page.md.exists() or (not page.py.exists() and not _has_code(page.md)):
                continue
            src, dst, src_fmt, dst_fmt = page.md, page.py, PAGE_FMT, MODULE_FMT
        else:
            if not page.py.exists():
                continue
            src, dst, src_fmt, dst_fmt = page.py, page.md, MODULE_FMT, PAGE_FMT
        if dst.exists() and check_pair(page) is None:
            continue  # same cells: rewriting would only churn blank lines
        text = write_notebook(read_notebook(src.read_text(encoding="utf-8"), src_fmt), dst_fmt)
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
            written.append(str(dst.relative_to(root)))
    return written
