"""Where pages and modules live, and how a page's text becomes cells.

A page is ``docs/<section>/<topic>.md`` (jupytext ``md:markdown``); its module is
``src/nutshell/<section>/<topic>.py`` (jupytext ``py:percent``). Only top-level
```` ```python ```` fences are code cells; cells marked ``active="ipynb"`` are demo cells,
commented out in the module so that importing it runs nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

SECTIONS = ("history", "training", "about")
PAGE_FMT = "md:markdown"
MODULE_FMT = "py:percent"
# Kept in both files; everything else jupytext would add to the header is dropped.
NOTEBOOK_METADATA_FILTER = "nutshell,-all"
DEFAULT_TIMEOUT = 180.0
# Fence options that mkdocs' superfences understands; jupytext's own keys are stripped.
FENCE_OPTIONS = ("title", "hl_lines", "linenums")


def project_root() -> Path:
    """The repository root: ``NUTSHELL_ROOT``, else the checkout holding this package."""
    env = os.environ.get("NUTSHELL_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[3]
    if (here / "docs").is_dir() and (here / "src" / "nutshell").is_dir():
        return here
    return Path.cwd().resolve()


def read_notebook(text: str, fmt: str):
    """Parse ``text`` with jupytext in ``fmt`` (always explicit: see DESIGN.md)."""
    import jupytext

    nb = jupytext.reads(text, fmt=fmt)
    nb.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = NOTEBOOK_METADATA_FILTER
    return nb


def write_notebook(nb, fmt: str) -> str:
    import jupytext

    nb.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = NOTEBOOK_METADATA_FILTER
    return jupytext.writes(nb, fmt=fmt)


@dataclass(frozen=True)
class Cell:
    """One code cell of a page, located in the page's text."""

    index: int  # 0-based among code cells
    source: str
    metadata: dict = field(hash=False, compare=False)
    fence_line: int  # 1-based line of the opening fence in the page file
    end_line: int  # 1-based line of the closing fence

    @property
    def line(self) -> int:
        """1-based line of the cell's first source line."""
        return self.fence_line + 1


def locate_cells(text: str, sources: list[tuple[str, dict]]) -> list[Cell]:
    """Find each code cell's fence in ``text`` (in order), so errors can name lines."""
    lines = text.splitlines()
    cells: list[Cell] = []
    cursor = 0
    for index, (source, metadata) in enumerate(sources):
        body = source.splitlines()
        found = None
        for i in range(cursor, len(lines)):
            if not lines[i].startswith("```python"):
                continue
            j = i + 1 + len(body)
            if lines[i + 1 : j] == body and j < len(lines) and lines[j].startswith("```"):
                found = (i, j)
                break
        if found is None:
            raise ValueError(f"code cell {index} not found in the page text:\n{source[:200]}")
        i, j = found
        cells.append(Cell(index, source, dict(metadata), i + 1, j + 1))
        cursor = j + 1
    return cells


@dataclass(frozen=True)
class Page:
    """A page and the module it is paired with."""

    root: Path
    name: str  # "training/sgd"

    @property
    def md(self) -> Path:
        return self.root / "docs" / f"{self.name}.md"

    @property
    def py(self) -> Path:
        return self.root / "src" / "nutshell" / f"{self.name}.py"

    @property
    def rel_md(self) -> str:
        return f"docs/{self.name}.md"

    @property
    def rel_py(self) -> str:
        return f"src/nutshell/{self.name}.py"

    @property
    def module(self) -> str:
        return "nutshell." + self.name.replace("/", ".")

    @cached_property
    def text(self) -> str:
        return self.md.read_text(encoding="utf-8")

    @cached_property
    def notebook(self):
        return read_notebook(self.text, PAGE_FMT)

    @cached_property
    def cells(self) -> list[Cell]:
        code = [(c.source, c.metadata) for c in self.notebook.cells if c.cell_type == "code"]
        return locate_cells(self.text, code)

    @property
    def options(self) -> dict:
        """Per-page engine options from the front matter's ``jupyter.nutshell`` key."""
        return dict(self.notebook.metadata.get("nutshell", {}) or {})

    @property
    def timeout(self) -> float:
        value = self.options.get("timeout", DEFAULT_TIMEOUT)
        env = os.environ.get("NUTSHELL_PAGE_TIMEOUT")
        return float(env) if env else float(value)

    @property
    def title(self) -> str:
        for line in self.text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
        return self.name


def page_names(root: Path) -> list[str]:
    """Every ``<section>/<topic>`` that has a page or a module (index pages excluded)."""
    names = set()
    for section in SECTIONS:
        for md in (root / "docs" / section).glob("*.md"):
            if md.stem != "index":
                names.add(f"{section}/{md.stem}")
        for py in (root / "src" / "nutshell" / section).glob("*.py"):
            if not py.stem.startswith("_"):
                names.add(f"{section}/{py.stem}")
    return sorted(names)


def discover(root: Path | None = None) -> list[Page]:
    """Every paired page (both files exist), in section then name order."""
    root = root or project_root()
    pages = [Page(root, n) for n in page_names(root)]
    return [p for p in pages if p.md.exists() and p.py.exists()]


def find_page(spec: str, root: Path | None = None) -> Page:
    """Resolve ``training/sgd``, ``sgd``, ``docs/training/sgd.md`` or a module path."""
    root = root or project_root()
    pages = discover(root)
    key = spec.strip().removesuffix(".md").removesuffix(".py")
    for prefix in ("docs/", "src/nutshell/"):
        key = key.removeprefix(prefix)
    matches = [p for p in pages if p.name == key or p.name.split("/")[-1] == key]
    if len(matches) != 1:
        known = ", ".join(p.name for p in pages)
        what = "is ambiguous" if matches else "is not a paired page"
        raise SystemExit(f"page {spec!r} {what}; pages: {known}")
    return matches[0]
