"""How live the playground page is in a real browser: time from the server printing its URL to the page
drawing its first state, and, while playing, how many states arrive and how many frames draw them.

Starts `initlab playground --no-browser` (as a user runs it) and headless Chromium (Debian `chromium` +
`chromium-driver`, as the browser tests), loads the page as soon as the URL is printed, then plays the
issue's benchmark setting (the defaults: [2, 10, 5, 1] relu on circles, 300 training points, 5 seeds) at
speed 10 for `--seconds`. The page draws the newest state once per animation frame; "frames / states" below
1 means states were coalesced, and the shown iteration is compared with the newest received at the end.
Measured, not asserted: the issue asks for a page usable within 1 s and >= 20 view updates per second.

Run: python benchmarks/playground_page.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "playground" / "browser"))
from _initlab_playground import Page, chromium, missing, playground_server, wait_for  # noqa: E402

COUNTERS = "const p = window.playground; return [p.received, p.drawn, p.drawMs, p.state.iteration];"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; headless Chromium, "
          "`initlab playground` in a subprocess")
    with chromium() as driver:
        driver.get("about:blank")  # the browser is up before the server starts: its start-up is not the page's
        with playground_server() as server:
            driver.get(server.url)
            wait_for(lambda: driver.execute_script("return document.getElementById('init').options.length"),
                     what="the controls")
            controls = time.monotonic() - server.url_printed_at
            page = Page(driver, server.url, load=False)
            drawn = time.monotonic() - server.url_printed_at
            print(f"after the server printed its URL: controls built in {controls * 1000:.0f} ms, "
                  f"first state drawn in {drawn * 1000:.0f} ms")
            page.select("speed", "10")
            page.settled(speed=10)
            page.play()
            received0, drawn0, ms0, iteration0 = page.script(COUNTERS)
            start = time.monotonic()
            time.sleep(args.seconds)
            received, drawn, ms, iteration = page.script(COUNTERS)
            elapsed = time.monotonic() - start
            page.pause()
            states, frames = received - received0, drawn - drawn0
            print(f"playing {elapsed:.1f} s: {states / elapsed:.1f} states/s received, {frames / elapsed:.1f} frames/s "
                  f"drawn (frames / states {frames / max(states, 1):.2f}), {(ms - ms0) / max(frames, 1):.1f} ms per frame, "
                  f"{(iteration - iteration0) / elapsed:.0f} iterations/s")
            shown = wait_for(lambda: page.iteration == page.state["iteration"] and page.iteration, timeout=2,
                             what="the last state drawn")
            print(f"after the pause the page shows iteration {shown}, the newest state's")
            errors = page.errors()
            for entry in errors:
                print(f"console {entry.get('level')}: {entry.get('message')}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
