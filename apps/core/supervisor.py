"""A small process supervisor for ``manage.py serve``: web, worker and beat as children that come back when they die.

One child exiting never stops the others: a Celery worker that dies (a Redis blip used to crash it) is started
again while gunicorn keeps serving. Restarts back off exponentially (``backoff_start`` doubling up to
``backoff_max``) so a child that cannot start (a bad setting, the database gone) does not spin; a child that stayed
up for ``stable_after`` seconds counts as healthy again and its next restart is immediate-ish (``backoff_start``).
Each exit and restart is one structured log line (``process_exited`` / ``process_restarted`` with the process name,
its exit code and the restart count).

``stop()`` (serve's SIGTERM or SIGINT) stops the children one by one in reverse start order: beat first (no new
scheduled work), then the worker (its warm shutdown finishes the running tasks), then the web last (it keeps
answering until the end). A child that does not exit within ``stop_timeout`` is killed.

Children run in their own process group, so a terminal's Ctrl-C reaches only serve, which stops them in order;
on Linux each child also gets SIGTERM if serve itself dies (PR_SET_PDEATHSIG), so none is left orphaned.

Production does not use this: systemd or the container runtime supervises each process (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("apps.core.supervisor")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0  # restarts since serve started
    failures: int = 0  # consecutive quick exits: the exponent of the next delay
    restart_at: float | None = None  # when a dead child is due to start again
    history: list[tuple[str, int | None]] = field(default_factory=list)  # ("exited", code) / ("started", pid)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    def __init__(
        self,
        programs: Sequence[tuple[str, Sequence[str]]],
        *,
        backoff_start: float = 1.0,
        backoff_max: float = 30.0,
        stable_after: float = 60.0,
        stop_timeout: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if backoff_start <= 0 or backoff_max < backoff_start:
            raise ValueError("backoff: 0 < backoff_start <= backoff_max")
        self.children = [Child(name, list(argv)) for name, argv in programs]
        self.backoff_start, self.backoff_max = backoff_start, backoff_max
        self.stable_after, self.stop_timeout = stable_after, stop_timeout
        self.clock = clock
        self.stopping = False

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def delay(self, failures: int) -> float:
        """Seconds before the next start after ``failures`` consecutive quick exits (1 s, 2 s, 4 s ... 30 s)."""
        return float(min(self.backoff_max, self.backoff_start * 2 ** max(0, failures - 1)))

    def _spawn(self, child: Child) -> None:
        # fixed argv of our own venv's binaries (or a test's), no shell
        child.process = subprocess.Popen(  # noqa: S603
            child.argv, process_group=0, preexec_fn=_die_with_parent
        )
        child.started_at, child.restart_at = self.clock(), None
        child.history.append(("started", child.process.pid))

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def poll(self) -> None:
        """Notice children that exited, schedule their restart, and start those that are due."""
        if self.stopping:
            return
        now = self.clock()
        for child in self.children:
            process = child.process
            if process is not None and child.restart_at is None and process.poll() is not None:
                uptime = now - child.started_at
                child.failures = 1 if uptime >= self.stable_after else child.failures + 1
                wait = self.delay(child.failures)
                child.restart_at = now + wait
                child.history.append(("exited", process.returncode))
                log.warning(
                    "process_exited",
                    process=child.name,
                    pid=process.pid,
                    exit_code=process.returncode,
                    uptime_seconds=round(uptime, 1),
                    restarts=child.restarts,
                    restart_in_seconds=wait,
                )
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
                log.warning(
                    "process_restarted",
                    process=child.name,
                    pid=child.pid,
                    restarts=child.restarts,
                    consecutive_failures=child.failures,
                )

    def run(self, interval: float = 0.2) -> None:
        """Start the children and supervise them until ``stop()`` (from a signal handler) is called."""
        self.start()
        while not self.stopping:
            self.poll()
            time.sleep(interval)
        self.shutdown()

    def stop(self, *_args: object) -> None:
        """Ask ``run`` to stop (safe inside a signal handler)."""
        self.stopping = True

    def shutdown(self) -> None:
        """Stop the children one at a time, last started first; kill those that outstay ``stop_timeout``."""
        self.stopping = True
        for child in reversed(self.children):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.error("process_killed", process=child.name, pid=process.pid, after_seconds=self.stop_timeout)
                process.kill()
                process.wait()
            log.info("process_stopped", process=child.name, pid=process.pid, exit_code=process.returncode)


def install_signal_handlers(supervisor: Supervisor) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, supervisor.stop)
