"""Command line: ``python -m nutshell {check,sync,run,list}``."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _check(args) -> int:
    from nutshell.literate.pairing import check

    problems = check()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} pairing problem(s); fix with `python -m nutshell sync --from md`")
        return 1
    print("pages and modules agree")
    return 0


def _sync(args) -> int:
    from nutshell.literate.pages import project_root
    from nutshell.literate.pairing import sync

    written = sync(source=args.source, names=args.pages or None)
    for path in written:
        print(f"wrote {path}")
    modules = [p for p in written if p.endswith(".py")]
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if modules and args.format and Path(ruff).exists():
        # ruff format is the module's style; bring what it changed back to the page.
        root = project_root()
        subprocess.run([ruff, "format", "--quiet", *modules], cwd=root, check=False)
        names = [p.removeprefix("src/nutshell/").removesuffix(".py") for p in modules]
        for path in sync(source="py", names=names):
            print(f"wrote {path} (formatting from ruff)")
    return 0


def _run(args) -> int:
    from nutshell.literate.pages import find_page
    from nutshell.literate.runner import page_environment
    from nutshell.literate.worker import execute

    page = find_page(args.page)
    for key, value in page_environment().items():
        os.environ.setdefault(key, value)
    out = Path(args.out or Path("nutshell-figures") / page.name.replace("/", "-")).resolve()
    shutil.rmtree(out, ignore_errors=True)
    print(f"running {page.rel_md} ({len(page.cells)} cells)")
    result = execute(page.root, page.name, out, terminal=True)
    figures = sorted(out.glob("*.png"))
    (out / "result.json").unlink(missing_ok=True)
    claims = result["claims"]
    print()
    for c in claims:
        mark = "holds        " if c["holds"] else "DOES NOT HOLD"
        extra = f" (paper {c['paper']})" if c["paper"] else ""
        print(f"{mark} {c['statement']}: measured {c['measured']}{extra}")
    print(f"{sum(c['holds'] for c in claims)} of {len(claims)} claims hold")
    print(f"{len(figures)} figure(s) written to {out}")
    print(f"ran in {result['seconds']:.1f} s on {result['device']}")
    if result["error"]:
        err = result["error"]
        print(f"\n{page.rel_md}: cell {err['cell']} (line {err['line']}) raised")
        print(err["traceback"])
        return 1
    return 0 if all(c["holds"] for c in claims) else 1


def _list(args) -> int:
    from nutshell.literate.pages import discover
    from nutshell.literate.runner import cached_result, last_result

    pages = discover()
    width = max((len(p.name) for p in pages), default=10)
    for page in pages:
        last = last_result(page)
        if last is None:
            state = "never run"
        else:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.data.get("finished", 0)))
            fresh = "up to date" if cached_result(page) else "stale"
            claims = last.claims
            state = (
                f"{last.data.get('seconds', 0):6.1f} s on {last.data.get('device', '?')}, {when}, "
                f"{sum(c['holds'] for c in claims)}/{len(claims)} claims, {fresh}"
            )
        print(f"{page.name:<{width}}  {page.title[:40]:<40}  {state}")
    return 0


def _verify(args) -> int:
    from nutshell.literate.report import verify

    prefix = ""
    if args.out:
        docs = (Path.cwd() / "docs").resolve()
        here = Path(args.out).resolve().parent
        if here.is_relative_to(docs):
            prefix = "../" * len(here.relative_to(docs).parts)
    text, ok = verify(jobs=args.jobs, title=args.title, link_prefix=prefix, tests=args.tests)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"report written to {args.out}")
    print(text)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nutshell", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check that every page and its module agree (writes nothing)")
    p = sub.add_parser("sync", help="rewrite modules from pages (or pages from modules)")
    p.add_argument("--from", dest="source", choices=("md", "py"), default="md")
    p.add_argument(
        "--no-format",
        dest="format",
        action="store_false",
        help="do not run ruff format on the modules written (and sync its changes back)",
    )
    p.add_argument("pages", nargs="*", help="section/topic names (default: all)")
    p = sub.add_parser("run", help="execute one page in the terminal")
    p.add_argument("page", help="e.g. training/sgd")
    p.add_argument("--out", help="folder for the figures (default ./nutshell-figures/PAGE)")
    sub.add_parser("list", help="list the pages and their last run")
    p = sub.add_parser("verify", help="run every page afresh and write a report")
    p.add_argument("--out", help="write the Markdown report there")
    p.add_argument("--jobs", type=int, default=None, help="pages at once (default: cores)")
    p.add_argument("--title", default="Verified on this machine")
    p.add_argument("--tests", action="store_true", help="also run `pytest tests` alongside")
    args = parser.parse_args(argv)
    return {"check": _check, "sync": _sync, "run": _run, "list": _list, "verify": _verify}[
        args.command
    ](args)


if __name__ == "__main__":
    sys.exit(main())
