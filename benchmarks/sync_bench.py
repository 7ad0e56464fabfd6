"""Benchmark 1: initial sync time and peak RSS of `serve` against N filler pods, next to the
time a plain client needs to fetch the same LIST pages and parse them with orjson.

Why next to fetch+parse: absolute seconds depend on the machine; the ratio says what the exporter
costs against the old floor, a client that downloads every page and decodes it into dicts (what
the exporter itself did before it decoded only the fields it reads, with msgspec), and stays
comparable between a laptop and a loaded CI runner. The process start (interpreter, imports) is
taken off the exporter's side: `list_s` runs from its `serving` log line to /readyz. orjson is a
dev dependency for this floor only.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import profiles
from benchlib import (
    Children,
    Sim,
    fetch_list_pages,
    log_line_wall,
    proc_status_kib,
    sim_argv,
    start_exporter,
    start_sim,
    wait_ready,
)

from crashloop_exporter import wire
from crashloop_exporter.kube.client import decode_list_page
from crashloop_exporter.settings import Settings

PAGE_SIZE = Settings().list_page_size
"""The exporter's LIST page size: the reference fetches the same pages."""
SCRAPES_AFTER_SYNC = 3
WARMUP_PAGES = 4


@dataclass
class SyncRun:
    sync_s: float
    """Exporter process start to the first /readyz 200."""
    startup_s: float | None
    """Process start to the exporter's `serving ...` log line (interpreter, imports, HTTP server)."""
    list_s: float | None
    """`serving ...` log line to /readyz 200: the LISTs of pods, events and nodes."""
    rss_sync_mib: float
    """VmHWM right after sync."""
    rss_scraped_mib: float
    """VmHWM after a few /metrics scrapes."""
    download_s: float
    """Fetching every LIST page (raw HTTP, same page size), no parsing."""
    parse_s: float
    """orjson.loads over every page, gc enabled (as in the exporter)."""
    parse_nogc_s: float
    """The same with the cyclic GC disabled: how much of the bare parse is GC."""
    pages: int
    list_mib: float
    decode_s: float = 0.0
    """The exporter's decode of the same pages, in this process: each page in one typed pass into
    `wire.Page[wire.Pod]`, then each pod's container names from its spec bytes."""


