"""crashloop-exporter benchmarks: sync time and memory, pod update throughput, /metrics render time.

Runs the simulator and the exporter as real processes on this machine, measures each figure
`--runs` times side by side with its reference (bare orjson parse, the sim's own ceiling), and
prints medians, ratios and PASS/MISS against the targets, then one summary table. Machines are
noisy, so the ratios are the figures to compare between machines, not the absolute seconds.

    .venv/bin/python benchmarks/run.py                      # full: 10k, 50k, 150k pods, 3 runs
    .venv/bin/python benchmarks/run.py --quick              # smoke run (< 1 minute)
    .venv/bin/python benchmarks/run.py --profile            # + py-spy/cProfile top functions
    .venv/bin/python benchmarks/run.py --only churn --runs 1 --json out.json

Every child process is stopped by its pid on exit (also on Ctrl-C); every wait has a deadline.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

# The helpers are siblings of this script (benchmarks/ is not a package) and the exporter
# package is installed in the venv; both must import when run as `python benchmarks/run.py`.
# `benchlib` puts the repository root on the path (the tests' support code and render oracle).
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import churn_bench
import many_containers
import readme_table
import render_bench
import sync_bench
import update_cost
from benchlib import BenchError, Children, children, cpu_plan

PARTS = ("sync", "churn", "render", "http", "wide")
TARGET_SYNC_RATIO = 0.5
"""The LIST phase of a sync (process start taken off) against fetching the same pages and parsing
them with orjson; the target is at 150k pods, the smaller sizes are rated the same way."""
TARGET_RSS_MIB = 120.0
TARGET_RSS_PODS = 150_000
TARGET_UPDATES = 100_000.0
TARGET_SCRAPE_S = 0.100
TARGET_SERIES = 10_000


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes expects comma-separated pod counts, got {value!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("--sizes needs at least one positive pod count")
    return sizes


def _parts(value: str) -> list[str]:
    parts = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    return parts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=None, help="runs per measurement, medians reported (default 3)")
    p.add_argument("--sizes", type=_sizes, default=None, help="filler pods for the sync benchmark "
                   "(default 10000,50000,150000)")
    p.add_argument("--quick", action="store_true", help="a small smoke run (1 run, 1000 pods, short windows)")
    p.add_argument("--only", type=_parts, default=None, help=f"parts to run (default all: {','.join(PARTS)}; "
                   "--quick leaves out wide, whose sim takes seconds to build)")
    p.add_argument("--churn-pods", type=int, default=None, help="filler pods behind the churn (default 10000)")
    p.add_argument("--churn-start", type=float, default=None, help="first churn rate, events/s (default 1000)")
    p.add_argument("--churn-max", type=float, default=None, help="highest churn rate tried (default 64000)")
    p.add_argument("--churn-window", type=float, default=None, help="seconds measured per rate (default 5)")
    p.add_argument("--churn-refine", type=int, default=None, help="bisection steps after doubling (default 3)")
    p.add_argument("--failing", type=int, default=None, help="failing containers for the render (default 10000)")
    p.add_argument("--renders", type=int, default=None, help="in-process renders timed (default 20)")
    p.add_argument("--scrapes", type=int, default=None, help="HTTP scrapes timed per kind (default 10)")
    p.add_argument("--wide-containers", type=int, default=None, help="containers of the one wide pod "
                   "(default 5000)")
    p.add_argument("--timeout", type=float, default=None, help="deadline of any one wait, seconds (default 600; "
                   "--quick: 30)")
    p.add_argument("--profile", action="store_true", help="also profile the exporter (py-spy: sync at the "
                   "largest size and churn at twice the sustained rate; cProfile: one render)")
    p.add_argument("--workdir", type=Path, default=None, help="logs, kubeconfigs and profiles (default: a temp dir)")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write every raw figure here")
    p.add_argument("--shape", choices=("realistic", "small"), default="realistic",
                   help="filler pod shape: realistic ~6 KB pods (default; the targets' shape) or the older small one")
    p.add_argument("--readme", type=Path, default=None, metavar="PATH",
                   help="write the summary table into this README between its bench-table markers (`make bench`; "
                   "not with --quick or --only)")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "runs": 1 if quick else 3,
        "sizes": [1000] if quick else [10_000, 50_000, 150_000],
        "churn_pods": 1000 if quick else 10_000,
        "churn_start": 500.0 if quick else 8000.0,
        "churn_max": 1000.0 if quick else 256_000.0,
        "churn_window": 1.5 if quick else 5.0,
        "churn_refine": 0 if quick else 3,
        "failing": 1000 if quick else TARGET_SERIES,
        "renders": 3 if quick else 20,
        "scrapes": 3 if quick else 10,
        "wide_containers": 200 if quick else 5000,
        "timeout": 30.0 if quick else 600.0,
    }
    if args.only is None:
        args.only = [p for p in PARTS if not (quick and p == "wide")]
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if args.readme is not None and (quick or set(args.only) != set(PARTS)):
        p.error("--readme writes the README's table from a full run: not with --quick or --only")
    return args


# -- output ------------------------------------------------------------------------------------


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def print_sync(results: list[sync_bench.SyncResult]) -> None:
    print(f"\n== 1. initial sync (sim: N filler pods, no scenarios; exporter --no-logs; "
          f"LIST pages of {sync_bench.PAGE_SIZE}) ==")
    print("sync = process start -> /readyz 200; list = `serving` log line -> /readyz 200; parse = orjson.loads of "
          "every page\n(bare, gc on; gc off in brackets); download = raw HTTP of the same pages; floor = download + "
          "parse; rss = VmHWM")
    head = (f"{'pods':>7} {'pages':>5} {'MiB':>6} {'sync_s':>7} {'start_s':>7} {'list_s':>7} {'download_s':>10} "
            f"{'parse_s':>14} {'sync/parse':>10} {'list/floor':>10} {'rss_sync':>8} {'rss_scr':>8}  target")
    print(head)
    for r in results:
        ratio = r.floor_ratio()
        print(f"{r.pods:>7} {r.runs[0].pages:>5} {r.runs[0].list_mib:>6.0f} {_f(r.median('sync_s'), '.2f'):>7} "
              f"{_f(r.median('startup_s'), '.2f'):>7} {_f(r.median('list_s'), '.2f'):>7} "
              f"{_f(r.median('download_s'), '.2f'):>10} "
              f"{_f(r.median('parse_s'), '.2f'):>6} ({_f(r.median('parse_nogc_s'), '.2f'):>5}) "
              f"{_f(r.ratio(), '.2f'):>9}x {_f(ratio, '.2f'):>9}x "
              f"{_f(r.median('rss_sync_mib'), '.0f'):>7}M {_f(r.median('rss_scraped_mib'), '.0f'):>7}M  "
              f"list<={TARGET_SYNC_RATIO:g}x floor {_verdict(None if ratio is None else ratio <= TARGET_SYNC_RATIO)}")


def print_churn(result: churn_bench.ChurnResult, runs: int) -> None:
    print(f"\n== 2. pod update throughput ({result.pods} filler pods, MODIFIED churn, exporter on one core) ==")
    print(f"sim alone at {_f(result.ceiling_rate, '.0f')}/s asked (the lowest rate the exporter fell behind at), "
          f"to a reader that only counts lines: {_f(result.sim_ceiling, '.0f')} events/s delivered")
    for i, run in enumerate(result.runs):
        tail = " (the sim could not emit more: a lower bound)" if run.limited_by_sim else ""
        print(f"run {i + 1}/{runs}: max sustained {run.max_sustained:.0f}/s, saturated throughput "
              f"{_f(run.saturated, '.0f')}/s{tail}")
    best = result.median_max()
    print(f"exporter CPU per MODIFIED event at the highest sustained rate: {_f(result.median_cpu_us(), '.1f')} us")
    if result.floors:
        print("beside it, on the same core, an aiohttp reader of the same WATCH at that rate:")
    for floor in result.floors.values():
        print(f"  {floor.line()}")
    decode = result.floors.get("decode")
    if decode is not None and decode.us_per_event:
        print(f"  the target ({TARGET_UPDATES:,.0f}/s) leaves {1e6 / TARGET_UPDATES:.0f} us per update on one core; "
              f"reading and decoding alone took {decode.us_per_event:.1f} us at this rate")
    print(f"median max sustained: {_f(best, '.0f')} updates/s; median saturated: "
          f"{_f(result.median_saturated(), '.0f')} updates/s  target >= {TARGET_UPDATES:.0f}/s "
          f"{_verdict(None if best is None else best >= TARGET_UPDATES)}")


def print_render(r: render_bench.RenderResult) -> None:
    print(f"\n== 3. /metrics render ({r.failing} failing containers, each workload with crashes_total) ==")
    med = r.render_median()
    print(f"in-process: state fed in {r.build_s:.2f}s; {r.series} series, {r.body_bytes / 1024:.0f} KiB; "
          f"/metrics render median {_f(None if med is None else med * 1000, '.1f')} ms over {len(r.renders_s)} "
          f"(prometheus-client generate_latest alone, same state: "
          f"{_f(_ms(r.generic_median()), '.1f')} ms) "
          f"(min {_f(min(r.renders_s, default=None), '.4f')}s max {_f(max(r.renders_s, default=None), '.4f')}s)  "
          f"target < 100 ms {_verdict(None if med is None else med < TARGET_SCRAPE_S)}")
    if r.http_error:
        print(f"HTTP scrape: not measured: {r.http_error}")
    elif r.http_series is not None:
        plain, prom = r.http_plain_median(), r.http_prom_median()
        print(f"HTTP scrape of a real `serve` ({r.http_series} series): text/plain {_f(_ms(plain), '.1f')} ms "
              f"({r.http_plain_bytes / 1024:.0f} KiB); Prometheus-style (OpenMetrics, gzip) {_f(_ms(prom), '.1f')} ms "
              f"({r.http_prom_bytes / 1024:.0f} KiB)  target < 100 ms "
              f"{_verdict(None if prom is None else prom < TARGET_SCRAPE_S)}")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def summary_rows(*, sync: list[sync_bench.SyncResult], churn: churn_bench.ChurnResult | None,
                 render: render_bench.RenderResult | None,
                 cost: update_cost.CostResult | None = None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for r in sync:
        ratio = r.floor_ratio()
        rows.append((f"sync {r.pods} pods / fetch+orjson parse", f"{_f(ratio, '.2f')}x", f"<= {TARGET_SYNC_RATIO:g}x",
                     _verdict(None if ratio is None else ratio <= TARGET_SYNC_RATIO)))
        rows.append((f"  (msgspec split + Struct decode / orjson parse, {r.pods} pods' pages)",
                     f"{_f(r.decode_ratio(), '.2f')}x", "info", "-"))
        rows.append((f"  (sync {r.pods} pods: list phase; with process start)",
                     f"{_f(r.median('list_s'), '.2f')}s; {_f(r.median('sync_s'), '.2f')}s", "info", "-"))
    if sync:
        big = max(sync, key=lambda r: r.pods)
        rss = big.median("rss_scraped_mib")
        label = f"peak RSS at {big.pods} pods" + ("" if big.pods >= TARGET_RSS_PODS else " (target is at 150000)")
        rows.append((label, f"{_f(rss, '.0f')} MiB", f"<= {TARGET_RSS_MIB:g} MiB",
                     _verdict(None if rss is None else rss <= TARGET_RSS_MIB)))
        split = _rss_split(sync)
        if split is not None:
            per_pod, fixed = split
            rows.append(("  (RSS per pod between the two largest sizes; the rest, at 0 pods)",
                         f"{per_pod:.0f} B; {fixed:.0f} MiB", "info", "-"))
    if churn is not None:
        best = churn.median_max()
        rows.append((f"max sustained pod updates/s ({churn.pods} pods)", _f(best, ".0f"), f">= {TARGET_UPDATES:g}",
                     _verdict(None if best is None else best >= TARGET_UPDATES)))
        rows.append(("  (saturated throughput; sim alone at that rate)",
                     f"{_f(churn.median_saturated(), '.0f')}; {_f(churn.sim_ceiling, '.0f')}", "info", "-"))
        rows.append(("  (exporter CPU us per update)", _f(churn.median_cpu_us(), ".1f"), "info", "-"))
        read, decode = churn.floors.get("read"), churn.floors.get("decode")
        if read is not None and decode is not None:
            rows.append(("  (floor, same core: aiohttp read only; + msgspec decode, us per update)",
                         f"{_f(read.us_per_event, '.1f')}; {_f(decode.us_per_event, '.1f')}", "info", "-"))
    if cost is not None:
        rows += update_cost.summary_rows(cost)
    if render is not None:
        med = render.render_median()
        rows.append((f"render {render.failing} failing, in-process", f"{_f(_ms(med), '.1f')} ms",
                     f"< {TARGET_SCRAPE_S * 1000:g} ms", _verdict(None if med is None else med < TARGET_SCRAPE_S)))
        rows.append(("  (generic generate_latest, same state)", f"{_f(_ms(render.generic_median()), '.1f')} ms",
                     "info", "-"))
        if render.http_series is not None:
            prom = render.http_prom_median()
            rows.append((f"HTTP scrape {render.failing} failing (gzip)", f"{_f(_ms(prom), '.1f')} ms",
                         f"< {TARGET_SCRAPE_S * 1000:g} ms",
                         _verdict(None if prom is None else prom < TARGET_SCRAPE_S)))
            plain = render.http_plain_median()
            rows.append((f"HTTP scrape {render.failing} failing (plain)", f"{_f(_ms(plain), '.1f')} ms",
                         f"< {TARGET_SCRAPE_S * 1000:g} ms",
                         _verdict(None if plain is None else plain < TARGET_SCRAPE_S)))
    return rows


def _rss_split(sync: list[sync_bench.SyncResult]) -> tuple[float, float] | None:
    """(bytes of peak RSS per pod, MiB that do not grow with pods) from the two largest sizes: what
    a pod costs, and what the imports and the runtime cost before any pod."""
    sized = sorted((r for r in sync if r.median("rss_scraped_mib") is not None), key=lambda r: r.pods)
    if len(sized) < 2 or sized[-1].pods == sized[-2].pods:
        return None
    small, big = sized[-2], sized[-1]
    rss_small, rss_big = small.median("rss_scraped_mib"), big.median("rss_scraped_mib")
    assert rss_small is not None and rss_big is not None
    per_pod_mib = (rss_big - rss_small) / (big.pods - small.pods)
    return per_pod_mib * 2**20, rss_big - per_pod_mib * big.pods


def print_summary(rows: list[tuple[str, str, str, str]], *, runs: int, pinning: str, quick: bool) -> None:
    print(f"\n== summary (medians of {runs} run(s); {pinning}) ==")
    if quick:
        print("(--quick: a smoke run at sizes far below the targets'; its PASS/MISS says nothing)")
    width = max([len(r[0]) for r in rows] + [7])
    print(f"{'measure':<{width}}  {'value':>14}  {'target':>12}  result")
    for name, value, target, verdict in rows:
        print(f"{name:<{width}}  {value:>14}  {target:>12}  {verdict}")


# -- main --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Results:
    """What one benchmark run measured, part by part (None or empty: the part did not run)."""

    sync: list[sync_bench.SyncResult] = dataclasses.field(default_factory=list)
    churn: churn_bench.ChurnResult | None = None
    cost: update_cost.CostResult | None = None
    render: render_bench.RenderResult | None = None
    wide: many_containers.WideResult | None = None
    profiles: list[str] = dataclasses.field(default_factory=list)


CpuPins = tuple[str | None, str | None]


def _run_sync(kids: Children, args: argparse.Namespace, workdir: Path, cpus: CpuPins, res: _Results) -> None:
    for size in args.sizes:
        res.sync.append(sync_bench.bench_sync(kids, pods=size, runs=args.runs, cpus=cpus, timeout=args.timeout))
    if args.profile:
        size = max(args.sizes)
        out = workdir / f"profile-sync-{size}.txt"
        s = sync_bench.profile_sync(kids, pods=size, cpus=cpus, timeout=args.timeout, output=out)
        res.profiles.append(s.table(title=f"py-spy: exporter sync of {size} pods ({out})") if s
                            else "py-spy not installed: no sync profile")


def _run_churn(kids: Children, args: argparse.Namespace, workdir: Path, cpus: CpuPins, res: _Results) -> None:
    out = workdir / "profile-churn.txt"
    res.churn, s = churn_bench.bench_churn(
        kids, pods=args.churn_pods, runs=args.runs, cpus=cpus, timeout=args.timeout,
        start=args.churn_start, max_rate=args.churn_max, refine=args.churn_refine,
        window=args.churn_window, warmup=0.5 if args.quick else 1.0,
        profile_out=out if args.profile else None,
    )
    res.cost = update_cost.bench_update_cost(pods=args.churn_pods, runs=args.runs)
    if args.profile:
        title = f"py-spy: exporter under churn at its sustained rate ({out})"
        res.profiles.append(s.table(title=title) if s else "py-spy not installed: no churn profile")


def _run_render(kids: Children, args: argparse.Namespace, cpus: CpuPins, res: _Results) -> None:
    render_result = render_bench.RenderResult(args.failing)
    if "render" in args.only:
        render_result = render_bench.bench_render(failing=args.failing, renders=args.renders)
        if args.profile:
            res.profiles.append(f"cProfile: one in-process render of {args.failing} failing "
                                f"containers\n{render_bench.profile_render(args.failing)}")
    res.render = render_result
    if "http" in args.only:
        try:
            render_bench.bench_http(kids, render_result, scrapes=args.scrapes, cpus=cpus, timeout=args.timeout)
        except BenchError as e:
            # Optional by design: report why, keep the other figures.
            render_result.http_error = str(e).splitlines()[0]


def _run_parts(kids: Children, args: argparse.Namespace, workdir: Path, cpus: CpuPins) -> _Results:
    res = _Results()
    if "sync" in args.only:
        _run_sync(kids, args, workdir, cpus, res)
    if "churn" in args.only:
        _run_churn(kids, args, workdir, cpus, res)
    if "render" in args.only or "http" in args.only:
        _run_render(kids, args, cpus, res)
    if "wide" in args.only:
        res.wide = many_containers.bench_many_containers(
            kids, containers=args.wide_containers, runs=args.runs, window=3.0 if args.quick else 15.0,
            cpus=cpus, timeout=args.timeout)
    return res


def _print_results(res: _Results, runs: int) -> list[tuple[str, str, str, str]]:
    """Print each part's figures and the profiles; return the summary rows."""
    if res.sync:
        print_sync(res.sync)
    if res.churn is not None:
        print_churn(res.churn, runs)
    if res.cost is not None:
        update_cost.print_update_cost(res.cost)
    if res.render is not None:
        print_render(res.render)
    if res.wide is not None:
        many_containers.print_many_containers(res.wide)
    for text in res.profiles:
        print(f"\n{text}")
    rows = summary_rows(sync=res.sync, churn=res.churn, render=res.render, cost=res.cost)
    if res.wide is not None:
        rows += many_containers.summary_rows(res.wide)
    return rows


