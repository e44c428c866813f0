"""The mkdocs side of the engine (registered as the ``nutshell`` plugin).

``on_files`` runs every paired page (cached, in parallel, one process each) and adds the
figures and the generated Claims page as in-memory files, so nothing is written under
``docs/``; ``on_page_markdown`` inserts each cell's outputs after its fence. A page that
fails or a claim that does not hold is a warning, so ``mkdocs build --strict`` fails.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from .notebook import to_notebook
from .pages import Page, discover
from .render import render
from .runner import library_versions, run_pages

log = logging.getLogger("mkdocs.plugins.nutshell")


class _Options(Config):
    execute = c.Type(bool, default=True)
    claims_page = c.Type(str, default="claims.md")
    # Page order in the navigation (the article's order); unlisted pages follow, by name.
    order = c.Type(dict, default={})
    # Shared helper modules that get an API reference page besides the paired modules.
    helpers = c.Type(list, default=[])


def nav_label(page: Page) -> str:
    """A short navigation label: the page's title up to its first colon."""
    return page.title.split(":")[0].strip()


def ordered(pages: list[Page], order: dict) -> dict[str, list[Page]]:
    """Pages grouped by section, in ``order`` first, then by name."""
    groups: dict[str, list[Page]] = {}
    for page in pages:
        groups.setdefault(page.name.split("/")[0], []).append(page)
    for section, items in groups.items():
        rank = {topic: i for i, topic in enumerate(order.get(section, []))}
        items.sort(key=lambda p: (rank.get(p.name.split("/")[1], len(rank)), p.name))
    return groups


def reference_markdown(module: str, page: Page | None) -> str:
    """A generated API page: the module's public objects, and a link to its page."""
    lines = [f"# `{module}`", ""]
    if page is not None:
        lines += [f"The module of the page [{page.title}](../{page.name}.md).", ""]
    lines += [f"::: {module}", "    options:", "      show_root_heading: false", ""]
    return "\n".join(lines)


def claims_markdown(results: dict) -> str:
    """The site-wide Claims page: every claim, its numbers and whether it held."""
    rows = []
    total = held = 0
    for name, result in sorted(results.items()):
        for cl in result.claims:
            total += 1
            held += cl["holds"]
            mark = (
                ":material-check-circle:{ .claim-ok } holds"
                if cl["holds"]
                else (":material-close-circle:{ .claim-bad } **does not hold**")
            )
            cell = lambda s: str(s).replace("|", "\\|")  # noqa: E731
            rows.append(
                f"| [{name}]({name}.md) | {cell(cl['statement'])} | {cell(cl['paper'] or '')} | "
                f"{cell(cl['measured'])} | {cell(cl['expected'] or '')} | {mark} |"
            )
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    lines = [
        "# Claims",
        "",
        "Every claim the pages make, measured when the site was built. A claim is a sentence "
        "of the prose backed by a number the page computes; under `pytest` a claim that does "
        "not hold fails its page.",
        "",
        f"**{held} of {total} claims hold.**",
        "",
        "| page | claim | paper | measured | expected | held |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Built with {versions}.",
        "",
    ]
    return "\n".join(lines)


def usages(pages: list[Page]) -> dict[str, set[str]]:
    """``"nutshell.x.Name"`` -> names of the pages whose code imports or uses it.

    Read from the pages' code cells (``from nutshell.x import Name`` and ``nutshell.x.Name``),
    so the "Used on" lists of the API pages are generated, never maintained by hand.
    """
    import ast

    used: dict[str, set[str]] = {}
    for page in pages:
        for cell in page.cells:
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nutshell"):
                    names = [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Attribute):
                    parts = []
                    cur = node
                    while isinstance(cur, ast.Attribute):
                        parts.append(cur.attr)
                        cur = cur.value
                    if isinstance(cur, ast.Name) and cur.id == "nutshell":
                        names = [".".join(["nutshell", *reversed(parts)])]
                for name in names:
                    if not name.startswith(page.module + "."):
                        used.setdefault(name, set()).add(page.name)
    return used


_HEADING = re.compile(r'(<h[2-4] id="(nutshell\.[\w.]+)"[^>]*>.*?</h[2-4]>)', re.S)


