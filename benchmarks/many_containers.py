"""Benchmark 4: one pod with thousands of crash-looping containers must not freeze the exporter.

Issue 12, defect 1: a tenant who can create a pod with 5000 containers that all crash made every
log answer reclassify the whole pod (O(N^2) per crash wave), so `/healthz` timed out and the
liveness probe restarted the exporter, which lost its state and froze again. This measures a real
`serve` (logs on, as in production) against a simulator holding that one pod:

- the crash wave: the exporter lists the pod (first sight: every container's previous log is
  requested), then SIGUSR1 restarts every container once more (one MODIFIED with N changed
  containers, N crashes waiting for their logs), and log answers keep arriving at the fetch rate;
- during the wave, `/healthz` is polled every 50 ms (its worst latency, target < 100 ms) and,
  concurrently from another thread as Prometheus and the kubelet do, `/metrics` is scraped every
  second (its median time, target < 1 s), for `--window` seconds. A probe that arrives during a
  scrape waits for whatever part of the scrape holds the event loop, so polling them one after the
  other would hide that.

Each figure is the median over `--runs` runs (a fresh sim and exporter each). Usage:

    .venv/bin/python benchmarks/many_containers.py --containers 5000            # the target size
    .venv/bin/python benchmarks/many_containers.py sim --containers N --kubeconfig-out PATH  # the sim alone
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import BenchError, Children, children, cpu_plan, free_port, start_sim, timed_get, wait_for, wait_ready
from benchlib import Exporter as ExporterProc
from sim_serve import serve_until_stopped

from crashloop_exporter.sim import SimCluster

TARGET_HEALTHZ_S = 0.1
TARGET_SCRAPE_S = 1.0
NAMESPACE = "tenant-a"
POD = "wide-7d9f4b8c6-x1x2y"
CRASH_LOG = (
    b"starting worker\nTraceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n"
    b"    connect()\nConnectionRefusedError: [Errno 111] Connection refused\n"
)
"""Every container's previous log: a log-decided cause (dependency_unavailable), not app_crash."""


def _ts(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


def wide_pod(containers: int, *, restarts: int, now: float) -> dict[str, Any]:
    """One pod whose `containers` containers are all in CrashLoopBackOff after `restarts` restarts."""
    image = "registry.example.com/tenant/worker:1.0"
    finished = now - 20
    specs, statuses = [], []
    for i in range(containers):
        name = f"w{i:05d}"
        specs.append({"name": name, "image": image, "resources": {"limits": {"memory": "64Mi"}}})
        statuses.append({
            "name": name, "image": image, "imageID": f"{image}@sha256:{'cd' * 32}",
            "containerID": f"containerd://{restarts:08x}{i:056x}", "ready": False, "started": False,
            "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 5m0s restarting failed container={name} pod={POD}"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": _ts(finished - 5),
                                         "finishedAt": _ts(finished),
                                         "containerID": f"containerd://{restarts:08x}{i:056x}"}},
        })
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "namespace": NAMESPACE, "uid": "wide0000-0000-4000-8000-000000000001",
                     "creationTimestamp": _ts(now - 3600), "labels": {"app": "wide", "pod-template-hash": "7d9f4b8c6"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "wide-7d9f4b8c6",
                                          "uid": "rs-wide", "controller": True}]},
        "spec": {"nodeName": "sw-infrarunbook-01", "restartPolicy": "Always", "containers": specs},
        "status": {"phase": "Running", "startTime": _ts(now - 3600), "containerStatuses": statuses},
    }


# -- the simulator -----------------------------------------------------------------------------


class _WideCluster(SimCluster):
    """The sim with the wide pod, whose containers' previous logs all say why they crashed."""

    def container_log(self, namespace: str, pod: str, *, container: str | None, previous: bool,
                      tail_lines: int | None, limit_bytes: int | None, timestamps: bool) -> bytes:
        if namespace == NAMESPACE and pod == POD:
            return CRASH_LOG
        return super().container_log(namespace, pod, container=container, previous=previous,
                                     tail_lines=tail_lines, limit_bytes=limit_bytes, timestamps=timestamps)


