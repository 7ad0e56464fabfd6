"""The CI pipeline as documented: `kubectl kustomize DIR | crashloop-exporter preflight -f -`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
if not Path(KUBECTL).exists():
    pytest.fail("kubectl (with kustomize) is not installed", pytrace=False)
PREFLIGHT = f"{sys.executable} -m crashloop_exporter preflight"


def pipeline(kustomize_dir: Path, flags: str) -> subprocess.CompletedProcess[str]:
    """Run the documented pipe in bash with pipefail, so a kustomize failure cannot pass silently."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{KUBECTL} kustomize {kustomize_dir} | {PREFLIGHT} -f - {flags}"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )


def test_deploy_base_passes_offline() -> None:
    """The project's own deploy/base passes every check (limits, probes, pinned image, namespace)."""
    done = pipeline(REPO / "deploy" / "base", "--offline")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("crashloop-exporter preflight: no problems found — 1 workload in crashloop-exporter")
    github = pipeline(REPO / "deploy" / "base", "--offline -o github --strict")
    assert (github.returncode, github.stdout) == (0, "")


def test_overlay_findings_point_at_rendered_lines(tmp_path: Path) -> None:
    """Kustomize output is checked as rendered: namespace from the overlay, secretGenerator Secrets
    (hashed names) count as existing, and lines refer to the rendered stream."""
    (tmp_path / "deployment.yaml").write_text("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: payment-service}
spec:
  selector: {matchLabels: {app: payment-service}}
  template:
    metadata: {labels: {app: payment-service}}
    spec:
      containers:
        - name: payment-service
          image: registry.example.com/payments/payment-service:latest
          resources: {limits: {memory: 512Mi}}
          env:
            - name: STRIPE_SECRET_KEY
              valueFrom: {secretKeyRef: {name: stripe-secret, key: secret-key}}
""")
    (tmp_path / "kustomization.yaml").write_text("""\
namespace: production
resources: [deployment.yaml]
secretGenerator:
  - name: stripe-secret
    literals: [secret-key=sk_live_kustomize_literal_value]
""")
    rendered = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60,
                              check=True).stdout
    image_line = next(i for i, t in enumerate(rendered.splitlines(), 1) if "payment-service:latest" in t)
    done = pipeline(tmp_path, "--offline -o json")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    assert [(f["reason"], f["file"], f["line"], f["namespace"]) for f in findings] == [
        ("MutableImageTag", "<stdin>", image_line, "production")]
    for text in ("sk_live_kustomize_literal_value", "c2tfbGl2ZV9rdXN0b21pemVfbGl0ZXJhbF92YWx1ZQ=="):
        assert text not in done.stdout + done.stderr
