"""A private stack for the fault tests: its own redis-server and PostgreSQL cluster on free loopback ports, the
application served by ``manage.py serve`` (gunicorn, a Celery worker and beat) against them, and a webhook
receiver, all real processes. Nothing here touches the suite's PostgreSQL or Redis.

The cluster is built by ``initdb`` and set up by the project's own commands (``ensure_database``, ``migrate``,
``install_schedule``) and a seed script using the services (tests/faults/seed.py). Migrating takes ~15 s, so the
built, stopped cluster is kept as a template (keyed by a hash of the migrations) and copied for each stack.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN_DIRS = ("/usr/local/bin", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")))
SECRET = "faults-only-secret-key-0123456789-0123456789-0123456789"
SEED_DEPOSIT = "1000.00"
LONG = os.environ.get("FAULTS_LONG") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_binary(name: str) -> str | None:
    for directory in PG_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def controls() -> dict[str, str]:
    """``FAULTS_SET="DATABASE_POOL_CHECK=false CELERY_BROKER_TRANSPORT=redis"``: settings for the served app that
    turn a fix off, to see a fault test fail without it (docs/RELIABILITY.md, "Fault tests")."""
    pairs = (item.partition("=") for item in os.environ.get("FAULTS_SET", "").split())
    return {name: value for name, _, value in pairs if name}


def missing_binaries() -> str | None:
    """Why the fault tests cannot run here, or None."""
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if pg_binary(name) is None]
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if missing:
        return f"fault tests need {', '.join(missing)} (PostgreSQL server binaries and redis-server) on this machine"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "fault tests run as root and need a 'postgres' OS user to own the private cluster"
        if shutil.which("runuser") is None:
            return "fault tests run as root and need runuser to start PostgreSQL as the 'postgres' user"
    return None


def _as_pg_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _give_to_pg_user(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


def base_dir() -> Path:
    """Where stacks live: FAULTS_TMP (default the system's temp folder); readable by the postgres user."""
    base = Path(os.environ.get("FAULTS_TMP") or tempfile.gettempdir()) / "pitboss-faults"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    return base


def wait_for(predicate: Any, timeout: float, interval: float = 0.05, what: str = "condition") -> float:
    """Poll until ``predicate()`` is true; returns the seconds it took, raises TimeoutError past ``timeout``."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


# --- Redis --------------------------------------------------------------------------------------------------


class Redis:
    """A private redis-server without persistence: a stop loses its data (the cache and the broker's queues),
    as a restarted cache node would."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.ping, 10, what="redis-server answering PING")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    paths = [
        *sorted(ROOT.glob("apps/*/migrations/*.py")),
        ROOT / "apps/core/dbroles.py",
        ROOT / "apps/core/management/commands/ensure_database.py",
        ROOT / "apps/core/management/commands/migrate.py",
        ROOT / "backoffice/schedule.py",
        Path(__file__).with_name("seed.py"),
    ]
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Postgres:
    """A private PostgreSQL cluster, owned and run by the postgres OS user, trust auth on loopback."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.data = directory / "data"
        self.socket_dir = directory / "sock"
        self.port = free_port()

    def initdb(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        _give_to_pg_user(self.dir)
        subprocess.run(
            _as_pg_user(
                [
                    pg_binary("initdb") or "initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def copy_from(self, template: Path) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        subprocess.run(["cp", "-a", str(template), str(self.data)], check=True)
        _give_to_pg_user(self.dir)

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=100"
        argv = [pg_binary("pg_ctl") or "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "pg.log"), "-o", options]
        return subprocess.run(
            _as_pg_user([*argv, *args]),
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        self._ctl("-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-w", "-t", "60", "-m", mode, "stop", check=False)

    def restart(self, mode: str) -> None:
        """``pg_ctl restart -m fast|immediate``: the server is gone, then comes back (recovery after immediate)."""
        self._ctl("-w", "-t", "60", "-m", mode, "restart")

    def running(self) -> bool:
        return self._ctl("status", check=False).returncode == 0

    def url(self, role: str, db: str = "pitboss") -> str:
        return f"postgres://{role}@127.0.0.1:{self.port}/{db}"

    def accepting(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres", "postgres"), connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def sql(self, statement: str, params: Any = None, db: str = "pitboss") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser (autocommit) and return its rows."""
        import psycopg

        with psycopg.connect(self.url("postgres", db), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def set_read_only(self, on: bool) -> None:
        """The whole server read-only (or writable again) for every session, new and existing: ALTER SYSTEM and a
        reload (sessions that did not set it themselves take the new default at their next statement)."""
        import psycopg

        with psycopg.connect(self.url("postgres", "postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute("SET default_transaction_read_only = off")
            if on:
                conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            else:
                conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
            conn.execute("SELECT pg_reload_conf()")


# --- the webhook receiver -----------------------------------------------------------------------------------


@dataclass
class Received:
    at: float  # time.monotonic()
    event_id: int
    player: str
    type: str
    body: dict[str, Any]


class Receiver:
    """A platform's webhook endpoint on a fixed loopback port: can be stopped (connection refused) and started
    again on the same port, and can answer slowly (``delay``) to hold deliveries in flight."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.delay = 0.0
        self.in_flight = 0  # requests being answered right now (slowly, with a delay)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/pitboss"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.in_flight += 1
                try:
                    self._answer(body)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def _answer(self, body: bytes) -> None:
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    event = json.loads(body)
                    item = Received(time.monotonic(), int(event["id"]), str(event["player"]), event["type"], event)
                except (ValueError, KeyError, TypeError):
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.received.append(item)
                self.send_response(204)
                self.end_headers()

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def running(self) -> bool:
        return self._server is not None

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)


# --- processes ----------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Stack:
    dir: Path
    redis: Redis
    pg: Postgres
    receiver: Receiver
    web_port: int = field(default_factory=free_port)
    key: str = ""
    players: list[dict[str, str]] = field(default_factory=list)
    serve: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    _next_player: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        """The application's environment: base settings, every URL pointing at the private servers."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV")
        return {
            **{k: v for k, v in os.environ.items() if k in keep},
            "PYTHONPATH": str(ROOT),
            "PITBOSS_IGNORE_DOTENV": "1",
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": self.pg.url("pitboss_app"),
            "MIGRATION_DATABASE_URL": self.pg.url("pitboss_owner"),
            "DATABASE_ADMIN_URL": self.pg.url("postgres", "postgres"),
            "REDIS_URL": self.redis.url(0),
            "CELERY_BROKER_URL": self.redis.url(1),
            "API_DEFAULT_THROTTLE_RATE": "10000000/min",
            "AUDIT_CHECKPOINT_DIR": str(self.dir / "audit-checkpoints"),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            # in-suite runs are short: webhook retries after 1, 2, 4 s... (the default 5 s backoff in the long runs)
            # and a delivery claimed by a killed worker is taken again after a 6 s lease instead of 60 s (the
            # default, what the long runs measure against the goal's 5 minutes)
            **(
                {}
                if LONG
                else {"OUTBOX_BACKOFF_SECONDS": "1", "OUTBOX_TIMEOUT_SECONDS": "3", "OUTBOX_LEASE_SECONDS": "6"}
            ),
            "OUTBOX_MAX_ATTEMPTS": "12",
            **controls(),
        }

    def manage(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    def script(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "-m", "tests.faults.seed", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"tests.faults.seed {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # --- building -------------------------------------------------------------------------------------------

    def build(self) -> None:
        started = time.monotonic()
        self.redis.start()
        template = self._template()
        self.pg.copy_from(template / "data")
        self.pg.start()
        seeded = json.loads((template / "seed.json").read_text())
        self.key, self.players = seeded["key"], seeded["players"]
        self.manage("ensure_database")  # idempotent: what a deploy runs; the template already has it all
        self.receiver.start()
        self.script("webhook", self.receiver.url)
        self.timings["build_s"] = time.monotonic() - started
        self.start_serve()
        self.timings["ready_s"] = time.monotonic() - started

    def _template(self) -> Path:
        """The migrated, seeded, stopped cluster for this set of migrations (built once, under a lock)."""
        base = base_dir()
        template = base / f"template-{_migrations_hash()}"
        with (base / "template.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (template / "seed.json").is_file():
                return template
            shutil.rmtree(template, ignore_errors=True)
            builder = Stack(dir=template, redis=self.redis, pg=Postgres(template), receiver=self.receiver)
            started = time.monotonic()
            builder.pg.initdb()
            builder.pg.start()
            try:
                builder.manage("ensure_database")
                builder.manage("migrate", "--no-input", timeout=600)
                builder.manage("install_schedule")
                seeded = builder.script("seed", "--players", "1000")
            finally:
                builder.pg.stop("fast")
            (template / "seed.json").write_text(seeded)
            self.timings["template_build_s"] = time.monotonic() - started
            for leftover in ("pg.log", "audit-checkpoints"):
                with contextlib.suppress(OSError):
                    (template / leftover).unlink()
            return template

    def take_players(self, n: int) -> list[dict[str, str]]:
        """Players no other test has touched (each test checks the balances of its own)."""
        taken = self.players[self._next_player : self._next_player + n]
        if len(taken) < n:
            raise RuntimeError("the fault stack ran out of seeded players; seed more in Stack._template")
        self._next_player += n
        return taken

    # --- manage.py serve ------------------------------------------------------------------------------------

    def start_serve(self) -> None:
        log = (self.dir / "serve.log").open("ab")
        self.serve = subprocess.Popen(
            [
                str(BIN / "python"),
                "manage.py",
                "serve",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--web-workers",
                "3",
                "--worker-concurrency",
                "2",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping the stack stops every child
        )
        wait_for(self._healthy, 60, 0.2, "gunicorn answering /healthz")
        wait_for(lambda: self.worker_main() is not None and self.pool_children(), 60, 0.2, "a Celery worker pool")

    def _healthy(self) -> bool:
        import requests

        if self.serve is None or self.serve.poll() is not None:
            raise RuntimeError(f"manage.py serve exited; see {self.dir / 'serve.log'}")
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop_serve(self) -> None:
        if self.serve is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.serve.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.serve.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.serve.pid, signal.SIGKILL)  # whatever of its group is left (orphaned pool children)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.serve.wait(5)
        self.serve = None

    def serve_children(self) -> dict[str, list[int]]:
        """serve's live children by role: web (the gunicorn master), worker (celery worker), beat."""
        roles: dict[str, list[int]] = {"web": [], "worker": [], "beat": []}
        if self.serve is None:
            return roles
        for pid in _children(self.serve.pid):
            if not _alive(pid):
                continue
            cmd = _cmdline(pid)
            if "gunicorn" in cmd:
                roles["web"].append(pid)
            elif " worker" in cmd or "backoffice.worker" in cmd:
                roles["worker"].append(pid)
            elif " beat" in cmd:
                roles["beat"].append(pid)
        return roles

    def worker_main(self) -> int | None:
        workers = self.serve_children()["worker"]
        return workers[0] if workers else None

    def pool_children(self) -> list[int]:
        main = self.worker_main()
        return [pid for pid in _children(main) if _alive(pid)] if main else []

    def web_master(self) -> int | None:
        web = self.serve_children()["web"]
        return web[0] if web else None

    # --- between tests --------------------------------------------------------------------------------------

    def heal(self) -> None:
        """Put back whatever a previous (perhaps failed) test left broken, and say so."""
        if not self.redis.running():
            self.restarts.append("redis was down")
            self.redis.start()
        if not self.pg.accepting():
            self.restarts.append("postgres was down")
            self.pg.start()
        if self.pg.sql("SHOW default_transaction_read_only", db="postgres")[0][0] == "on":
            self.pg.set_read_only(False)
        if not self.receiver.running():
            self.receiver.start()
        self.receiver.delay = 0.0
        roles = self.serve_children()
        if self.serve is None or self.serve.poll() is not None or not all(roles.values()) or not self.pool_children():
            self.restarts.append(f"serve restarted (was: {self.serve and self.serve.poll()}, children {roles})")
            self.stop_serve()
            self.start_serve()

    def teardown(self) -> None:
        self.stop_serve()
        self.receiver.stop()
        self.redis.stop()
        self.pg.stop("immediate")

    def log_tail(self, name: str = "serve.log", lines: int = 40) -> str:
        path = self.dir / name
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def private_stack() -> Iterator[Stack]:
    directory = Path(tempfile.mkdtemp(prefix="stack-", dir=base_dir()))
    directory.chmod(0o755)
    stack = Stack(dir=directory, redis=Redis(directory / "redis"), pg=Postgres(directory / "pg"), receiver=Receiver())
    try:
        stack.build()
        yield stack
    finally:
        stack.teardown()
        if os.environ.get("FAULTS_KEEP") != "1":
            shutil.rmtree(directory, ignore_errors=True)
