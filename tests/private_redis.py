"""A private ``redis-server`` for outage tests: on a free port, without persistence, in a temporary folder of its own.

``stop()`` shuts it down (connection refused, data gone), ``pause()``/``resume()`` freeze and thaw the process
(SIGSTOP/SIGCONT: a hung server that keeps its data, reached only by timeouts), ``start()`` brings a stopped one
back on the same port. Nothing here mocks Redis: the cache talks to a real server that really goes away.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed: the Redis outage tests need their own server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pitboss-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def caches_on(server: PrivateRedis, settings: Any, timeout: float = 0.3) -> Iterator[None]:
    """Point both cache aliases at ``server`` (short socket timeouts: a hung server fails fast)."""
    from django.conf import settings as django_settings

    caches = {}
    for alias, config in django_settings.CACHES.items():
        caches[alias] = {
            **config,
            "LOCATION": server.url,
            "OPTIONS": {**config.get("OPTIONS", {}), "SOCKET_CONNECT_TIMEOUT": timeout, "SOCKET_TIMEOUT": timeout},
        }
    from axes.handlers.proxy import AxesProxyHandler

    original = django_settings.CACHES
    settings.CACHES = caches
    AxesProxyHandler.implementation = None  # django-axes keeps its cache from its first use: make it take ours
    try:
        yield
    finally:
        settings.CACHES = original  # before the suite's own cache clean-up runs against the real server
        AxesProxyHandler.implementation = None  # ...and not keep the private server's after this test
