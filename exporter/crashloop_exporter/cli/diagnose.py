"""`crashloop-exporter diagnose`: the exporter's classification, once, for a human or a script.

It answers "why is this crashing" from a live cluster, from a `kubectl cluster-info dump` someone
attached to a ticket, or from `kubectl get -o json|yaml` files, with the same classifier and the
same findings schema as the exporter's `/causes`. Offline inputs are classified as of the latest
timestamp they contain, so last night's dump reads as it did last night.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import crashloop_exporter
from crashloop_exporter.classify import LogRules, classify, needs_logs
from crashloop_exporter.cli.flags import CLUSTER_FIELDS, add_setting_flags
from crashloop_exporter.deps.chain import annotate_targets
from crashloop_exporter.deps.offline import attach_offline, build_index
from crashloop_exporter.errors import InputError
from crashloop_exporter.findings import Finding
from crashloop_exporter.inputs.rules_file import load_rules_file
from crashloop_exporter.inputs.snapshot import Snapshot, SnapshotBuilder
from crashloop_exporter.model import PodRecord
from crashloop_exporter.render import DEFAULT_WIDTH, render_json, render_table, use_color

EXAMPLE_DUMP = Path(crashloop_exporter.__file__).parent / "examples" / "dump"
"""A small `cluster-info dump --output-directory` tree shipped with the package (`--example`)."""
DIAGNOSE_FIELDS = (*CLUSTER_FIELDS, "rules_file", "no_logs", "no_dependencies", "log_tail_lines", "log_limit_bytes")
"""The `serve` flags that mean the same in a one-shot run, with the same CRASHLOOP_* env vars."""
MAX_WARNINGS = 50
"""Past this many warning lines, the rest are counted, not printed (a badly broken dump)."""

DESCRIPTION = """\
Classify why containers crash, once, and print the findings.

Sources (one of them; a live cluster when none is given):
  live cluster       pods, pod events and nodes via --kubeconfig/--context (or in-cluster), and the
                     previous logs of crashed containers (403 on pods/log: status and events only)
  --dump DIR|FILE    `kubectl cluster-info dump` output: the --output-directory tree, or the stream it
                     prints to stdout saved in a file (`-` reads stdin). kubectl dumps *current* logs;
                     for a container that is not running they are its crashed run's output and are used
  -f FILE            Pods, PodLists, Events, EventLists, Nodes or a `kind: List`, JSON or YAML, as
                     printed by `kubectl get pods,events,nodes -o json` (repeatable, `-` is stdin).
                     These carry no logs: add --logs DIR with DIR/<pod>/<container>.log files, saved
                     with `kubectl logs POD -c CONTAINER --previous`
  --example          a bundled example dump (a missing Secret, an OOM kill, a failing init container)

Without -n, offline sources show every namespace; a live cluster uses the context's namespace."""

