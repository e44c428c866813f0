"""Run pages: one process each, in parallel, with a time limit and a cache.

The cache key of a page is its code cells, its engine options, the engine version, the
versions of the libraries that shape results (read from package metadata, not by importing
them) and the device settings. A hit also needs every ``nutshell`` module the page imported
last time (recorded by the worker, so transitive imports count) to be byte-identical.
Prose-only edits therefore re-execute nothing, and editing a module re-executes exactly the
pages that imported it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .pages import Page

ENGINE_VERSION = "1"
_VERSIONED = ("torch", "numpy", "matplotlib", "scikit-learn", "scipy", "mlxtend", "mnist1d")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "-"
    return versions


def page_environment() -> dict[str, str]:
    """The environment a page runs with: one thread, no GUI, unless the user said otherwise."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", env["OMP_NUM_THREADS"])
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def cache_dir(root: Path) -> Path:
    return Path(os.environ.get("NUTSHELL_CACHE") or root / ".nutshell-cache")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page_key(page: Page) -> str:
    env = page_environment()
    parts = {
        "engine": ENGINE_VERSION,
        "cells": [(c.source, c.metadata.get("active")) for c in page.cells],
        "options": page.options,
        "versions": library_versions(),
        "device": [env.get("NUTSHELL_DEVICE", ""), env.get("CUDA_VISIBLE_DEVICES", "")],
        "cuda": os.path.exists("/dev/nvidiactl"),
        "threads": env["OMP_NUM_THREADS"],
    }
    return _sha(json.dumps(parts, sort_keys=True, default=str).encode())


@dataclass
class Result:
    """What running a page produced (from the worker's ``result.json``)."""

    page: Page
    data: dict
    folder: Path  # where the figures are
    cached: bool = False
    wall: float = 0.0
    log: str = field(default="", repr=False)

    @property
    def error(self) -> dict | None:
        return self.data.get("error")

    @property
    def claims(self) -> list[dict]:
        return self.data.get("claims", [])

    @property
    def failed_claims(self) -> list[dict]:
        return [c for c in self.claims if not c["holds"]]

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed_claims

    def outputs(self, cell_index: int) -> list[dict]:
        for cell in self.data.get("cells", []):
            if cell["index"] == cell_index:
                return cell["outputs"]
        return []

    def report(self) -> str:
        """A failure report that names the page file and the line."""
        lines = []
        err = self.error
        if err:
            where = f"cell {err['cell']} (line {err['line']})" if err.get("line") else "the page"
            lines.append(f"{self.page.rel_md}: {where} raised {err['exception']}: {err['message']}")
            if err.get("line"):
                src = self.page.text.splitlines()[err["line"] - 1]
                lines.append(f"    {err['line']} | {src.strip()}")
            if err.get("traceback"):
                lines.append("")
                lines.append(err["traceback"].rstrip())
        for c in self.failed_claims:
            lines.append(
                f"{c['file']}:{c['line']}: claim does not hold: {c['statement']} "
                f"(measured {c['measured']}, expected {c['expected'] or '-'})"
            )
        if self.log.strip() and err:
            lines += ["", "stderr:", self.log.strip()[-3000:]]
        return "\n".join(lines)


def _failure(page: Page, exception: str, message: str, where: dict | None = None) -> dict:
    """A result for a page that produced none of its own."""
    where = where or {}
    error = {
        "cell": where.get("cell"),
        "line": where.get("line"),
        "exception": exception,
        "message": message,
        "traceback": "",
    }
    return {"page": page.rel_md, "cells": [], "claims": [], "error": error}


def _cache_entry(root: Path, page: Page) -> Path:
    return cache_dir(root) / page.name.replace("/", "__")


def cached_result(page: Page) -> Result | None:
    """The cached result of ``page`` if nothing it depends on changed, else None."""
    entry = _cache_entry(page.root, page)
    try:
        meta = json.loads((entry / "key.json").read_text())
        data = json.loads((entry / "result.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("key") != page_key(page):
        return None
    for file, digest in meta.get("deps", {}).items():
        path = Path(file)
        if not path.exists() or _sha(path.read_bytes()) != digest:
            return None
    return Result(page, data, entry, cached=True)


def last_result(page: Page) -> Result | None:
    """The last stored result of ``page``, valid or not (for ``nutshell list``)."""
    entry = _cache_entry(page.root, page)
    try:
        return Result(page, json.loads((entry / "result.json").read_text()), entry)
    except (OSError, ValueError):
        return None


def _store(page: Page, key: str, folder: Path) -> Path:
    data = json.loads((folder / "result.json").read_text())
    deps = {f: _sha(Path(f).read_bytes()) for f in data.get("modules", {}).values()}
    entry = _cache_entry(page.root, page)
    tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp)
    (tmp / "key.json").write_text(json.dumps({"key": key, "deps": deps}, indent=1))
    shutil.rmtree(entry, ignore_errors=True)
    tmp.rename(entry)
    return entry


def run_page(page: Page, use_cache: bool = True, timeout: float | None = None) -> Result:
    """Execute ``page`` in a fresh process (or take its cached result)."""
    try:
        if use_cache:
            hit = cached_result(page)
            if hit is not None:
                return hit
        key = page_key(page)
    except Exception as exc:  # noqa: BLE001 - an unreadable page is that page's failure
        data = _failure(page, type(exc).__name__, f"the page could not be read: {exc}")
        return Result(page, data, Path(tempfile.mkdtemp(prefix="nutshell-page-")))
    limit = timeout if timeout is not None else page.timeout
    folder = Path(tempfile.mkdtemp(prefix="nutshell-page-"))
    env = page_environment()
    src = str(page.root / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    cmd = [sys.executable, "-m", "nutshell.literate.worker", str(page.root), page.name, str(folder)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=limit
        )
        log = proc.stderr
    except subprocess.TimeoutExpired as exc:
        log = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        where = {}
        try:
            where = json.loads((folder / "progress.json").read_text())
        except (OSError, ValueError):
            pass
        message = f"page stopped after its time limit of {limit:g} s"
        data = _failure(page, "TimeoutError", message, where)
        return Result(page, data, folder, wall=time.perf_counter() - started, log=log)
    wall = time.perf_counter() - started
    try:
        data = json.loads((folder / "result.json").read_text())
    except (OSError, ValueError):
        message = f"the page process exited with {proc.returncode} and no result"
        data = _failure(page, "WorkerError", message)
        return Result(page, data, folder, wall=wall, log=log)
    if not data.get("error"):
        folder = _store(page, key, folder)
    return Result(page, data, folder, wall=wall, log=log)


def jobs_default() -> int:
    env = os.environ.get("NUTSHELL_JOBS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


def run_pages(pages: list[Page], use_cache: bool = True, jobs: int | None = None):
    """Run ``pages`` in parallel; returns an executor-backed dict of futures by page name.

    Pages whose front matter sets ``jupyter.nutshell.exclusive: true`` (those that measure
    speed, or start processes of their own) run afterwards, one at a time, once every other
    page has finished.
    """
    pool = ThreadPoolExecutor(max_workers=jobs or jobs_default())
    shared = [p for p in pages if not p.options.get("exclusive")]
    futures = {p.name: pool.submit(run_page, p, use_cache) for p in shared}
    others = list(futures.values())

    def alone(page: Page) -> Result:
        wait(others)
        return run_page(page, use_cache)

    solo = ThreadPoolExecutor(max_workers=1)
    for page in pages:
        if page.options.get("exclusive"):
            futures[page.name] = solo.submit(alone, page)
    pool.shutdown(wait=False)
    solo.shutdown(wait=False)
    return futures