@dataclass
class SyncResult:
    pods: int
    runs: list[SyncRun] = field(default_factory=list)

    def median(self, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.median(values) if values else None

    def ratio(self) -> float | None:
        """Median over runs of sync/parse (each run's own ratio, so noise is paired)."""
        values = [r.sync_s / r.parse_s for r in self.runs if r.parse_s > 0]
        return statistics.median(values) if values else None

    def decode_ratio(self) -> float | None:
        """Median over runs of the exporter's decode (split + Structs) / orjson parse, same pages."""
        values = [r.decode_s / r.parse_s for r in self.runs if r.decode_s > 0 and r.parse_s > 0]
        return statistics.median(values) if values else None

    def floor_ratio(self) -> float | None:
        """Median over runs of list_s / (download_s + parse_s): the exporter's LIST phase against
        fetching the same pages and parsing them with orjson (the target's ratio)."""
        values = [r.list_s / (r.download_s + r.parse_s) for r in self.runs
                  if r.list_s is not None and r.download_s + r.parse_s > 0]
        return statistics.median(values) if values else None


def _parse_all(pages: list[bytes], *, gc_enabled: bool) -> float:
    was = gc.isenabled()
    if gc_enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        t0 = time.perf_counter()
        for page in pages:
            orjson.loads(page)
        return time.perf_counter() - t0
    finally:
        if was:
            gc.enable()


def _decode_all(pages: list[bytes]) -> float:
    was = gc.isenabled()
    gc.enable()
    try:
        t0 = time.perf_counter()
        for page in pages:
            items, _rv, _cont = decode_list_page(page, "/api/v1/pods", typed=wire.PAGES["pods"])
            for item in items:
                assert isinstance(item, wire.Pod), "a realistic page decodes in one typed pass"
                wire.POD_SPEC.decode(item.spec)
        return time.perf_counter() - t0
    finally:
        if not was:
            gc.disable()


def _one_sync(kids: Children, sim: Sim, *, cpu: str | None, timeout: float,
              profile_out: Path | None = None) -> tuple[float, float | None, float | None, float, float]:
    exp = start_exporter(kids, kubeconfig=sim.kubeconfig, cpu=cpu)
    rec = profiles.record(exp.child.pid, output=profile_out) if profile_out is not None else None
    try:
        ready_mono = wait_ready(exp, timeout=timeout)
        ready_wall = time.time() - (time.monotonic() - ready_mono)
        if rec is not None:
            rec.stop()
        sync_s = ready_mono - exp.child.started_mono
        rss_sync = proc_status_kib(exp.child.pid, "VmHWM") / 1024
        for _ in range(SCRAPES_AFTER_SYNC):
            exp.metrics()
        rss_scraped = proc_status_kib(exp.child.pid, "VmHWM") / 1024
        serving = log_line_wall(exp.child, "serving /metrics")
        startup = serving - exp.child.started_wall if serving is not None else None
        list_s = ready_wall - serving if serving is not None else None
        return sync_s, startup, list_s, rss_sync, rss_scraped
    finally:
        if rec is not None:
            rec.stop()
        kids.stop(exp.child)


def bench_sync(kids: Children, *, pods: int, runs: int, cpus: tuple[str | None, str | None], timeout: float,
               log: bool = True) -> SyncResult:
    """`runs` syncs of a fresh exporter against one sim with `pods` filler pods (no scenarios)."""
    exporter_cpu, sim_cpu = cpus
    sim = start_sim(kids, sim_argv(filler_pods=pods, kubeconfig_out=kids.workdir / f"sync-{pods}.kubeconfig"),
                    cpu=sim_cpu, timeout=timeout)
    result = SyncResult(pods)
    try:
        for i in range(runs):
            sync_s, startup, list_s, rss_sync, rss_scraped = _one_sync(kids, sim, cpu=exporter_cpu, timeout=timeout)
            pages, download_s = fetch_list_pages(sim.url, "/api/v1/pods", page_size=PAGE_SIZE, timeout=timeout)
            _parse_all(pages[:WARMUP_PAGES], gc_enabled=True)  # first-touch costs belong to neither mode
            parse_s = _parse_all(pages, gc_enabled=True)
            parse_nogc_s = _parse_all(pages, gc_enabled=False)
            run = SyncRun(sync_s, startup, list_s, rss_sync, rss_scraped, download_s, parse_s, parse_nogc_s,
                          len(pages), sum(map(len, pages)) / 2**20, decode_s=_decode_all(pages))
            del pages
            result.runs.append(run)
            if log:
                print(f"  sync {pods} pods run {i + 1}/{runs}: sync {sync_s:.2f}s (list {list_s or 0:.2f}s) "
                      f"parse {parse_s:.2f}s download {download_s:.2f}s rss {rss_scraped:.0f} MiB", flush=True)
    finally:
        kids.stop(sim.child)
    return result


def profile_sync(kids: Children, *, pods: int, cpus: tuple[str | None, str | None], timeout: float,
                 output: Path) -> profiles.Summary | None:
    """One extra sync with py-spy attached from the exporter's start to /readyz."""
    if profiles.py_spy() is None:
        return None
    exporter_cpu, sim_cpu = cpus
    sim = start_sim(kids, sim_argv(filler_pods=pods, kubeconfig_out=kids.workdir / f"prof-{pods}.kubeconfig"),
                    cpu=sim_cpu, timeout=timeout)
    try:
        _one_sync(kids, sim, cpu=exporter_cpu, timeout=timeout, profile_out=output)
    finally:
        kids.stop(sim.child)
    return profiles.summarise(output) if output.exists() else None
