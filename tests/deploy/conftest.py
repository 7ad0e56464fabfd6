"""Session fixtures of the deploy tests: rendered overlays, the exporter's real flags, the wrappers' renderer.

Rendering goes through the real `kubectl kustomize` and `helm template` (what users run), once per
variant per session.
"""

from __future__ import annotations

import re
import subprocess
import sys
from types import ModuleType

import pytest

from crashloop_exporter import deploygen
from tests.deploy.deploy_helpers import VARIANTS, Rendered, render_variant


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    """Every variant (overlay or chart values file) rendered once for the whole session."""
    return {name: render_variant(variant) for name, variant in VARIANTS.items()}


@pytest.fixture(scope="session")
def serve_flags() -> frozenset[str]:
    """The long flags `crashloop-exporter serve --help` lists: what the exporter really accepts."""
    result = subprocess.run([sys.executable, "-m", "crashloop_exporter", "serve", "--help"],
                            capture_output=True, text=True, timeout=60, check=True)
    # Option lines of argparse help start (after indentation) with the flag itself.
    flags = frozenset(re.findall(r"^\s{2}(--[a-z0-9][a-z0-9-]*)", result.stdout, flags=re.MULTILINE))
    assert "--listen-address" in flags, f"could not parse serve --help:\n{result.stdout}"
    return flags


@pytest.fixture(scope="session")
def generate() -> ModuleType:
    """The deploy wrappers' renderer (`crashloop_exporter.deploygen`), which `generate` runs."""
    return deploygen
