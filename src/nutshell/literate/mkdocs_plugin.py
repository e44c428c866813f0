"""The mkdocs side of the engine (registered as the ``nutshell`` plugin).

``on_files`` runs every paired page (cached, in parallel, one process each) and adds the
figures and the generated Claims page as in-memory files, so nothing is written under
``docs/``; ``on_page_markdown`` inserts each cell's outputs after its fence. A page that
fails or a claim that does not hold is a warning, so ``mkdocs build --strict`` fails.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from .pages import Page, discover
from .render import render
from .runner import library_versions, run_pages

log = logging.getLogger("mkdocs.plugins.nutshell")


class _Options(Config):
    execute = c.Type(bool, default=True)
    claims_page = c.Type(str, default="claims.md")


def claims_markdown(results: dict, build_seconds: float) -> str:
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


class NutshellPlugin(BasePlugin[_Options]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        self.results: dict = {}
        self.pages: dict[str, Page] = {}
        if os.environ.get("NUTSHELL_EXECUTE", "").lower() in ("0", "false", "no"):
            self.config.execute = False
        return config

    def on_files(self, files: Files, config) -> Files:
        pages = discover(self.root)
        self.pages = {f"{p.name}.md": p for p in pages}
        self.results = {}
        started = time.perf_counter()
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
        content = claims_markdown(self.results, time.perf_counter() - started)
        files.append(File.generated(config, self.config.claims_page, content=content))
        return files

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        paired = self.pages.get(page.file.src_uri)
        if paired is None:
            return markdown
        result = self.results.get(paired.name)
        stem = paired.name.split("/")[-1]
        return render(markdown, result, figure_prefix=f"{stem}-figures/")
