"""Process and HTTP plumbing shared by the benchmarks: start, pin, poll, measure, always clean up.

The benchmarks run the simulator and the exporter as real processes (the exporter's numbers must
include its real HTTP client, event loop and interpreter). Every child is recorded in `Children`
and stopped by its own pid (SIGTERM, then SIGKILL) whatever happens, every wait has a deadline,
and every request has a timeout, so an interrupted or failing run never leaves processes behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import orjson

# Every benchmark script imports this module first. The repository root goes on the path here,
# once, so they share the tests' support code (`tests.support`) and the tests' render oracle.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from tests.support.net import free_port as free_port  # re-exported: the benchmarks take it from here
from tests.support.wait import wait_until

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
SIM_TOKEN = "sim-token"
STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1


class BenchError(RuntimeError):
    """A benchmark step failed or timed out; the message says which and shows the process log."""


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05,
             alive: Callable[[], None] | None = None) -> T:
    """Poll `check` until it returns a value that is not None; BenchError after `timeout` seconds.
    `alive` runs first on every poll and raises when the process waited on has died (the tests'
    `wait_until` loop, which retries a refused connection, underneath)."""
    def probe() -> tuple[T] | None:
        if alive is not None:
            alive()
        result = check()
        return None if result is None else (result,)  # a result of 0 or "" is an answer too

    return wait_until(probe, timeout=timeout, what=what, interval=interval, error=BenchError)[0]


# -- CPU pinning -------------------------------------------------------------------------------


def cpu_plan() -> tuple[str | None, str | None, str]:
    """(exporter CPU, sim CPU, description): the exporter alone on one core, the sim on another,
    so the sim rendering JSON does not steal the exporter's core. None where taskset or a second
    CPU is missing."""
    cpus = sorted(os.sched_getaffinity(0))
    if not shutil.which("taskset") or not cpus:
        return None, None, "not pinned (taskset missing)"
    if len(cpus) == 1:
        return str(cpus[0]), None, f"exporter pinned to CPU {cpus[0]}; sim unpinned (one CPU)"
    return str(cpus[0]), str(cpus[1]), f"exporter pinned to CPU {cpus[0]}, sim to CPU {cpus[1]} (taskset)"


def pinned(argv: Sequence[str], cpu: str | None) -> list[str]:
    """`taskset -c CPU argv...` (taskset execs, so the child's pid is the program's pid)."""
    return ["taskset", "-c", cpu, *argv] if cpu is not None else list(argv)


# -- child processes ---------------------------------------------------------------------------


@dataclass
class Child:
    """A child process with its output in a log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_mono: float
    started_wall: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchError(f"{self.name} exited with {self.proc.returncode}\n{self.log_tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            return f"[{self.name} log unreadable: {e}]"

    def log_tail(self, lines: int = 30) -> str:
        tail = "\n".join(self.log_text().splitlines()[-lines:])
        return f"--- last lines of {self.name} ({self.log_path}) ---\n{tail}"


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the benchmark dies, even by SIGKILL
    (a test timeout), so no sim or exporter outlives a killed run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the normal stop paths still apply


@dataclass
class Children:
    """Every child started by the benchmark, stopped by pid (never by name) in `stop_all`."""

    workdir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, cpu: str | None = None) -> Child:
        log_path = self.workdir / f"{name}-{len(self.children)}.log"
        with open(log_path, "wb") as log:
            started_wall, started_mono = time.time(), time.monotonic()
            proc = subprocess.Popen(pinned(argv, cpu), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.workdir, preexec_fn=_die_with_parent)
        child = Child(name, proc, log_path, started_mono, started_wall)
        self.children.append(child)
        return child

    def stop(self, child: Child) -> None:
        if child.alive():
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
            try:
                child.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(timeout=STOP_TIMEOUT)
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            try:
                self.stop(child)
            except (OSError, subprocess.SubprocessError) as e:
                print(f"warning: could not stop {child.name} (pid {child.pid}): {e}", file=sys.stderr)


