"""Headless Chromium for tests and docs: a self-contained HTML file's errors, rendered DOM and screenshot.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (NUL-terminated JSON
on file descriptors 3 and 4) with only the standard library.  The protocol, not ``--dump-dom``
with ``--enable-logging=stderr``, because Chromium 150's stderr log prints every console message
as ``INFO:CONSOLE`` whatever its level, so ``console.error`` cannot be told from ``console.log``;
the protocol reports each console call's level (``Runtime.consoleAPICalled``), every uncaught
exception and unhandled promise rejection with its stack (``Runtime.exceptionThrown``), and the
browser's own errors such as a resource that failed to load (``Log.entryAdded``).

Each call starts its own browser with a temporary profile, never reaches the network (every host
name fails to resolve, so a page that tries reports ``net::ERR_NAME_NOT_RESOLVED``), stops at a
deadline and leaves no process or file behind.
"""

from __future__ import annotations

import base64
import fcntl
import json
import math
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",                  # CI runs as root in a container without user namespaces
    "--disable-gpu",
    "--disable-dev-shm-usage",       # containers' /dev/shm is small; Chromium crashes when it fills
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND",   # no host name resolves: nothing reaches the network
    "--remote-debugging-pipe",
)
# After the load event: two animation frames (so the page has painted) and this many milliseconds,
# for timers, promise chains (Plotly.newPlot finishes in one) and unhandled rejections to land.
SETTLE_MS = 250
# The viewport's height unless one is given; screenshots of a whole page are laid out in it first.
VIEWPORT_HEIGHT = 900


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome executable on PATH, or None when there is none."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass(frozen=True)
class Rendered:
    """A page after its scripts ran: the DOM serialised as HTML, and every error it raised, in order:
    ``console.error``/failed ``console.assert`` calls, uncaught exceptions and unhandled promise
    rejections (with their stacks), and browser errors such as resources that failed to load."""

    dom: str
    errors: list[str]


def render(html_path, timeout: float = 60, *, width: int = 1400, height: int = VIEWPORT_HEIGHT) -> Rendered:
    """Open ``html_path`` in a ``width`` x ``height`` viewport, wait for its load event and for the
    page to settle, and return its DOM and errors.  Raises TimeoutError after ``timeout`` seconds."""
    return _run(Path(html_path), timeout, width, height, None)


def screenshot(html_path, png_path, width: int = 1400, height: int | None = None,
               timeout: float = 60) -> Rendered:
    """Render ``html_path`` like ``render`` and write a PNG of it to ``png_path``: ``width`` pixels wide
    and ``height`` pixels high, or, when ``height`` is None, as high as the whole page laid out in a
    ``VIEWPORT_HEIGHT`` viewport (so never less).  Returns the page's DOM and errors, for callers to check."""
    return _run(Path(html_path), timeout, width, height, Path(png_path))


def _run(html: Path, timeout: float, width: int, height: int | None, png: Path | None) -> Rendered:
    url = html.resolve(strict=True).as_uri()
    executable = find_chromium()
    if executable is None:
        raise FileNotFoundError(f"no Chromium on PATH (looked for {', '.join(NAMES)})")
    with tempfile.TemporaryDirectory(prefix="polytopic-chromium-", ignore_cleanup_errors=True) as tmp:
        with _DevTools(executable, Path(tmp), time.monotonic() + timeout) as browser:
            target = browser.call("Target.createTarget", url="about:blank")["targetId"]
            page = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Inspector", "Runtime", "Log", "Page"):
                browser.call(f"{domain}.enable", page)
            _viewport(browser, page, width, height or VIEWPORT_HEIGHT)
            loading = len(browser.events)
            error = browser.call("Page.navigate", page, url=url).get("errorText")
            if error:
                raise RuntimeError(f"Chromium could not open {url}: {error}")
            browser.wait_for("Page.loadEventFired", loading)
            _settle(browser, page)
            if png is not None:
                if height is None:
                    size = browser.call("Page.getLayoutMetrics", page)["cssContentSize"]
                    _viewport(browser, page, width, math.ceil(size["height"]))
                    _settle(browser, page)
                data = browser.call("Page.captureScreenshot", page, format="png")["data"]
                png.write_bytes(base64.b64decode(data))
            dom = browser.call("Runtime.evaluate", page, returnByValue=True,
                               expression="document.documentElement.outerHTML")["result"]["value"]
            return Rendered(dom=dom, errors=[e for e in map(_error, browser.events) if e])


