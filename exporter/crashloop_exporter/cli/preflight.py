"""`crashloop-exporter preflight`: check manifests for crash causes before they are applied.

Made for the step before `kubectl apply` in CI:

    kubectl kustomize overlay/ | crashloop-exporter preflight -f - -n production -o github

Exit status 0 lets the rollout go on, 1 stops it, 2 means the input itself is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TextIO

from crashloop_exporter.cli.flags import CLUSTER_FIELDS, add_setting_flags, csv
from crashloop_exporter.errors import ConfigError, InputError, PreflightError
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.preflight.checks import CHECKS
from crashloop_exporter.preflight.checks_live import Lookup, OpenLookup, PreflightClient
from crashloop_exporter.preflight.checks_static import DEFAULT_EXPECTED_STARTUP
from crashloop_exporter.preflight.manifests import WORKLOAD_KINDS, load_manifests
from crashloop_exporter.preflight.report import FORMATS, exit_code, render_github, render_json, render_table, summary
from crashloop_exporter.preflight.runner import Options, run_checks, validate_skip
from crashloop_exporter.render import use_color

if TYPE_CHECKING:
    from crashloop_exporter.kube.config import Credentials

REQUEST_TIMEOUT = 30.0
"""Seconds per API request: a CI step should fail fast on a hung API server, not wait a minute."""

DESCRIPTION = """\
Check Kubernetes manifests for crash causes before the rollout.

Against the target namespace (unless --offline): every Secret and ConfigMap the pod templates use
(env valueFrom, envFrom, secret/configMap/projected volumes, imagePullSecrets) exists, with every
key asked for. Secrets and ConfigMaps that the input itself creates count as existing. Secret
values are never printed, logged or kept: only key names are read.

From the manifest alone: memory limits, liveness probes vs. startup time, liveness and readiness
sharing an endpoint, :latest images, init containers without resources, a missing namespace.
Each finding names the crash cause it prevents (the exporter's catalog) and its fix."""

EPILOG = """\
exit status:
  0  no errors (warnings allowed, unless --strict)
  1  errors found (or warnings with --strict); or the cluster could not be read
  2  bad input: unreadable or invalid YAML/JSON, a document that is not an object, a workload
     without a pod template, a bad flag

RBAC: the live checks GET secrets and configmaps in the target namespace. Grant that to the CI
identity that runs preflight, not to the exporter (see docs/preflight.md).

examples:
  kubectl kustomize overlay/ | crashloop-exporter preflight -f - -n production -o github
  crashloop-exporter preflight -f deploy/ --offline
  crashloop-exporter preflight -f app.yaml -n production --context prod -o json"""


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "preflight",
        help="check manifests for crash causes before the rollout (missing secrets, probes, limits, tags)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-f", "--filename", dest="files", action="append", metavar="PATH",
                        help="manifest file, directory (recursive *.yaml, *.yml, *.json) or - for stdin; repeatable")
    parser.add_argument("-n", "--namespace", metavar="NS",
                        help="target namespace of objects that set none (default: the kubeconfig context's)")
    parser.add_argument("--offline", action="store_true",
                        help="do not contact a cluster: manifest checks, and references to objects the input creates")
    add_setting_flags(parser, CLUSTER_FIELDS)
    parser.add_argument("-o", "--output", choices=FORMATS, default="table",
                        help="table (default), json (the diagnose schema + phase/severity/file/line) or github "
                             "(workflow annotations)")
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    parser.add_argument("--expected-startup", type=_seconds, default=DEFAULT_EXPECTED_STARTUP, metavar="SECONDS",
                        help="how long the apps may take to start; a liveness probe without a startupProbe that "
                             f"starts earlier is reported (default {DEFAULT_EXPECTED_STARTUP:g})")
    parser.add_argument("--skip", type=csv, action="append", default=[], metavar="CHECK[,CHECK]",
                        help="do not run these checks (ids from --list-checks); repeatable")
    parser.add_argument("--list-checks", action="store_true", help="print every check and the cause it prevents")
    parser.set_defaults(func=run)


def _opener(args: argparse.Namespace) -> OpenLookup:
    @asynccontextmanager
    async def open_lookup() -> AsyncIterator[Lookup]:
        try:
            # Blocking: an exec credential plugin may run.
            creds = await asyncio.to_thread(_load_credentials, args.kubeconfig, args.context)
        except ConfigError as e:
            raise PreflightError(f"{e} (--offline runs the manifest-only checks without a cluster)") from e
        async with KubeClient(creds, request_timeout=REQUEST_TIMEOUT) as client:
            yield PreflightClient(client)

    return open_lookup


def _load_credentials(kubeconfig: str | None, context: str | None) -> Credentials:
    from crashloop_exporter.kube.config import load_credentials

    return load_credentials(kubeconfig=kubeconfig, context=context)


def _default_namespace(args: argparse.Namespace) -> str:
    from crashloop_exporter.inputs.live import default_namespace

    return default_namespace(kubeconfig=args.kubeconfig, context=args.context)


def _write(text: str, stream: TextIO | None = None) -> None:
    out = sys.stdout if stream is None else stream
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        # `preflight | head`: the reader left; point stdout at /dev/null so the exit flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def list_checks() -> str:
    width = max(len(c.id) for c in CHECKS)
    cause_width = max(len(c.cause) for c in CHECKS)
    lines = [f"{'CHECK'.ljust(width)}  {'CAUSE'.ljust(cause_width)}  SEVERITY  PHASE   WHAT"]
    lines += [f"{c.id.ljust(width)}  {c.cause.ljust(cause_width)}  {c.severity.ljust(8)}  {c.phase.ljust(6)}  "
              f"{c.summary}" for c in CHECKS]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.list_checks:
        _write(list_checks())
        return 0
    if not args.files:
        raise InputError("-f PATH is required (a file, a directory, or - for stdin)")
    skip = validate_skip([c for group in args.skip for c in group])
    manifests = load_manifests(args.files, stdin=sys.stdin.buffer)
    if not manifests.workloads:
        print(f"crashloop-exporter preflight: no workloads ({', '.join(sorted(WORKLOAD_KINDS))}) in the input; "
              "nothing to check", file=sys.stderr)
    options = Options(namespace=args.namespace, offline=args.offline, expected_startup=args.expected_startup,
                      skip=skip)
    result = asyncio.run(run_checks(manifests, options, open_lookup=_opener(args),
                                    default_namespace=lambda: _default_namespace(args)))
    if args.output == "json":
        _write(render_json(result))
        print(summary(result, strict=args.strict), file=sys.stderr)
    elif args.output == "github":
        _write(render_github(result))
        print(summary(result, strict=args.strict), file=sys.stderr)
    else:
        width = shutil.get_terminal_size((120, 24)).columns
        _write(render_table(result, color=use_color(sys.stdout), width=width, strict=args.strict))
    return exit_code(result.findings, strict=args.strict)
