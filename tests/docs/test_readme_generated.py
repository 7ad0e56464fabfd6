"""README.md's generated blocks cannot go stale: the sample `diagnose` output is what the command prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crashloop_exporter import artifacts, docblocks

REPO = Path(__file__).resolve().parents[2]


def test_diagnose_example_block_is_what_diagnose_prints() -> None:
    """The README's diagnose-example block equals `diagnose --example` run now at 120 columns, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHLOOP_")}
    env.update(COLUMNS=str(docblocks.EXAMPLE_WIDTH), NO_COLOR="1")
    done = subprocess.run([sys.executable, "-m", "crashloop_exporter", "diagnose", "--example"], capture_output=True,
                          text=True, env=env, timeout=120, check=True)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = docblocks.block(readme, "diagnose-example")
    assert shown is not None, "README.md has no <!-- diagnose-example:start/end --> block"
    expected = f"```\n$ crashloop-exporter diagnose --example\n{done.stdout.rstrip()}\n```\n"
    assert shown == expected, "README's diagnose example is stale: run `make generate`"


def test_generate_check_names_a_stale_readme() -> None:
    """`generate --check` (the readme row) flags README.md when its block was edited by hand, and is clean now."""
    assert artifacts.stale_files(REPO, only=["readme"]) == []
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    edited = readme.replace("4 failing containers", "3 failing containers", 1)
    assert edited != readme
    assert docblocks.replace_blocks(edited) == readme


def test_bench_table_block_is_marked() -> None:
    """The performance table sits in its own marked block, for the benchmark runner to rewrite."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = docblocks.block(readme, "bench-table")
    assert table is not None and table.startswith("| measure |"), table
