"""Fixtures of the diagnose CLI tests: ready-made dumps built from `kubeobjects`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.dumps import (
    MIGRATE_LOG,
    SEED_LOG,
    event,
    init_failure_pod,
    node,
    oom_pods,
    payment_service_pod,
    write_dump_dir,
)


@pytest.fixture
def seed_dump(tmp_path: Path) -> Path:
    """A dump directory holding the seed's payment-service, the OOM replicas and an init failure."""
    ps = payment_service_pod()
    init = init_failure_pod()
    pods = [ps, *oom_pods(), init]
    events = [event(ps, reason="BackOff", container_name="payment-service",
                    message="Back-off restarting failed container payment-service in pod "
                            "payment-service-7d9f4b8c6-xk2p9_production", count=7)]
    logs = {
        ("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service"): SEED_LOG,
        ("production", "worker-deployment-5f8bb-r9t4k", "init-migrate"): MIGRATE_LOG,
    }
    return write_dump_dir(tmp_path / "dump", nodes=[node("node-a"), node("node-b")], pods=pods, events=events,
                          logs=logs)
