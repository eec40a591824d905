"""Open an HTML report in headless Chromium (Debian `chromium` + `chromium-driver`) and check it.

Used by the browser test, and by hand to take the README's screenshot:

    python tests/report/_initlab_browser.py runs/demo/report.html docs/report.png

It prints the console errors and figure sizes it found and exits 1 if the page has a problem.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get install chromium chromium-driver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run")


def missing() -> str | None:
    """Why the browser check cannot run here (None if it can)."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if absent:
        return f"{' and '.join(absent)} not found; install with '{INSTALL}' (make test does this as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed; pip install -e '.[test]'"
    return None


@dataclass
class PageCheck:
    console: list[dict]  # browser log entries
    figures: list[dict]  # per <img>/<svg>: tag, alt, natural and client sizes
    title: str

    @property
    def severe(self) -> list[dict]:
        return [entry for entry in self.console if entry.get("level") == "SEVERE"]

    @property
    def empty_figures(self) -> list[dict]:
        return [f for f in self.figures if min(f["naturalWidth"], f["clientWidth"], f["clientHeight"]) <= 0]


FIGURES_JS = """
return Array.from(document.querySelectorAll('img, svg')).map(e => ({
  tag: e.tagName.toLowerCase(), alt: e.getAttribute('alt') || '', complete: e.complete === undefined ? true : e.complete,
  naturalWidth: e.naturalWidth === undefined ? e.getBoundingClientRect().width : e.naturalWidth,
  clientWidth: e.clientWidth || e.getBoundingClientRect().width,
  clientHeight: e.clientHeight || e.getBoundingClientRect().height}));
"""


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900):
    """A headless Chromium driver (a fresh profile, removed afterwards) that keeps the browser console
    (`driver.get_log("browser")`). The playground's browser tests use it too."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="initlab-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def fit_window(driver, limit: int = 12000) -> None:
    """Grow the window until the whole page fits, for a full-page screenshot. The window's own bars take
    part of its height (about 140 px in Chromium 156 headless), so the page's height is not enough."""
    for _ in range(3):
        content, inner, outer, width = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight, window.outerWidth]")
        if inner >= content or outer >= limit:
            return
        driver.set_window_size(width, min(content + outer - inner, limit))


def check_page(html: Path, screenshot: Path | None = None, width: int = 1280) -> PageCheck:
    """Load `html` from a file:// URL; collect console entries and figure sizes; save a full-page screenshot."""
    with chromium(width) as driver:
        driver.get(Path(html).resolve().as_uri())
        figures = driver.execute_script(FIGURES_JS)
        if screenshot is not None:
            fit_window(driver)
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(screenshot))
        return PageCheck(driver.get_log("browser"), figures, driver.title)


def cannot_run(argv: list[str], arguments: int, usage: str) -> int | None:
    """For a screenshot script: exit code 2 after printing the usage (wrong arguments) or why the browser
    cannot run here; None when it can."""
    problem = usage if len(argv) != arguments else missing()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return None


def main(argv: list[str]) -> int:
    if (code := cannot_run(argv, 2, __doc__)) is not None:
        return code
    result = check_page(Path(argv[0]), Path(argv[1]))
    for entry in result.console:
        print(f"console {entry.get('level')}: {entry.get('message')}")
    for figure in result.figures:
        print(f"{figure['tag']} {figure['naturalWidth']}px natural, {figure['clientWidth']}x{figure['clientHeight']} "
              f"shown: {figure['alt']}")
    print(f"screenshot: {argv[1]}")
    return 1 if result.severe or result.empty_figures or not result.figures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
