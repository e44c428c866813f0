"""The literate engine: pairing, page execution, failures, time limits, cache, rendering.

Each test builds a throw-away project (a copy of the package plus small pages) under
``tmp_path`` and points the engine at it with ``NUTSHELL_ROOT``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import nutshell
from nutshell.literate import pairing, runner
from nutshell.literate.pages import SECTIONS, Page, discover
from nutshell.literate.render import render

PACKAGE = Path(nutshell.__file__).parent

GOOD = """\
# A good page

Prose with $x^2$ math.

```python
def double(x: int) -> int:
    return 2 * x
```

!!! note "An admonition"
    ```python
    not_a_cell()
    ```

```python active="ipynb"
from nutshell.claims import claim

print("printed", double(2))
claim("double doubles", measured=double(21), expected=42, holds=double(21) == 42)
double(5)
```

```python active="ipynb"
double(6);
```

```python active="ipynb"
import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.set_title("a figure")
ax.plot([1, 2, 3]);
```
"""


def make_project(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A project root with a copy of the engine and ``pages`` (name -> markdown), synced."""
    root = tmp_path / "project"
    shutil.copytree(
        PACKAGE,
        root / "src" / "nutshell",
        ignore=shutil.ignore_patterns("__pycache__", *SECTIONS),
    )
    for section in SECTIONS:
        (root / "src" / "nutshell" / section).mkdir(parents=True)
        (root / "src" / "nutshell" / section / "__init__.py").write_text("")
        (root / "docs" / section).mkdir(parents=True)
    for name, text in pages.items():
        (root / "docs" / f"{name}.md").write_text(textwrap.dedent(text))
    pairing.sync(root, "md")
    return root


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("NUTSHELL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NUTSHELL_PAGE_TIMEOUT", raising=False)
    return monkeypatch


def _pythonpath(root: Path) -> str:
    """The copied package first, then whatever the caller's path holds (installed deps)."""
    return os.pathsep.join(filter(None, [str(root / "src"), os.environ.get("PYTHONPATH")]))


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUTSHELL_ROOT=str(root), PYTHONPATH=_pythonpath(root))
    return subprocess.run(
        [sys.executable, "-m", "nutshell", *args], capture_output=True, text=True, env=env
    )


# --- pairing -------------------------------------------------------------------------------


