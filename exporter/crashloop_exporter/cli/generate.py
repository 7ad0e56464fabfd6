"""`crashloop-exporter generate [--check]`: write (or check) every artifact generated from the catalog.

One command for the runbook (docs/causes.md), the rules pack (rules/), the dashboards
(dashboards/*.json) and the deploy wrappers, so `make generate` and CI cannot miss one; the table
is `crashloop_exporter.artifacts.ARTIFACTS`. `rules generate` stays for site-specific rule packs
(other selectors, another output directory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crashloop_exporter.artifacts import stale_files, write_all


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "generate",
        help="write the runbook, rules, dashboards and deploy wrappers from the catalog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                        help="the repository checkout to write into (default: the current directory)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming every stale file")
    parser.set_defaults(func=run)


def report_stale(root: Path, stale: list[str], *, remedy: str) -> int:
    """`--check`'s answer: each stale file and the command that regenerates them; the exit status."""
    for rel in stale:
        print(f"{root / rel} is stale", file=sys.stderr)
    if stale:
        print(f"regenerate with {remedy}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.check:
        return report_stale(root, stale_files(root), remedy="`make generate` (crashloop-exporter generate)")
    for rel in write_all(root):
        print(f"wrote {root / rel}")
    return 0
