"""Marked blocks of README.md that are generated, so the README cannot drift from what the tool prints.

A block sits between `<!-- NAME:start -->` and `<!-- NAME:end -->` lines; everything between is
replaced by its renderer's output, everything outside is left alone. `BLOCKS` is the one table of
them; `crashloop-exporter generate` rewrites them (the `readme` row of `artifacts.ARTIFACTS`), and
`generate --check` names README.md when one is stale. A block the README marks but this table does
not hold (the performance table, written by the benchmark runner) is left as it is.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from crashloop_exporter.errors import InputError

PATH = "README.md"
EXAMPLE_WIDTH = 120
"""The terminal width the sample output is rendered at (a wide terminal, as at 3 a.m.)."""


def diagnose_example() -> str:
    """`crashloop-exporter diagnose --example` exactly as a user's terminal shows it, without colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHLOOP_")}
    env.update(COLUMNS=str(EXAMPLE_WIDTH), NO_COLOR="1")
    done = subprocess.run([sys.executable, "-m", "crashloop_exporter", "diagnose", "--example"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise InputError(f"diagnose --example failed (exit {done.returncode}): {done.stderr.strip()}")
    return f"```\n$ crashloop-exporter diagnose --example\n{done.stdout.rstrip()}\n```\n"


BLOCKS: Mapping[str, Callable[[], str]] = {
    "diagnose-example": diagnose_example,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {re.escape(name)}:start -->\n)(.*?)(<!-- {re.escape(name)}:end -->)", re.S)


def block(text: str, name: str) -> str | None:
    """The current content of block `name` in `text`, or None when it is not marked."""
    m = _pattern(name).search(text)
    return m.group(2) if m else None


def replace_blocks(text: str, blocks: Mapping[str, Callable[[], str]] = BLOCKS) -> str:
    """`text` with every block of `blocks` re-rendered; a block `text` does not mark is an error."""
    for name, render in blocks.items():
        pattern = _pattern(name)
        if pattern.search(text) is None:
            raise InputError(f"{PATH}: no <!-- {name}:start --> ... <!-- {name}:end --> block to generate into")
        content = render()
        m = pattern.search(text)
        assert m is not None
        text = text[: m.start(2)] + content + text[m.end(2):]
    return text


def render(root: Path) -> dict[str, str]:
    """{README.md: its text with every generated block fresh}; nothing for a tree without a README
    (the README is written by hand around its blocks, so there is nothing to generate it from)."""
    path = root / PATH
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    return {PATH: replace_blocks(text)}