async def _serve_sim(*, containers: int, kubeconfig_out: str) -> None:
    cluster = _WideCluster(scenarios=(), filler_pods=0)
    store = cluster.store["pods"]
    store.put_dict(wide_pod(containers, restarts=5, now=time.time()))
    # The crash wave: every container died once more (one MODIFIED, N changed containers).
    await serve_until_stopped(cluster, kubeconfig_out=kubeconfig_out,
                              on_usr1=lambda: store.put_dict(wide_pod(containers, restarts=6, now=time.time())))


# -- the benchmark -----------------------------------------------------------------------------


@dataclass
class WideRun:
    healthz_s: list[float] = field(default_factory=list)
    scrape_s: list[float] = field(default_factory=list)
    healthz_failures: int = 0
    log_fetches_ok: float = 0.0
    failing_series: int = 0

    def worst_healthz(self) -> float | None:
        return max(self.healthz_s) if self.healthz_s else None


@dataclass
class WideResult:
    containers: int
    window_s: float
    runs: list[WideRun] = field(default_factory=list)

    def median_worst_healthz(self) -> float | None:
        vals = [v for r in self.runs if (v := r.worst_healthz()) is not None]
        return statistics.median(vals) if vals else None

    def median_p50_healthz(self) -> float | None:
        vals = [statistics.median(r.healthz_s) for r in self.runs if r.healthz_s]
        return statistics.median(vals) if vals else None

    def median_scrape(self) -> float | None:
        vals = [statistics.median(r.scrape_s) for r in self.runs if r.scrape_s]
        return statistics.median(vals) if vals else None


def _sample(exp: ExporterProc, name: str, labels: str = "") -> float:
    want = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in exp.metrics(timeout=30.0).splitlines():
        if line.startswith(want):
            return float(line[len(want):])
    return 0.0


def _count(text: str, prefix: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith(prefix))


def _one_run(kids: Children, *, containers: int, window: float, cpus: tuple[str | None, str | None],
             timeout: float) -> WideRun:
    exporter_cpu, sim_cpu = cpus
    argv = [sys.executable, str(Path(__file__).resolve()), "sim", "--containers", str(containers),
            "--kubeconfig-out", str(kids.workdir / f"wide-{containers}.kubeconfig")]
    sim = start_sim(kids, argv, cpu=sim_cpu, timeout=timeout, name="wide-sim")
    run = WideRun()
    try:
        port = free_port()
        exp_argv = [sys.executable, "-m", "crashloop_exporter", "serve", "--kubeconfig", sim.kubeconfig,
                    "--listen-address", f"127.0.0.1:{port}", "--log-format", "json"]
        exp = ExporterProc(kids.start("exporter", exp_argv, cpu=exporter_cpu), f"http://127.0.0.1:{port}")
        try:
            wait_ready(exp, timeout=timeout)
            wait_for(lambda: True if _count(exp.metrics(), "crashloop_container_failing{") == containers else None,
                     timeout=timeout, what=f"{containers} failing series", interval=0.5, alive=exp.child.check_alive)
            sim.child.proc.send_signal(signal.SIGUSR1)
            deadline = time.monotonic() + window
            scraping_failed: list[Exception] = []

            def scrape() -> None:
                try:
                    while time.monotonic() < deadline:
                        started = time.monotonic()
                        dt, _ = timed_get(f"{exp.url}/metrics", headers={"Accept": "text/plain"}, timeout=timeout)
                        run.scrape_s.append(dt)
                        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
                except Exception as e:  # reported from the main thread below
                    scraping_failed.append(e)

            scraper = threading.Thread(target=scrape, name="scraper", daemon=True)
            scraper.start()
            while time.monotonic() < deadline:
                exp.child.check_alive()
                try:
                    dt, _ = timed_get(f"{exp.url}/healthz", headers={}, timeout=5.0)
                    run.healthz_s.append(dt)
                except OSError:
                    run.healthz_failures += 1
                time.sleep(0.05)
            scraper.join(timeout=timeout)
            if scraping_failed:
                raise BenchError(f"a /metrics scrape failed: {scraping_failed[0]}\n{exp.child.log_tail()}")
            text = exp.metrics()
            run.failing_series = _count(text, "crashloop_container_failing{")
            run.log_fetches_ok = _sample(exp, "crashloop_exporter_log_fetches_total", 'result="ok"')
            if run.log_fetches_ok <= 0:
                raise BenchError(f"no log was fetched during the wave\n{exp.child.log_tail()}")
        finally:
            kids.stop(exp.child)
    finally:
        kids.stop(sim.child)
    return run


