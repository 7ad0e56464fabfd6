"""`crashloop-exporter serve`: the long-running exporter.

Flag names are a public contract (deploy manifests, docs, scripts). Every flag also reads a
`CRASHLOOP_<FLAG>` environment variable (dashes to underscores), so a Deployment can set either.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from crashloop_exporter.errors import InputError
from crashloop_exporter.settings import DEFAULT_PORT, Settings


def _env(name: str, default: Any) -> Any:
    return os.environ.get("CRASHLOOP_" + name.upper().replace("-", "_"), default)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _bounded_int(flag: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects an integer, got {value!r}") from None

    return parse


def _number(flag: str) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects a number of seconds, got {value!r}") from None

    return parse


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    """--kubeconfig and --context, shared by serve, diagnose and preflight."""
    parser.add_argument(
        "--kubeconfig",
        default=_env("kubeconfig", None),
        metavar="PATH",
        help="kubeconfig file (default: in-cluster service account, then $KUBECONFIG, ~/.kube/config)",
    )
    parser.add_argument("--context", default=_env("context", None), metavar="NAME", help="kubeconfig context to use")


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    """All flags of `serve`; `demo` reuses them."""
    parser.add_argument(
        "--listen-address",
        default=_env("listen-address", f"0.0.0.0:{DEFAULT_PORT}"),
        metavar="HOST:PORT",
        help=f"metrics/health server address (default 0.0.0.0:{DEFAULT_PORT})",
    )
    add_cluster_flags(parser)
    parser.add_argument(
        "--namespaces",
        type=_csv,
        default=_env("namespaces", ""),
        metavar="A,B",
        help="only watch these namespaces (default: all)",
    )
    parser.add_argument(
        "--exclude-namespaces",
        type=_csv,
        default=_env("exclude-namespaces", ""),
        metavar="A,B",
        help="never track pods in these namespaces",
    )
    parser.add_argument(
        "--label-selector",
        default=_env("label-selector", ""),
        metavar="SEL",
        help="only track pods matching this label selector",
    )
    parser.add_argument(
        "--no-logs",
        action="store_true",
        default=_env("no-logs", "") in ("1", "true"),
        help="never read container logs (status and events only)",
    )
    parser.add_argument(
        "--log-tail-lines",
        type=_bounded_int("--log-tail-lines"),
        default=_env("log-tail-lines", "200"),
        metavar="N",
        help="lines of previous logs to read per crash (default 200)",
    )
    parser.add_argument(
        "--log-limit-bytes",
        type=_bounded_int("--log-limit-bytes"),
        default=_env("log-limit-bytes", "65536"),
        metavar="N",
        help="byte cap of each previous-log read (default 65536)",
    )
    parser.add_argument(
        "--rules-file",
        default=_env("rules-file", None),
        metavar="PATH",
        help="YAML file adding or overriding log patterns per cause",
    )
    parser.add_argument(
        "--shard",
        type=_bounded_int("--shard"),
        default=_env("shard", "0"),
        metavar="N",
        help="this replica's shard (pods whose UID hashes to it)",
    )
    parser.add_argument(
        "--total-shards",
        type=_bounded_int("--total-shards"),
        default=_env("total-shards", "1"),
        metavar="M",
        help="number of shards (default 1)",
    )
    parser.add_argument(
        "--new-series-holdback",
        type=_number("--new-series-holdback"),
        default=_env("new-series-holdback", "60"),
        metavar="SECONDS",
        help="expose a new crashes_total series at 0 this long before its first increment "
        "(default 60, one scrape interval)",
    )
    parser.add_argument(
        "--list-page-size",
        type=_bounded_int("--list-page-size"),
        default=_env("list-page-size", "500"),
        metavar="N",
        help="objects per LIST page when (re)listing (default 500, as client-go)",
    )
    parser.add_argument(
        "--watch-backoff-initial",
        type=_number("--watch-backoff-initial"),
        default=_env("watch-backoff-initial", "1"),
        metavar="SECONDS",
        help="ceiling of the first jittered delay before a failed list/watch is retried (default 1)",
    )
    parser.add_argument(
        "--watch-backoff-max",
        type=_number("--watch-backoff-max"),
        default=_env("watch-backoff-max", "30"),
        metavar="SECONDS",
        help="largest retry delay ceiling as list/watch failures repeat (default 30)",
    )
    parser.add_argument(
        "--watch-inactivity-timeout",
        type=_number("--watch-inactivity-timeout"),
        default=_env("watch-inactivity-timeout", "360"),
        metavar="SECONDS",
        help="a watch that sends nothing, not even a bookmark, for this long is reconnected (default 360)",
    )
    parser.add_argument(
        "--no-causes-endpoint",
        action="store_true",
        default=_env("no-causes-endpoint", "") in ("1", "true"),
        help="do not serve /causes (evidence) where the metrics port is widely reachable",
    )
    parser.add_argument(
        "--log-level",
        default=_env("log-level", "info"),
        choices=("debug", "info", "warning", "error"),
        help="default info",
    )
    parser.add_argument(
        "--log-format", default=_env("log-format", "text"), choices=("text", "json"), help="default text"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags, validated (InputError names the flag)."""
    settings = Settings(
        listen_address=args.listen_address,
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespaces=tuple(args.namespaces),
        exclude_namespaces=tuple(args.exclude_namespaces),
        label_selector=args.label_selector,
        no_logs=args.no_logs,
        log_tail_lines=args.log_tail_lines,
        log_limit_bytes=args.log_limit_bytes,
        rules_file=args.rules_file,
        shard=args.shard,
        total_shards=args.total_shards,
        new_series_holdback=args.new_series_holdback,
        log_level=args.log_level,
        log_format=args.log_format,
        causes_endpoint=not args.no_causes_endpoint,
        list_page_size=args.list_page_size,
        watch_backoff_initial=args.watch_backoff_initial,
        watch_backoff_max=args.watch_backoff_max,
        inactivity_timeout=args.watch_inactivity_timeout,
    )
    settings.validate()
    return settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the exporter", description=__doc__)
    add_serve_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    from crashloop_exporter.app import run_exporter  # heavy imports only when serving

    status: int = run_exporter(settings)
    return status


__all__ = ["InputError", "add_cluster_flags", "add_serve_flags", "register", "settings_from_args"]
