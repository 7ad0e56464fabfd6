"""`crashloop-exporter`: the one entry point, dispatching to one module per subcommand.

Each subcommand module defines `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the default. Every error is one line on stderr, never a traceback: a bad
flag (argparse's own check included) or bad input is exit code 2, a cluster or runtime failure
(`CrashloopError`) exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from crashloop_exporter import __version__
from crashloop_exporter.cli.flags import resolve_setting_flags
from crashloop_exporter.errors import CrashloopError, InputError

SUBCOMMANDS = ("serve", "demo", "diagnose", "preflight", "rules", "generate", "sim")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but its usage errors are one line too (argparse prints the whole usage first);
    subcommand parsers inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or only of the one `argv` names: each subcommand module
    imports what its `run` needs, so `serve` (a long-lived process with an RSS budget) must not
    import preflight's, diagnose's and generate's modules just to build their parsers."""
    parser = OneLineParser(
        prog="crashloop-exporter",
        description="Classify why Kubernetes containers crash, and export it to Prometheus by cause.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen_subcommand(argv)
    for name in SUBCOMMANDS if chosen is None else (chosen,):
        module_name = f"crashloop_exporter.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(sub)
    return parser


def _chosen_subcommand(argv: Sequence[str] | None) -> str | None:
    """The subcommand `argv` names, if it names a known one. The top-level options (--help,
    --version) take no value, so the first word that is not an option is the subcommand."""
    if argv is None:
        return None
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in SUBCOMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    parser = build_parser(args_in)
    args = parser.parse_args(args_in)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        resolve_setting_flags(args)  # flags and CRASHLOOP_* env vars of Settings fields, typed and bounded
        result: int = func(args)
        return result
    except InputError as e:
        print(f"crashloop-exporter {args.command}: error: {e}", file=sys.stderr)
        return 2
    except CrashloopError as e:
        print(f"crashloop-exporter {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `demo | head`: the reader left, which is not an error. Point stdout at /dev/null so the
        # interpreter's exit flush is quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:
        # A file or socket the user pointed at, failing in a way no module turned into an
        # InputError: still one line, naming the file when the OS said which.
        where = f"{e.filename}: " if e.filename else ""
        print(f"crashloop-exporter {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
