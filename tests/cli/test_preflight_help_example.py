"""`preflight --help`'s own example works on this repository's deploy/ tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crashloop_exporter.preflight.manifests import load_manifests

REPO = Path(__file__).resolve().parents[2]


def test_help_example_passes_on_the_repo_deploy_tree() -> None:
    """`preflight -f deploy/ --offline` exits 0: kustomization.yaml and the scrape config are skipped, not errors."""
    done = subprocess.run([sys.executable, "-m", "crashloop_exporter", "preflight", "-f", "deploy/", "--offline"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    help_text = subprocess.run([sys.executable, "-m", "crashloop_exporter", "preflight", "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    assert "preflight -f deploy/ --offline" in help_text


def test_non_manifest_files_of_a_directory_are_counted_skips() -> None:
    """The files skipped in deploy/ are exactly the ones holding no Kubernetes object."""
    m = load_manifests([str(REPO / "deploy")])
    names = {Path(p).name for p in m.skipped_files}
    assert "kustomization.yaml" in names and "scrape-config.yaml" in names, names
    assert m.workloads, "deploy/ has workloads to check"
