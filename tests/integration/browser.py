"""browser.py - a real headless Chromium, driven over the DevTools protocol.

Chromium runs with --remote-debugging-pipe: it reads commands on its fd 3
and writes answers and events on its fd 4, each a JSON text ended by a NUL
byte. Python's standard library is all this needs (no pip package, no
websocket). Every wait is bounded; a browser that cannot start raises
BrowserMissing with the reason.

    with Browser() as browser:
        page = browser.open("http://127.0.0.1:8080/")
        page.evaluate("document.title")
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


class BrowserMissing(Exception):
    pass


class BrowserError(Exception):
    pass


def find_chromium():
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, width=1280, height=1000, start_timeout=30.0, extra_args=()):
        """extra_args: more Chromium flags, e.g. ("--ignore-certificate-errors",)."""
        binary = find_chromium()
        if binary is None:
            raise BrowserMissing("no chromium on PATH (Debian package `chromium`; ./rill test installs it)")
        self.profile = tempfile.mkdtemp(prefix="rill-chromium-")
        self.buffer = b""
        self.events = []
        self.next_id = 0
        to_chrome_read, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_write = os.pipe()

        def child_fds():
            # fd 3 = commands, fd 4 = answers; copy out of the way first so
            # neither dup2 clobbers the other's source.
            commands = fcntl.fcntl(to_chrome_read, fcntl.F_DUPFD, 10)
            answers = fcntl.fcntl(from_chrome_write, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        argv = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--mute-audio",
                "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height)] + list(extra_args) + ["about:blank"]
        self.log_path = os.path.join(self.profile, "chromium.log")
        self.log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                            stderr=subprocess.STDOUT, close_fds=False,
                                            preexec_fn=child_fds)
        except OSError as error:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserMissing("cannot start %s: %s" % (binary, error))
        finally:
            os.close(to_chrome_read)
            os.close(from_chrome_write)
        try:
            self.version = self.call("Browser.getVersion", timeout=start_timeout)["product"]
        except BrowserError as error:
            self.close()
            raise BrowserMissing("chromium did not answer: %s\n%s" % (error, self.log_text()))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    # ---- the protocol ----
    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self.to_chrome, data)
            data = data[written:]
        return self.next_id

    def receive(self, deadline):
        """The next message, or BrowserError at the deadline or when the pipe closes."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from chromium in time")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed its pipe (exit %s)" % self.process.poll())
            self.buffer += chunk
        text, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(text)

    def call(self, method, params=None, session=None, timeout=15.0):
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def open(self, url):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self.call("Runtime.enable", session=session)
        self.call("Log.enable", session=session)
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        return page

    def close(self):
        if self.process.poll() is None:
            try:
                self.send("Browser.close")
                self.process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        for fd in (self.to_chrome, self.from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def evaluate(self, expression, timeout=15.0):
        result = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.session, timeout=timeout)
        if "exceptionDetails" in result:
            raise BrowserError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        """Polls expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None  # the page is still loading
            if value:
                return value
            blocked = [p for p in self.problems() if "Content Security Policy" in p]
            if blocked:
                raise BrowserError("the page was blocked by its CSP: %s" % blocked)
            time.sleep(0.1)
        raise BrowserError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, value))

    def problems(self):
        """Exceptions, console errors and CSP violations the page reported."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append("exception: %s" % params.get("exceptionDetails", {}).get("text"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append("log: %s (%s)" % (params["entry"].get("text"), params["entry"].get("url")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append("console.error: %r" % params.get("args"))
        return found

    def screenshot(self, path):
        metrics = self.browser.call("Page.getLayoutMetrics", session=self.session)
        size = metrics.get("cssContentSize") or metrics.get("contentSize")
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
        data = self.browser.call("Page.captureScreenshot",
                                 {"format": "png", "clip": clip, "captureBeyondViewport": True},
                                 session=self.session, timeout=30)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def screenshot_element(self, selector, path, margin=8):
        """A PNG of one element (document.querySelector(selector)) and a margin around it."""
        box = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                            " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()"
                            % json.dumps(selector))
        x, y = max(0, box[0] - margin), max(0, box[1] - margin)
        clip = {"x": x, "y": y, "width": box[2] + 2 * margin, "height": min(box[3] + 2 * margin, 4000), "scale": 1}
        data = self.browser.call("Page.captureScreenshot",
                                 {"format": "png", "clip": clip, "captureBeyondViewport": True},
                                 session=self.session, timeout=30)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def press(self, key, code=None, key_code=0):
        """One key pressed and released (e.g. "Tab"), as the keyboard would."""
        params = {"key": key, "code": code or key, "windowsVirtualKeyCode": key_code}
        self.browser.call("Input.dispatchKeyEvent", dict(params, type="rawKeyDown"), session=self.session)
        self.browser.call("Input.dispatchKeyEvent", dict(params, type="keyUp"), session=self.session)
