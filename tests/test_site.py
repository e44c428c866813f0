"""The built site, checked in a real browser (headless Debian Chromium driven by Selenium).

Builds the site into a temporary folder (pages come from the engine's cache when valid),
serves it on 127.0.0.1 and opens every page: no JavaScript errors, every image loaded, math
typeset, search works, the notebook download is a notebook with its figures. Screenshots of
the landing page and of the SGD page are saved under ``test-artifacts/`` (the report prints
where). Skipped, with the reason, where Chromium, its driver or Selenium is missing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request

import pytest

from nutshell.literate.pages import discover, project_root

ROOT = project_root()
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        webdriver is None or CHROMIUM is None or DRIVER is None,
        reason="needs Selenium, Debian's chromium and chromium-driver (make test installs them)",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built with ``mkdocs build --strict``, served on a free port of 127.0.0.1."""
    folder = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _urls(base: str) -> list[str]:
    urls = [base, base + "claims/", base + "history/", base + "reference/"]
    urls += [f"{base}{page.name}/" for page in discover(ROOT)]
    return urls


TYPESET = """
const done = arguments[arguments.length - 1];
const wait = (n) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true));
  } else if (n > 0) { setTimeout(() => wait(n - 1), 100); } else { done(false); }
};
wait(100);
"""

BROKEN_IMAGES = """
return [...document.images]
  .filter(img => !img.complete || img.naturalWidth === 0)
  .map(img => img.getAttribute('src'));
"""

RAW_MATH = """
return [...document.querySelectorAll('.arithmatex')]
  .filter(el => !el.querySelector('mjx-container'))
  .map(el => el.textContent.slice(0, 60));
"""


def test_every_page_loads_cleanly(site, browser):
    base, _ = site
    problems = []
    browser.get_log("browser")  # drop anything from before
    for url in _urls(base):
        browser.get(url)
        for img in browser.find_elements(By.CSS_SELECTOR, "img[loading=lazy]"):
            browser.execute_script("arguments[0].loading = 'eager';", img)
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script("return [...document.images].every(i => i.complete);")
        )
        browser.set_script_timeout(30)
        typeset = browser.execute_async_script(TYPESET)
        if not typeset:
            problems.append(f"{url}: MathJax did not start")
        if broken := browser.execute_script(BROKEN_IMAGES):
            problems.append(f"{url}: images not loaded: {broken}")
        if raw := browser.execute_script(RAW_MATH):
            problems.append(f"{url}: math left untypeset: {raw[:3]}")
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        if errors:
            problems.append(f"{url}: console errors: {errors[:3]}")
    assert not problems, "\n".join(problems)


def test_math_is_typeset_on_the_sgd_page(site, browser):
    base, _ = site
    browser.get(base + "training/sgd/")
    browser.set_script_timeout(30)
    assert browser.execute_async_script(TYPESET)
    assert len(browser.find_elements(By.CSS_SELECTOR, "mjx-container")) > 10


def test_search_finds_the_sgd_page_for_saddle(site, browser):
    base, _ = site
    browser.get(base)
    browser.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__input").click()
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.send_keys("saddle")
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    )
    links = [
        a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item a")
    ]
    assert any("training/sgd/" in href for href in links), links


def test_notebook_download_is_a_notebook_with_figures(site):
    base, folder = site
    with urllib.request.urlopen(base + "training/sgd.ipynb", timeout=30) as response:
        nb = json.loads(response.read())
    import nbformat

    nbformat.validate(nbformat.from_dict(nb))
    images = [
        out
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell["outputs"]
        if "image/png" in out.get("data", {})
    ]
    assert len(images) >= 2
    with urllib.request.urlopen(base + "training/sgd.py", timeout=30) as response:
        assert b"\nclass SGD(" in response.read()  # the module, not the page


def test_screenshots(site, browser, record_property):
    base, _ = site
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    for name, url, width in (
        ("landing.png", base, 1280),
        ("sgd.png", base + "training/sgd/", 1280),
        ("sgd-narrow.png", base + "training/sgd/", 420),
    ):
        browser.set_window_size(width, 1000)
        browser.get(url)
        browser.set_script_timeout(30)
        browser.execute_async_script(TYPESET)
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(width, min(height, 6000))
        path = ARTIFACTS / name
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 10_000
        shots[name] = str(path)
    browser.set_window_size(1280, 1000)
    record_property("screenshots", shots)
    print(f"screenshots saved in {ARTIFACTS}: {', '.join(shots)}")