@contextlib.contextmanager
def children(workdir: Path) -> Iterator[Children]:
    """Children that are all stopped on exit, also on SIGTERM/SIGINT of the benchmark itself."""
    kids = Children(workdir)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield kids
    finally:
        kids.stop_all()
        signal.signal(signal.SIGTERM, old)


# -- the simulator -----------------------------------------------------------------------------

_LISTENING = re.compile(r"sim listening on (?P<url>\S+) kubeconfig=(?P<kc>\S+)")


@dataclass
class Sim:
    child: Child
    url: str
    kubeconfig: str

    def admin(self, path: str, data: object = None) -> dict[str, object]:
        """GET (or POST `data`) one of the sim's /_sim/ endpoints."""
        return http_json(f"{self.url}/_sim/{path}", data=data)

    def set_churn(self, rate: float) -> None:
        self.admin("churn", {"rate": rate})

    def churn_emitted(self) -> int:
        value = self.admin("stats")["churn_emitted"]
        assert isinstance(value, int)
        return value

    def pods_resource_version(self) -> str:
        """The pod collection's current resourceVersion: where a WATCH of what happens next starts."""
        doc = http_json(f"{self.url}/api/v1/pods?limit=1", headers={"Authorization": f"Bearer {SIM_TOKEN}"})
        meta = doc.get("metadata")
        if not isinstance(meta, dict) or not meta.get("resourceVersion"):
            raise BenchError("the sim's pod LIST has no resourceVersion")
        return str(meta["resourceVersion"])


def start_sim(kids: Children, argv: Sequence[str], *, cpu: str | None, timeout: float, name: str = "sim") -> Sim:
    """Start a sim process and wait (bounded) for its `sim listening on URL kubeconfig=PATH` line."""
    child = kids.start(name, argv, cpu=cpu)

    def listening() -> re.Match[str] | None:
        return _LISTENING.search(child.log_text())

    try:
        m = wait_for(listening, timeout=timeout, what=f"{name} to listen", interval=0.1, alive=child.check_alive)
    except BenchError as e:
        raise BenchError(f"{e}\n{child.log_tail()}") from e
    return Sim(child, m.group("url"), m.group("kc"))


FILLER_SHAPE = "realistic"
"""The filler pods' shape (`--filler-shape` of the sim): `realistic` ~6 KB pods as a real cluster
serves them, or `small` (the older ~4.5 KB shape); run.py's `--shape` sets it."""


def sim_argv(*, filler_pods: int, kubeconfig_out: Path) -> list[str]:
    """`crashloop-exporter sim` with filler pods and no scenarios (scenario pods crash, fetch logs
    and emit events: noise for a throughput number)."""
    return [sys.executable, "-m", "crashloop_exporter", "sim", "--listen", "127.0.0.1:0", "--kubeconfig-out",
            str(kubeconfig_out), "--filler-pods", str(filler_pods), "--filler-shape", FILLER_SHAPE,
            "--scenarios", "", "--plain-http"]


def failing_sim_argv(*, pods: int, kubeconfig_out: Path) -> list[str]:
    return [sys.executable, str(HERE / "failing_sim.py"), "--pods", str(pods), "--kubeconfig-out",
            str(kubeconfig_out)]


# -- the exporter ------------------------------------------------------------------------------


@dataclass
class Exporter:
    child: Child
    url: str

    def metrics(self, *, timeout: float = 30.0) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=timeout) as resp:
            body: bytes = resp.read()
        return body.decode()

    def counter(self, name: str, labels: str) -> float:
        """One sample of /metrics, e.g. counter("crashloop_exporter_watch_events_total",
        'resource="pods",type="MODIFIED"'); BenchError when the series is missing."""
        want = f"{name}{{{labels}}} "
        for line in self.metrics().splitlines():
            if line.startswith(want):
                return float(line[len(want):])
        raise BenchError(f"{want.strip()} is not in the exporter's /metrics")

    def ready(self) -> bool:
        return http_status(f"{self.url}/readyz", timeout=1.0) == 200


