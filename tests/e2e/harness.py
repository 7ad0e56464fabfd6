"""A real Prometheus and Alertmanager on free loopback ports, plus the small servers around them.

The rules pack and the dashboards are only proven when a real Prometheus evaluates them against
real scrapes, and a real Alertmanager routes what fires. This module starts the Debian binaries
with throw-away storage, waits (bounded) until they are ready, and stops them; it also serves a
webhook receiver that records what each Alertmanager receiver got, and fake scrape targets
(kube-state-metrics) whose exposition text a test controls.

Everything here is synchronous: the aiohttp servers run on their own event loop in a background
thread, so fixtures of any scope, and sync or async tests alike, can use them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from tests.support import wait as support_wait
from tests.support.net import free_port

PROMETHEUS_BIN = os.environ.get("CRASHLOOP_E2E_PROMETHEUS", "/usr/bin/prometheus")
ALERTMANAGER_BIN = os.environ.get("CRASHLOOP_E2E_ALERTMANAGER", "/usr/bin/prometheus-alertmanager")
READY_TIMEOUT = 30.0
"""Seconds a binary may take to become ready on a loaded 2-core CI machine."""
STOP_TIMEOUT = 10.0

T = TypeVar("T")


class HarnessError(AssertionError):
    """A harness step failed; the message carries the process log tail to debug it."""


def wait_until(check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2,
               on_timeout: Callable[[], str] | None = None) -> T:
    """`tests.support.wait.wait_until`, failing with HarnessError."""
    return support_wait.wait_until(check, timeout=timeout, what=what, interval=interval, on_timeout=on_timeout,
                                   error=HarnessError)


def http_json(url: str, *, data: Any = None, timeout: float = 5.0) -> Any:
    """GET (or POST `data` as JSON) and decode the JSON answer."""
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def http_status(url: str, *, method: str = "GET", timeout: float = 2.0) -> int:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as e:
        return e.code


# -- processes ---------------------------------------------------------------------------------


class ManagedProcess:
    """A child process whose output goes to a log file, stopped by SIGTERM then SIGKILL."""

    def __init__(self, name: str, argv: Sequence[str], *, log_path: Path, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
            env=dict(env) if env is not None else None,
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            return f"[{self.name} log unreadable: {e}]"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.name} ({self.log_path}) ---\n{tail}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise HarnessError(f"{self.name} exited with {self.proc.returncode}\n{self.log_tail()}")

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        self._log.close()


def _require_binary(path: str) -> str:
    found = shutil.which(path)
    if not found:
        raise HarnessError(f"{path} not found: run scripts/install-system-deps.sh (Debian prometheus packages)")
    return found


@dataclass
class Prometheus:
    """A running Prometheus with its own config, storage and port."""

    url: str
    workdir: Path
    process: ManagedProcess

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        scrape_configs: Sequence[Mapping[str, Any]] = (),
        rule_files: Sequence[Path] = (),
        alertmanager_url: str | None = None,
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
    ) -> Prometheus:
        """Write prometheus.yml under `workdir`, start the binary, wait until /-/ready."""
        workdir.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval,
                       "scrape_timeout": scrape_interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [dict(s) for s in scrape_configs],
        }
        if alertmanager_url:
            target = urllib.parse.urlsplit(alertmanager_url).netloc
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        port = free_port()
        process = ManagedProcess(
            "prometheus",
            [
                _require_binary(PROMETHEUS_BIN),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
                # Alerts are re-sent to Alertmanager this often while firing (default 1m).
                "--rules.alert.resend-delay=1s",
                "--log.level=info",
            ],
            log_path=workdir / "prometheus.log",
            cwd=workdir,
        )
        prom = cls(url=f"http://127.0.0.1:{port}", workdir=workdir, process=process)
        try:
            wait_until(prom._ready, timeout=READY_TIMEOUT, what="Prometheus /-/ready", on_timeout=process.log_tail)
        except BaseException:
            process.stop()
            raise
        return prom

    def _ready(self) -> bool:
        self.process.check_alive()
        return http_status(self.url + "/-/ready") == 200

    def stop(self) -> None:
        self.process.stop()

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; the `data` field, or HarnessError with Prometheus' own error."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            answer = http_json(url, timeout=10)
        except urllib.error.HTTPError as e:
            raise HarnessError(f"Prometheus {path} {params}: HTTP {e.code}: {e.read().decode(errors='replace')}") from e
        if answer.get("status") != "success":
            raise HarnessError(f"Prometheus {path} {params}: {answer}")
        return answer["data"]

    def query(self, expr: str, *, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query: the result vector (a list of {metric, value})."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.api("query", **params)
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing) as Prometheus sees them."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups

    def active_targets(self) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return targets

    def wait_for_targets_up(self, *, timeout: float = 20.0) -> None:
        """Every configured target scraped successfully at least once."""
        def all_up() -> bool:
            targets = self.active_targets()
            return bool(targets) and all(t["health"] == "up" for t in targets)

        wait_until(all_up, timeout=timeout, what="all scrape targets up",
                   on_timeout=lambda: json.dumps(self.active_targets(), indent=1)[:3000])


@dataclass
class Alertmanager:
    """A running Alertmanager, clustering disabled, with its own storage and port."""

    url: str
    workdir: Path
    process: ManagedProcess

    @classmethod
    def start(cls, workdir: Path, *, config_text: str) -> Alertmanager:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "alertmanager.yml"
        config_path.write_text(config_text, encoding="utf-8")
        port = free_port()
        process = ManagedProcess(
            "alertmanager",
            [
                _require_binary(ALERTMANAGER_BIN),
                f"--config.file={config_path}",
                f"--storage.path={workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ],
            log_path=workdir / "alertmanager.log",
            cwd=workdir,
        )
        am = cls(url=f"http://127.0.0.1:{port}", workdir=workdir, process=process)
        try:
            wait_until(am._ready, timeout=READY_TIMEOUT, what="Alertmanager /-/ready", on_timeout=process.log_tail)
        except BaseException:
            process.stop()
            raise
        return am

    def _ready(self) -> bool:
        self.process.check_alive()
        return http_status(self.url + "/-/ready") == 200

    def stop(self) -> None:
        self.process.stop()

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Push alerts as Prometheus would (POST /api/v2/alerts)."""
        http_json(self.url + "/api/v2/alerts", data=list(alerts))

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds, with their inhibition/silence status."""
        result: list[dict[str, Any]] = http_json(self.url + "/api/v2/alerts")
        return result


# -- in-process HTTP servers on a background loop -------------------------------------------------


class BackgroundServer:
    """An aiohttp app served on 127.0.0.1:<free port> from a thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=type(self).__name__, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=READY_TIMEOUT)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        # Bind first, so the port is known without reaching into aiohttp's internals.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=STOP_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STOP_TIMEOUT)
        self._loop.close()


