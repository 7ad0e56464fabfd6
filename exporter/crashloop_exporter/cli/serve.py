"""`crashloop-exporter serve`: the long-running exporter.

Flag names are a public contract (deploy manifests, docs, scripts). Every flag also reads a
`CRASHLOOP_<FLAG>` environment variable (dashes to underscores), so a Deployment can set either.
The flags are declared on the `Settings` fields; `cli.flags` derives them for `serve`, and `demo`
and `diagnose` take a subset of the same declarations.
"""

from __future__ import annotations

import argparse

from crashloop_exporter.cli.flags import SERVE_FIELDS, add_setting_flags, settings_from_args

DESCRIPTION = """\
Run the exporter: list and watch pods, events and nodes, classify why containers crash, and serve
/metrics, /causes, /healthz and /readyz.

Every flag can also be set with the environment variable CRASHLOOP_<FLAG> (dashes to underscores,
e.g. CRASHLOOP_EXCLUDE_NAMESPACES); the command line wins. Boolean variables take 1, 0, true,
false, yes or no."""


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    """All flags of `serve`: one per Settings field that declares a flag."""
    add_setting_flags(parser, SERVE_FIELDS)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve", help="run the exporter", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_serve_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    from crashloop_exporter.serve.app import run_exporter  # heavy imports only when serving

    status: int = run_exporter(settings)
    return status


__all__ = ["add_serve_flags", "register", "settings_from_args"]
