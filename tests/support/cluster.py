"""Real cluster processes for tests and benchmarks: schedulers and workers as child processes of
`gpuscout`, on the PostgreSQL and Redis of this machine, with short intervals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REDIS_ENV = "GPUSCOUT_TEST_REDIS_URL"
PG_ENV = "GPUSCOUT_TEST_DATABASE_URL"

#: a cluster tuned for tests: a lost worker's task comes back within about 3 s, a standby takes
#: over within 0.3 s
FAST_CLUSTER = {"visibility_timeout": 3, "restore_interval": 0.5, "heartbeat": 0.3}


def cluster_table(queue: str, **extra: Any) -> dict[str, Any]:
    """A [cluster] table on its own queue (each test its own, so that runs never share one)."""
    return {"queue": queue, **FAST_CLUSTER, **extra}


def unique_queue(prefix: str = "t") -> str:
    return f"gpuscout-{prefix}-{uuid.uuid4().hex[:10]}"


class Proc:
    """A `gpuscout` child process whose output goes to a file (read it when a test fails)."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "gpuscout.jobs.cli.main", *args], stdout=self._out,
            stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as on a power cut or the OOM killer."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then SIGKILL if it did not end within ``timeout``; its exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)
        self._out.close()
        return self.popen.returncode


class Cluster:
    """Starts schedulers and workers for one configuration file; stops them all at the end."""

    def __init__(self, config: Path, *, db_url: str, redis_url: str, cwd: Path) -> None:
        self.config = config
        self.cwd = cwd
        self.env = {**os.environ, "GPUSCOUT_DATABASE_URL": db_url,
                    "GPUSCOUT_BROKER_URL": redis_url, "GPUSCOUT_REDIS_URL": redis_url}
        self.procs: list[Proc] = []

    def start(self, *args: str, name: str) -> Proc:
        proc = Proc(["--config", str(self.config), "-v", *args], env=self.env, cwd=self.cwd,
                    log=self.cwd / f"{name}.log")
        self.procs.append(proc)
        return proc

    def scheduler(self, name: str) -> Proc:
        return self.start("run", "--distributed", name=name)

    def worker(self, name: str) -> Proc:
        return self.start("worker", "--name", name, name=name)

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for each: stopped one by one, a standby
        could take over from a stopped leader and fire before its own turn to stop came."""
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in self.procs)


@contextmanager
def cluster(config: Path, *, db_url: str, redis_url: str, cwd: Path) -> Iterator[Cluster]:
    c = Cluster(config, db_url=db_url, redis_url=redis_url, cwd=cwd)
    try:
        yield c
    finally:
        c.stop_all()


def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.05) -> Any:
    """Poll ``predicate`` (a database or broker state: no event to wait on across processes)
    until it returns something true; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