def test_pair_check_passes_and_writes_nothing(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    files = sorted(root.rglob("*"))
    stamps = {p: p.stat().st_mtime_ns for p in files if p.is_file()}
    assert pairing.check(root) == []
    proc = cli(root, "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(root.rglob("*")) == files
    assert {p: p.stat().st_mtime_ns for p in files if p.is_file()} == stamps


def test_demo_cells_are_commented_out_in_the_module(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    module = (root / "src/nutshell/training/good.py").read_text()
    assert '# %% active="ipynb"' in module
    assert "\n# double(5)\n" in module
    assert "\ndef double(x: int) -> int:\n" in module
    assert "not_a_cell()" in module and "\nnot_a_cell()" not in module


def test_pair_check_reports_drift_with_a_diff(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    py = root / "src/nutshell/training/good.py"
    py.write_text(py.read_text().replace("return 2 * x", "return 3 * x"))
    before = py.read_text()
    problems = pairing.check(root)
    assert len(problems) == 1
    text = str(problems[0])
    assert "docs/training/good.md and src/nutshell/training/good.py disagree" in text
    assert "-    return 3 * x" in text and "+    return 2 * x" in text
    proc = cli(root, "check")
    assert proc.returncode == 1
    assert "disagree" in proc.stdout
    assert py.read_text() == before  # the check wrote nothing


def test_pair_check_ignores_blank_line_layout(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    py = root / "src/nutshell/training/good.py"
    py.write_text(py.read_text().replace("return 2 * x\n", "return 2 * x\n\n\n"))
    assert pairing.check(root) == []


def test_pair_check_reports_missing_partners(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    (root / "docs/history/orphan.md").write_text("# Orphan\n\n```python\nx = 1\n```\n")
    (root / "docs/history/prose.md").write_text("# Prose only\n\nNo code here.\n")
    (root / "src/nutshell/training/lonely.py").write_text("# %%\nx = 1\n")
    messages = sorted(p.message for p in pairing.check(root))
    assert messages == [
        "docs/history/orphan.md has code but no module src/nutshell/history/orphan.py",
        "src/nutshell/training/lonely.py has no page docs/training/lonely.md",
    ]


# --- execution ------------------------------------------------------------------------------


def test_page_runs_with_outputs_claims_and_figures(tmp_path, env):
    root = make_project(tmp_path, {"training/good": GOOD})
    (page,) = discover(root)
    result = runner.run_page(page)
    assert result.ok, result.report()
    outputs = result.outputs(1)
    kinds = [o["type"] for o in outputs]
    assert kinds == ["text", "claim", "result"]
    assert outputs[0]["text"] == "printed 4\n"
    assert outputs[1]["holds"] is True and outputs[1]["measured"] == "42"
    assert outputs[2]["text"] == "10"
    assert result.outputs(2) == []  # a trailing ";" suppresses the value
    figures = [o for o in result.outputs(3) if o["type"] == "figure"]
    assert len(figures) == 1 and figures[0]["title"] == "a figure"
    assert (result.folder / figures[0]["file"]).stat().st_size > 1000
    assert result.data["modules"].keys() >= {"nutshell", "nutshell.claims"}


def test_pages_run_in_isolation(tmp_path, env):
    first = '# A\n\n```python active="ipynb"\nimport sys\nsys.shared = 1\nshared = 1\n```\n'
    second = (
        '# B\n\n```python active="ipynb"\nimport sys\n'
        "assert not hasattr(sys, 'shared')\nassert 'shared' not in globals()\n```\n"
    )
    root = make_project(tmp_path, {"training/a": first, "training/b": second})
    futures = runner.run_pages(discover(root), jobs=1)
    results = {name: f.result() for name, f in futures.items()}
    assert all(r.ok for r in results.values()), [r.report() for r in results.values()]


BAD = """\
# A failing page

```python
def ratio(a, b):
    return a / b
```

```python active="ipynb"
x = 1
y = ratio(x, 0)
```
"""


def test_failure_names_page_line_and_source(tmp_path, env):
    root = make_project(tmp_path, {"training/bad": BAD})
    (page,) = discover(root)
    result = runner.run_page(page)
    assert not result.ok
    report = result.report()
    line = BAD.splitlines().index("y = ratio(x, 0)") + 1
    assert report.splitlines()[0] == (
        f"docs/training/bad.md: cell 1 (line {line}) raised ZeroDivisionError: division by zero"
    )
    assert f"    {line} | y = ratio(x, 0)" in report
    assert 'File "docs/training/bad.md", line 5, in ratio' in report


def test_failing_claim_fails_the_page_and_names_its_line(tmp_path, env):
    page_text = (
        '# Claims\n\n```python active="ipynb"\nfrom nutshell.claims import claim\n\n'
        'claim("one is two", measured=1, expected=2, holds=1 == 2)\n'
        'claim("one is one", measured=1, expected=1, holds=True)\n```\n'
    )
    root = make_project(tmp_path, {"training/claims": page_text})
    (page,) = discover(root)
    result = runner.run_page(page)
    assert result.error is None
    assert not result.ok
    assert [c["holds"] for c in result.claims] == [False, True]
    assert "docs/training/claims.md:6: claim does not hold: one is two" in result.report()


def test_time_limit_stops_a_runaway_page(tmp_path, env):
    slow = (
        "---\njupyter:\n  nutshell:\n    timeout: 3\n---\n\n# Slow\n\n"
        '```python active="ipynb"\nimport time\n\ntime.sleep(60)\n```\n'
    )
    root = make_project(tmp_path, {"training/slow": slow})
    (page,) = discover(root)
    assert page.timeout == 3
    started = time.perf_counter()
    result = runner.run_page(page)
    assert time.perf_counter() - started < 30
    assert result.error["exception"] == "TimeoutError"
    assert "time limit of 3 s" in result.report()
    assert result.report().startswith("docs/training/slow.md: cell 0 (line 10)")


def test_future_flags_do_not_leak_from_the_engine(tmp_path, env):
    text = (
        '# Annotations\n\n```python active="ipynb"\n'
        "def f(x: int) -> int:\n    return x\n\nprint(type(f.__annotations__['x']).__name__)\n```\n"
    )
    root = make_project(tmp_path, {"training/ann": text})
    result = runner.run_page(discover(root)[0])
    assert result.ok, result.report()
    assert result.outputs(0)[0]["text"] == "type\n"  # not 'str': no inherited annotations flag


# --- cache ----------------------------------------------------------------------------------

USES_HELPER = """\
# Uses a helper

```python
from nutshell.training import helper
```

```python active="ipynb"
print(helper.VALUE)
```
"""

NO_HELPER = '# No helper\n\n```python active="ipynb"\nprint(1)\n```\n'


def _run_all(root: Path) -> dict:
    futures = runner.run_pages(discover(root), jobs=2)
    return {name: f.result() for name, f in futures.items()}


def test_cache_hits_and_misses(tmp_path, env):
    root = make_project(tmp_path, {"training/uses": USES_HELPER, "training/plain": NO_HELPER})
    (root / "src/nutshell/training/helper.py").write_text("VALUE = 1\n")
    first = _run_all(root)
    assert [r.cached for r in first.values()] == [False, False]
    assert first["training/uses"].outputs(1)[0]["text"] == "1\n"

    second = _run_all(root)
    assert [r.cached for r in second.values()] == [True, True]

    # prose-only edit: nothing re-executes
    md = root / "docs/training/uses.md"
    md.write_text(md.read_text().replace("# Uses a helper", "# Uses a helper, reworded"))
    assert all(r.cached for r in _run_all(root).values())

    # editing a module re-executes exactly the pages that import it
    (root / "src/nutshell/training/helper.py").write_text("VALUE = 2\n")
    third = _run_all(root)
    assert third["training/uses"].cached is False
    assert third["training/plain"].cached is True
    assert third["training/uses"].outputs(1)[0]["text"] == "2\n"

    # editing a code cell re-executes that page
    md.write_text(md.read_text().replace("print(helper.VALUE)", "print(helper.VALUE + 1)"))
    fourth = _run_all(root)
    assert fourth["training/uses"].cached is False
    assert fourth["training/uses"].outputs(1)[0]["text"] == "3\n"


def test_failed_pages_are_not_cached(tmp_path, env):
    root = make_project(tmp_path, {"training/bad": BAD})
    page = discover(root)[0]
    assert not runner.run_page(page).ok
    assert runner.cached_result(page) is None


# --- rendering ------------------------------------------------------------------------------


def test_render_strips_jupytext_keys_and_inserts_outputs(tmp_path, env):
    text = GOOD.replace("```python\ndef double", '```python title="double.py"\ndef double')
    root = make_project(tmp_path, {"training/good": text})
    page = discover(root)[0]
    result = runner.run_page(page)
    html = render(page.text, result, figure_prefix="good-figures/")
    assert 'active="ipynb"' not in html
    assert '```python title="double.py"' in html
    assert "printed 4" in html
    assert '!!! success "Claim holds: double doubles"' in html
    assert "![a figure](good-figures/cell03-1.png)" in html
    assert "Tested with:" in html
    # the prose and the admonition's inner fence are untouched
    assert '!!! note "An admonition"\n    ```python\n    not_a_cell()\n    ```' in html


# --- pytest and CLI glue --------------------------------------------------------------------


def test_pytest_collects_pages_and_reports_the_failing_line(tmp_path, env):
    root = make_project(tmp_path, {"training/good": GOOD, "training/bad": BAD})
    (root / "conftest.py").write_text('pytest_plugins = ["nutshell.literate.pytest_plugin"]\n')
    environ = dict(os.environ, NUTSHELL_ROOT=str(root), PYTHONPATH=_pythonpath(root))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs"],
        cwd=root,
        capture_output=True,
        text=True,
        env=environ,
    )
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "1 failed, 1 passed" in out
    line = BAD.splitlines().index("y = ratio(x, 0)") + 1
    assert f"docs/training/bad.md: cell 1 (line {line}) raised ZeroDivisionError" in out


def test_cli_run_prints_claims_and_writes_figures(tmp_path, env):
    root = make_project(tmp_path, {"training/good": GOOD})
    out = tmp_path / "figs"
    proc = cli(root, "run", "training/good", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "printed 4" in proc.stdout
    assert "1 of 1 claims hold" in proc.stdout
    assert f"1 figure(s) written to {out}" in proc.stdout
    assert (out / "cell03-1.png").exists()
    listing = cli(root, "list")
    assert listing.returncode == 0
    assert "training/good" in listing.stdout


def test_worker_result_is_json(tmp_path, env):
    root = make_project(tmp_path, {"training/good": GOOD})
    result = runner.run_page(Page(root, "training/good"))
    data = json.loads((result.folder / "result.json").read_text())
    assert data["page"] == "docs/training/good.md"
    assert data["device"].startswith(("cpu", "cuda"))


def test_sync_is_idempotent_and_skips_pairs_that_agree(tmp_path):
    root = make_project(tmp_path, {"training/good": GOOD})
    py = root / "src/nutshell/training/good.py"
    # blank lines as ruff format leaves them: same cells, so nothing is rewritten
    py.write_text(py.read_text().replace("return 2 * x\n", "return 2 * x\n\n\n"))
    assert pairing.sync(root, "md") == []
    assert pairing.sync(root, "py") == []
    md = root / "docs/training/good.md"
    md.write_text(md.read_text().replace("return 2 * x", "return 4 * x"))
    assert pairing.sync(root, "md") == ["src/nutshell/training/good.py"]
    assert "return 4 * x" in py.read_text()
    assert pairing.sync(root, "md") == []


def test_exclusive_pages_run_alone_after_the_others(monkeypatch):
    from types import SimpleNamespace

    spans = {}

    def fake_run(page, use_cache=True, timeout=None):
        start = time.perf_counter()
        time.sleep(0.2)
        spans[page.name] = (start, time.perf_counter())
        return page.name

    monkeypatch.setattr(runner, "run_page", fake_run)
    pages = [
        SimpleNamespace(name="a/timing", options={"exclusive": True}),
        SimpleNamespace(name="b/one", options={}),
        SimpleNamespace(name="b/two", options={}),
        SimpleNamespace(name="c/launch", options={"exclusive": True}),
    ]
    futures = runner.run_pages(pages, jobs=4)
    assert {name: f.result() for name, f in futures.items()} == {p.name: p.name for p in pages}
    shared_end = max(spans["b/one"][1], spans["b/two"][1])
    # the two ordinary pages overlapped; each exclusive page started after both ended
    assert spans["b/two"][0] < spans["b/one"][1] and spans["b/one"][0] < spans["b/two"][1]
    for name in ("a/timing", "c/launch"):
        assert spans[name][0] >= shared_end
    first, second = sorted([spans["a/timing"], spans["c/launch"]])
    assert second[0] >= first[1]  # and not at the same time as each other