EPILOG = """\
exit status:
  0  it ran (failing containers or not; use --exit-code to make failures visible to scripts)
  1  with --exit-code: at least one failing container was found; or the cluster could not be read
  2  bad input: a missing or unreadable file, invalid JSON/YAML, a file of the wrong kind, a bad flag

examples:
  crashloop-exporter diagnose --example
  crashloop-exporter diagnose -n production
  crashloop-exporter diagnose payment-service-7d9f4b8c6-xk2p9 -n production -o wide
  kubectl cluster-info dump -A --output-directory=dump && crashloop-exporter diagnose --dump dump
  kubectl get pods,events -n production -o json | crashloop-exporter diagnose -f - -o json"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "diagnose",
        help="classify crashing containers once, from a cluster, a dump or files",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pod", nargs="?", metavar="POD", help="only this pod (by name)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", metavar="NS", help="only this namespace")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="all namespaces (live cluster)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dump", metavar="DIR_OR_FILE", help="read `kubectl cluster-info dump` output")
    source.add_argument("-f", "--filename", dest="files", action="append", metavar="FILE",
                        help="read kubectl -o json|yaml output (repeatable; - for stdin; no logs)")
    source.add_argument("--example", action="store_true", help="read the bundled example dump")
    parser.add_argument("--logs", metavar="DIR",
                        help="previous logs for offline input: DIR/[<namespace>/]<pod>/<container>.log")
    parser.add_argument("-o", "--output", choices=("table", "json", "wide"), default="table",
                        help="table (default), wide (all evidence, runbook links) or json (the /causes schema)")
    add_setting_flags(parser, DIAGNOSE_FIELDS)
    parser.add_argument("--all", action="store_true",
                        help="also show containers that crashed before but are not failing now")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when a failing container is found")
    parser.set_defaults(func=run)


class _Warnings:
    """Warning lines to stderr as they happen, with a cap so a broken dump does not flood the terminal."""

    def __init__(self, *, limit: int = MAX_WARNINGS) -> None:
        self.limit = limit
        self.count = 0

    def __call__(self, line: str) -> None:
        self.count += 1
        if self.count <= self.limit:
            print(f"crashloop-exporter diagnose: {line}", file=sys.stderr)

    def finish(self) -> None:
        if self.count > self.limit:
            print(f"crashloop-exporter diagnose: ... and {self.count - self.limit} more warnings", file=sys.stderr)


def _offline_snapshot(args: argparse.Namespace, warn: _Warnings) -> Snapshot:
    from crashloop_exporter.inputs.dump import load_dump
    from crashloop_exporter.inputs.files import load_files, load_logs_dir

    builder = SnapshotBuilder(warn=warn)
    if args.example:
        if not EXAMPLE_DUMP.is_dir():
            raise InputError(f"--example: the bundled example dump is missing ({EXAMPLE_DUMP})")
        load_dump(str(EXAMPLE_DUMP), builder=builder)
    elif args.dump is not None:
        load_dump(args.dump, builder=builder, stdin=sys.stdin.buffer)
    else:
        load_files(args.files, builder=builder, stdin=sys.stdin.buffer)
    if args.logs:
        load_logs_dir(args.logs, builder=builder)
    return builder.build()


def _live_snapshot(args: argparse.Namespace, warn: _Warnings) -> tuple[Snapshot, str | None]:
    from crashloop_exporter.inputs.live import LiveQuery, default_namespace, load_live

    if args.logs:
        raise InputError("--logs DIR only applies to --dump or -f input; a live cluster serves its own logs")
    namespace: str | None = args.namespace
    if namespace is None and not args.all_namespaces:
        namespace = default_namespace(kubeconfig=args.kubeconfig, context=args.context)
    query = LiveQuery(
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=namespace,
        pod=args.pod,
        fetch_logs=not args.no_logs,
        tail_lines=args.log_tail_lines,
        limit_bytes=args.log_limit_bytes,
    )
    return load_live(query, warn=warn, needs_logs=needs_logs), namespace


def _select(pods: Sequence[PodRecord], *, namespace: str | None, pod: str | None) -> list[PodRecord]:
    return [p for p in pods if (namespace is None or p.namespace == namespace) and (pod is None or p.name == pod)]


def classify_snapshot(
    snapshot: Snapshot,
    pods: Sequence[PodRecord],
    *,
    now: float,
    use_logs: bool,
    rules: LogRules | None,
) -> list[Finding]:
    """Findings for `pods`, each with its own events, node and (previous-run) logs."""
    findings: list[Finding] = []
    for pod in pods:
        pod_logs = snapshot.logs.get((pod.namespace, pod.name), {}) if use_logs else {}
        logs = {c.name: pod_logs[c.name] for c in pod.containers if c.name in pod_logs and needs_logs(c)}
        found = classify(
            pod,
            events=snapshot.events_for(pod),
            logs=logs,
            node=snapshot.nodes.get(pod.node_name),
            now=now,
            rules=rules,
        )
        findings.extend(annotate_targets(f, logs.get(f.container, "")) for f in found)
    return findings


def with_dependencies(
    snapshot: Snapshot, findings: list[Finding], in_scope: Sequence[PodRecord], *, now: float, use_logs: bool,
    rules: LogRules | None,
) -> list[Finding]:
    """`findings` with the workload each dependency_unavailable container waits on (`deps`)."""
    index = build_index(snapshot.services, snapshot.slices, snapshot.pod_addresses)
    return attach_offline(
        findings,
        index=index,
        pods=snapshot.pods,
        classify=lambda p: classify_snapshot(snapshot, [p], now=now, use_logs=use_logs, rules=rules),
        in_scope=in_scope,
    )


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # `diagnose | head`: the reader left; point stdout at /dev/null so the exit flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run(args: argparse.Namespace) -> int:
    warn = _Warnings()
    try:
        # Validate the rules first: a typo in the rules file should not cost a cluster LIST.
        rules = load_rules_file(args.rules_file) if args.rules_file else None
        offline = args.example or args.dump is not None or args.files is not None
        if offline:
            snapshot = _offline_snapshot(args, warn)
            namespace = args.namespace
            now = snapshot.latest if snapshot.latest is not None else time.time()
            as_of: float | None = now
        else:
            snapshot, namespace = _live_snapshot(args, warn)
            now, as_of = time.time(), None
    finally:
        warn.finish()

    in_scope = _select(snapshot.pods, namespace=namespace, pod=None)
    selected = _select(in_scope, namespace=namespace, pod=args.pod)
    if args.pod and not selected:
        where = f'namespace "{namespace}"' if namespace else "the input"
        raise InputError(f'pod "{args.pod}" not found in {where} ({len(in_scope)} pods there)')
    # A live `POD -A` lists only pods of that name, so the other replicas are unknown.
    replicas_known = offline or namespace is not None or not args.pod

    # Every pod in scope is classified, even with POD given: the verdict "all replicas fail the same
    # way" needs the siblings' causes. Only the selected pod's findings are printed.
    context = classify_snapshot(snapshot, in_scope, now=now, use_logs=not args.no_logs, rules=rules)
    if not args.no_dependencies:
        context = with_dependencies(snapshot, context, in_scope, now=now, use_logs=not args.no_logs, rules=rules)
    findings = [f for f in context if args.pod is None or f.pod == args.pod]
    shown = findings if args.all else [f for f in findings if f.failing]
    if args.output == "json":
        _write(render_json(shown))
    else:
        width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
        _write(
            render_table(
                shown,
                pods=in_scope if replicas_known else None,
                checked=len(selected),
                wide=args.output == "wide",
                color=use_color(sys.stdout),
                width=width,
                as_of=as_of,
                context=context,
                nodes=snapshot.nodes,
            )
        )
    return 1 if args.exit_code and any(f.failing for f in findings) else 0


__all__ = ["EXAMPLE_DUMP", "classify_snapshot", "register", "run"]
