"""Debian's Firefox ESR driven over WebDriver BiDi (the W3C protocol Firefox serves itself).

Playwright's own Firefox build cannot be downloaded here, and its BiDi channel asks ESR
for commands ESR does not have yet; the few the console tests need (open a page, run a
script, wait for a condition) are a small JSON exchange over one WebSocket.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
PREFS = {  # no phoning home, no first-run pages, muted video may start by itself
    "app.normandy.enabled": False, "datareporting.policy.dataSubmissionEnabled": False,
    "browser.shell.checkDefaultBrowser": False, "toolkit.telemetry.enabled": False,
    "browser.startup.homepage_override.mstone": "ignore", "media.autoplay.default": 0,
    "network.captive-portal-service.enabled": False, "app.update.enabled": False,
}


class BiDiError(RuntimeError):
    pass


def _value(remote: dict[str, Any]) -> Any:
    """A BiDi RemoteValue as Python."""
    kind = remote.get("type")
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return remote["value"]
    if kind == "number":
        v = remote["value"]
        return float("nan") if v == "NaN" else v
    if kind == "array":
        return [_value(v) for v in remote.get("value", [])]
    if kind == "object":
        return {k if isinstance(k, str) else _value(k): _value(v)
                for k, v in remote.get("value", [])}
    return remote.get("value")


class Firefox:
    def __init__(self) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="kuzet-firefox-"))
        (self.profile / "user.js").write_text("".join(
            f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items()))
        log = self.profile / "firefox.log"  # a file, not a pipe: nobody must drain it
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [FIREFOX, "--headless", "--no-remote", "--profile", str(self.profile),
                 "--remote-debugging-port", "0", "about:blank"],
                stdout=subprocess.DEVNULL, stderr=out)
        self._stack = contextlib.ExitStack()
        try:
            self.ws: ClientConnection = self._stack.enter_context(
                connect(f"{self._bidi_url(log)}/session", max_size=None))
            self._id = 0
            self.version = self.send("session.new", {"capabilities": {"alwaysMatch": {
                "acceptInsecureCerts": True}}})["capabilities"]["browserVersion"]
            tree = self.send("browsingContext.getTree", {})
            self.context = tree["contexts"][0]["context"]
        except BaseException:
            self.close()
            raise

    def _bidi_url(self, log: Path) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", log.read_text())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise BiDiError(f"firefox exited: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise BiDiError("firefox did not start WebDriver BiDi within 60 s")

    def send(self, method: str, params: dict[str, Any]) -> Any:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv(timeout=120))
            if answer.get("id") != self._id:
                continue  # an event
            if answer.get("type") == "error":
                raise BiDiError(f"{method}: {answer.get('error')}: {answer.get('message')}")
            return answer["result"]

    def goto(self, url: str) -> None:
        self.send("browsingContext.navigate", {"context": self.context, "url": url,
                                               "wait": "complete"})

    def eval(self, expression: str) -> Any:
        result = self.send("script.evaluate", {
            "expression": expression, "target": {"context": self.context},
            "awaitPromise": True, "resultOwnership": "none"})
        if result.get("type") == "exception":
            raise BiDiError(f"{expression!r}: {result['exceptionDetails'].get('text')}")
        return _value(result["result"])

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.eval(expression)
            except BiDiError:
                value = None  # a page still loading
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true within {timeout} s: {expression}")
            time.sleep(0.2)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may be gone already
            self.send("session.end", {})
        self._stack.close()
        self.proc.kill()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)