EVENTS_MARKER = "<!-- nutshell:events -->"
CARDS_MARKER = "<!-- nutshell:cards -->"
TIMINGS_MARKER = "<!-- nutshell:timings -->"
CLAIMS_MARKER = "<!-- nutshell:claims -->"


def summary(page: Page, limit: int = 160) -> str:
    """The first sentence of the page's first paragraph of prose (after its title lines)."""
    for cell in page.notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for para in cell.source.split("\n\n"):
            text = " ".join(para.split())
            if not text or text.startswith(("#", "*Annotates", "!!!", "<", "$$", "|", "```")):
                continue
            text = re.sub(r"\[([^\]]*)\]\[[^\]]*\]|\[([^\]]*)\]\([^)]*\)", r"\1\2", text)
            first = text.split(". ")[0].rstrip(".") + "."
            return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def events_table() -> str:
    """The history's events, from the one table in ``nutshell.history.ai_winter``."""
    import importlib

    try:
        module = importlib.reload(importlib.import_module("nutshell.history.ai_winter"))
    except ImportError:
        log.warning("nutshell: nutshell.history.ai_winter is missing; no events table")
        return ""
    return module.events_markdown(base="")


class NutshellPlugin(BasePlugin[_Options]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        self.results: dict = {}
        self.pages: dict[str, Page] = {}
        if os.environ.get("NUTSHELL_EXECUTE", "").lower() in ("0", "false", "no"):
            self.config.execute = False
        if not config.nav:
            config.nav = self._nav()
        return config

    def _reference_pages(self) -> dict[str, tuple[str, Page | None]]:
        """``reference/<module>.md`` -> (module, its page) for helpers and paired modules."""
        refs = {f"reference/{m}.md": (f"nutshell.{m}", None) for m in self.config.helpers}
        for page in discover(self.root):
            refs[f"reference/{page.name.replace('/', '.')}.md"] = (page.module, page)
        return refs

    def _nav(self) -> list:
        groups = ordered(discover(self.root), self.config.order)
        nav: list = [{"Home": "index.md"}]
        titles = {"history": "History", "training": "Training", "about": "About"}
        for section in sorted(groups, key=lambda s: list(titles).index(s) if s in titles else 9):
            items: list = []
            if (self.root / "docs" / section / "index.md").exists():
                items.append({"Overview": f"{section}/index.md"})
            items += [{nav_label(p): f"{p.name}.md"} for p in groups[section]]
            # plain Markdown pages of the section (no code, no module), e.g. reports
            paired = {f"{p.name}.md" for p in groups[section]}
            for md in sorted((self.root / "docs" / section).glob("*.md")):
                uri = f"{section}/{md.name}"
                if md.stem != "index" and uri not in paired:
                    title = next(
                        (
                            ln[2:].strip()
                            for ln in md.read_text().splitlines()
                            if ln.startswith("# ")
                        ),
                        md.stem,
                    )
                    items.append({title.split(":")[0]: uri})
            nav.append({titles.get(section, section.title()): items})
        nav.append({"Claims": self.config.claims_page})
        refs = (
            [{"Overview": "reference/index.md"}]
            if (self.root / "docs" / "reference" / "index.md").exists()
            else []
        )
        refs += [{module: uri} for uri, (module, _) in self._reference_pages().items()]
        nav.append({"API reference": refs})
        return nav

    def on_files(self, files: Files, config) -> Files:
        pages = discover(self.root)
        self.pages = {f"{p.name}.md": p for p in pages}
        self.used = usages(pages)
        self.titles = {p.name: nav_label(p) for p in pages}
        self.results = {}
        if self.config.execute:
            futures = run_pages(pages)
            for page in pages:
                result = futures[page.name].result()
                self.results[page.name] = result
                state = "cached" if result.cached else f"ran in {result.wall:.1f} s"
                log.info(f"nutshell: {page.rel_md} {state}")
                if not result.ok:
                    log.warning("nutshell: page failed\n" + result.report())
                for out_file in sorted(result.folder.glob("*.png")):
                    uri = f"{page.name}-figures/{out_file.name}"
                    files.append(File.generated(config, uri, abs_src_path=str(out_file)))
        for page in pages:
            result = self.results.get(page.name)
            notebook = to_notebook(page, result)
            files.append(File.generated(config, f"{page.name}.ipynb", content=notebook))
            files.append(File.generated(config, f"{page.name}.py", abs_src_path=str(page.py)))
        content = claims_markdown(self.results)
        files.append(File.generated(config, self.config.claims_page, content=content))
        for uri, (module, page) in self._reference_pages().items():
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, content=reference_markdown(module, page)))
        return files

    def on_page_content(self, html: str, page, config, files) -> str:
        if not page.file.src_uri.startswith("reference/"):
            return html
        from mkdocs.utils import get_relative_url

        def add(match: re.Match) -> str:
            users = sorted(self.used.get(match.group(2), ()))
            if not users:
                return match.group(1)
            links = ", ".join(
                f'<a href="{get_relative_url(name + "/", page.url)}">{self.titles.get(name, name)}</a>'
                for name in users
            )
            return match.group(1) + f'<p class="nutshell-used-on">Used on: {links}</p>'

        return _HEADING.sub(add, html)

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        if EVENTS_MARKER in markdown:
            markdown = markdown.replace(EVENTS_MARKER, events_table())
        if TIMINGS_MARKER in markdown:
            markdown = markdown.replace(TIMINGS_MARKER, self._timings())
        if CARDS_MARKER in markdown:
            markdown = markdown.replace(CARDS_MARKER, self._cards())
        if CLAIMS_MARKER in markdown:
            claims = [c for r in self.results.values() for c in r.claims]
            held = sum(c["holds"] for c in claims)
            markdown = markdown.replace(
                CLAIMS_MARKER, f"[{held} of {len(claims)} claims hold]({self.config.claims_page})"
            )
        paired = self.pages.get(page.file.src_uri)
        if paired is None:
            return markdown
        result = self.results.get(paired.name)
        stem = paired.name.split("/")[-1]
        module = paired.name.replace("/", ".")
        downloads = (
            f'<div class="nutshell-downloads" markdown>:material-download: '
            f"[notebook]({stem}.ipynb){{ download }} · "
            f"[module `nutshell.{module}`]({stem}.py){{ download }} · "
            f"[API reference](../reference/{module}.md)</div>"
        )
        lines = markdown.split("\n")
        at = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), -1) + 1
        markdown = "\n".join([*lines[:at], "", downloads, "", *lines[at:]])
        return render(markdown, result, figure_prefix=f"{stem}-figures/")

    def _timings(self) -> str:
        """Each page's last execution time, slowest first, with its device."""
        rows = sorted(self.results.values(), key=lambda r: -r.data.get("seconds", 0))
        lines = ["| page | seconds | device | this build |", "|---|---|---|---|"]
        for r in rows:
            state = "cached" if r.cached else "executed"
            lines.append(
                f"| [{r.page.name}](../{r.page.name}.md) | {r.data.get('seconds', 0):.1f} | "
                f"{r.data.get('device', '?')} | {state} |"
            )
        total = sum(r.data.get("seconds", 0) for r in rows)
        return "\n".join([*lines, "", f"All pages together: {total:.0f} s of execution."])

    def _cards(self) -> str:
        """Cards for every page, in the article's order, each with its first figure."""
        groups = ordered(list(self.pages.values()), self.config.order)
        out = []
        for section, title in (("history", "History"), ("training", "Training")):
            if section not in groups:
                continue
            out += [f"## {title}", "", '<div class="grid cards" markdown>', ""]
            for page in groups[section]:
                result = self.results.get(page.name)
                thumb = ""
                if result is not None:
                    figs = [
                        o["file"]
                        for c in result.data.get("cells", [])
                        for o in c["outputs"]
                        if o["type"] == "figure"
                    ]
                    if figs:
                        thumb = (
                            f"[![{nav_label(page)}]({page.name}-figures/{figs[0]})"
                            f"{{ .nutshell-thumb loading=lazy }}]({page.name}.md)"
                        )
                out += [f"-   **[{nav_label(page)}]({page.name}.md)**", ""]
                if thumb:
                    out += [f"    {thumb}", ""]
                out += [f"    {summary(page)}", ""]
            out += ["</div>", ""]
        return "\n".join(out)