def _viewport(browser: _DevTools, page: str, width: int, height: int) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", page, width=width, height=height,
                 deviceScaleFactor=1, mobile=False)


def _settle(browser: _DevTools, page: str) -> None:
    browser.call("Runtime.evaluate", page, awaitPromise=True, expression=(
        "new Promise(done => requestAnimationFrame(() => requestAnimationFrame("
        f"() => setTimeout(done, {SETTLE_MS}))))"))


def _error(event: dict) -> str | None:
    """The message of a protocol event that reports an error, None for any other event."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        exception = details.get("exception", {})
        message = exception.get("description", exception.get("value", ""))
        return f"{details['text']} {message} ({details.get('url', '')}:{details['lineNumber'] + 1})"
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        text = " ".join(str(a.get("value", a.get("description", a.get("unserializableValue", a["type"]))))
                        for a in params["args"])
        frames = params.get("stackTrace", {}).get("callFrames") or [{"url": "", "lineNumber": -1}]
        return f"console.{params['type']}: {text} ({frames[0]['url']}:{frames[0]['lineNumber'] + 1})"
    if method == "Log.entryAdded" and params["entry"]["level"] == "error":
        entry = params["entry"]
        return f"{entry['text']} ({entry.get('url', '')})"
    return None


class _DevTools:
    """One headless Chromium process and its DevTools pipe: commands in order, events kept."""

    def __init__(self, executable: str, tmp: Path, deadline: float):
        self.deadline = deadline
        self.events: list[dict] = []
        self._buffer = bytearray()
        self._id = 0
        self._log = tmp / "stderr.log"
        commands, self._write = os.pipe()
        self._read, replies = os.pipe()

        def pipe_fds():
            # Chromium reads commands from fd 3 and writes replies to fd 4; both pipes are first
            # copied to 5 and up so that putting one on 3 or 4 cannot overwrite the other.
            read, write = (fcntl.fcntl(fd, fcntl.F_DUPFD, 5) for fd in (commands, replies))
            os.dup2(read, 3)
            os.dup2(write, 4)

        with open(self._log, "wb") as log:
            # close_fds=False keeps the child's fds 3 and 4; Python opens every other fd
            # non-inheritable (PEP 446), so nothing else leaks into Chromium.
            self._process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=pipe_fds,
                close_fds=False, start_new_session=True)
        os.close(commands)
        os.close(replies)

    def __enter__(self) -> _DevTools:
        return self

    def __exit__(self, *exc) -> None:
        """Close the browser, killing its process group if it has not exited within 10 seconds."""
        try:
            if self._process.poll() is None:
                self._send("Browser.close", None, {})
                self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self._process.poll() is None:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
            os.close(self._write)
            os.close(self._read)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send a command (to the page of ``session``, or to the browser) and return its result."""
        sent = self._send(method, session, params)
        while True:
            message = self._receive()
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"Chromium: {method} failed: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method: str, start: int) -> None:
        """Read messages until an event named ``method`` is among ``events[start:]``."""
        while not any(event.get("method") == method for event in self.events[start:]):
            start = len(self.events)
            self.events.append(self._receive())

    def _send(self, method: str, session: str | None, params: dict) -> int:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._id

    def _receive(self) -> dict:
        """The next message from the browser, waiting at most until the deadline."""
        searched = 0
        while (end := self._buffer.find(b"\0", searched)) < 0:
            searched = len(self._buffer)
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer before the deadline")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                self._process.wait(timeout=10)
                tail = self._log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium exited ({self._process.returncode}):\n{tail}")
            self._buffer += chunk
        message = json.loads(self._buffer[:end])
        del self._buffer[:end + 1]
        if message.get("method") == "Inspector.targetCrashed":
            raise RuntimeError("Chromium's page crashed")
        return message
