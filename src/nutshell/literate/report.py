"""Run every page afresh on this machine's device and write a Markdown report.

``NUTSHELL_DEVICE=cuda python -m nutshell verify --tests --out docs/about/verified-gpu.md``
on a GPU machine records, for each page: where it ran, how long it took and which claims held;
with ``--tests`` it also runs the test suite alongside and lists the tests that used the GPU.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from .pages import discover, project_root
from .runner import library_versions, page_environment, run_pages


def _start_tests(folder: Path) -> subprocess.Popen:
    """``pytest tests`` in the background, logging which tests allocated CUDA memory."""
    env = page_environment()
    env["NUTSHELL_CUDA_LOG"] = str(folder / "cuda.json")
    src = str(project_root() / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    cmd += [f"--junitxml={folder / 'junit.xml'}"]
    return subprocess.Popen(
        cmd,
        cwd=project_root(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _test_section(proc: subprocess.Popen, folder: Path, started: float) -> tuple[list[str], bool]:
    output, _ = proc.communicate()
    seconds = time.perf_counter() - started
    try:
        cases = ET.parse(folder / "junit.xml").getroot().iter("testcase")
    except (OSError, ET.ParseError):
        tail = "\n".join(output.strip().splitlines()[-5:])
        return ["## Tests", "", f"The test suite did not finish: ```{tail}```", ""], False
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failed, skipped = [], {}
    for case in cases:
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
            failed.append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
            reason = case.find("skipped").get("message", "")
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            counts["passed"] += 1
    try:
        used = json.loads((folder / "cuda.json").read_text())
    except (OSError, ValueError):
        used = []
    lines = [
        "## Tests",
        "",
        f"`pytest tests` ran alongside the pages, with the same device setting: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped, "
        f"in {seconds:.0f} s.",
        "",
    ]
    if failed:
        lines += ["Failed:", "", *[f"- `{n}`" for n in failed], ""]
    if skipped:
        lines += ["Skipped, by reason:", ""]
        lines += [f"- {reason or 'no reason given'}: {n}" for reason, n in skipped.items()] + [""]
    if used:
        lines += [f"{len(used)} tests allocated GPU memory while they ran:", ""]
        lines += [f"- `{n}`" for n in used] + [""]
    else:
        lines += ["No test allocated GPU memory.", ""]
    return lines, proc.returncode == 0


def verify(
    jobs: int | None = None,
    title: str = "Verified on this machine",
    link_prefix: str = "",
    tests: bool = False,
) -> tuple[str, bool]:
    """(report markdown, whether every page ran, every claim held and the tests passed).

    ``link_prefix`` goes in front of the links to the pages (``../`` for a report that lives
    one folder below ``docs/``); ``tests`` also runs ``pytest tests`` in parallel.
    """
    pages = discover()
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="nutshell-verify-"))
    proc = _start_tests(folder) if tests else None
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
            f"| [{page.name}]({link_prefix}{page.name}.md) | {data.get('device', '?')} | "
            f"{data.get('seconds', result.wall):.1f} | {held} of {len(result.claims)} | {status} |"
        )
        for c in result.failed_claims:
            failures.append(
                f"- `{page.name}`: {c['statement']} (measured {c['measured']}, "
                f"expected {c['expected'] or '-'})"
            )
        if result.error:
            failures.append(f"- `{page.name}`: " + result.report().splitlines()[0])
    pages_done = time.perf_counter() - started
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    lines = [
        f"# {title}",
        "",
        f"Every page executed afresh (no cache) on {time.strftime('%Y-%m-%d')}, "
        f"on {', '.join(sorted(devices))}, host `{platform.node() or '?'}` ({os.cpu_count()} CPU "
        f"cores), in {pages_done:.0f} s wall-clock with pages in parallel. Library versions: "
        f"{versions}. Command: `python -m nutshell {' '.join(sys.argv[1:]) or 'verify'}`.",
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
    if proc is not None:
        section, passed = _test_section(proc, folder, started)
        lines += section
        ok &= passed
    return "\n".join(lines), ok