def _write_json(path: Path, res: _Results) -> None:
    doc = {"sync": [dataclasses.asdict(r) for r in res.sync],
           "churn": dataclasses.asdict(res.churn) if res.churn else None,
           "update_cost": dataclasses.asdict(res.cost) if res.cost else None,
           "render": dataclasses.asdict(res.render) if res.render else None,
           "wide": dataclasses.asdict(res.wide) if res.wide else None}
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crashloop-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    exporter_cpu, sim_cpu, pinning = cpu_plan()
    cpus = (exporter_cpu, sim_cpu)
    benchlib.FILLER_SHAPE = args.shape
    load_start = os.getloadavg()[0]
    print(f"crashloop-exporter benchmarks: runs={args.runs} sizes={args.sizes} churn_pods={args.churn_pods} "
          f"failing={args.failing}; {args.shape} filler pods; {pinning}; {os.cpu_count()} CPUs; load "
          f"{load_start:.1f}; workdir {workdir}", flush=True)
    started = time.monotonic()
    with children(workdir) as kids:
        try:
            res = _run_parts(kids, args, workdir, cpus)
        except BenchError as e:
            print(f"benchmark failed: {e}", file=sys.stderr)
            return 1
    rows = _print_results(res, args.runs)
    print_summary(rows, runs=args.runs, pinning=pinning, quick=args.quick)
    print(f"total {time.monotonic() - started:.0f}s; load average at the end {os.getloadavg()[0]:.1f}")
    if args.readme is not None:
        table = readme_table.render(rows, runs=args.runs, pinning=pinning, shape=args.shape,
                                    load_start=load_start, load_end=os.getloadavg()[0])
        readme_table.write(args.readme, table)
        print(f"performance table written to {args.readme}")
    if args.json:
        _write_json(args.json, res)
        print(f"raw figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
