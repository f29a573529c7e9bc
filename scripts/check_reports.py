"""Open every ``report.html`` under the given directories in headless Chromium, as a user
would, and fail on what a user would see broken: an image that does not decode, a
console error or an uncaught exception. A full-page screenshot of each is written.

    python scripts/check_reports.py runs/demo --screenshots runs/demo/screenshots

Exit status: 0 when every report renders cleanly, 1 when one does not (each problem is
printed), 3 when no Chromium is found (install Debian's ``chromium`` package, or name the
binary in ``RNNKIT_CHROMIUM``).

Chromium is driven over its DevTools pipe (``--remote-debugging-pipe``: JSON messages on
file descriptors 3 and 4), so the check needs nothing beyond the standard library and the
browser itself: no Playwright, no Selenium, no driver binary. It is a script rather than
part of the package because it checks the package's output with a tool the package does
not need.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The flags a closed network and a root user need (no sandbox; no calls home, which are
# refused here and slow every start).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
WIDTH, HEIGHT = 1200, 900  # the viewport: a laptop browser window
TIMEOUT = 60.0  # seconds for any one step

IMAGES = """JSON.stringify([...document.images].map(i => ({
  alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})))"""
PAGE = """JSON.stringify({title: document.title, h1: document.querySelectorAll('h1').length,
  sections: document.querySelectorAll('h2').length,
  overflow: document.documentElement.scrollWidth > window.innerWidth})"""


class BrowserError(RuntimeError):
    """Chromium did not answer as expected."""


class Chromium:
    """One headless Chromium, spoken to over the DevTools pipe."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="rnnkit-chromium-")
        commands_read, self.commands = os.pipe()  # we write, Chromium reads on fd 3
        self.replies, replies_write = os.pipe()  # Chromium writes on fd 4, we read
        # The shell puts the two pipe ends on the descriptors Chromium expects.
        script = f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write}'
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", script, binary, *FLAGS, f"--user-data-dir={self.profile.name}"],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(commands_read)
        os.close(replies_write)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrokenPipeError, OSError, BrowserError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self.commands, self.replies):
            try:
                os.close(fd)
            except OSError:
                pass
        self.profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                stderr = self.process.stderr.read().decode(errors="replace")[-2000:]
                raise BrowserError(f"Chromium closed its pipe: {stderr}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Sends a command and waits for its reply; events meanwhile are kept."""
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        for i, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            message = self.receive(deadline)
            if message.get("method") == method and message.get("sessionId") == session:
                return message
            self.events.append(message)


def evaluate(browser: Chromium, session: str, expression: str):
    result = browser.call(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
    )
    return json.loads(result["result"]["value"])


def console_problems(events: list[dict], session: str) -> list[str]:
    """The console errors, uncaught exceptions and error log entries among ``events``."""
    problems = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            thrown = details.get("exception", {}).get("description", "")
            problems.append(f"uncaught exception: {details.get('text')} {thrown}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            problems.append(
                f"console error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
            )
    return problems


def check_report(
    browser: Chromium, report: Path, screenshot: Path | None
) -> tuple[list[str], list[str]]:
    """Opens ``report`` in a new tab; returns its problems and its warnings."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    browser.events.clear()
    navigation = browser.call("Page.navigate", {"url": report.resolve().as_uri()}, session)
    problems, warnings = [], []
    if navigation.get("errorText"):
        return [f"could not open: {navigation['errorText']}"], warnings
    browser.wait_for("Page.loadEventFired", session)
    images = evaluate(browser, session, IMAGES)
    page = evaluate(browser, session, PAGE)
    if not images:
        problems.append("no image at all")
    for image in images:
        if not (image["complete"] and image["width"] > 0 and image["height"] > 0):
            problems.append(f"broken image: {image['alt']!r}")
    if page["h1"] != 1 or page["sections"] < 2:
        problems.append(f"not a whole report: {page['h1']} title(s), {page['sections']} section(s)")
    if page["overflow"]:
        warnings.append(f"wider than a {WIDTH}px window: the page scrolls sideways")
    browser.call("Runtime.evaluate", {"expression": "0"}, session)  # let late events arrive
    problems.extend(console_problems(browser.events, session))
    if screenshot is not None:
        size = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
            session,
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    browser.call("Target.closeTarget", {"targetId": target})
    return problems, warnings


def find_chromium() -> str | None:
    named = os.environ.get("RNNKIT_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot_name(report: Path, roots: list[Path]) -> str:
    for root in roots:
        if report.is_relative_to(root):
            parts = report.parent.relative_to(root).parts
            return "-".join(parts or (report.parent.name,)) + ".png"
    return report.parent.name + ".png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths", nargs="+", type=Path, help="report.html files or directories holding them"
    )
    parser.add_argument("--screenshots", type=Path, help="where to write one PNG per report")
    args = parser.parse_args(argv)
    binary = find_chromium()
    if binary is None:
        print(
            "check_reports: no Chromium found (apt-get install chromium, or set "
            "RNNKIT_CHROMIUM to its binary); nothing checked",
            file=sys.stderr,
        )
        return 3
    roots = [p for p in args.paths if p.is_dir()]
    reports = sorted(
        {r for p in args.paths for r in ([p] if p.is_file() else p.rglob("report.html"))}
    )
    if not reports:
        print(
            f"check_reports: no report.html under {', '.join(map(str, args.paths))}",
            file=sys.stderr,
        )
        return 1
    failed = 0
    with Chromium(binary) as browser:
        for report in reports:
            shot = args.screenshots / screenshot_name(report, roots) if args.screenshots else None
            problems, warnings = check_report(browser, report, shot)
            failed += bool(problems)
            print(f"{'FAIL' if problems else 'ok  '} {report}" + (f" -> {shot}" if shot else ""))
            for line in [*problems, *(f"warning: {w}" for w in warnings)]:
                print(f"     {line}")
    print(
        f"{len(reports) - failed} of {len(reports)} reports render cleanly in {Path(binary).name}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
