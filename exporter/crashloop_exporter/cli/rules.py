"""`crashloop-exporter rules generate`: write (or check) the rules pack generated from the catalog.

The checked-in `rules/` directory is this command's output with the defaults; CI runs it with
`--check` so that a catalog change without regenerated rules fails. Sites with other job names or
cluster labels run it with their selectors instead of editing YAML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crashloop_exporter.artifacts import stale_rules_pack, write_files
from crashloop_exporter.cli.generate import report_stale
from crashloop_exporter.rulegen import RoutingConfig, RulesConfig, generate_files

_DEFAULTS = RulesConfig()
_ROUTING_DEFAULTS = RoutingConfig()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("rules", help="generate the Prometheus rules pack", description=__doc__)
    parser.set_defaults(func=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="rules_command", metavar="ACTION")
    gen = actions.add_parser(
        "generate",
        help="write rules, promtool tests and the Alertmanager example",
        description="Write the Prometheus rules, their promtool unit tests and the Alertmanager routing "
        "example, generated from the cause catalog.",
    )
    gen.add_argument("--out", type=Path, default=Path("rules"), metavar="DIR",
                     help="output directory (default: rules)")
    gen.add_argument("--job-selector", default=_DEFAULTS.exporter_selector, metavar="MATCHERS",
                     help=f"matchers selecting the exporter's series (default: {_DEFAULTS.exporter_selector})")
    gen.add_argument("--ksm-selector", default=_DEFAULTS.ksm_selector, metavar="MATCHERS",
                     help=f"matchers selecting kube-state-metrics' series (default: {_DEFAULTS.ksm_selector})")
    gen.add_argument("--cluster-label", default=_DEFAULTS.cluster_label, metavar="NAME",
                     help="label naming the cluster, kept in every aggregation; '' for none (default: cluster)")
    gen.add_argument("--for-override", default=None, metavar="DURATION",
                     help="cap every alert's `for` (test copies of the pack only; add --no-tests unless whole minutes)")
    gen.add_argument("--webhook-url", default=_ROUTING_DEFAULTS.webhook_url, metavar="URL",
                     help="Alertmanager receivers' webhook URL; {receiver} becomes the receiver name")
    gen.add_argument("--no-tests", action="store_true",
                     help="skip the promtool unit tests (needed with regex selectors)")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if the files in --out differ from a fresh generation")
    gen.set_defaults(func=run_generate)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_generate(args: argparse.Namespace) -> int:
    config = RulesConfig(
        exporter_selector=args.job_selector,
        ksm_selector=args.ksm_selector,
        cluster_label=args.cluster_label,
        for_override=args.for_override,
    )
    routing = RoutingConfig(webhook_url=args.webhook_url)
    files = generate_files(config, routing, with_tests=not args.no_tests)
    out: Path = args.out
    if args.check:
        return report_stale(out, stale_rules_pack(out, files), remedy="`crashloop-exporter rules generate`")
    for rel in write_files(out, files, what="rules pack"):
        print(out / rel)
    return 0