@dataclass(frozen=True, slots=True)
class Notification:
    """One webhook call from Alertmanager."""

    receiver: str
    """The path it was posted to: the receiver name (`RoutingConfig(webhook_url=.../{receiver})`)."""
    payload: dict[str, Any]

    @property
    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.payload.get("alerts", [])
        return alerts


class WebhookReceiver(BackgroundServer):
    """Records every Alertmanager webhook notification, keyed by the receiver in the URL path."""

    def __init__(self) -> None:
        app = web.Application()
        app.router.add_post("/{receiver}", self._handle)
        super().__init__(app)
        self._lock = threading.Lock()
        self._notifications: list[Notification] = []

    def url_template(self) -> str:
        """For `RoutingConfig(webhook_url=...)`: each receiver posts to its own path."""
        return self.url + "/{receiver}"

    async def _handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        with self._lock:
            self._notifications.append(Notification(request.match_info["receiver"], payload))
        return web.Response(text="ok")

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def firing(self) -> list[tuple[str, dict[str, Any]]]:
        """(receiver, alert) for every firing alert delivered so far (repeats included)."""
        return [(n.receiver, a) for n in self.notifications() for a in n.alerts if a.get("status") == "firing"]

    def wait_for_alert(self, *, timeout: float, what: str, **labels: str) -> tuple[str, dict[str, Any]]:
        """The first delivered firing alert whose labels include `labels`."""
        def find() -> tuple[str, dict[str, Any]] | None:
            for receiver, alert in self.firing():
                if all(alert.get("labels", {}).get(k) == v for k, v in labels.items()):
                    return receiver, alert
            return None

        return wait_until(find, timeout=timeout, what=what, interval=0.25,
                          on_timeout=lambda: "delivered so far: " + json.dumps(
                              [(r, a.get("labels")) for r, a in self.firing()], indent=1)[:4000])


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class _Family:
    kind: str
    help: str
    samples: dict[tuple[tuple[str, str], ...], float] = field(default_factory=dict)