def bench_many_containers(kids: Children, *, containers: int, runs: int, window: float,
                          cpus: tuple[str | None, str | None], timeout: float) -> WideResult:
    result = WideResult(containers, window)
    for _ in range(runs):
        result.runs.append(_one_run(kids, containers=containers, window=window, cpus=cpus, timeout=timeout))
    return result


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.1f}"


def _verdict(v: float | None, target: float) -> str:
    return "n/a" if v is None else ("PASS" if v < target else "MISS")


def print_many_containers(r: WideResult) -> None:
    print(f"\n== 4. one pod with {r.containers} crash-looping containers, logs on "
          f"(crash wave: relist + one restart of every container; {r.window_s:g}s window) ==")
    for i, run in enumerate(r.runs):
        p50 = statistics.median(run.healthz_s) if run.healthz_s else None
        print(f"run {i + 1}/{len(r.runs)}: /healthz {len(run.healthz_s)} polls, p50 {_ms(p50)} ms, worst "
              f"{_ms(run.worst_healthz())} ms, {run.healthz_failures} failed; /metrics {len(run.scrape_s)} scrapes, "
              f"median {_ms(statistics.median(run.scrape_s) if run.scrape_s else None)} ms; "
              f"{run.log_fetches_ok:.0f} logs fetched; {run.failing_series} failing series")
    worst, scrape = r.median_worst_healthz(), r.median_scrape()
    print(f"median worst /healthz: {_ms(worst)} ms  target < {TARGET_HEALTHZ_S * 1000:g} ms "
          f"{_verdict(worst, TARGET_HEALTHZ_S)} (median p50 {_ms(r.median_p50_healthz())} ms)")
    print(f"median /metrics scrape: {_ms(scrape)} ms  target < {TARGET_SCRAPE_S * 1000:g} ms "
          f"{_verdict(scrape, TARGET_SCRAPE_S)}")


def summary_rows(r: WideResult) -> list[tuple[str, str, str, str]]:
    worst, scrape = r.median_worst_healthz(), r.median_scrape()
    return [
        (f"worst /healthz, 1 pod x {r.containers} crashing", f"{_ms(worst)} ms", f"< {TARGET_HEALTHZ_S * 1000:g} ms",
         _verdict(worst, TARGET_HEALTHZ_S)),
        (f"/metrics scrape, 1 pod x {r.containers} crashing", f"{_ms(scrape)} ms", f"< {TARGET_SCRAPE_S * 1000:g} ms",
         _verdict(scrape, TARGET_SCRAPE_S)),
    ]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sim"]:
        p = argparse.ArgumentParser(prog="many_containers.py sim")
        p.add_argument("--containers", type=int, required=True)
        p.add_argument("--kubeconfig-out", required=True)
        a = p.parse_args(args[1:])
        asyncio.run(_serve_sim(containers=a.containers, kubeconfig_out=a.kubeconfig_out))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--containers", type=int, default=5000, help="containers of the one pod (default 5000)")
    p.add_argument("--runs", type=int, default=3, help="runs, medians reported (default 3)")
    p.add_argument("--window", type=float, default=15.0, help="seconds measured during the wave (default 15)")
    p.add_argument("--timeout", type=float, default=300.0, help="deadline of any one wait (default 300)")
    a = p.parse_args(args)
    exporter_cpu, sim_cpu, pinning = cpu_plan()
    workdir = Path(tempfile.mkdtemp(prefix="crashloop-wide-"))
    print(f"many-containers benchmark: {a.containers} containers, {a.runs} run(s); {pinning}; workdir {workdir}",
          flush=True)
    with children(workdir) as kids:
        try:
            result = bench_many_containers(kids, containers=a.containers, runs=a.runs, window=a.window,
                                           cpus=(exporter_cpu, sim_cpu), timeout=a.timeout)
        except BenchError as e:
            print(f"benchmark failed: {e}", file=sys.stderr)
            return 1
    print_many_containers(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
