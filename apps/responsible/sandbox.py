"""A sandbox of the national registers on loopback, speaking each adapter's protocol (see registers.py).

The tests start it to exercise the real HTTP adapters (hits, misses, timeouts, 5xx, garbage bodies, a
register that fails and recovers), and the demo (``make run``) uses it so that logins work without vendor
credentials. Never for production: ``production.py`` refuses ``REGISTER_SANDBOX``.

Who is registered: anyone whose last name is in ``excluded`` (case-insensitive). ``mode`` per register:
``ok``, ``timeout`` (answers after ``delay`` seconds), ``error`` (HTTP 503), ``garbage`` (an unreadable body),
``flaky:N`` (503 for the next N requests, then ok).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = {
    "/v2": "gamstop",
    "/api/v1/blocking-status": "spelpaus",
    "/rofus/v1/status": "rofus",
    "/oasis/v1/sperrabfrage": "oasis",
    "/cruks/v1/registrations/check": "cruks",
    "/v1/self-exclusion/lookup": "igo",
}


class Sandbox:
    def __init__(self) -> None:
        self.excluded: set[str] = set()
        self.modes: dict[str, str] = {}
        self.delay = 3.0
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Sandbox:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.excluded.clear()
            self.modes.clear()
            self.requests.clear()

    def _mode(self, register: str) -> str:
        with self._lock:
            mode = self.modes.get(register, "ok")
            if mode.startswith("flaky:"):
                left = int(mode.split(":")[1])
                self.modes[register] = f"flaky:{left - 1}" if left > 1 else "ok"
                return "error"
            return mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                register = PATHS.get(parsed.path)
                if register is None:
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    data = json.loads(raw or b"{}")
                elif raw:
                    data = dict(urllib.parse.parse_qsl(raw.decode()))
                else:
                    data = dict(urllib.parse.parse_qsl(parsed.query))
                with sandbox._lock:
                    sandbox.requests.append((register, data, dict(self.headers.items())))
                mode = sandbox._mode(register)
                if mode == "timeout":
                    time.sleep(sandbox.delay)
                if mode == "error":
                    self.send_error(503)
                    return
                last = str(data.get("lastName") or data.get("nachname") or "").upper()
                hit = last in {name.upper() for name in sandbox.excluded}
                body = b"<html>maintenance</html>" if mode == "garbage" else _body(register, hit)
                self.send_response(200)
                if register == "gamstop" and mode != "garbage":
                    self.send_header("X-Exclusion", "Y" if hit else "N")
                    self.send_header("X-Unique-Id", "gs-sandbox")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the adapter gave up waiting
                    self.wfile.write(body)

            do_GET = do_POST = _answer

        return Handler


def _body(register: str, hit: bool) -> bytes:
    answers: dict[str, dict[str, Any]] = {
        "gamstop": {},
        "spelpaus": {"blocked": hit, "requestId": "sp-sandbox"},
        "rofus": {"status": "EXCLUDED" if hit else "NOT_EXCLUDED", "reference": "rf-sandbox"},
        "oasis": {"gesperrt": hit, "anfrageId": "oa-sandbox"},
        "cruks": {"registered": hit, "checkId": "cr-sandbox"},
        "igo": {"excluded": hit, "lookupId": "igo-sandbox"},
    }
    return json.dumps(answers[register]).encode()