def exporter_argv(*, kubeconfig: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "crashloop_exporter", "serve", "--kubeconfig", kubeconfig, "--listen-address",
            f"127.0.0.1:{port}", "--no-logs", "--log-format", "json", *extra]


def start_exporter(kids: Children, *, kubeconfig: str, cpu: str | None, extra: Sequence[str] = ()) -> Exporter:
    port = free_port()
    child = kids.start("exporter", exporter_argv(kubeconfig=kubeconfig, port=port, extra=extra), cpu=cpu)
    return Exporter(child, f"http://127.0.0.1:{port}")


def wait_ready(exp: Exporter, *, timeout: float) -> float:
    """Poll /readyz every 50 ms; returns time.monotonic() of the first 200."""
    def ready() -> float | None:
        return time.monotonic() if exp.ready() else None

    try:
        return wait_for(ready, timeout=timeout, what="the exporter's /readyz", interval=0.05,
                        alive=exp.child.check_alive)
    except BenchError as e:
        raise BenchError(f"{e}\n{exp.child.log_tail()}") from e


def log_line_wall(child: Child, needle: str) -> float | None:
    """Wall time (from the JSON log's `ts`) of the first log line whose msg contains `needle`."""
    for line in child.log_text().splitlines():
        if not line.startswith("{"):
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(doc, dict) and needle in str(doc.get("msg", "")):
            return datetime.fromisoformat(str(doc["ts"])).timestamp()
    return None


# -- /proc -------------------------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int:
    """A `kB` field of /proc/PID/status (VmHWM: peak RSS; VmRSS: current)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds a process has used (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- HTTP --------------------------------------------------------------------------------------


def http_json(url: str, *, data: object = None, timeout: float = 10.0,
              headers: dict[str, str] | None = None) -> dict[str, object]:
    """GET (or POST `data` as JSON) `url` and return its JSON object; BenchError on any failure."""
    body = None if data is None else orjson.dumps(data)
    what = f"{'POST' if body is not None else 'GET'} {url}"
    all_headers = dict(headers or {})
    if body:
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            doc = orjson.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise BenchError(f"{what}: HTTP {e.code}: {e.read()[:300]!r}") from e
    except (OSError, http.client.HTTPException) as e:
        # URLError, a timeout (the server's loop too busy to answer) or a reset: one line, no traceback.
        raise BenchError(f"{what}: no answer (timeout {timeout:g}s): {e}") from e
    except orjson.JSONDecodeError as e:
        raise BenchError(f"{what}: the answer is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise BenchError(f"{url}: expected a JSON object")
    return doc


def http_status(url: str, *, timeout: float) -> int | None:
    """The status of a GET, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, http.client.HTTPException):
        return None


_CONTINUE = re.compile(rb'"continue":"([^"]*)"')


def fetch_list_pages(base_url: str, path: str, *, page_size: int, timeout: float) -> tuple[list[bytes], float]:
    """Every page of a paginated LIST as raw bytes, and the seconds the download took.

    The continue token is found in the first bytes of each page (list metadata comes before the
    items), so the download time does not include parsing the page.
    """
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    pages: list[bytes] = []
    token: str | None = None
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    try:
        while True:
            query: dict[str, str] = {"limit": str(page_size)}
            if token:
                query["continue"] = token
            conn.request("GET", f"{path}?{urllib.parse.urlencode(query)}",
                         headers={"Authorization": f"Bearer {SIM_TOKEN}", "Accept": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise BenchError(f"LIST {path}: HTTP {resp.status}: {body[:200]!r}")
            pages.append(body)
            m = _CONTINUE.search(body, 0, 8192)
            token = m.group(1).decode() if m and m.group(1) else None
            if token is None:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"LIST {path}: not complete after {timeout:g}s ({len(pages)} pages)")
    finally:
        conn.close()
    return pages, time.perf_counter() - t0


def timed_get(url: str, *, headers: dict[str, str], timeout: float) -> tuple[float, int]:
    """(seconds, body bytes) of one GET whose body is read to the end."""
    req = urllib.request.Request(url, headers=headers)
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
    return time.perf_counter() - t0, len(body)
