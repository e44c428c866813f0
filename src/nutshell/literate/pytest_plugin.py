"""Pages as tests: every paired page is a pytest item run by the same engine as the site.

All collected pages start at once on a process pool the first time a page item runs, so
they execute in parallel over the cores while pytest reports them one by one. A page fails
when a cell raises or a claim does not hold; the report names ``docs/...md`` and the line.
``--nutshell-no-cache`` forces every page to run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .pages import SECTIONS, Page, project_root
from .runner import run_pages


def pytest_addoption(parser):
    group = parser.getgroup("nutshell")
    group.addoption(
        "--nutshell-no-cache",
        action="store_true",
        help="execute every page even when its cached result is still valid",
    )


def pytest_configure(config):
    # Threads and backend for tests in this process (DESIGN.md: tiny workloads, 2 cores).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    config._nutshell_futures = None


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".md":
        return None
    root = project_root()
    try:
        rel = file_path.resolve().relative_to(root / "docs")
    except ValueError:
        return None
    if len(rel.parts) != 2 or rel.parts[0] not in SECTIONS:
        return None
    page = Page(root, f"{rel.parts[0]}/{rel.stem}")
    if not page.py.exists():
        return None
    return PageFile.from_parent(parent, path=file_path, page=page)


class PageFile(pytest.File):
    def __init__(self, *args, page: Page, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page

    def collect(self):
        yield PageItem.from_parent(self, name=self.page.name, page=self.page)


class PageFailed(Exception):
    pass


class PageItem(pytest.Item):
    def __init__(self, *args, page: Page, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page

    def _future(self):
        config = self.config
        if config._nutshell_futures is None:
            pages = [i.page for i in self.session.items if isinstance(i, PageItem)]
            use_cache = not config.getoption("nutshell_no_cache")
            config._nutshell_futures = run_pages(pages, use_cache=use_cache)
        return config._nutshell_futures[self.page.name]

    def runtest(self):
        result = self._future().result()
        self.user_properties.append(("cached", result.cached))
        self.user_properties.append(("seconds", result.data.get("seconds")))
        if not result.ok:
            raise PageFailed(result.report())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PageFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"page {self.page.rel_md}"
