"""Run every page afresh on this machine's device and write a Markdown report.

``python -m nutshell verify --out docs/verified-gpu.md`` (with ``NUTSHELL_DEVICE=cuda`` on a
GPU machine) records, for each page: where it ran, how long it took and which claims held.
"""

from __future__ import annotations

import platform
import time

from .pages import discover
from .runner import library_versions, run_pages


def verify(jobs: int | None = None, title: str = "Verified on this machine") -> tuple[str, bool]:
    """(report markdown, whether every page ran and every claim held)."""
    pages = discover()
    started = time.perf_counter()
    futures = run_pages(pages, use_cache=False, jobs=jobs)
    rows, failures, ok = [], [], True
    devices = set()
    for page in pages:
        result = futures[page.name].result()
        data = result.data
        held = sum(c["holds"] for c in result.claims)
        status = "ran" if not result.error else f"**failed**: {result.error['exception']}"
        ok &= result.ok
        devices.add(data.get("device", "?"))
        rows.append(
            f"| [{page.name}]({page.name}.md) | {data.get('device', '?')} | "
            f"{data.get('seconds', result.wall):.1f} | {held} of {len(result.claims)} | {status} |"
        )
        for c in result.failed_claims:
            failures.append(
                f"- `{page.name}`: {c['statement']} (measured {c['measured']}, "
                f"expected {c['expected'] or '-'})"
            )
        if result.error:
            failures.append(f"- `{page.name}`: " + result.report().splitlines()[0])
    total = time.perf_counter() - started
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    lines = [
        f"# {title}",
        "",
        f"Every page executed afresh (no cache) on {time.strftime('%Y-%m-%d')}, "
        f"on {', '.join(sorted(devices))}, host `{platform.node() or '?'}`, in {total:.0f} s "
        f"wall-clock with pages in parallel. Library versions: {versions}.",
        "",
        "| page | device | seconds | claims held | status |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    if failures:
        lines += ["## What did not hold", "", *failures, ""]
    else:
        lines += ["Every page ran to the end and every claim held.", ""]
    return "\n".join(lines), ok
