"""``manage.py serve`` supervises web, worker and beat: real child processes, killed for real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from apps.core.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def supervise() -> Iterator[Callable[..., Supervisor]]:
    started: list[Supervisor] = []

    def make(programs: list[tuple[str, list[str]]], **kwargs: Any) -> Supervisor:
        supervisor = Supervisor(programs, **{"stop_timeout": 5.0, **kwargs})
        supervisor.start()
        started.append(supervisor)
        return supervisor

    yield make
    for supervisor in started:
        supervisor.shutdown()


def run_until(supervisor: Supervisor, condition: Callable[[], object], timeout: float = 10.0) -> None:
    def step() -> object:
        supervisor.poll()
        return condition()

    wait_for(step, timeout)


def test_it_restarts_a_killed_child_and_leaves_the_others_alone(supervise):
    supervisor = supervise([("web", SLEEPER), ("worker", SLEEPER), ("beat", SLEEPER)], backoff_start=0.1)
    before = {c.name: c.pid for c in supervisor.children}
    with capture_logs() as logs:
        os.kill(before["worker"], signal.SIGKILL)
        run_until(supervisor, lambda: supervisor.child("worker").pid != before["worker"])
    after = {c.name: c.pid for c in supervisor.children}
    assert after["web"] == before["web"] and after["beat"] == before["beat"]
    assert alive(after["worker"]) and alive(after["web"]) and alive(after["beat"])
    exited = next(e for e in logs if e["event"] == "process_exited")
    assert (exited["process"], exited["exit_code"], exited["restarts"], exited["log_level"]) == (
        "worker",
        -signal.SIGKILL,
        0,
        "warning",
    )
    restarted = next(e for e in logs if e["event"] == "process_restarted")
    assert (restarted["process"], restarted["restarts"], restarted["pid"]) == ("worker", 1, after["worker"])


def test_a_child_that_keeps_failing_is_restarted_with_doubling_delays_up_to_the_maximum(supervise):
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = supervise([("web", SLEEPER), ("worker", failing)], backoff_start=0.1, backoff_max=0.4)
    with capture_logs() as logs:
        run_until(supervisor, lambda: supervisor.child("worker").restarts >= 5, timeout=15)
    waits = [e["restart_in_seconds"] for e in logs if e["event"] == "process_exited"][:5]
    assert waits == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert {e["exit_code"] for e in logs if e["event"] == "process_exited"} == {3}
    started = [pid for kind, pid in supervisor.child("worker").history if kind == "started"]
    assert len(set(started)) == len(started) >= 6  # a new process each time
    assert supervisor.child("web").restarts == 0


def test_the_backoff_starts_over_once_a_child_stayed_up_long_enough(supervise):
    supervisor = supervise([("worker", SLEEPER)], backoff_start=0.1, backoff_max=5.0, stable_after=0.3)
    child = supervisor.child("worker")
    child.failures = 4  # it had failed four times in a row (next delay would be 1.6 s)
    time.sleep(0.4)  # ... and has now been up longer than stable_after
    with capture_logs() as logs:
        os.kill(child.pid, signal.SIGKILL)
        run_until(supervisor, lambda: child.restarts == 1, timeout=5)
    assert [e["restart_in_seconds"] for e in logs if e["event"] == "process_exited"] == [0.1]


def test_it_refuses_a_backoff_that_makes_no_sense():
    with pytest.raises(ValueError, match="backoff"):
        Supervisor([("web", SLEEPER)], backoff_start=0)
    with pytest.raises(ValueError, match="backoff"):
        Supervisor([("web", SLEEPER)], backoff_start=5, backoff_max=1)


CHILD = textwrap.dedent(
    """
    import signal, sys, time
    name, path = sys.argv[1], sys.argv[2]
    def stop(*_):
        with open(path, "a") as f:
            f.write(f"{name} {time.monotonic()}\\n")
        time.sleep(0.2)  # a graceful shutdown takes a moment: the next one must wait for it
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, lambda *_: open(path, "a").write(f"{name} got SIGINT\\n"))
    while True:
        time.sleep(1)
    """
)

SUPERVISOR = textwrap.dedent(
    """
    import json, sys
    from apps.core.supervisor import Supervisor, install_signal_handlers
    child, log, pids = sys.argv[1], sys.argv[2], sys.argv[3]
    names = ["web", "worker", "beat"]
    supervisor = Supervisor([(n, [sys.executable, child, n, log]) for n in names], backoff_start=0.1)
    install_signal_handlers(supervisor)
    supervisor.start()
    open(pids, "w").write(json.dumps({c.name: c.pid for c in supervisor.children}))
    while not supervisor.stopping:
        supervisor.poll()
        import time; time.sleep(0.05)
    supervisor.shutdown()
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_beat_then_worker_then_web_each_after_the_last_exited(tmp_path: Path, signum):
    child, log, pids = tmp_path / "child.py", tmp_path / "stopped.log", tmp_path / "pids.json"
    child.write_text(CHILD)
    script = tmp_path / "supervise.py"
    script.write_text(SUPERVISOR)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    # its own session: the signal goes to its whole process group, as a terminal's Ctrl-C does
    serve = subprocess.Popen(
        [sys.executable, str(script), str(child), str(log), str(pids)], env=env, start_new_session=True
    )
    try:
        wait_for(lambda: pids.exists() and pids.read_text())
        children = json.loads(pids.read_text())
        time.sleep(0.3)  # the children installed their handlers
        os.killpg(serve.pid, signum)
        assert serve.wait(timeout=10) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [name for name, _ in lines] == ["beat", "worker", "web"]  # no child saw the SIGINT itself
    times = [float(t) for _, t in lines]
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.2  # one after the other
    assert not any(alive(pid) for pid in children.values())


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def healthz(port: int) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return int(response.status)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_serve_brings_a_killed_celery_worker_back_while_gunicorn_keeps_serving(tmp_path: Path):
    """The real command: gunicorn, a Celery worker and beat; the worker's main process SIGKILLed."""
    import socket

    from django.db import connection

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from tests.core.test_celery import _free_port, _redis_server

    # a broker of its own: the served worker and beat must not take (or add) tasks on the suite's shared broker
    broker_port = _free_port()
    broker = _redis_server(broker_port, tmp_path)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker_port}/0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    root = Path(__file__).resolve().parents[2]
    err = (tmp_path / "serve.err").open("w")
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--web-workers", "1",
         "--worker-concurrency", "1"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
    )  # fmt: skip
    try:

        def by_role() -> dict[str, int]:
            roles = {}
            for pid in children_of(serve.pid):
                line = cmdline(pid)
                role = "web" if "gunicorn" in line else "worker" if "worker" in line else "beat"
                roles[role] = pid
            return roles if len(roles) == 3 else {}

        before = wait_for(by_role, 30)
        assert isinstance(before, dict)
        wait_for(lambda: _answers(port), 30)
        os.kill(before["worker"], signal.SIGKILL)
        served_while_down = [healthz(port) for _ in range(5)]
        # the goal: a worker back within 10 s of its main process being SIGKILLed
        after = wait_for(lambda: (r := by_role()) and r["worker"] != before["worker"] and r, 10)
        assert isinstance(after, dict)
        assert after["web"] == before["web"] and after["beat"] == before["beat"]
        assert served_while_down == [200] * 5 and healthz(port) == 200
        os.killpg(serve.pid, signal.SIGTERM)
        assert serve.wait(timeout=40) == 0
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
        err.close()
        broker.terminate()
        broker.wait()
    events = [e for line in (tmp_path / "serve.err").read_text().splitlines() if (e := _event(line))]
    exited = [e for e in events if e.get("event") == "process_exited"]
    assert [(e["process"], e["exit_code"]) for e in exited] == [("worker", -signal.SIGKILL)]
    assert [e["process"] for e in events if e.get("event") == "process_stopped"] == ["beat", "worker", "web"]
    assert not any(alive(pid) for pid in [*before.values(), *after.values()])


def _answers(port: int) -> bool:
    try:
        return healthz(port) == 200
    except OSError:
        return False


def _event(line: str) -> dict[str, object] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
