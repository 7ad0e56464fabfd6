"""kubectl 1.35 against `crashloop-exporter demo` as a user runs it: the kubeconfig the demo prints
works (TLS with the demo's own CA, so kubectl sends the token), and what kubectl shows is the
demo's crash loops."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.wait import wait_until

KUBECTL = shutil.which("kubectl")
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
CRASH_TIMEOUT = 60.0


def _kubectl(kubeconfig: str, *args: str) -> tuple[int, str]:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--request-timeout=20s", *args],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A running demo (its own process, defaults but a free port): (simulated API URL, kubeconfig path)."""
    if KUBECTL is None:
        pytest.fail("kubectl is not on PATH (make tools puts it in tools/bin)", pytrace=False)
    log = tmp_path / "demo.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crashloop_exporter", "demo", "--listen-address", "127.0.0.1:0", "--no-table",
         "--duration", "300"],
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        api = kubeconfig = None
        while kubeconfig is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.match(r"simulated Kubernetes API: (\S+)", line):
                api = m.group(1)
            if m := re.match(r"kubeconfig:\s+(\S+)", line):
                kubeconfig = m.group(1)
        assert api and kubeconfig, f"demo printed no API URL/kubeconfig: {lines} {log.read_text()[-2000:]}"
        yield api, kubeconfig
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_kubectl_reads_the_demo(demo: tuple[str, str]) -> None:
    """On the demo's kubeconfig kubectl gets pods, describes one, sorts events and reads a previous log."""
    api, kubeconfig = demo
    assert api.startswith("https://"), api
    seen = ""
    rows: dict[str, list[str]] = {}

    def restarted() -> bool:  # the fact: payment-service has restarted at least once
        nonlocal seen, rows
        rc, seen = _kubectl(kubeconfig, "get", "pods", "-A")
        assert rc == 0, seen
        rows = {cols[1]: cols for cols in (line.split() for line in seen.splitlines()[1:])}
        pay = rows.get("payment-service-7d9f4b8c6-xk2p9")
        return bool(pay and pay[3] == "CrashLoopBackOff" and pay[4] != "0")

    wait_until(restarted, timeout=CRASH_TIMEOUT, interval=0.5,
               what="payment-service to show a restart in CrashLoopBackOff", on_timeout=lambda: seen)
    assert seen.splitlines()[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows["billing-api-6c8d7f5b9-t8wq2"][3] == "CreateContainerConfigError", seen

    rc, out = _kubectl(kubeconfig, "describe", "pod", "payment-service-7d9f4b8c6-xk2p9", "-n", "production")
    assert rc == 0, out
    # The demo's clock runs 30x: the container flaps between Running and CrashLoopBackOff, its last run's end does not.
    assert re.search(r"Last State:\s+Terminated\s+Reason:\s+Error\s+Exit Code:\s+1\s", out), out
    assert re.search(r"Restart Count:\s+[1-9]", out), out
    assert "STRIPE_SECRET_KEY" in out, out  # the env var filled from the optional Secret

    rc, out = _kubectl(kubeconfig, "get", "events", "-n", "production", "--sort-by=.lastTimestamp")
    assert rc == 0, out
    assert out.splitlines()[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"], out
    assert re.search(r"Warning\s+BackOff\s+pod/payment-service-7d9f4b8c6-xk2p9", out), out

    rc, out = _kubectl(kubeconfig, "logs", "payment-service-7d9f4b8c6-xk2p9", "-n", "production", "--previous")
    assert rc == 0, out
    assert "FATAL Missing required environment variable: STRIPE_SECRET_KEY" in out, out