class MetricsTarget(BackgroundServer):
    """A scrape target serving exposition text that the test sets, series by series."""

    def __init__(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        super().__init__(app)
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}

    def declare(self, name: str, kind: str, help_text: str) -> None:
        with self._lock:
            self._families.setdefault(name, _Family(kind, help_text))

    def set(self, name: str, labels: Mapping[str, str], value: float) -> None:
        with self._lock:
            family = self._families.setdefault(name, _Family("gauge", name))
            family.samples[tuple(sorted(labels.items()))] = value

    def remove(self, name: str, labels: Mapping[str, str]) -> None:
        with self._lock:
            family = self._families.get(name)
            if family:
                family.samples.pop(tuple(sorted(labels.items())), None)

    def exposition(self) -> str:
        lines = []
        with self._lock:
            for name, family in self._families.items():
                lines.append(f"# HELP {name} {family.help}")
                lines.append(f"# TYPE {name} {family.kind}")
                for key, value in family.samples.items():
                    body = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
                    lines.append(f"{name}{{{body}}} {value:g}")
        return "\n".join(lines) + "\n"

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.exposition(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type": "text/plain; version=0.0.4"})


class FakeKubeStateMetrics(MetricsTarget):
    """The two kube-state-metrics families the seed's alerts read, with their real label names."""

    RESTARTS = "kube_pod_container_status_restarts_total"
    PHASE = "kube_pod_status_phase"
    PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")

    def __init__(self) -> None:
        super().__init__()
        self.declare(self.RESTARTS, "counter", "The number of container restarts per container.")
        self.declare(self.PHASE, "gauge", "The pods current phase.")

    def set_restarts(self, *, namespace: str, pod: str, container: str, restarts: int, uid: str = "") -> None:
        self.set(self.RESTARTS, {"namespace": namespace, "pod": pod, "uid": uid or f"uid-{pod}",
                                 "container": container}, restarts)

    def set_phase(self, *, namespace: str, pod: str, phase: str, uid: str = "") -> None:
        for p in self.PHASES:
            self.set(self.PHASE, {"namespace": namespace, "pod": pod, "uid": uid or f"uid-{pod}", "phase": p},
                     1 if p == phase else 0)


# -- the exporter against the simulator ------------------------------------------------------------

_SIM_LINE = re.compile(r"sim listening on (?P<url>\S+) kubeconfig=(?P<kubeconfig>\S+)")


@dataclass
class ExporterUnderTest:
    """`crashloop-exporter sim` serving scenarios, and `crashloop-exporter serve` watching it."""

    sim: ManagedProcess
    serve: ManagedProcess
    api_url: str
    kubeconfig: Path
    metrics_address: str
    """HOST:PORT of the exporter's /metrics, for a scrape config."""

    @classmethod
    def start(cls, workdir: Path, *, scenarios: Iterable[str], time_scale: float = 30.0,
              new_series_holdback: float = 2.0, extra_serve_args: Sequence[str] = ()) -> ExporterUnderTest:
        workdir.mkdir(parents=True, exist_ok=True)
        kubeconfig = workdir / "kubeconfig.yaml"
        sim = ManagedProcess(
            "crashloop-exporter sim",
            [sys.executable, "-m", "crashloop_exporter", "sim", "--listen", "127.0.0.1:0",
             "--kubeconfig-out", str(kubeconfig), "--scenarios", ",".join(scenarios),
             "--time-scale", f"{time_scale:g}", "--plain-http"],
            log_path=workdir / "sim.log",
            cwd=workdir,
        )
        try:
            match = wait_until(lambda: cls._sim_line(sim), timeout=READY_TIMEOUT, what="the sim's listening line",
                               on_timeout=sim.log_tail)
        except BaseException:
            sim.stop()
            raise
        port = free_port()
        serve = ManagedProcess(
            "crashloop-exporter serve",
            [sys.executable, "-m", "crashloop_exporter", "serve", "--kubeconfig", match.group("kubeconfig"),
             "--listen-address", f"127.0.0.1:{port}", "--new-series-holdback", f"{new_series_holdback:g}",
             *extra_serve_args],
            log_path=workdir / "serve.log",
            cwd=workdir,
        )
        exporter = cls(sim=sim, serve=serve, api_url=match.group("url"), kubeconfig=Path(match.group("kubeconfig")),
                       metrics_address=f"127.0.0.1:{port}")
        try:
            wait_until(exporter._ready, timeout=READY_TIMEOUT, what="crashloop-exporter /readyz",
                       on_timeout=exporter.log_tails)
        except BaseException:
            exporter.stop()
            raise
        return exporter

    @staticmethod
    def _sim_line(sim: ManagedProcess) -> re.Match[str] | None:
        sim.check_alive()
        text = sim.log_path.read_text(encoding="utf-8", errors="replace")
        return _SIM_LINE.search(text)

    def _ready(self) -> bool:
        self.sim.check_alive()
        self.serve.check_alive()
        return http_status(f"http://{self.metrics_address}/readyz") == 200

    def log_tails(self) -> str:
        return self.sim.log_tail() + "\n" + self.serve.log_tail()

    def stop(self) -> None:
        self.serve.stop()
        self.sim.stop()


def scrape_config(job: str, *targets: str, honor_labels: bool = True) -> dict[str, Any]:
    """A static scrape job. honor_labels: the exporter's and KSM's `namespace`/`pod` labels describe
    the object, not the target, exactly as with kube-state-metrics."""
    return {"job_name": job, "honor_labels": honor_labels, "static_configs": [{"targets": list(targets)}]}


def host_port(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc
