"""A `--listen-address` that cannot be bound ends `serve` with one line and exit 2, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """serve on a port another process holds says `cannot listen on HOST:PORT: address already in use`."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHLOOP_", "KUBECONFIG"))}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        proc = subprocess.run(
            [sys.executable, "-m", "crashloop_exporter", "serve", "--listen-address", address,
             "--kubeconfig", str(kubeconfig)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"crashloop-exporter serve: error: cannot listen on {address}: address already in use"], (
        proc.stderr
    )
