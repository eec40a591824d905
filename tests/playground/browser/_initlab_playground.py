"""Drive the playground page in headless Chromium (Debian `chromium` + `chromium-driver`, the flags of
tests/report/_initlab_browser.py) against a real `initlab playground --no-browser` server.

Used by the browser tests, and by `make docs` to take the README's screenshot:

    python tests/playground/browser/_initlab_playground.py docs/playground.png

It starts a server on a free port, runs the lesson "randn * 10" for a few thousand iterations, saves a
screenshot, prints the console entries it found and exits 1 if the page logged an error.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_REPORT_TESTS = str(Path(__file__).resolve().parents[2] / "report")
if _REPORT_TESTS not in sys.path:  # run as a script (under pytest, tests/conftest.py adds it)
    sys.path.insert(0, _REPORT_TESTS)
from _initlab_browser import cannot_run, chromium, fit_window, missing  # noqa: E402,F401 (for the tests and benchmark)

URL = re.compile(r"https?://[\w.\-\[\]:]+/?")
START_TIMEOUT = 60  # s until the server prints its URL (a cold start compiles numba kernels)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    lines: list[str]  # its output so far
    url_printed_at: float  # time.monotonic() when its URL line was read


@contextlib.contextmanager
def playground_server(port: int | None = None):
    """`initlab playground --no-browser --port PORT` in a subprocess, as a `Server` once it printed its URL."""
    port = port or free_port()
    process = subprocess.Popen([sys.executable, "-m", "initlab.cli", "playground", "--no-browser", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: list[str] = []
    found = threading.Event()
    printed_at = []

    def read():  # keep draining the output, so the server never blocks on a full pipe
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if URL.search(line) and f":{port}" in line and not found.is_set():
                printed_at.append(time.monotonic())
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not found.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"initlab playground did not print its URL (exit code {process.poll()}):\n"
                                   + "\n".join(lines))
        url = next(URL.search(line).group(0) for line in lines if URL.search(line) and f":{port}" in line)
        yield Server(url.rstrip("/") + "/", lines, printed_at[0])
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; that value, or AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Page:
    """The playground page in `driver`: its `data-testid` elements and the state it last drew."""

    def __init__(self, driver, url: str, load: bool = True):
        self.driver = driver
        if load:  # else the driver is on the page already
            driver.get(url)
        wait_for(lambda: self.script("return window.playground && window.playground.drawn > 0"), what="the first state drawn")

    def script(self, code: str, *args):
        return self.driver.execute_script(code, *args)

    def find(self, testid: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def text(self, testid: str) -> str:
        return self.find(testid).text

    @property
    def iteration(self) -> int:
        return int(self.text("iteration"))

    @property
    def state(self) -> dict:
        return self.script("return window.playground.state")

    def type(self, testid: str, text: str):
        """Replace what the box holds with `text` as a user does (select all, type): Selenium's clear()
        would leave the box empty, which the page answers by putting the value in force back."""
        from selenium.webdriver.common.keys import Keys
        field = self.find(testid)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(text if text else Keys.DELETE)
        return field

    def select(self, testid: str, value: str):
        from selenium.webdriver.support.select import Select
        Select(self.find(testid)).select_by_value(value)

    def settled(self, **settings):
        """Wait until the drawn state has `settings` (the server applied a change)."""
        return wait_for(lambda: all(self.script("return window.playground.state.settings")[k] == v for k, v in settings.items()),
                        what=f"settings {settings}")

    def play(self):
        if self.text("start") == "Play":
            self.find("start").click()
        wait_for(lambda: self.state["playing"], what="playing")

    def pause(self):
        if self.text("start") == "Pause":
            self.find("start").click()
        wait_for(lambda: not self.state["playing"], what="paused")

    def errors(self) -> list[dict]:
        """Console entries of level SEVERE since the last call (reading the log empties it)."""
        return [entry for entry in self.driver.get_log("browser") if entry.get("level") == "SEVERE"]

    def screenshot(self, path: Path) -> Path:
        """The whole page (the window grown to its height)."""
        fit_window(self.driver, 6000)
        time.sleep(0.3)  # a frame drawn at the new size
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return Path(path)


def lesson_screenshot(url: str, path: Path, lesson: str = "large", iterations: int = 3000) -> list[dict]:
    """Run `lesson` to `iterations`, pause, screenshot the page at 1400 px; the console errors seen."""
    with chromium(1400, 1000) as driver:
        page = Page(driver, url)
        page.find(f"lesson-{lesson}").click()
        wait_for(lambda: page.state["playing"] and page.iteration >= iterations, timeout=120, what=f"{iterations} iterations")
        page.pause()
        page.screenshot(path)
        return page.errors()


def main(argv: list[str]) -> int:
    if (code := cannot_run(argv, 1, __doc__)) is not None:
        return code
    with playground_server() as server:
        errors = lesson_screenshot(server.url, Path(argv[0]))
    for entry in errors:
        print(f"console {entry.get('level')}: {entry.get('message')}")
    print(f"screenshot: {argv[0]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
